// POST /v1/readers/:id/slots/:slot/batch when the card leaves in the middle of a batch (the simulator's
// remove-card fault), through the whole daemon and through the typed client:
// - the card leaves between two parts of a batch the reader splits (longer than its maxBatch): 200
//   with the responses of the commands that ran and `interrupted: {code, message}` (the card's answers
//   are never thrown away; the commands after them never reached the card);
// - the card leaves before the first command could run: the error, as the one-APDU route answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Harness } from '../reliability/kit/daemon-harness.ts';
import { freshCard } from '../reliability/faults/card-harness.ts';
import { YikaClient } from '../../daemon/client/index.ts';
import { TEST_TOKEN } from '../support/api-token.ts';

const BATCH = '/v1/readers/sim-1/slots/1/batch';
/** SELECT MF without FCI: 9000 over T=0 and T=1, changes nothing. */
const SELECT_MF = '00A4000C023F00';

let h: Harness;
let maxBatch: number;

beforeAll(async () => {
  h = await startDaemon({ seed: 8123 });
  maxBatch = (await h.inject('GET', '/v1/readers/sim-1')).body.batch.max;
  expect(maxBatch).toBeGreaterThan(1);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** A fresh powered card that leaves `when` its APDU `apdu` (counted from the power-on). */
async function cardLeaving(when: 'before' | 'during' | 'after', apdu: number): Promise<void> {
  await freshCard(h, 8123);
  expect((await h.inject('POST', '/v1/readers/sim-1/slots/1/power', { action: 'on' })).status).toBe(200);
  await h.sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu });
}

/** The typed client over the same daemon (fetch → fastify inject). */
function client(): YikaClient {
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const r = await h.app.server.inject({
      method: init.method as 'POST',
      url: new URL(url).pathname + new URL(url).search,
      headers: init.headers as Record<string, string>,
      payload: init.body as string | undefined,
    });
    return new Response(r.body, { status: r.statusCode, headers: { 'content-type': String(r.headers['content-type'] ?? 'application/json') } });
  }) as unknown as typeof fetch;
  return new YikaClient({ baseUrl: 'http://127.0.0.1:7611', fetch: fetchImpl, token: TEST_TOKEN });
}

describe('raw APDU batch cut short by a card removal', () => {
  it('between two parts of a split batch: 200 with the responses that ran and interrupted {code, message}', async () => {
    await cardLeaving('after', maxBatch); // the last command of the first part is answered, then the card leaves
    const commands = Array.from({ length: maxBatch + 6 }, () => ({ apdu: SELECT_MF }));
    const r = await h.inject('POST', BATCH, { commands });
    expect(r.status).toBe(200);
    expect(r.body.responses).toHaveLength(maxBatch);
    expect(r.body.responses.every((x: { sw: string }) => x.sw === '9000')).toBe(true);
    expect(r.body.stoppedAt).toBeUndefined();
    expect(r.body.interrupted).toEqual({ code: expect.stringMatching(/^(CARD_CHANGED|NO_CARD)$/), message: expect.any(String), messageZh: expect.stringMatching(/卡/) });
    expect(Object.keys(r.body.interrupted).sort()).toEqual(['code', 'message', 'messageZh']);
  });

  it('the typed client returns the same shape', async () => {
    await cardLeaving('after', maxBatch);
    const result = await client().apduBatch('sim-1', 1, Array.from({ length: maxBatch + 2 }, () => ({ apdu: SELECT_MF })));
    expect(result.responses).toHaveLength(maxBatch);
    expect(result.interrupted?.code).toMatch(/^(CARD_CHANGED|NO_CARD)$/);
    expect(result.stoppedAt).toBeUndefined();
  });

  it('a batch that runs through has neither stoppedAt nor interrupted', async () => {
    await cardLeaving('after', 10_000);
    const r = await h.inject('POST', BATCH, { commands: Array.from({ length: maxBatch + 1 }, () => ({ apdu: SELECT_MF })) });
    expect(r.status).toBe(200);
    expect(r.body.responses).toHaveLength(maxBatch + 1);
    expect(r.body).not.toHaveProperty('interrupted');
    expect(r.body).not.toHaveProperty('stoppedAt');
  });

  it('before its first command: the error, as for one APDU (nothing ran)', async () => {
    await cardLeaving('before', 1);
    const r = await h.inject('POST', BATCH, { commands: [{ apdu: SELECT_MF }, { apdu: SELECT_MF }] });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CARD_REMOVED');
    expect(r.body.responses).toBeUndefined();
  });

  it('the OpenAPI document describes interrupted', async () => {
    const doc = (await h.inject('GET', '/v1/openapi.json')).body;
    const schema = doc.paths['/v1/readers/{id}/slots/{slot}/batch'].post.responses['200'].content['application/json'].schema;
    expect(schema.properties.interrupted).toMatchObject({ type: 'object', required: ['code', 'message', 'messageZh'] });
    expect(schema.properties.interrupted.description).toMatch(/responses/);
  });
});
