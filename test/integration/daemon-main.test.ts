// `yikad --sim` as `npm start` runs it: a separate process that logs "ready" with its URL, serves the
// simulated card, and stops cleanly (exit code 0) on SIGTERM. What stops it from starting (bad flag,
// bad file, port in use, a serial port it may not open) is one plain line on stderr with a documented
// exit code; a missing serial port is said plainly and waited for. Logs: JSON when stdout is not a
// TTY, readable lines on a TTY (a real one through util-linux `script`) or with YIKA_LOG_FORMAT=pretty.
// With no token configured it generates one into a 0600 file (the demo's token for writes and raw
// APDUs), and removes it when it stops.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { socatAvailable, startSocatPair } from '../support/socat.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'yika-daemon-main-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tokenDir = mkdtempSync(join(tmpdir(), 'yikad-token-'));
const TOKEN_FILE = join(tokenDir, 'run', 'api-token');
afterAll(() => rmSync(tokenDir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  /** stdout and stderr together. */
  output: () => string;
  stderr: () => string;
  stdout: () => string;
  ready: Promise<string>;
  exit: Promise<number | null>;
}

function start(args: string[], options: { env?: Record<string, string>; uid?: number; cwd?: string } = {}): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}daemon/main.ts`, ...args], {
    cwd: options.cwd ?? ROOT,
    uid: options.uid,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YIKA_LISTEN: '', YIKA_CONFIG: '', YIKA_LOG_FORMAT: '', YIKA_TOKEN: '', YIKA_TOKEN_FILE: TOKEN_FILE, ...options.env },
  });
  children.push(child);
  let out = '';
  let stdout = '';
  let stderr = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      stdout += d.toString();
      const m = /ready: (http:\/\/[\w.:[\]]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      stderr += d.toString();
    });
    child.once('exit', () => reject(new Error(`yikad exited before ready:\n${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, stderr: () => stderr, stdout: () => stdout, ready, exit };
}

/** stderr is exactly one `yikad: …` line and nothing on either stream looks like a stack trace. */
function expectOnePlainLine(d: Started, pattern: RegExp): void {
  const lines = d.stderr().split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^yikad: /);
  expect(lines[0]).toMatch(pattern);
  expect(d.output()).not.toMatch(/\n\s+at /);
}

describe('yikad process', () => {
  it('starts with --sim, serves the card, and stops cleanly on SIGTERM', async () => {
    const d = start(['--sim', '--listen', '127.0.0.1:0']);
    const url = await d.ready;
    const readers = (await (await fetch(`${url}/v1/readers`)).json()) as { readers: Array<{ id: string }> };
    expect(readers.readers.map((r) => r.id)).toEqual(['sim-1']);
    const card = await fetch(`${url}/v1/readers/sim-1/healthcard?files=DDF1/EF05`);
    expect(card.status).toBe(200);
    const body = (await card.json()) as { files: Record<string, { items: Array<{ itemNo: number; value: string }> }> };
    expect(body.files['DDF1/EF05'].items[1]).toMatchObject({ itemNo: 2, value: '0002' });

    // The generated token: in a file only this user can read, named in the log (the token is not).
    const token = readFileSync(TOKEN_FILE, 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(TOKEN_FILE).mode & 0o777).toBe(0o600);
    expect(statSync(join(tokenDir, 'run')).mode & 0o777).toBe(0o700);
    expect(d.output()).toContain(TOKEN_FILE);
    expect(d.output()).not.toContain(token);
    const apdu = (auth?: string) =>
      fetch(`${url}/v1/readers/sim-1/slots/1/apdu`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify({ apdu: '00A4000C023F00' }) });
    const refused = await apdu();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOKEN_REQUIRED');
    expect((await apdu(`Bearer ${token}`)).status).toBe(200);

    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
    expect(existsSync(TOKEN_FILE), 'the token file is removed at a clean stop').toBe(false);
    expect(d.output()).toMatch(/"msg":"stopped"/);
    // No cardholder data in the daemon's log.
    expect(d.output()).not.toContain(body.files['DDF1/EF05'].items.find((i) => i.itemNo === 8)!.value);
  }, 60_000);

  it('refuses a bad flag with exit code 2 and the reason', async () => {
    const d = start(['--listen', 'nonsense']);
    d.ready.catch(() => {});
    expect(await d.exit).toBe(2);
    expectOnePlainLine(d, /--listen: expected HOST:PORT.*yikad --help/);
  }, 30_000);
});

