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
import { TEST_AUTH, testTokens } from '../support/api-token.ts';
import { issueDemoCode } from '../../qr/demo-trust.ts';
import { ReplayChannel } from '../../apdu/replay-channel.ts';
import { HealthCardReader } from '../../apdu/healthcard/health-card-reader.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;

async function get(path: string): Promise<{ status: number; body: any; text: string; type: string }> {
  const res = await fetch(url + path, { headers: TEST_AUTH });
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
  const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json', ...TEST_AUTH }, body: JSON.stringify(payload) });
  return { status: res.status, body: await res.json() };
}

const EF05_ITEMS = [1, 2, 3, 4, 5, 6, 8, 9, 10, 57];

beforeAll(async () => {
  sim = createSimulator({ seed: 7, secure: 'supported' });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.readers.lockTimeoutMs = 60_000;
  config.api.tokens = testTokens(); // the tests send raw APDUs to the SAM too
  // Short protocol timeouts: at speed 0 every answer is immediate (lost frames are retransmitted long before).
  config.devices.timeouts = { hello: 1500, powerOn: 1500, setParams: 1500, transmit: 1500, transmitBatch: 1500 };
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

describe('daemon with the in-process simulator', { timeout: 90_000 }, () => {
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
    const { status, body } = await get('/v1/readers/sim-1/healthcard?files=DDF1/EF05');
    expect(status).toBe(200);
    expect(Object.keys(body.files)).toEqual(['DDF1/EF05']);
    const ef05 = body.files['DDF1/EF05'];
    expect(ef05.items.map((i: any) => i.itemNo)).toEqual(EF05_ITEMS);
    for (const it of ef05.items) expect(it.value).toBe(sim.profile.items[it.itemNo] ?? null);
    expect(ef05.items.find((i: any) => i.itemNo === 3)).toMatchObject({ field: 'issuerName', nameZh: '发卡机构名称' });
    expect(ef05.fields.cardNumber).toBe(sim.profile.items[8]);
    expect(body.atr.slice(10, 26)).toBe(sim.profile.card8.toUpperCase()); // the first historical bytes, after TA1
    expect(body.apdus).toBeGreaterThan(0);
  });

  it('reads what a desk needs by default: card data, cardholder basics, photo (one SAM authorization)', async () => {
    const { status, body } = await get('/v1/readers/sim-1/healthcard');
    expect(status).toBe(200);
    expect(Object.keys(body.files)).toEqual(['DDF1/EF05', 'DDF1/EF06', 'DDF1/EF07']);
    const basics = Object.fromEntries(body.files['DDF1/EF06'].items.map((it: any) => [it.itemNo, it.value]));
    for (const n of [11, 12, 13, 14, 15]) expect([n, basics[n]]).toEqual([n, sim.profile.items[n] ?? null]);
    expect(body.files['DDF1/EF07'].base64).toBe(sim.profile.photo ?? null);
    expect(body.apdus).toBeLessThan(50); // a full read is ~175; the first read of a run also powers and unlocks the SAM
  });

  it('reads every file with SAM authorization (files=all), equal to the generated profile', async () => {
    const { status, body } = await get('/v1/readers/sim-1/healthcard?files=all');
    expect(status).toBe(200);
    const files = body.files;
    expect(Object.keys(files)).toHaveLength(22);
    // Every TLV item 1–57 equals the profile.
    const items: Record<number, string | null> = {};
    for (const f of Object.values<any>(files)) if (f.kind === 'tlv') for (const it of f.items) items[it.itemNo] = it.value;
    for (let n = 1; n <= 57; n++) expect([n, items[n]]).toEqual([n, sim.profile.items[n] ?? null]);
    expect(files['DDF1/EF06'].fields.name).toBe(sim.profile.items[11]);
    // The photo, byte for byte.
    const photo = files['DDF1/EF07'];
    expect(photo.kind).toBe('photo');
    expect(photo.base64).toBe(sim.profile.photo ?? null);
    // Allergies newest first, and the visit slots as the index flags say.
    expect(files['DF02/EF07'].records.map((r: any) => r.fields.allergySubstance)).toEqual((sim.profile.allergies ?? []).map((a) => a[58]));
    const inpatient = sim.profile.inpatient ?? [];
    for (let i = 0; i < 3; i++) expect(files[`DF03/EE0${i + 1}`].valid).toBe(!!inpatient[i]);
    // Batching: far fewer link round trips than APDUs.
    expect(body.roundTrips).toBeLessThan(body.apdus / 3);
  });

  it('reads items by number as JSON and as the vendor pipe format', async () => {
    const json = await get('/v1/readers/sim-1/healthcard/items?ids=8,1,3,11,15');
    expect(json.status).toBe(200);
    expect(json.body.items.map((i: any) => [i.itemNo, i.value])).toEqual([8, 1, 3, 11, 15].map((n) => [n, sim.profile.items[n]]));
    const pipe = await get('/v1/readers/sim-1/healthcard/items?ids=1,3,8,57,11&format=pipe');
    expect(pipe.type).toMatch(/^text\/plain/);
    expect(pipe.text).toBe([1, 3, 8, 57, 11].map((n) => sim.profile.items[n] ?? '').join('|'));
    const bad = await get('/v1/readers/sim-1/healthcard/items?ids=999');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('UNKNOWN_ITEM');
  });

  it('writes items with UK authorization and secure messaging, and reads them back', async () => {
    // Item numbers are the TLV tags: 16 = 0x10 phone 1 (DDF1/EF08), 22 = 0x16 address 1 (DF01/EF05).
    const before = (await get('/v1/readers/sim-1/healthcard/items?ids=16,22')).body.items;
    const w = await send('PUT', '/v1/readers/sim-1/healthcard/items', { items: { 16: '13800000000', 22: '北京市海淀区测试路1号' } });
    expect(w.status).toBe(200);
    expect(w.body.written.items.sort()).toEqual([16, 22].sort());
    expect(w.body.written.files.sort()).toEqual(['DDF1/EF08', 'DF01/EF05']);
    const after = await get('/v1/readers/sim-1/healthcard/items?ids=16,22');
    expect(after.body.items.map((i: any) => i.value)).toEqual(['13800000000', '北京市海淀区测试路1号']);
    // An invalid value is refused before any command reaches the card.
    const bad = await send('PUT', '/v1/readers/sim-1/healthcard/items', { items: { 15: '110105201208202539' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toMatch(/^ITEM_VALUE_/);
    // Put the card back as it was for the other tests.
    await send('PUT', '/v1/readers/sim-1/healthcard/items', { items: { 16: before[0].value, 22: before[1].value } });
  });

  it('powers a slot and sends raw APDUs, one and as a batch', async () => {
    const power = await send('POST', '/v1/readers/sim-1/slots/1/power', { action: 'reset' });
    expect(power.status).toBe(200);
    expect(power.body).toMatchObject({ slot: 1, card: 'powered' });
    const one = await send('POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: '00A404000C57532E5359532E4444463031' });
    expect(one.status).toBe(200);
    // The card offers T=1 and the daemon chose it at power-on (PPS): the FCI comes back at once.
    expect(power.body.protocol).toBe(1);
    expect(one.body.sw).toBe('9000');
    expect(one.body.data.startsWith('6F10840C')).toBe(true);
    const batch = await send('POST', '/v1/readers/sim-1/slots/1/batch', {
      commands: [{ apdu: '00A4000002EF05' }, { apdu: '00B2010003' }, { apdu: '00A4000002FFFF' }, { apdu: '00B2010003' }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.responses.map((r: any) => r.sw)).toEqual(['9000', '9000', '6A82']);
    expect(batch.body.stoppedAt).toBe(2);
    // The SAM is T=0: a batch stops at its 61xx even when expect allows everything, and the FCI is
    // still there for the GET RESPONSE the caller sends next (PROTOCOL.md transmitBatch).
    await send('POST', '/v1/readers/sim-1/slots/0x11/power', { action: 'on' });
    const t0 = await send('POST', '/v1/readers/sim-1/slots/0x11/batch', {
      commands: [{ apdu: '00A40000023F00', expect: [{ sw: '0000', mask: '0000' }] }, { apdu: '00A4000002DF01', expect: [{ sw: '0000', mask: '0000' }] }],
    });
    expect(t0.status).toBe(200);
    expect(t0.body.responses.map((r: any) => r.sw)).toEqual(['610C']);
    expect(t0.body.stoppedAt).toBe(0);
    // One slot grammar (protocol/slot-id.ts): sam1 is 0x11 in the path too.
    const fci = await send('POST', '/v1/readers/sim-1/slots/sam1/apdu', { apdu: '00C000000C' });
    expect(fci.body.sw).toBe('9000');
    expect(fci.body.data).toMatch(/^6F0A8408/);
    const badHex = await send('POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: '00A4' });
    expect(badHex.status).toBe(400);
    expect(badHex.body.error.code).toBe('APDU_INVALID');
    const badSlot = await send('POST', '/v1/readers/sim-1/slots/9/apdu', { apdu: '00A4000002EF05' });
    expect(badSlot.status).toBe(404);
    expect(badSlot.body.error.code).toBe('SLOT_NOT_FOUND');
    expect((await send('POST', '/v1/readers/sim-1/slots/256/apdu', { apdu: '00A4000002EF05' })).status).toBe(400);
  });

  it('never interleaves the APDUs of 50 concurrent clients (trace shows 50 identical contiguous reads)', async () => {
    // Commands only: the card's challenges differ per read; the commands (cryptograms masked) do not.
    const commands = (entries: any[]) => entries.filter((e) => e.dir === 'command').map((e) => e.hex);
    const path = '/v1/readers/sim-1/healthcard?files=DDF1/EF05,DDF1/EF06,DDF1/EF08';
    await get(path); // the SAM PIN is verified once, by an earlier read
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: true });
    const first = await get(path);
    const oneRead = commands((await get('/v1/readers/sim-1/trace')).body.entries);
    expect(oneRead.length).toBeGreaterThan(4);
    await send('PUT', '/v1/readers/sim-1/trace', { clear: true });
    const results = await Promise.all(Array.from({ length: 50 }, () => get(path)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.files).toEqual(first.body.files);
      expect(r.body.apdus).toBe(first.body.apdus);
    }
    const trace = commands((await get('/v1/readers/sim-1/trace')).body.entries);
    expect(trace).toHaveLength(50 * oneRead.length);
    for (let i = 0; i < 50; i++) expect(trace.slice(i * oneRead.length, (i + 1) * oneRead.length)).toEqual(oneRead);
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
  });

  it('exports a recorded read as a transcript that replays as a test fixture', async () => {
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: false });
    const live = (await get('/v1/readers/sim-1/healthcard?files=DDF1/EF05')).body;
    const transcript = (await get('/v1/readers/sim-1/trace?format=replay&slot=1')).text;
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true, maskData: true });
    expect(transcript).toMatch(/^A>> 00A40000023F00\nA<< /);
    const replay = new ReplayChannel(transcript, { batch: true });
    const again = await new HealthCardReader(replay, { atr: Uint8Array.from(Buffer.from(live.atr, 'hex')) }).readFiles(['DDF1/EF05']);
    expect(again.files).toEqual(live.files);
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

  it('a card removed before, during or after any APDU of a read ends in a typed error, never partial data', async () => {
    // DDF1 with SAM authorization and the photo: identify, EF05, RK_DDF1 authentication, EF06–EF08.
    const path = '/v1/readers/sim-1/healthcard?files=DDF1/EF05,DDF1/EF06,DDF1/EF07,DDF1/EF08';
    const fresh = async () => {
      sim.insertCard(1, { kind: 'health', seed: 7 });
      await until('card present', () => app.registry.get('sim-1').toJSON().slots[0].card === 'present');
    };
    await fresh();
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true });
    const good = (await get(path)).body;
    // APDUs that reach the user card (the fault counts per slot since insertion; SAM APDUs do not count).
    const cardApdus = (await get('/v1/readers/sim-1/trace')).body.entries.filter((e: any) => e.dir === 'command' && e.slot === 1).length;
    await send('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
    expect(cardApdus).toBeGreaterThan(10);
    const outcomes: string[] = [];
    for (let n = 1; n <= cardApdus + 1; n++) {
      for (const when of ['before', 'during', 'after'] as const) {
        await fresh();
        await sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu: n });
        const r = await get(path);
        const completes = when === 'after' ? n >= cardApdus : n > cardApdus;
        if (completes) {
          expect(r.status, `${when} ${n}`).toBe(200);
          expect(r.body.files).toEqual(good.files);
        } else {
          expect(r.status, `${when} ${n}: ${JSON.stringify(r.body)}`).toBe(409);
          expect(['CARD_REMOVED', 'NO_CARD', 'CARD_CHANGED']).toContain(r.body.error.code);
          expect(r.body.files).toBeUndefined();
        }
        outcomes.push(r.status === 200 ? 'ok' : r.body.error.code);
        await sim.injectFault({ fault: 'clear' });
      }
    }
    expect(outcomes.filter((o) => o !== 'ok').length).toBe(3 * cardApdus - 1);
    await fresh();
  }, 180_000);

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

  it('line noise (bit flips, lost frames) ends in correct data or a typed error, and the reader recovers', { timeout: 120_000 }, async () => {
    const path = '/v1/readers/sim-1/healthcard?files=DDF1/EF05,DDF1/EF06,DDF1/EF08';
    const good = (await get(path)).body;
    const codes = new Set<string>();
    let ok = 0;
    for (const fault of [{ fault: 'corrupt-bytes', rate: 0.002 }, { fault: 'drop-frames', rate: 0.05 }] as const) {
      await sim.injectFault(fault);
      for (let i = 0; i < 6; i++) {
        const r = await get(path);
        if (r.status === 200) {
          expect(r.body.files).toEqual(good.files); // never wrong data
          ok++;
        } else {
          expect(r.body.error.code, JSON.stringify(r.body)).toMatch(/^[A-Z_]+$/);
          expect(r.body.files).toBeUndefined();
          codes.add(r.body.error.code);
        }
      }
      await sim.injectFault({ fault: 'clear' });
      await until('reader ok again', () => app.registry.get('sim-1').toJSON().health === 'ok', 20_000);
      await until('a clean read', async () => (await get(path)).status === 200, 20_000, 100);
    }
    // Frames with flipped bits fail their CRC and are dropped; the host sends the request again (same
    // id, the reader answers it from its window without executing it twice): most reads end correct,
    // a read whose retransmissions are all lost ends in a typed error, nothing wrong is ever accepted.
    expect(ok).toBeGreaterThan(0);
    expect(app.metrics.get('yika_protocol_retransmits_total', { reader: 'sim-1' })).toBeGreaterThan(0);
    for (const c of codes) expect(['PROTOCOL_TIMEOUT', 'LINK_CLOSED', 'READER_OFFLINE', 'SECURE_CHANNEL_REJECTED', 'PROTOCOL_PEER_DEAD', 'CARD_READ_FAILED', 'PROTOCOL_BAD_MESSAGE', 'READER_BUSY']).toContain(c);
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
