// What the HTTP layer needs from the rest of the daemon. app.ts builds it; api/server.ts consumes it.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DeskConfig } from './config/config-schema.ts';
import type { EventBus } from './events/event-bus.ts';
import type { HealthReport } from './api/schemas/daemon.ts';
import type { Metrics } from './metrics/metrics.ts';

/** GET /v1/health (its schema: api/schemas/daemon.ts). */
export type { HealthReport };

/** A route module: registers its routes (with JSON schemas) on the /v1-prefixed instance. */
export type RouteModule = (app: FastifyInstance) => Promise<void> | void;

export interface ServerContext {
  logger: Logger;
  events: EventBus;
  metrics: Metrics;
  health(): HealthReport;
  routes: RouteModule[];
  /** Settings of the front-desk page (daemon config `desk`), handed to the page when it loads. */
  desk?: DeskConfig;
}
