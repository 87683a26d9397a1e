// Each API shape is defined once (daemon/api/schemas/*.ts) and everything else is derived from it:
// fastify validates and serializes with the very schema objects, the OpenAPI document renders them,
// and the handler, service and `yika/client` types are Static<> of them. The run-time half checks the
// first two on the whole daemon; the compile-time half (the type assertions below, checked by
// `npm run typecheck`) checks the types: an assertion that does not hold is a type error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithoutDevices } from '../support/app-without-devices.ts';
import type { YikaApp } from '../../daemon/app.ts';
import { rewriteRefs } from '../../daemon/api/openapi.ts';
import { HealthReportSchema, ErrorCatalogSchema } from '../../daemon/api/schemas/daemon.ts';
import { PartialWriteDetailsSchema, WriteUnitSchema } from '../../daemon/api/schemas/errors.ts';
import { HealthCardReadSchema, HealthCardWriteRequestSchema, HealthCardWriteResultSchema, ItemsReadSchema } from '../../daemon/api/schemas/health-card.ts';
import type { Static } from '../../daemon/api/schemas/json-type.ts';
import { QrStatsSchema, QrTrustSchema, QrVerifyResultSchema } from '../../daemon/api/schemas/qr.ts';
import { BatchResultSchema, ReaderLeaseSchema, ReaderSchema } from '../../daemon/api/schemas/readers.ts';
import { InterruptedWriteSchema } from '../../daemon/api/schemas/writes.ts';
import type * as Client from '../../daemon/client/index.ts';
import type { HealthReport } from '../../daemon/context.ts';
import type { HealthCardService } from '../../daemon/services/health-card-service.ts';
import type { QrService } from '../../daemon/services/qr-service.ts';

// ---- compile time: the client's and the services' types are the schemas' types ------------------

/** true only when X and Y are the same type (not merely assignable). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;

const clientTypes: Array<true> = [
  true satisfies Equal<Client.HealthCardRead, Static<typeof HealthCardReadSchema>>,
  true satisfies Equal<Client.ItemsRead, Static<typeof ItemsReadSchema>>,
  true satisfies Equal<Client.HealthCardWriteRequest, Static<typeof HealthCardWriteRequestSchema>>,
  true satisfies Equal<Client.HealthCardWriteResult, Static<typeof HealthCardWriteResultSchema>>,
  true satisfies Equal<Client.Reader, Static<typeof ReaderSchema>>,
  true satisfies Equal<Client.BatchResult, Static<typeof BatchResultSchema>>,
  true satisfies Equal<Client.ReaderLease, Static<typeof ReaderLeaseSchema>>,
  true satisfies Equal<Client.QrVerifyResult, Static<typeof QrVerifyResultSchema>>,
  true satisfies Equal<Client.QrStats, Static<typeof QrStatsSchema>>,
  true satisfies Equal<Client.QrTrust, Static<typeof QrTrustSchema>>,
  true satisfies Equal<Client.InterruptedWrite, Static<typeof InterruptedWriteSchema>>,
  true satisfies Equal<Client.HealthReport, Static<typeof HealthReportSchema>>,
  true satisfies Equal<Client.ErrorCatalog, Static<typeof ErrorCatalogSchema>>,
  true satisfies Equal<Client.PartialWriteDetails, Static<typeof PartialWriteDetailsSchema>>,
  true satisfies Equal<Client.WriteUnit, Static<typeof WriteUnitSchema>>,
];

const serviceTypes: Array<true> = [
  true satisfies Equal<Awaited<ReturnType<HealthCardService['read']>>, Static<typeof HealthCardReadSchema>>,
  true satisfies Equal<Awaited<ReturnType<HealthCardService['readItems']>>, Static<typeof ItemsReadSchema>>,
  true satisfies Equal<Awaited<ReturnType<HealthCardService['write']>>, Static<typeof HealthCardWriteResultSchema>>,
  true satisfies Equal<Parameters<HealthCardService['write']>[1], Static<typeof HealthCardWriteRequestSchema>>,
  true satisfies Equal<Awaited<ReturnType<QrService['verify']>>, Static<typeof QrVerifyResultSchema>>,
  true satisfies Equal<ReturnType<QrService['stats']>, Static<typeof QrStatsSchema>>,
  true satisfies Equal<ReturnType<QrService['trustInfo']>, Static<typeof QrTrustSchema>>,
  true satisfies Equal<HealthReport, Static<typeof HealthReportSchema>>,
];

// The check can fail: two different shapes are not Equal (tsc reports an error if this line compiles cleanly).
// @ts-expect-error ItemsRead is not HealthCardRead
const differentShapes: true = true satisfies Equal<Client.ItemsRead, Client.HealthCardRead>;

// ---- run time: fastify and the OpenAPI document use the same schema objects -----------------------

type Json = Record<string, unknown>;

describe('one definition of each API shape', () => {
  let app: YikaApp;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>>; components: { schemas: Json } };
  beforeAll(async () => {
    app = await appWithoutDevices();
    doc = (await app.server.inject('/v1/openapi.json')).json();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('the type assertions above are part of this file (npm run typecheck checks them)', () => {
    expect(clientTypes.length + serviceTypes.length).toBe(23);
    expect(differentShapes).toBe(true);
  });

  const routeSchema = (method: string, url: string): Json => {
    const route = app.server.yikaApi.routes.routes.find((r) => r.method === method && r.url === url);
    if (!route) throw new Error(`no route ${method} ${url}`);
    return route.schema;
  };

  it.each([
    ['GET', '/v1/readers/:id', ReaderSchema],
    ['GET', '/v1/readers/:id/healthcard', HealthCardReadSchema],
    ['PUT', '/v1/readers/:id/healthcard/items', HealthCardWriteResultSchema],
    ['POST', '/v1/readers/:id/slots/:slot/batch', BatchResultSchema],
    ['POST', '/v1/qr/verify', QrVerifyResultSchema],
    ['GET', '/v1/qr/stats', QrStatsSchema],
    ['GET', '/v1/errors', ErrorCatalogSchema],
  ] as const)('%s %s: fastify serializes with the schema object itself, and OpenAPI renders that object', (method, url, schema) => {
    const responses = routeSchema(method, url).response as Json;
    expect(responses[200]).toBe(schema);
    const path = url.replace(/:(\w+)/g, '{$1}');
    expect(doc.paths[path][method.toLowerCase()].responses['200'].content['application/json'].schema).toEqual(JSON.parse(JSON.stringify(rewriteRefs(schema))));
  });

  it('the request schemas are the ones the types come from (body of a write, query of the items read)', () => {
    expect(routeSchema('PUT', '/v1/readers/:id/healthcard/items').body).toBe(HealthCardWriteRequestSchema);
    const items = routeSchema('GET', '/v1/readers/:id/healthcard/items');
    expect((items.response as { 200: { content: { 'application/json': { schema: unknown } } } })[200].content['application/json'].schema).toBe(ItemsReadSchema);
  });

  it('shared schemas ($ref targets) are the OpenAPI components, rendered from the same objects', () => {
    for (const schema of [HealthReportSchema, WriteUnitSchema, PartialWriteDetailsSchema]) {
      const id = schema.$id as string;
      expect(doc.components.schemas[id]).toEqual(JSON.parse(JSON.stringify(rewriteRefs(schema))));
    }
    expect(doc.components.schemas.PartialWriteDetails).toMatchObject({ properties: { written: { items: { $ref: '#/components/schemas/WriteUnit' } } } });
  });
});
