// Attack/crash test (issue 15): a card write cut short by kill -9 is never silent. yikad --sim runs
// as its own process with real hardware timing (--speed 1) and a state directory; a long write (the
// photo and five outpatient visits) starts over HTTP; as soon as its intent is in the journal the
// daemon is killed with SIGKILL. The next start with the same state directory reports the write —
// log, /v1/health, a write.interrupted event, GET /v1/writes/interrupted — until the HIS acknowledges
// it; then it is gone, also after another restart. The journal holds no cardholder value.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateProfile } from '../../firmware-sim/personalisation/index.ts';
import { until } from '../support/until.ts';
import { startYikad, type YikadProcess } from '../support/yikad-process.ts';

const TOKEN = 'write-journal-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const dir = mkdtempSync(join(tmpdir(), 'yika-state-'));
const started: YikadProcess[] = [];
afterAll(async () => {
  for (const d of started) await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

function daemon(speed: number): YikadProcess {
  const d = startYikad(['--sim', '--seed', '4', '--speed', String(speed), '--listen', '127.0.0.1:0', '--state-dir', dir, '--log-level', 'info'], { YIKA_TOKEN: TOKEN });
  started.push(d);
  return d;
}

/** Reads an SSE stream until an event of `type` arrives (or the time is up). */
async function sseEvent(url: string, type: string): Promise<Record<string, unknown>> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 15_000);
  try {
    const res = await fetch(`${url}/v1/events?after=0&types=${type}`, { headers: { accept: 'text/event-stream' }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended without ${type}`);
      text += new TextDecoder().decode(value);
      for (const m of text.matchAll(/^data: (.*)$/gm)) {
        const e = JSON.parse(m[1]) as Record<string, unknown>;
        if (e.type === type) return e; // after the stream.hello
      }
    }
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
}

describe('kill -9 in the middle of a card write', () => {
  const other = generateProfile(77);
  const NAME = other.items[11] as string;
  const PHONE = other.items[16] as string;

  it('is reported after the restart until acknowledged, then gone', async () => {
    // 1. A long write, killed once its intent is on disk.
    const first = daemon(1);
    const url1 = await first.ready;
    const outpatient = [1, 2, 3, 4, 5].map((slot) => ({ slot, values: { 213: `测试医院${slot}`, 215: `00000${slot}` } }));
    const write = fetch(`${url1}/v1/readers/sim-1/healthcard/items`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ items: { 11: NAME, 16: PHONE }, photo: other.photo, outpatient }),
    }).then(
      (r) => r.status,
      () => 'cut',
    );
    const journal = join(dir, 'write-journal.jsonl');
    await until('the intent in the journal', () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"t":"intent"'), 30_000, 5);
    await first.kill9();
    expect(await write).toBe('cut'); // the HIS got no answer: exactly the case the journal is for
    const text = readFileSync(journal, 'utf8');
    expect(text).not.toContain('"t":"outcome"');
    for (const secret of [NAME, PHONE, '测试医院']) expect(text, 'no cardholder value in the journal').not.toContain(secret);

    // 2. The restart reports it: log, health, event, route.
    const second = daemon(0);
    const url2 = await second.ready;
    const list = (await (await fetch(`${url2}/v1/writes/interrupted`)).json()) as { interrupted: Array<Record<string, any>> };
    expect(list.interrupted).toHaveLength(1);
    const w = list.interrupted[0];
    expect(w).toMatchObject({ readerId: 'sim-1', slot: 1, card: expect.stringMatching(/^[0-9a-f]{16}$/), what: { items: [11, 16], photo: 'set', outpatient: [1, 2, 3, 4, 5] } });
    const health = (await (await fetch(`${url2}/v1/health`)).json()) as { status: string; degraded: Array<{ component: string; reason: string }> };
    expect(health.status).toBe('degraded');
    expect(health.degraded.find((d) => d.component === 'writes')?.reason).toMatch(/1 card write was interrupted/);
    expect(await sseEvent(url2, 'write.interrupted')).toMatchObject({ type: 'write.interrupted', writeId: w.id, readerId: 'sim-1', slot: 1 });
    expect(second.logLines().some((l) => l.level === 40 && l.writeId === w.id && /interrupted/.test(String(l.msg)))).toBe(true);

    // 3. Acknowledging needs the token; then it is gone.
    expect((await fetch(`${url2}/v1/writes/interrupted/w-nope/ack`, { method: 'POST', headers: auth })).status).toBe(404);
    const ack = await fetch(`${url2}/v1/writes/interrupted/${w.id}/ack`, { method: 'POST', headers: auth });
    expect(ack.status).toBe(200);
    expect(((await ack.json()) as { acknowledged: { id: string } }).acknowledged.id).toBe(w.id);
    expect(((await (await fetch(`${url2}/v1/writes/interrupted`)).json()) as { interrupted: unknown[] }).interrupted).toEqual([]);
    const after = (await (await fetch(`${url2}/v1/health`)).json()) as { degraded: Array<{ component: string }> };
    expect(after.degraded.map((d) => d.component)).not.toContain('writes');
    await second.stop();

    // 4. And stays gone after another restart; a complete write leaves nothing behind.
    const third = daemon(0);
    const url3 = await third.ready;
    expect(((await (await fetch(`${url3}/v1/writes/interrupted`)).json()) as { interrupted: unknown[] }).interrupted).toEqual([]);
    const ok = await fetch(`${url3}/v1/readers/sim-1/healthcard/items`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ items: { 16: PHONE } }) });
    expect(ok.status).toBe(200);
    await third.kill9();
    const fourth = daemon(0);
    const url4 = await fourth.ready;
    expect(((await (await fetch(`${url4}/v1/writes/interrupted`)).json()) as { interrupted: unknown[] }).interrupted).toEqual([]);
  }, 120_000);
});
