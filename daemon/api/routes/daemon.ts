// The daemon's own routes: /v1/health, /v1/errors, the OpenAPI document and its docs page (both
// hidden from the document), and /metrics for Prometheus.
import type { FastifyInstance } from 'fastify';
import { allErrorCodes } from '../../../common/error-catalog.ts';
import type { ServerContext } from '../../context.ts';
import type { ProcessMetrics } from '../../metrics/process-metrics.ts';
import { statusForCode } from '../error-map.ts';
import { ErrorCatalogSchema, type HealthReportSchema } from '../schemas/daemon.ts';
import { T } from '../schemas/json-type.ts';
import type { SchemaTypes } from '../schemas/type-provider.ts';

/** Under /v1: health, the error catalogue, openapi.json and docs (rendered once, on first request). */
export function registerDaemonRoutes(v1Plain: FastifyInstance, ctx: ServerContext, openapi: () => Record<string, unknown>): void {
  const v1 = v1Plain.withTypeProvider<SchemaTypes>();
  v1.get('/health', {
    schema: {
      summary: 'Liveness and what is degraded',
      description: 'Always 200 while the daemon runs; status "degraded" lists the components that need attention.',
      tags: ['daemon'],
      response: { 200: T.Ref<typeof HealthReportSchema>('HealthReport') },
    },
    handler: async () => ctx.health(),
  });
  v1.get('/errors', {
    schema: {
      summary: 'The error catalogue',
      description:
        'Every error code the daemon can answer, with its HTTP status, its kind, what it means (English) and its Chinese text (the messageZh of error bodies). For a HIS or the front-desk page that shows codes coming from events (reader.health detail) in Chinese.',
      tags: ['daemon'],
      response: { 200: ErrorCatalogSchema },
    },
    handler: async () => ({
      errors: allErrorCodes().map((c) => ({ code: c.code, status: statusForCode(c.code), kind: c.kind, description: c.description, messageZh: c.zh })),
    }),
  });
  let cachedDoc: string | undefined;
  v1.get('/openapi.json', { schema: { hide: true } }, async (_req, reply) => {
    cachedDoc ??= JSON.stringify(openapi());
    return reply.type('application/json; charset=utf-8').send(cachedDoc);
  });
  let cachedPage: string | undefined;
  v1.get('/docs', { schema: { hide: true } }, async (_req, reply) => {
    // The docs page renderer is loaded on the first request for it, not at start.
    cachedPage ??= (await import('../docs-page.ts')).renderDocsPage(openapi());
    return reply
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .send(cachedPage);
  });
}

/** GET /metrics (Prometheus text); samples the process metrics on each scrape. */
export function registerMetricsRoute(app: FastifyInstance, ctx: ServerContext, processMetrics: ProcessMetrics): void {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics',
      tags: ['daemon'],
      response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
    handler: async (_req, reply) => {
      processMetrics.sample();
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render());
    },
  });
}
