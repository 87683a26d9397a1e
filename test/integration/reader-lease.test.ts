// Reader leases over real HTTP: a SELECT in one request and the READ that depends on it in the next
// stay together while a second client tries to select elsewhere (it waits, then runs); without the
// lease the same interleaving breaks the read (the control that shows the test can fail); a lease
// that nobody uses expires and frees the reader; a waiter with a short wait gets READER_BUSY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { TEST_AUTH, TEST_TOKEN, testTokens } from '../support/api-token.ts';
import { YikaClient } from '../../daemon/client/index.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;
let a: YikaClient;

const SELECT_DDF1 = '00A404000C57532E5359532E4444463031';
const SELECT_EF05 = '00A4000002EF05';
const READ_RECORD_1 = '00B2010003';
const SELECT_MF = '00A40000023F00';

beforeAll(async () => {
  sim = createSimulator({ seed: 12 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.readers.lockTimeoutMs = 30_000;
  config.api.tokens = testTokens(); // leases and raw APDUs need a token
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
  a = new YikaClient({ baseUrl: url, token: TEST_TOKEN });
  await a.power('sim-1', 1, 'reset');
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

/** Client B: plain fetch, no lease. */
async function b(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...TEST_AUTH }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
const waiting = async () => (await a.reader('sim-1')).session.waiting;

describe('reader leases', () => {
  it('without a lease, a second client can step between SELECT and READ (the control)', async () => {
    expect((await a.apdu('sim-1', 1, SELECT_DDF1)).sw).toBe('9000');
    expect((await b('/v1/readers/sim-1/slots/1/apdu', { apdu: SELECT_MF })).body.sw).toBe('9000');
    const ef = await a.apdu('sim-1', 1, SELECT_EF05);
    expect(ef.sw).not.toBe('9000'); // EF05 lives in DDF1, and B moved the card to the MF
  });

  it('with a lease, SELECT + READ stay atomic: the second client waits and runs after the release', async () => {
    const { lease, idleMs } = await a.acquireLease('sim-1', { idleMs: 20_000 });
    expect(idleMs).toBe(20_000);
    expect((await a.reader('sim-1')).session.heldBy).toBe('lease');
    expect((await a.apdu('sim-1', 1, SELECT_DDF1, { lease })).sw).toBe('9000');
    let bDone = false;
    const bSelect = b('/v1/readers/sim-1/slots/1/apdu', { apdu: SELECT_MF }).then((r) => ((bDone = true), r));
    await until('B queued behind the lease', async () => (await waiting()) >= 1, 20_000, 25);
    const batch = await a.apduBatch('sim-1', 1, [{ apdu: SELECT_EF05 }, { apdu: READ_RECORD_1 }], { lease });
    expect(batch.responses.map((r) => r.sw)).toEqual(['9000', '9000']);
    expect((await a.apdu('sim-1', 1, READ_RECORD_1, { lease })).sw).toBe('9000');
    expect(bDone).toBe(false);
    await a.releaseLease('sim-1', lease);
    const rb = await bSelect;
    expect(rb).toMatchObject({ status: 200, body: { sw: '9000' } });
    // The token is dead once released.
    await expect(a.apdu('sim-1', 1, READ_RECORD_1, { lease })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND', status: 409 });
  });

  it('a second lease waits for the first, or gets READER_BUSY after its wait', async () => {
    const first = await a.acquireLease('sim-1');
    const busy = await b('/v1/readers/sim-1/lease', { waitMs: 100 });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('READER_BUSY');
    const second = b('/v1/readers/sim-1/lease', { waitMs: 20_000 });
    await until('second lease queued', async () => (await waiting()) >= 1, 20_000, 25);
    await a.releaseLease('sim-1', first.lease);
    const got = await second;
    expect(got.status).toBe(200);
    expect(got.body.lease).toMatch(/^[0-9a-f]{32}$/);
    expect(got.body.lease).not.toBe(first.lease);
    expect((await b('/v1/readers/sim-1/lease/release', { lease: got.body.lease })).status).toBe(200);
  });

  it('a lease nobody uses expires after its idle time and frees the reader', async () => {
    const { lease } = await a.acquireLease('sim-1', { idleMs: 300 });
    await until('lease expired', async () => (await a.reader('sim-1')).session.heldBy === null, 10_000, 25);
    const r = await b('/v1/readers/sim-1/slots/1/apdu', { apdu: SELECT_DDF1, lease });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('LEASE_NOT_FOUND');
    expect((await b('/v1/readers/sim-1/slots/1/apdu', { apdu: SELECT_DDF1 })).body.sw).toBe('9000');
  });

  it('withLease releases even when the work throws; a malformed token is a 400', async () => {
    await expect(a.withLease('sim-1', async () => Promise.reject(new Error('HIS bug')))).rejects.toThrow('HIS bug');
    expect((await a.reader('sim-1')).session.heldBy).toBeNull();
    expect((await b('/v1/readers/sim-1/slots/1/apdu', { apdu: SELECT_DDF1, lease: 'nope' })).status).toBe(400);
  });
});
