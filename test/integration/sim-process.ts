// Starts `yika-sim` as a child process (node --import tsx firmware-sim/cli.ts) and waits for its
// ready line. Shared by the sim-* integration tests; always `await sim.stop()` in finally/afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from '../support/until.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SimProcess {
  child: ChildProcess;
  /** key=value pairs of the ready line (pty, tcp, control, serial …). */
  ready: Record<string, string>;
  output(): string;
  stop(): Promise<number | null>;
}

export async function startSimProcess(args: string[], timeoutMs = 20_000): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'firmware-sim/cli.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve(code))));
  const stop = async (): Promise<number | null> => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    return exitCode ?? null;
  };
  let m: RegExpExecArray;
  try {
    m = await until('yika-sim ready', () => {
      if (exitCode !== undefined) throw new Error('yika-sim exited');
      return /yika-sim ready (.*)\n/.exec(out);
    }, timeoutMs, 25);
  } catch (e) {
    await stop();
    throw new Error(`yika-sim did not become ready (${(e as Error).message}, exit ${exitCode}): ${out.slice(-2000)}`);
  }
  const ready = Object.fromEntries(m[1].split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { child, ready, output: () => out, stop };
}
