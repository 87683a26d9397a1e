// The API token yikad generates when none is configured (the demo, `npm start`, a desk PC without a
// config file), the way Jupyter does: a new random token at each start, written to a file only the
// user can read (directory 0700, file 0600), removed at a clean stop. The `yika` CLI reads the same
// file, so the README tour works, while other users of the PC and every web page cannot write to
// a card, send raw APDUs or unmask the trace.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** $YIKA_TOKEN_FILE, else $XDG_RUNTIME_DIR/yika/api-token, else ~/.local/state/yika/api-token. */
export function defaultTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.YIKA_TOKEN_FILE) return env.YIKA_TOKEN_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'yika', 'api-token');
  return join(env.HOME || homedir(), '.local', 'state', 'yika', 'api-token');
}

/** 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the token atomically, readable by this user only. */
export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, file);
}

/** The token in the file, or undefined when there is none (or it cannot be read). */
export function readTokenFile(file: string): string | undefined {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still holds `token` (another daemon may have replaced it). */
export function removeTokenFile(file: string, token: string): void {
  if (readTokenFile(file) === token) rmSync(file, { force: true });
}
