// GET /v1/events (WebSocket): the daemon's event stream for pages and HIS clients.
//   ?types=card.inserted,qr.scanned  only these event types
//   ?after=<seq>                     first replay what was published after seq (EventBus history)
// The first message is {type:"stream.hello", position, oldest, resume:{after, complete}}: when
// complete is false, events after `after` were already dropped from the history and the client
// should re-read state over REST. Then every event as published ({type, seq, at, ...}), and every
// heartbeat interval a WebSocket ping plus {type:"stream.heartbeat", position} (a browser cannot
// see pings). A client that does not answer pings, or reads too slowly, is disconnected; it
// reconnects with ?after=<last seq> and misses nothing still in the history.
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/websocket'; // route option types: { websocket: true }
import type { WebSocket } from 'ws';
import type { EventBus } from '../events/event-bus.ts';
import { EVENT_TYPES } from '../events/event-catalog.ts';
import type { YikaEventType } from '../events/event-types.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface EventStreamOptions {
  heartbeatMs: number;
  maxSubscribers: number;
  /** Disconnect a subscriber whose unsent backlog exceeds this many bytes. */
  maxBufferedBytes?: number;
}

export const EVENTS_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    types: {
      type: 'string',
      pattern: `^(${EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')})(,(${EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')}))*$`,
      description: `Comma-separated event types: ${EVENT_TYPES.join(', ')}`,
    },
    after: { type: 'integer', minimum: 0, description: 'Resume: replay events with seq > after still in the history.' },
  },
} as const;

/** WebSocket close codes we use. */
export const CLOSE = { GOING_AWAY: 1001, TRY_AGAIN_LATER: 1013, POLICY: 1008 } as const;

export function registerEventStream(v1: FastifyInstance, bus: EventBus, metrics: Metrics, options: EventStreamOptions): void {
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const sockets = new Set<WebSocket>();
  metrics.describe('yika_ws_subscribers', 'gauge', 'Connected WebSocket event subscribers');
  metrics.describe('yika_ws_events_sent_total', 'counter', 'Events sent to WebSocket subscribers');
  metrics.set('yika_ws_subscribers', 0);

  v1.get<{ Querystring: { types?: string; after?: number } }>(
    '/events',
    {
      websocket: true,
      schema: { querystring: EVENTS_QUERY_SCHEMA, summary: 'Event stream (WebSocket)', tags: ['events'] },
    },
    (socket, request) => {
      if (sockets.size >= options.maxSubscribers) {
        socket.close(CLOSE.TRY_AGAIN_LATER, 'TOO_MANY_SUBSCRIBERS');
        return;
      }
      sockets.add(socket);
      metrics.set('yika_ws_subscribers', sockets.size);
      const types = request.query.types ? (request.query.types.split(',') as YikaEventType[]) : undefined;
      const after = request.query.after;

      let alive = true;
      const send = (message: unknown): void => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > maxBuffered) {
          // A stalled reader must not make the daemon buffer without bound; it resumes with ?after.
          socket.close(CLOSE.TRY_AGAIN_LATER, 'SLOW_CONSUMER');
          return;
        }
        socket.send(JSON.stringify(message));
      };

      // hello goes first, then the replay, then live events: subscribe() replays synchronously
      // before it adds the listener, so nothing is lost or duplicated in between.
      const oldest = bus.oldest;
      const complete = after === undefined || after >= oldest - 1;
      send({ type: 'stream.hello', position: bus.position, oldest, resume: after === undefined ? null : { after, complete } });
      const sub = bus.subscribe(
        (event) => {
          metrics.inc('yika_ws_events_sent_total');
          send(event);
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
      }, options.heartbeatMs);
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
        metrics.set('yika_ws_subscribers', sockets.size);
      });
      socket.on('error', () => socket.terminate());
    },
  );

  v1.addHook('onClose', async () => {
    for (const s of sockets) s.close(CLOSE.GOING_AWAY, 'daemon stopping');
  });
}
