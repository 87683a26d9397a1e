// `yikad --sim` as `npm start` runs it: a separate process that logs "ready" with its URL, serves the
// simulated card, and stops cleanly (exit code 0) on SIGTERM. Bad flags exit 2 with the reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[]): { child: ChildProcess; output: () => string; ready: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, YIKA_LISTEN: '', YIKA_CONFIG: '' } });
  children.push(child);
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"ready: (http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => reject(new Error(`yikad exited before ready:\n${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, ready, exit };
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
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
    expect(d.output()).toMatch(/"msg":"stopped"/);
    // No cardholder data in the daemon's log.
    expect(d.output()).not.toContain(body.files['DDF1/EF05'].items.find((i) => i.itemNo === 8)!.value);
  }, 60_000);

  it('refuses a bad flag with exit code 2 and the reason', async () => {
    const d = start(['--listen', 'nonsense']);
    d.ready.catch(() => {});
    expect(await d.exit).toBe(2);
    expect(d.output()).toMatch(/--listen: expected HOST:PORT/);
  }, 30_000);
});
