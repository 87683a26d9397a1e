// A real serial line without hardware: a socat PTY pair in a fresh temp dir. Used by every test that
// needs two ends of a serial line (simulator ↔ daemon). Always `await pair.close()` in a finally/afterAll.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './until.ts';

export interface SocatPair {
  /** Path of the first PTY end (a symlink to /dev/pts/N). */
  a: string;
  /** Path of the second PTY end. */
  b: string;
  /** The temp dir holding both links. */
  dir: string;
  /** The socat process id (to stop it yourself, e.g. to simulate an unplugged reader). */
  pid: number;
  /** True while socat runs. */
  alive(): boolean;
  /** Stops socat (SIGTERM, then SIGKILL) and removes the temp dir. Idempotent. */
  close(): Promise<void>;
}

/** True when the socat binary is on PATH (tests skip loudly otherwise). */
export function socatAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v socat'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B` in a new temp dir and resolves once both
 * links exist. Rejects (and cleans up) when socat exits early or the links do not appear in `timeoutMs`.
 */
export async function startSocatPair(options: { timeoutMs?: number; prefix?: string } = {}): Promise<SocatPair> {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'yika-socat-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });

  const close = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000);
      await exitedPromise;
      clearTimeout(killTimer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await until('socat to create the PTY pair', () => {
      if (exited) throw new Error(`socat exited before creating the PTY pair: ${stderr.trim()}`);
      return existsSync(a) && existsSync(b);
    }, options.timeoutMs ?? 10_000, 20);
  } catch (e) {
    await close();
    throw e;
  }
  return { a, b, dir, pid: child.pid ?? -1, alive: () => !exited, close };
}
