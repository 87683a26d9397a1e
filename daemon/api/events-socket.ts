// GET /v1/events: the daemon's event stream for pages and HIS clients, as a WebSocket (upgrade) or as
// Server-Sent Events (Accept: text/event-stream: curl, a standard-library HTTP client, an old HIS).
// Both go through the same security hooks (Host, origin, token) and take the same query:
//   ?types=card.inserted,qr.scanned  only these event types
//   ?after=<seq>                     first replay what was published after seq (EventBus history);
//                                    SSE clients may send Last-Event-ID instead (EventSource does)
//   ?reveal=codes                    with the API token: qr.scanned events of payment, insurance and
//                                    ID codes carry result.text (live only; never in the history)
// SSE frames: `id: <seq>`, `event: <type>`, `data: <the same JSON as on the WebSocket>`; a comment
// line every heartbeat interval; a client that reads too slowly is disconnected and resumes.
// The first message is {type:"stream.hello", position, oldest, resume:{after, complete}}: when
// complete is false, events after `after` were already dropped from the history and the client
// should re-read state over REST. Then every event as published ({type, seq, at, ...}), and every
// heartbeat interval a WebSocket ping plus {type:"stream.heartbeat", position} (a browser cannot
// see pings). A client that does not answer pings, or reads too slowly, is disconnected; it
// reconnects with ?after=<last seq> and misses nothing still in the history.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/websocket'; // route option types: wsHandler
import type { WebSocket } from 'ws';
import type { EventBus } from '../events/event-bus.ts';
import { EVENT_TYPES } from '../events/event-catalog.ts';
import type { DeliveredEvent, StreamHello, YikaEventType } from '../events/event-types.ts';
import { apiError } from './api-errors.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface EventStreamOptions {
  heartbeatMs: number;
  maxSubscribers: number;
  /** Disconnect a subscriber whose unsent backlog exceeds this many bytes. */
  maxBufferedBytes?: number;
}

type EventsQuery = { types?: string; after?: number; reveal?: 'codes' };

/** The event as this subscriber sees it: a revealing subscriber gets the transient scanned text. */
function withTransient(event: DeliveredEvent, transient: Readonly<Record<string, unknown>> | undefined, reveal: boolean): unknown {
  if (!reveal || !transient || event.type !== 'qr.scanned') return event;
  return { ...event, result: { ...event.result, ...transient } };
}

const EVENTS_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    types: {
      type: 'string',
      pattern: `^(${EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')})(,(${EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')}))*$`,
      description: `Comma-separated event types: ${EVENT_TYPES.join(', ')}`,
    },
    after: { type: 'integer', minimum: 0, description: 'Resume: replay events with seq > after still in the history (SSE: or the Last-Event-ID header).' },
    reveal: { type: 'string', enum: ['codes'], description: 'With Authorization: Bearer <api.token>: qr.scanned events of payment, insurance and ID codes carry result.text (QR.md §13).' },
  },
} as const;

function streamHello(bus: EventBus, after: number | undefined): StreamHello {
  const oldest = bus.oldest;
  return { type: 'stream.hello', position: bus.position, oldest, resume: after === undefined ? null : { after, complete: after >= oldest - 1 } };
}

/** WebSocket close codes we use. */
const CLOSE = { GOING_AWAY: 1001, TRY_AGAIN_LATER: 1013, POLICY: 1008 } as const;

type EventsRequest = FastifyRequest<{ Querystring: EventsQuery }>;

/**
 * Slots per pool (security.ts Caller.pool: the daemon's page, each allowed origin, each token, and
 * 'local' for everything else), WebSocket and SSE together: a local process holding idle connections
 * fills only its own pool, never the page's.
 */
class SubscriberPools {
  private readonly taken = new Map<string, number>();
  constructor(private readonly max: number) {}
  static of(request: FastifyRequest): string {
    return request.yikaCaller?.pool ?? 'local';
  }
  full(pool: string): boolean {
    return (this.taken.get(pool) ?? 0) >= this.max;
  }
  take(pool: string): void {
    this.taken.set(pool, (this.taken.get(pool) ?? 0) + 1);
  }
  release(pool: string): void {
    const left = (this.taken.get(pool) ?? 1) - 1;
    if (left > 0) this.taken.set(pool, left);
    else this.taken.delete(pool);
  }
}