describe('yikad start-up problems: one plain line and a documented exit code', () => {
  it('--help lists the exit codes', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'daemon/main.ts', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:/);
    for (const code of [0, 1, 2, 3, 4, 5, 6]) expect(r.stdout).toMatch(new RegExp(`^  ${code}  \\w`, 'm'));
    expect(r.stdout).toMatch(/YIKA_LOG_FORMAT/);
  }, 30_000);

  it('a port in use: exit 4, says which port and what to do, no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const d = start(['--sim', '--listen', `127.0.0.1:${port}`]);
      d.ready.catch(() => {});
      expect(await d.exit).toBe(4);
      expectOnePlainLine(d, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--listen HOST:PORT`));
      // Logs are JSON (stdout is a pipe): the journal gets the same fact as a fatal entry with its code.
      const fatal = d.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; code?: string }).find((l) => l.level === 60);
      expect(fatal).toMatchObject({ code: 'LISTEN_ADDRESS_IN_USE' });
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('a config file error: exit 2 with the file, the line and what to do', async () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, 'listen: 127.0.0.1:0\ndevices:\n  serial: [ { path: /dev/ttyUSB0\n');
    const d = start(['--config', file]);
    d.ready.catch(() => {});
    expect(await d.exit).toBe(2);
    expectOnePlainLine(d, /broken\.yaml: line \d+, column \d+: not valid JSON or YAML/);
  }, 30_000);

  it('a bad YIKA_LOG_FORMAT is a configuration error (exit 2)', async () => {
    const d = start(['--sim', '--listen', '127.0.0.1:0'], { env: { YIKA_LOG_FORMAT: 'fancy' } });
    d.ready.catch(() => {});
    expect(await d.exit).toBe(2);
    expectOnePlainLine(d, /YIKA_LOG_FORMAT: expected json or pretty/);
  }, 30_000);

  it('a missing serial port: one line saying what to do, and the daemon waits for it', async () => {
    const missing = join(tmp, 'ttyUSB-not-plugged');
    const d = start(['--serial', missing, '--no-pcsc', '--no-serial-discovery', '--listen', '127.0.0.1:0']);
    const url = await d.ready;
    expectOnePlainLine(d, new RegExp(`serial port ${missing} does not exist \\(yet\\): plug in the reader.*waits for it`));
    const health = (await (await fetch(`${url}/v1/health`)).json()) as { degraded: Array<{ component: string; reason: string }> };
    expect(health.degraded.some((x) => x.component === 'devices.serial' && x.reason.includes(missing))).toBe(true);
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
  }, 60_000);

  it.skipIf(!socatAvailable() || process.getuid?.() !== 0)('a real root-only PTY opened as another user: exit 5 with owner, group, mode and the fix', async () => {
    const pair = await startSocatPair();
    try {
      const pts = realpathSync(pair.a); // /dev/pts/N: owned by root, not readable by nobody
      const d = start(['--serial', pts, '--no-pcsc', '--no-serial-discovery', '--listen', '127.0.0.1:0'], { uid: 65534 });
      d.ready.catch(() => {});
      expect(await d.exit).toBe(5);
      expectOnePlainLine(d, new RegExp(`no permission to open serial port ${pts} \\(owner root, group \\w+, mode 0\\d{3}\\): add the daemon's user to group \\w+`));
    } finally {
      await pair.close();
    }
  }, 60_000);
});

describe('yikad log format', () => {
  async function firstLines(d: Started): Promise<string> {
    await d.ready;
    d.child.kill('SIGTERM');
    await d.exit;
    return d.stdout();
  }

  it('JSON lines when stdout is not a TTY', async () => {
    const out = await firstLines(start(['--sim', '--listen', '127.0.0.1:0']));
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  }, 60_000);

  it('readable lines with YIKA_LOG_FORMAT=pretty', async () => {
    const out = await firstLines(start(['--sim', '--listen', '127.0.0.1:0'], { env: { YIKA_LOG_FORMAT: 'pretty' } }));
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  ready: http:\/\/127\.0\.0\.1:\d+ {2}url=http/m);
    expect(out).not.toMatch(/^\{/m);
  }, 60_000);

  it.skipIf(spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status !== 0)('readable lines on a real TTY (util-linux script)', async () => {
    // script gives the daemon a pseudo-terminal as stdout (and copies it to tty.log and its own
    // stdout); the command stops the daemon once it logged ready. ([r]: util-linux writes the command
    // itself into tty.log's header, and the pattern must not match its own text.)
    const cmd = `${process.execPath} --import tsx ${ROOT}daemon/main.ts --sim --listen 127.0.0.1:0 & pid=$!; for i in $(seq 1 300); do grep -q '[r]eady: http:' ${tmp}/tty.log && break; sleep 0.2; done; kill $pid; wait $pid`;
    const r = spawnSync('script', ['-qefc', cmd, `${tmp}/tty.log`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, YIKA_LISTEN: '', YIKA_CONFIG: '', YIKA_LOG_FORMAT: '' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} .*INFO.* ready: http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).not.toMatch(/"msg":/);
  }, 60_000);
});
