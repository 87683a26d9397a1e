// The C firmware's Linux port (firmware/build/yika-fw) for tests: built once per machine at a time
// (flock: test files run in parallel), started on a PTY, stopped by its own pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { until } from './until.ts';

const FIRMWARE_DIR = fileURLToPath(new URL('../../firmware/', import.meta.url));
export const YIKA_FW = `${FIRMWARE_DIR}build/yika-fw`;
/** The same program built with AddressSanitizer + UndefinedBehaviorSanitizer (make build/yika-fw-asan). */
export const YIKA_FW_ASAN = `${FIRMWARE_DIR}build/yika-fw-asan`;

/** Why the firmware cannot be built here (no gcc, make, libssl-dev or libpcsclite-dev), or undefined. */
export function firmwareToolchainMissing(): string | undefined {
  const has = (cmd: string) => spawnSync('sh', ['-c', cmd], { stdio: 'ignore' }).status === 0;
  if (!has('command -v gcc') || !has('command -v make')) return 'gcc/make are not installed';
  if (!existsSync('/usr/include/openssl/evp.h')) return 'libssl-dev is not installed';
  if (!existsSync('/usr/include/PCSC/winscard.h')) return 'libpcsclite-dev is not installed';
  return undefined;
}

/** Builds make targets of firmware/ under a machine-wide lock; throws with the compiler output on failure. */
export function makeFirmware(...targets: string[]): string {
  const r = spawnSync('flock', ['/tmp/yika-firmware-build.lock', 'make', '-C', FIRMWARE_DIR, ...targets], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`make -C firmware ${targets.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

export interface FirmwareProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts yika-fw with these arguments and resolves once it serves its line. */
export async function startYikaFw(args: string[], timeoutMs = 20_000, binary = YIKA_FW): Promise<FirmwareProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const done = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(t);
    }
  };
  try {
    await until('yika-fw serving', () => {
      if (exited) throw new Error('yika-fw exited');
      return /yika-fw: serving /.test(out);
    }, timeoutMs, 20);
  } catch (e) {
    await stop();
    throw new Error(`yika-fw did not start (${(e as Error).message}): ${out.slice(-2000)}`);
  }
  return { child, output: () => out, stop };
}
