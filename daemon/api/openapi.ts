// A small OpenAPI 3.1 generator: it records every route as fastify registers it (onRoute hook) and
// turns the route's JSON schemas into the document. No dependency: fastify's schemas are already
// JSON Schema, which OpenAPI 3.1 embeds as is; only `$ref`s to shared schemas are rewritten.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { type Capability, defaultCapability } from './capabilities.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** Leave this route out of the OpenAPI document. */
    hide?: boolean;
    summary?: string;
    description?: string;
    tags?: string[];
    operationId?: string;
  }
}

export interface CollectedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  /** What a caller needs (capabilities.ts). */
  capability?: Capability;
}

type Json = Record<string, unknown>;

/** Rewrites fastify-style refs ("Id#", "Id#/properties/x") to OpenAPI component refs. */
export function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) {
      const [id, pointer = ''] = v.split('#');
      out[k] = `#/components/schemas/${id}${pointer}`;
    } else if (k === '$id') {
      continue;
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

/** "/v1/readers/:id/slots/:slot" → "/v1/readers/{id}/slots/{slot}" */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{wildcard}');
}

export class OpenApiCollector {
  readonly routes: CollectedRoute[] = [];

  /** Attach before any route is registered; hooks are inherited by every child plugin. */
  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        const capability = (route.config as { capability?: Capability } | undefined)?.capability ?? defaultCapability(method.toUpperCase());
        this.routes.push({ method: method.toUpperCase(), url: route.url, schema: (route.schema ?? {}) as Json, capability });
      }
    });
  }

  /** Routes that appear in the document (not hidden). */
  visible(): CollectedRoute[] {
    return this.routes.filter((r) => !r.schema.hide);
  }

  document(info: { title: string; version: string; description?: string }, sharedSchemas: Record<string, unknown>): Json {
    const paths: Record<string, Json> = {};
    for (const r of this.visible()) {
      const p = (paths[openApiPath(r.url)] ??= {});
      p[r.method.toLowerCase()] = this.operation(r);
    }
    const schemas: Json = {};
    for (const [id, s] of Object.entries(sharedSchemas)) schemas[id] = rewriteRefs(s);
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      paths,
      components: {
        schemas,
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'api.token or a token of api.tokens. Needed from other machines, and from any client for operations whose x-yika-capability is not read (docs/API.md "Capabilities").',
          },
        },
      },
      security: [{}, { bearer: [] }],
    };
  }

  private operation(r: CollectedRoute): Json {
    const s = r.schema;
    const op: Json = {
      operationId: (s.operationId as string) ?? `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ? c.toUpperCase() : ''))}`,
    };
    if (s.summary) op.summary = s.summary;
    if (s.description) op.description = s.description;
    if (s.tags) op.tags = s.tags;
    if (r.capability) {
      op['x-yika-capability'] = r.capability;
      if (r.capability !== 'read') {
        op.security = [{ bearer: [] }];
        op.description = `${op.description ? `${op.description as string}\n\n` : ''}Needs Authorization: Bearer <token> with the \`${r.capability}\` capability, also from loopback.`;
      }
    }
    const parameters: Json[] = [];
    for (const [where, key] of [['path', 'params'], ['query', 'querystring'], ['header', 'headers']] as const) {
      const obj = s[key] as Json | undefined;
      if (!obj) continue;
      const props = (obj.properties ?? {}) as Record<string, Json>;
      const required = new Set((obj.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(props)) {
        const param: Json = { name, in: where, required: where === 'path' || required.has(name), schema: rewriteRefs(schema) };
        if (schema.description) param.description = schema.description;
        parameters.push(param);
      }
    }
    if (parameters.length) op.parameters = parameters;
    if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: rewriteRefs(s.body) } } };
    const responses: Json = {};
    for (const [status, schema] of Object.entries((s.response ?? {}) as Record<string, Json>)) {
      const description = (schema.description as string) ?? (status.startsWith('2') ? 'Success' : 'Error: { error: { code, message, messageZh, details? } }');
      // Fastify also accepts { content: { 'text/plain': { schema } } } for non-JSON responses.
      const content = schema.content
        ? Object.fromEntries(Object.entries(schema.content as Record<string, Json>).map(([type, c]) => [type, { schema: rewriteRefs(c.schema) }]))
        : { 'application/json': { schema: rewriteRefs(schema) } };
      responses[status.toUpperCase()] = { description, content };
    }
    op.responses = Object.keys(responses).length ? responses : { default: { description: 'Undocumented' } };
    return op;
  }
}
