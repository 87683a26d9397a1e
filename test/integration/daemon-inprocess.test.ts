// The daemon with the in-process simulated reader (what `npm start` runs), over real HTTP on a free
// port: readers, the decoded card equal to the simulator's generated profile, items and the pipe
// format, 50 concurrent clients that never interleave, and the reactions to faults (card removed at
// every APDU of a read, mute card, unplug/replug).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import type { DeliveredEvent } from '../../daemon/events/event-types.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { issueDemoCode } from '../../qr/demo-trust.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;

async function get(path: string): Promise<{ status: number; body: any; text: string; type: string }> {
  const res = await fetch(url + path);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, type: res.headers.get('content-type') ?? '' };
}

async function send(method: string, path: string, payload: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  return { status: res.status, body: await res.json() };
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const EF05_ITEMS = [1, 2, 3, 4, 5, 6, 8, 9, 10, 57];

beforeAll(async () => {
  sim = createSimulator({ seed: 7, secure: 'supported' });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.readers.lockTimeoutMs = 60_000;
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

describe('daemon with the in-process simulator', () => {
  it('lists the simulated reader with its slots, secure channel and batch support', async () => {
    const { status, body } = await get('/v1/readers');
    expect(status).toBe(200);
    expect(body.readers).toHaveLength(1);
    const r = body.readers[0];
    expect(r).toMatchObject({ id: 'sim-1', kind: 'sim', vendor: 'Yika', health: 'ok', secureChannel: { policy: 'preferred', state: 'open' }, batch: { supported: true } });
    expect(r.slots.find((s: any) => s.slot === 1)).toMatchObject({ kind: 'contact', label: 'user card', card: 'present' });
    expect(r.slots.find((s: any) => s.slot === 0x11)).toMatchObject({ kind: 'sam', label: 'SAM1', card: 'present' });
    expect((await get('/v1/readers/sim-1')).body.id).toBe('sim-1');
    const missing = await get('/v1/readers/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('READER_NOT_FOUND');
  });

  it('reads DDF1/EF05 decoded, equal to the generated profile', async () => {
    const { status, body } = await get('/v1/readers/sim-1/healthcard');
    expect(status).toBe(200);
    const ef05 = body.files['DDF1/EF05'];
    expect(ef05.items.map((i: any) => i.item)).toEqual(EF05_ITEMS);
    for (const it of ef05.items) expect(it.value).toBe(sim.profile.items[it.item] ?? null);
    expect(ef05.items.find((i: any) => i.item === 3)).toMatchObject({ field: 'issuerName', nameZh: '发卡机构名称' });
    expect(body.atr.slice(8, 24)).toBe(sim.profile.card8.toUpperCase());
    expect(body.apdus).toBeGreaterThan(0);
  });

  it('reads items by number as JSON and as the vendor pipe format', async () => {
    const json = await get('/v1/readers/sim-1/healthcard/items?ids=8,1,3');
    expect(json.status).toBe(200);
    expect(json.body.items.map((i: any) => [i.item, i.value])).toEqual([8, 1, 3].map((n) => [n, sim.profile.items[n]]));
    const pipe = await get('/v1/readers/sim-1/healthcard/items?ids=1,3,8,57&format=pipe');
    expect(pipe.type).toMatch(/^text\/plain/);
    expect(pipe.text).toBe([1, 3, 8, 57].map((n) => sim.profile.items[n] ?? '').join('|'));
    const bad = await get('/v1/readers/sim-1/healthcard/items?ids=999');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('UNKNOWN_ITEM');
  });

  it('powers a slot and sends raw APDUs, one and as a batch', async () => {
    const power = await send('POST', '/v1/readers/sim-1/slots/1/power', { action: 'reset' });
    expect(power.status).toBe(200);
    expect(power.body).toMatchObject({ slot: 1, card: 'powered' });
    const one = await send('POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: '00A404000C57532E5359532E4444463031' });
    expect(one.status).toBe(200);
    // The card is T=0: the FCI waits behind 61xx for GET RESPONSE (raw means raw).
    expect(one.body.sw).toMatch(/^61/);
    const fci = await send('POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: `00C00000${one.body.sw.slice(2)}` });
    expect(fci.body.sw).toBe('9000');
    expect(fci.body.data.startsWith('6F')).toBe(true);
    const batch = await send('POST', '/v1/readers/sim-1/slots/1/batch', {
      commands: [{ apdu: '00A4000002EF05' }, { apdu: '00B2010003' }, { apdu: '00A4000002FFFF' }, { apdu: '00B2010003' }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.responses.map((r: any) => r.sw)).toEqual(['9000', '9000', '6A82']);
    expect(batch.body.stoppedAt).toBe(2);
    const badHex = await send('POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: '00A4' });
    expect(badHex.status).toBe(400);
    expect(badHex.body.error.code).toBe('APDU_INVALID');
    const badSlot = await send('POST', '/v1/readers/sim-1/slots/9/apdu', { apdu: '00A4000002EF05' });
    expect(badSlot.status).toBe(404);
    expect(badSlot.body.error.code).toBe('SLOT_NOT_FOUND');
  });

  it('never interleaves the APDUs of 50 concurrent clients (trace shows 50 identical contiguous reads)', async () => {
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: true });
    const first = await get('/v1/readers/sim-1/healthcard');
    const oneRead = (await get('/v1/readers/sim-1/trace')).body.entries.map((e: any) => `${e.dir} ${e.hex}`);
    expect(oneRead.length).toBeGreaterThan(4);
    await send('PUT', '/v1/readers/sim-1/trace', { clear: true });
    const results = await Promise.all(Array.from({ length: 50 }, () => get('/v1/readers/sim-1/healthcard')));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.files).toEqual(first.body.files);
    }
    const trace = (await get('/v1/readers/sim-1/trace')).body.entries.map((e: any) => `${e.dir} ${e.hex}`);
    expect(trace).toHaveLength(50 * oneRead.length);
    for (let i = 0; i < 50; i++) expect(trace.slice(i * oneRead.length, (i + 1) * oneRead.length)).toEqual(oneRead);
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
  });

  it('publishes card events and answers NO_CARD without a card', async () => {
    const seen: DeliveredEvent[] = [];
    const sub = app.events.subscribe((e) => seen.push(e));
    try {
      sim.removeCard(1);
      await until('card.removed', () => seen.find((e) => e.type === 'card.removed'));
      const r = await get('/v1/readers/sim-1/healthcard');
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('NO_CARD');
      sim.insertCard(1, { kind: 'health', seed: 7 });
      await until('card.inserted', () => seen.find((e) => e.type === 'card.inserted' && e.readerId === 'sim-1' && e.slot === 1));
      expect((await get('/v1/readers/sim-1/healthcard')).status).toBe(200);
    } finally {
      sub.unsubscribe();
    }
  });

  it('verifies a QR code scanned by the reader and publishes the verdict without the card id', async () => {
    await app.qr!.ready();
    const seen: DeliveredEvent[] = [];
    const sub = app.events.subscribe((e) => seen.push(e), { types: ['qr.scanned'] });
    try {
      await sim.scan(issueDemoCode().text);
      const valid = await until('qr.scanned', () => seen.find((e) => e.type === 'qr.scanned'));
      expect(valid).toMatchObject({ readerId: 'sim-1', result: { ok: true, code: 'VALID' } });
      expect(JSON.stringify(valid)).not.toMatch(/cardId"/);
      await sim.scan('not a health code');
      const bad = await until('second qr.scanned', () => seen.filter((e) => e.type === 'qr.scanned')[1]);
      expect(bad).toMatchObject({ result: { ok: false } });
    } finally {
      sub.unsubscribe();
    }
  });

  it('a card removed at any APDU of a read ends in a typed error, never partial data', async () => {
    const good = (await get('/v1/readers/sim-1/healthcard')).body;
    const apdus = good.apdus as number;
    for (let n = 1; n <= apdus + 1; n++) {
      for (const when of ['before', 'during', 'after'] as const) {
        if (!sim.reader.cardIn(1)) sim.insertCard(1, { kind: 'health', seed: 7 });
        await until('card present', () => app.registry.get('sim-1').toJSON().slots[0].card !== 'absent');
        // Count from the next power-on: the read powers the card again after a re-insert.
        await sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu: n });
        const r = await get('/v1/readers/sim-1/healthcard');
        if (r.status === 200) {
          // The fault hit after the last APDU: the data must be complete and correct.
          expect(r.body.files).toEqual(good.files);
        } else {
          expect([409, 422, 503]).toContain(r.status);
          expect(['CARD_REMOVED', 'NO_CARD', 'CARD_CHANGED']).toContain(r.body.error.code);
          expect(r.body.files).toBeUndefined();
        }
        await sim.injectFault({ fault: 'clear' });
      }
    }
    if (!sim.reader.cardIn(1)) sim.insertCard(1, { kind: 'health', seed: 7 });
  }, 120_000);

  it('a mute card ends in CARD_MUTE', async () => {
    sim.insertCard(1, { kind: 'mute' });
    await until('mute card present', () => app.registry.get('sim-1').toJSON().slots[0].card === 'present');
    const r = await get('/v1/readers/sim-1/healthcard');
    expect(r.body.error?.code).toBe('CARD_MUTE');
    sim.insertCard(1, { kind: 'health', seed: 7 });
  });

  it('a transit card is refused as not a resident health card', async () => {
    sim.insertCard(1, { kind: 'transit' });
    await until('transit card present', () => app.registry.get('sim-1').toJSON().slots[0].card === 'present');
    const r = await get('/v1/readers/sim-1/healthcard');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('NOT_A_HEALTH_CARD');
    sim.insertCard(1, { kind: 'health', seed: 7 });
  });

  it('recovers from unplug/replug without a restart, under the same reader id', async () => {
    await sim.injectFault({ fault: 'unplug' });
    await until('offline', () => app.registry.get('sim-1').toJSON().health === 'offline');
    const offline = await get('/v1/readers/sim-1/healthcard');
    expect(offline.status).toBe(503);
    expect(offline.body.error.code).toBe('READER_OFFLINE');
    expect((await get('/v1/health')).body.status).toBe('degraded');
    await sim.injectFault({ fault: 'replug' });
    await until('back online', () => app.registry.get('sim-1').toJSON().health === 'ok');
    await until('card state known', () => app.registry.get('sim-1').toJSON().slots[0].card !== 'absent');
    const r = await get('/v1/readers/sim-1/healthcard');
    expect(r.status).toBe(200);
    expect(r.body.files['DDF1/EF05'].items[0].value).toBe(sim.profile.items[1]);
    expect(app.registry.list().map((x) => x.id)).toEqual(['sim-1']);
  });
});
