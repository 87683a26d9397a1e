// A ServerContext for API tests without devices: an in-memory logger sink, a real EventBus and
// Metrics, and a small route module with a schema'd GET, a POST with a body and a typed failure.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { defineErrorCodes } from '../../../common/error-catalog.ts';
import { YikaError } from '../../../common/yika-error.ts';
import type { HealthReport, RouteModule, ServerContext } from '../../../daemon/context.ts';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import { createLogger } from '../../../daemon/logging/logger.ts';
import { Metrics } from '../../../daemon/metrics/metrics.ts';

const TEST_CODES = defineErrorCodes('test/api', {
  TEST_CARD_ABSENT: { kind: 'conflict', zh: '测试：卡槽中没有卡', description: 'test: no card in the slot' },
});

const demoRoutes: RouteModule = (app: FastifyInstance) => {
  app.get('/demo/:id', {
    schema: {
      summary: 'demo read',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9-]+$' } } },
      querystring: { type: 'object', properties: { n: { type: 'integer', minimum: 1, maximum: 5 } } },
      response: { 200: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, n: { type: 'integer' } } } },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      if (id === 'absent') throw new YikaError(TEST_CODES.TEST_CARD_ABSENT, 'No card in slot 1.', { slot: 1 });
      if (id === 'boom') throw new Error('secret internal detail 110101199003074512');
      return { id, n: (req.query as { n?: number }).n };
    },
  });
  app.post('/demo/echo', {
    config: { capability: 'read' },
    schema: {
      body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { length: { type: 'integer' } } } },
    },
    handler: async (req) => ({ length: (req.body as { text: string }).text.length }),
  });
};

export interface FakeContext extends ServerContext {
  logLines: string[];
  healthReport: HealthReport;
}

export function fakeContext(routes: RouteModule[] = [demoRoutes]): FakeContext {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const healthReport: HealthReport = { status: 'ok', degraded: [], uptimeSeconds: 1, version: '0.1.0-test' };
  return {
    logger: createLogger({ level: 'debug', destination: sink }),
    events: new EventBus(50),
    metrics: new Metrics(),
    health: () => healthReport,
    routes,
    logLines,
    healthReport,
  };
}
