// Fastify's type provider for the API's schemas (daemon/api/schemas/json-type.ts): on an instance
// from `app.withTypeProvider<SchemaTypes>()`, a route's request (params, querystring, body) and reply
// are typed from its schemas, so a handler cannot read a key or return a shape its schema does not have.
import type { FastifyBaseLogger, FastifyInstance, FastifyTypeProvider, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Static, TSchema } from './json-type.ts';

export interface SchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/** A fastify instance whose routes are typed from their schemas (`app.withTypeProvider<SchemaTypes>()`). */
export type SchemaApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, SchemaTypes>;
