// HTTP request counters and latency by route template (never the raw URL: bounded cardinality,
// and no identifiers in labels) and status.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  metrics.describe('yika_http_requests_total', 'counter', 'HTTP requests by method, route and status');
  metrics.describe('yika_http_request_duration_seconds', 'histogram', 'HTTP request latency by method and route');
  metrics.describe('yika_http_errors_total', 'counter', 'HTTP error responses by error code');
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: reply.statusCode };
    metrics.inc('yika_http_requests_total', labels);
    metrics.observe('yika_http_request_duration_seconds', reply.elapsedTime / 1000, { method: request.method, route }, LATENCY_BUCKETS);
  });
}