/** What both transports share: the bus, the pools, the open subscribers (closed when the daemon stops). */
interface StreamContext {
  bus: EventBus;
  metrics: Metrics;
  heartbeatMs: number;
  maxBuffered: number;
  pools: SubscriberPools;
  sockets: Set<WebSocket>;
  streams: Set<() => void>;
}

/** reveal=codes needs the API token on the request itself (also from loopback). */
function revealAllowed(request: EventsRequest): boolean {
  if (request.query.reveal !== 'codes') return false;
  // Any valid token (security.ts checked it): the codes are for the HIS, not for every local program.
  if (!request.yikaCaller?.token) {
    throw apiError('TOKEN_REQUIRED', 'reveal=codes needs Authorization: Bearer <api.token> (payment and insurance codes are bearer credentials).');
  }
  return true;
}

function subscription(request: EventsRequest): { types?: YikaEventType[]; after?: number } {
  return { types: request.query.types ? (request.query.types.split(',') as YikaEventType[]) : undefined, after: request.query.after };
}

export function registerEventStream(v1: FastifyInstance, bus: EventBus, metrics: Metrics, options: EventStreamOptions): void {
  const ctx: StreamContext = {
    bus,
    metrics,
    heartbeatMs: options.heartbeatMs,
    maxBuffered: options.maxBufferedBytes ?? 1 << 20,
    pools: new SubscriberPools(options.maxSubscribers),
    sockets: new Set(),
    streams: new Set(),
  };
  metrics.describe('yika_ws_subscribers', 'gauge', 'Connected WebSocket event subscribers');
  metrics.describe('yika_ws_events_sent_total', 'counter', 'Events sent to WebSocket subscribers');
  metrics.set('yika_ws_subscribers', 0);
  metrics.describe('yika_sse_subscribers', 'gauge', 'Connected Server-Sent Events subscribers');
  metrics.describe('yika_sse_events_sent_total', 'counter', 'Events sent to Server-Sent Events subscribers');
  metrics.set('yika_sse_subscribers', 0);

  v1.route<{ Querystring: EventsQuery }>({
    method: 'GET',
    url: '/events',
    schema: {
      querystring: EVENTS_QUERY_SCHEMA,
      summary: 'Event stream (WebSocket upgrade, or Server-Sent Events with Accept: text/event-stream)',
      description:
        'The same events, filters and resume on both transports. SSE: `id: <seq>`, `event: <type>`, `data: <JSON>`; resume with ?after=SEQ or Last-Event-ID. Without an upgrade or Accept: text/event-stream: 400 EVENTS_STREAM_REQUIRED.',
      tags: ['events'],
      response: {
        200: {
          description: 'Server-Sent Events: `retry`, then `stream.hello`, the replay, live events and `: heartbeat` comments',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      },
    },
    preValidation: async (request) => {
      // Last-Event-ID (what EventSource sends on reconnect) is the same as ?after.
      const last = request.headers['last-event-id'];
      if (request.query.after === undefined && typeof last === 'string' && /^\d{1,15}$/.test(last.trim())) request.query.after = Number(last.trim());
    },
    handler: async (request, reply) => serveEventSource(ctx, request, reply),
    wsHandler: (socket, request) => serveWebSocket(ctx, socket, request),
  });

  v1.addHook('onClose', async () => {
    for (const s of ctx.sockets) s.close(CLOSE.GOING_AWAY, 'daemon stopping');
    for (const close of [...ctx.streams]) close();
  });
}

/** Server-Sent Events: the reply is hijacked and streams until the client or the daemon goes. */
function serveEventSource(ctx: StreamContext, request: EventsRequest, reply: FastifyReply): void {
  if (!/\btext\/event-stream\b/i.test(request.headers.accept ?? '')) {
    throw apiError('EVENTS_STREAM_REQUIRED', 'GET /v1/events is a stream: upgrade to a WebSocket, or send Accept: text/event-stream (Server-Sent Events).');
  }
  const { bus, metrics, pools, streams } = ctx;
  const pool = SubscriberPools.of(request);
  if (pools.full(pool)) throw apiError('TOO_MANY_SUBSCRIBERS', 'Too many event subscribers are connected; retry later.');
  const reveal = revealAllowed(request);
  const { types, after } = subscription(request);
  // Headers set by the security hooks (CORS) are kept: the reply is hijacked to stream.
  const headers: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v as string;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let open = true;
  const write = (frame: string): void => {
    if (!open) return;
    if (res.writableLength > ctx.maxBuffered) {
      close(); // a stalled reader: it resumes with Last-Event-ID
      return;
    }
    res.write(frame);
  };
  const send = (event: DeliveredEvent | { type: string; [k: string]: unknown }, data: unknown = event): void => {
    const id = 'seq' in event && typeof event.seq === 'number' ? `id: ${event.seq}\n` : '';
    write(`${id}event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  write('retry: 2000\n\n');
  send(streamHello(bus, after));
  const sub = bus.subscribe(
    (event, transient) => {
      metrics.inc('yika_sse_events_sent_total');
      send(event, withTransient(event, transient, reveal));
    },
    { types, after },
  );
  const heartbeat = setInterval(() => write(`: heartbeat ${bus.position}\n\n`), ctx.heartbeatMs);
  heartbeat.unref();
  const close = (): void => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    sub.unsubscribe();
    streams.delete(close);
    pools.release(pool);
    metrics.set('yika_sse_subscribers', streams.size);
    res.end();
  };
  streams.add(close);
  pools.take(pool);
  metrics.set('yika_sse_subscribers', streams.size);
  res.on('close', close);
  res.on('error', close);
}

/** The WebSocket: refused with a close code (pool full, reveal without a token), else streams. */
function serveWebSocket(ctx: StreamContext, socket: WebSocket, request: EventsRequest): void {
  const { bus, metrics, pools, sockets } = ctx;
  const pool = SubscriberPools.of(request);
  if (pools.full(pool)) {
    socket.close(CLOSE.TRY_AGAIN_LATER, 'TOO_MANY_SUBSCRIBERS');
    return;
  }
  let reveal: boolean;
  try {
    reveal = revealAllowed(request);
  } catch {
    socket.close(CLOSE.POLICY, 'TOKEN_REQUIRED');
    return;
  }
  sockets.add(socket);
  pools.take(pool);
  metrics.set('yika_ws_subscribers', sockets.size);
  const { types, after } = subscription(request);

  let alive = true;
  const send = (message: unknown): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > ctx.maxBuffered) {
      // A stalled reader must not make the daemon buffer without bound; it resumes with ?after.
      socket.close(CLOSE.TRY_AGAIN_LATER, 'SLOW_CONSUMER');
      return;
    }
    socket.send(JSON.stringify(message));
  };

  // hello goes first, then the replay, then live events: subscribe() replays synchronously
  // before it adds the listener, so nothing is lost or duplicated in between.
  send(streamHello(bus, after));
  const sub = bus.subscribe(
    (event, transient) => {
      metrics.inc('yika_ws_events_sent_total');
      send(withTransient(event, transient, reveal));
    },
    { types, after },
  );

  const heartbeat = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
    send({ type: 'stream.heartbeat', position: bus.position });
  }, ctx.heartbeatMs);
  heartbeat.unref();
  socket.on('pong', () => {
    alive = true;
  });
  // Clients only listen; anything they send is ignored (but must not pile up).
  socket.on('message', () => undefined);
  socket.on('close', () => {
    clearInterval(heartbeat);
    sub.unsubscribe();
    sockets.delete(socket);
    pools.release(pool);
    metrics.set('yika_ws_subscribers', sockets.size);
  });
  socket.on('error', () => socket.terminate());
}
