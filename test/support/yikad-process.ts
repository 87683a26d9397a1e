// Starts `yikad` (node --import tsx daemon/main.ts) as its own process, as a user or systemd would, and
// resolves its URL from the "ready: URL" log line. Used by the attack tests that need a real process
// (a kill -9, a second daemon with the same state dir). Always `await d.stop()` in finally/afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface YikadProcess {
  child: ChildProcess;
  /** The API base URL once the daemon logged "ready". */
  ready: Promise<string>;
  /** Everything the daemon printed so far (pino JSON lines). */
  output(): string;
  /** The parsed log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  exit: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>;
  /** kill -9, as a crash or an OOM kill would. */
  kill9(): Promise<void>;
}

export function startYikad(args: string[], env: NodeJS.ProcessEnv = {}): YikadProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/main.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YIKA_LISTEN: '', YIKA_CONFIG: '', YIKA_TOKEN: '', ...env },
  });
  let out = '';
  let done = false;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => ((done = true), resolve(code))));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"ready: (http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => reject(new Error(`yikad exited before ready:\n${out.slice(-3000)}`)));
  });
  ready.catch(() => {});
  return {
    child,
    ready,
    output: () => out,
    logLines: () =>
      out.split('\n').flatMap((l) => {
        try {
          return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    exit,
    async stop() {
      if (!done) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
      }
      return child.exitCode;
    },
    async kill9() {
      if (!done) {
        child.kill('SIGKILL');
        await exit;
      }
    },
  };
}
