// The typed client against a real loopback server: results, typed errors, and the event stream's
// reconnect-and-resume (a dropped connection misses nothing and sees nothing twice).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildServer } from '../../daemon/api/server.ts';
import { YikaApiError, YikaClient, type YikaEvent } from '../../daemon/client/index.ts';
import { fakeContext, type FakeContext } from '../unit/api/fake-context.ts';
import { until } from '../support/until.ts';

describe('YikaClient', () => {
  let ctx: FakeContext;
  let app: FastifyInstance;
  let client: YikaClient;
  beforeAll(async () => {
    ctx = fakeContext();
    app = await buildServer(ctx, { listen: '127.0.0.1:0', rateLimit: false, websocket: { heartbeatMs: 1000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    client = new YikaClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, WebSocket: WebSocket as never });
  });
  afterAll(async () => {
    await app.close();
  });

  it('returns typed results', async () => {
    expect(await client.health()).toMatchObject({ status: 'ok', version: '0.1.0-test' });
    expect(await client.request('GET', '/v1/demo/abc?n=3')).toEqual({ id: 'abc', n: 3 });
  });

  it('throws YikaApiError with the code and status of the daemon', async () => {
    const err = await client.request('GET', '/v1/demo/absent').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(YikaApiError);
    expect(err).toMatchObject({ code: 'TEST_CARD_ABSENT', status: 409, details: { slot: 1 } });
    await expect(client.request('POST', '/v1/demo/echo', { nope: 1 })).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('reports an unreachable daemon as DAEMON_UNREACHABLE', async () => {
    const dead = new YikaClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 3000 });
    await expect(dead.health()).rejects.toMatchObject({ code: 'DAEMON_UNREACHABLE', status: 0 });
  });

  it('reconnects and resumes the event stream without loss or duplicates', async () => {
    const seen: YikaEvent[] = [];
    const hellos: Array<{ resume: unknown }> = [];
    let connected!: () => void;
    let reconnected!: () => void;
    const first = new Promise<void>((r) => (connected = r));
    const second = new Promise<void>((r) => (reconnected = r));
    const sub = client.events(
      {
        types: ['card.inserted', 'card.removed'],
        minRetryMs: 50,
        onConnect: (h) => {
          hellos.push(h);
          (hellos.length === 1 ? connected : reconnected)();
        },
      },
      (e) => seen.push(e),
    );
    try {
      await first;
      ctx.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 });
      await until('seen.length === 1', () => seen.length === 1, 5000, 10);
      for (const ws of app.websocketServer.clients) ws.terminate(); // the connection drops
      ctx.events.publish({ type: 'card.removed', readerId: 'sim-1', slot: 1 }); // published while disconnected
      ctx.events.publish({ type: 'reader.attached', readerId: 'sim-2', name: 'x' }); // filtered out
      await second;
      ctx.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 });
      await until('seen.length === 3', () => seen.length === 3, 5000, 10);
      expect(seen.map((e) => e.type)).toEqual(['card.inserted', 'card.removed', 'card.inserted']);
      const seqs = seen.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(3);
      expect(hellos[1].resume).toEqual({ after: seqs[0], complete: true });
      expect(sub.position).toBe(seqs[2]);
    } finally {
      sub.close();
    }
  });
});

it('notices a daemon restart (sequence starts again) and keeps delivering', async () => {
  const ctx1 = fakeContext();
  const first = await buildServer(ctx1, { listen: '127.0.0.1:0', rateLimit: false });
  await first.listen({ host: '127.0.0.1', port: 0 });
  const port = (first.server.address() as { port: number }).port;
  const client = new YikaClient({ baseUrl: `http://127.0.0.1:${port}`, WebSocket: WebSocket as never });
  const seen: YikaEvent[] = [];
  const hellos: Array<{ resume: unknown }> = [];
  const sub = client.events({ minRetryMs: 50, maxRetryMs: 200, onConnect: (h) => hellos.push(h) }, (e) => seen.push(e));
  let second: Awaited<ReturnType<typeof buildServer>> | undefined;
  try {
    await until('hellos.length === 1', () => hellos.length === 1, 5000, 10);
    for (let i = 0; i < 5; i++) ctx1.events.publish({ type: 'card.removed', readerId: 'sim-1', slot: 1 });
    await until('seen.length === 5', () => seen.length === 5, 5000, 10);
    await first.close();
    const ctx2 = fakeContext();
    second = await buildServer(ctx2, { listen: '127.0.0.1:0', rateLimit: false });
    await second.listen({ host: '127.0.0.1', port });
    await until('hellos.length >= 2', () => hellos.length >= 2, 5000, 10);
    expect(hellos.at(-1)!.resume).toMatchObject({ complete: false });
    ctx2.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 }); // seq 1 again
    await until('seen.length === 6', () => seen.length === 6, 5000, 10);
    expect(seen[5]).toMatchObject({ type: 'card.inserted', seq: 1 });
  } finally {
    sub.close();
    await second?.close();
  }
});

