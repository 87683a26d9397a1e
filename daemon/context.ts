// What the HTTP layer needs from the rest of the daemon. app.ts builds it; api/server.ts consumes it.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DeskConfig } from './config/config-schema.ts';
import type { EventBus } from './events/event-bus.ts';
import type { Metrics } from './metrics/metrics.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** What is degraded and why, in words a front-desk user can act on. */
  degraded: Array<{ component: string; reason: string; reasonZh: string }>;
  uptimeSeconds: number;
  version: string;
}

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
