// Health-card routes (RouteModule, registered under /v1): read the card (all files or ?files=),
// read items by number (?ids=1,11,15, optionally &format=pipe like the vendor DLLs), write items.
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import { HealthCardError } from '../../../apdu/healthcard/index.ts';
import type { HealthCardService } from '../../services/health-card-service.ts';

const ITEM_SCHEMA = {
  type: 'object',
  required: ['item', 'field', 'nameZh', 'value'],
  properties: {
    item: { type: 'integer', description: 'Data-item number 1–384 (TLV items: the tag)' },
    field: { type: 'string', description: 'Stable English field name' },
    nameZh: { type: 'string', description: 'Chinese name of the data item' },
    value: { type: ['string', 'null'], description: 'an: text; cn: digits without F padding; b: upper-case hex; null: unwritten' },
  },
} as const;

const FILE_SCHEMA = {
  type: 'object',
  required: ['file', 'nameZh', 'items'],
  properties: {
    file: { type: 'string', description: 'e.g. DDF1/EF05' },
    nameZh: { type: 'string' },
    items: { type: 'array', items: ITEM_SCHEMA },
  },
} as const;

export const HEALTH_CARD_READ_SCHEMA = {
  type: 'object',
  required: ['readerId', 'slot', 'atr', 'readAt', 'durationMs', 'apdus', 'roundTrips', 'files'],
  properties: {
    readerId: { type: 'string' },
    slot: { type: 'integer' },
    atr: { type: 'string', description: 'ATR of the card (hex)' },
    readAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'number', description: 'Time spent on the card (lock wait excluded)' },
    apdus: { type: 'integer', description: 'APDUs exchanged for this read' },
    roundTrips: { type: 'integer', description: 'Link round trips for this read (batching makes it smaller than apdus)' },
    files: { type: 'object', additionalProperties: FILE_SCHEMA, description: 'Decoded files keyed by file id' },
  },
} as const;

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new HealthCardError('UNKNOWN_ITEM', 'ids: give item numbers, e.g. ids=1,11,15', { field: 'ids' });
  return ids.map((s) => {
    if (!/^\d{1,3}$/.test(s)) throw new HealthCardError('UNKNOWN_ITEM', `ids: "${s.slice(0, 10)}" is not an item number (1–384)`, { field: 'ids' });
    return Number(s);
  });
}

export function healthCardRoutes(service: HealthCardService): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Params: { id: string }; Querystring: { files?: string; slot?: number } }>(
      '/readers/:id/healthcard',
      {
        schema: {
          summary: 'Read the resident health card in the reader (decoded)',
          description: 'Holds the reader lock for the whole read. `files` chooses files (comma-separated, e.g. DDF1/EF05,DDF1/EF06); default all.',
          tags: ['health card'],
          params: ID_PARAMS,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { files: { type: 'string', maxLength: 512 }, slot: { type: 'integer', minimum: 0, maximum: 255 } },
          },
          response: { 200: HEALTH_CARD_READ_SCHEMA },
        },
      },
      async (req) =>
        service.read(req.params.id, {
          files: req.query.files?.split(',').map((f) => f.trim()).filter(Boolean),
          slot: req.query.slot,
        }),
    );

    app.get<{ Params: { id: string }; Querystring: { ids: string; format?: 'json' | 'pipe'; slot?: number } }>(
      '/readers/:id/healthcard/items',
      {
        schema: {
          summary: 'Read data items by number (the hospital "by item" API)',
          description: 'ids=1,11,15 in the order wanted. format=pipe answers text/plain with the values joined by "|" (unwritten → empty), like the vendor DLLs.',
          tags: ['health card'],
          params: ID_PARAMS,
          querystring: {
            type: 'object',
            required: ['ids'],
            additionalProperties: false,
            properties: { ids: { type: 'string', maxLength: 2048 }, format: { enum: ['json', 'pipe'] }, slot: { type: 'integer', minimum: 0, maximum: 255 } },
          },
          response: {
            200: {
              type: 'object',
              required: ['readerId', 'items', 'pipe'],
              properties: { readerId: { type: 'string' }, items: { type: 'array', items: ITEM_SCHEMA }, pipe: { type: 'string' } },
            },
          },
        },
      },
      async (req, reply) => {
        const result = await service.readItems(req.params.id, parseIds(req.query.ids), { slot: req.query.slot });
        if (req.query.format === 'pipe') {
          reply.type('text/plain; charset=utf-8');
          return reply.serializer((x: unknown) => String(x)).send(result.pipe);
        }
        return result;
      },
    );
  };
}
