// The daemon's HTTP + WebSocket API: fastify 5 with the security policy, one error shape, request
// logs without bodies, HTTP metrics, the OpenAPI document and docs page, /v1/health, /v1/events,
// /metrics, the route modules of the other parts of the daemon, and the front-desk page at /.
import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import type { ServerContext } from '../context.ts';
import { installHttpMetrics } from '../metrics/http-metrics.ts';
import { ProcessMetrics } from '../metrics/process-metrics.ts';
import { registerFrontDesk } from '../web/web-routes.ts';
import { type ApiConfig, type ApiConfigInput, resolveApiConfig } from './api-config.ts';
import { ApiErrorCode } from './api-errors.ts';
import { errorBody, toErrorResponse } from './error-map.ts';
import { registerEventStream } from './events-socket.ts';
import { OpenApiCollector } from './openapi.ts';
import { HealthReportSchema } from './schemas/daemon.ts';
import { registerDaemonRoutes, registerMetricsRoute } from './routes/daemon.ts';
import { DEFAULT_ERROR_RESPONSES, ErrorBodySchema, PartialWriteDetailsSchema, WriteErrorBodySchema, WriteUnitSchema } from './schemas/errors.ts';
import { T } from './schemas/json-type.ts';
import { installSecurity } from './security.ts';
import { LAZY_COMPILERS } from './lazy-compilers.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The resolved API config and the generated OpenAPI document. */
    yikaApi: { config: ApiConfig; openapi(): Record<string, unknown>; routes: OpenApiCollector };
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_ROUTES = new Set(['/v1/health', '/metrics', '/v1/events']);
/** The query of a route that takes none. */
const NO_QUERY = T.Object({}, { additionalProperties: false });

/**
 * The shared schemas ($ref targets, OpenAPI components), and what every documented route gets unless
 * it says otherwise: the one error shape for 4xx/5xx, and no query parameters (a typo such as ?file=
 * must be a 400, not quietly the default answer).
 */
function installSchemaDefaults(app: FastifyInstance): void {
  for (const shared of [ErrorBodySchema, HealthReportSchema, WriteUnitSchema, PartialWriteDetailsSchema, WriteErrorBodySchema]) app.addSchema(shared);
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.schema?.hide || route.websocket || route.method === 'OPTIONS') return;
    const schema = (route.schema ??= {});
    schema.querystring ??= NO_QUERY;
    const response = ((schema.response as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
    for (const [status, s] of Object.entries(DEFAULT_ERROR_RESPONSES)) response[status] ??= s;
    schema.response = response;
  });
}

/** Builds (does not start) the API server. Throws ApiConfigError for an unsafe or invalid config. */
export async function buildServer(ctx: ServerContext, options: ApiConfigInput = {}): Promise<FastifyInstance> {
  const config = resolveApiConfig(options);
  const app = Fastify({
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // No fastify trustProxy: security.ts finds the client through the configured proxies itself.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    schemaController: { compilersFactory: LAZY_COMPILERS as never },
    forceCloseConnections: true,
    // Fastify's default removeAdditional drops unknown keys silently: a write with a misplaced or
    // misspelt key would answer 200 with nothing written. Unknown keys are a 400 instead (every body
    // and query schema says additionalProperties: false).
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: (err, _request, reply) => void reply.code((err.statusCode ?? 400) as never).send(errorBody(ApiErrorCode.BAD_REQUEST, `Malformed request URL (${err.code}): bad percent-encoding or a path segment too long`) as never),
  });

  const collector = new OpenApiCollector();
  installSchemaDefaults(app);
  collector.attach(app);

  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  installSecurity(app, config);
  installHttpMetrics(app, ctx.metrics);
  const processMetrics = new ProcessMetrics(ctx.metrics);
  app.addHook('onClose', async () => processMetrics.stop());

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    reply.header('X-Content-Type-Options', 'nosniff');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const line = { req: request as FastifyRequest, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (QUIET_ROUTES.has(route) && reply.statusCode < 400) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  installErrorHandlers(app, ctx);

  let v1Instance: FastifyInstance | undefined;
  const openapi = (): Record<string, unknown> =>
    collector.document(
      {
        title: 'Yika local API',
        version: ctx.health().version,
        description: 'Health-card readers and EHC QR verification on a clinic front desk: readers, card reads and writes, QR verification, events.',
      },
      (v1Instance ?? app).getSchemas() as Record<string, unknown>,
    );
  app.decorate('yikaApi', { config, openapi, routes: collector });

  await app.register(
    async (v1) => {
      v1Instance = v1;
      registerDaemonRoutes(v1, ctx, openapi);
      registerEventStream(v1, ctx.events, ctx.metrics, config.websocket);
      for (const routes of ctx.routes) await routes(v1);
    },
    { prefix: '/v1' },
  );
  registerMetricsRoute(app, ctx, processMetrics);

  if (config.webPage) registerFrontDesk(app, ctx.desk);

  app.addHook('onReady', async () => {
    const undocumented = collector
      .visible()
      .filter((r) => r.url.startsWith('/v1/') && !Object.keys((r.schema.response ?? {}) as object).some((s) => s.startsWith('2')))
      .map((r) => `${r.method} ${r.url}`);
    if (undocumented.length) app.log.warn({ routes: undocumented }, 'routes without a success response schema');
  });
  return app;
}

/** Every error answers the one shape (error-map.ts), counted by code; 5xx are logged with their cause. */
function installErrorHandlers(app: FastifyInstance, ctx: ServerContext): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ code: body.error.code, status }, 'request refused');
    ctx.metrics.inc('yika_http_errors_total', { code: body.error.code });
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    ctx.metrics.inc('yika_http_errors_total', { code: ApiErrorCode.NOT_FOUND });
    reply.code(404).send(errorBody(ApiErrorCode.NOT_FOUND, `No route ${request.method} ${request.url.split('?')[0]}; see /v1/docs.`));
  });
}

/** Starts listening on config.listen; returns the base URL (http://host:port). */
export async function listenServer(app: FastifyInstance): Promise<string> {
  const { host, port } = app.yikaApi.config.listen;
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}
