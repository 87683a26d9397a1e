// A socat PTY pair owned by the simulator, for the realistic "reader unplugged" fault: killing socat
// makes the host's port close with a disconnect (like a USB serial adapter pulled out) and its path
// disappear; starting it again makes the same paths reappear (like the adapter plugged back in).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { SimError } from '../control/sim-errors.ts';

export interface SocatProcess {
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startSocat(devicePath: string, hostPath: string, timeoutMs = 10_000): Promise<SocatProcess> {
  for (const p of [devicePath, hostPath]) if (existsSync(p)) rmSync(p, { force: true });
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => ((exited = true), resolve()));
    child.once('error', () => ((exited = true), resolve()));
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => !exited && child.kill('SIGKILL'), 2000);
      await exitedPromise;
      clearTimeout(t);
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(devicePath) && existsSync(hostPath))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new SimError('SIM_TRANSPORT_FAILED', `socat did not create the PTY pair${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''} (is socat installed?)`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid: child.pid ?? -1, stop };
}
