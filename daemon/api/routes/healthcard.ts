// Health-card routes (RouteModule, registered under /v1): read the card (all files or ?files=),
// read items by number (?ids=1,11,15, optionally &format=pipe like the vendor DLLs), write items.
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import { HealthCardError } from '../../../apdu/healthcard/index.ts';
import type { HealthCardService, HealthCardWriteRequest } from '../../services/health-card-service.ts';
import { apiError } from '../api-errors.ts';
import { PIPE_CHARSETS, encodePipe, pipeContentType, type PipeCharset } from '../pipe-charset.ts';

const VALUE = { type: ['string', 'null'], description: 'an: text; cn: digits without F padding; b: upper-case hex; null: unwritten' } as const;

const ITEM_SCHEMA = {
  type: 'object',
  required: ['itemNo', 'field', 'nameZh', 'value'],
  properties: {
    itemNo: { type: 'integer', description: 'Data-item number 1–384 (TLV items: the tag)' },
    field: { type: 'string', description: 'Stable English field name' },
    nameZh: { type: 'string', description: 'Chinese name of the data item' },
    value: VALUE,
    file: { type: 'string', description: 'The file the item was read from (items route)' },
    record: { type: 'integer', description: 'Record or visit slot (record-based items)' },
    invalid: { type: 'boolean', description: 'The visit slot is marked empty by its DF03 index flag (vendor code 112)' },
  },
} as const;

const FIELD_SET = {
  fields: { type: 'object', additionalProperties: VALUE, description: 'Values by English field name' },
  items: { type: 'array', items: ITEM_SCHEMA, description: 'Values with item number and Chinese name, in item order' },
} as const;

/** One decoded file; `kind` says which of the optional members are present. */
const FILE_SCHEMA = {
  type: 'object',
  required: ['kind', 'file', 'nameZh'],
  properties: {
    kind: { enum: ['tlv', 'photo', 'records', 'index', 'visit'] },
    file: { type: 'string', description: 'e.g. DDF1/EF05' },
    nameZh: { type: 'string' },
    ...FIELD_SET,
    length: { type: 'integer', description: 'photo: JPEG length in bytes (0 = none)' },
    base64: { type: ['string', 'null'], description: 'photo: the JPEG, base64' },
    records: {
      type: 'array',
      description: 'cyclic files (allergies, immunisations): written records, newest (record 1) first',
      items: { type: 'object', required: ['record'], properties: { record: { type: 'integer' }, ...FIELD_SET } },
    },
    flags: {
      type: 'array',
      description: 'DF03 index files: which visit files hold a valid record',
      items: { type: 'object', required: ['record', 'visitFile', 'valid'], properties: { record: { type: 'integer' }, visitFile: { type: 'string' }, valid: { type: 'boolean' } } },
    },
    record: { type: 'integer', description: 'visit files: the slot (EE0n/ED0n)' },
    valid: { type: 'boolean', description: 'visit files: false when the index flag marks the slot empty' },
    signature: { type: ['string', 'null'], description: 'visit files: 64-byte signature, hex' },
    certificate: { type: ['string', 'null'], description: 'visit files: 190-byte certificate, hex' },
  },
} as const;

export const HEALTH_CARD_READ_SCHEMA = {
  type: 'object',
  required: ['readerId', 'slot', 'atr', 'readAt', 'durationMs', 'apdus', 'roundTrips', 'card', 'files'],
  properties: {
    readerId: { type: 'string' },
    slot: { type: 'integer' },
    atr: { type: 'string', description: 'ATR of the card (hex)' },
    readAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'number', description: 'Time spent on card and SAM (lock wait excluded)' },
    apdus: { type: 'integer', description: 'APDUs exchanged with card and SAM for this read' },
    roundTrips: { type: 'integer', description: 'Link round trips for this read (batching makes it smaller than apdus)' },
    card: { type: 'object', properties: { card8: { type: ['string', 'null'] }, cityCode: { type: ['string', 'null'] } } },
    files: { type: 'object', additionalProperties: FILE_SCHEMA, description: 'Decoded files keyed by file id (DDF1/EF05 …)' },
  },
} as const;

const ITEM_VALUES = { type: 'object', patternProperties: { '^\\d{1,3}$': VALUE }, additionalProperties: false } as const;
const VISIT_WRITE = {
  type: 'object',
  required: ['slot', 'values'],
  additionalProperties: false,
  properties: {
    slot: { type: 'integer', minimum: 1, maximum: 5 },
    values: ITEM_VALUES,
    signature: { type: 'string', pattern: '^[0-9A-Fa-f]{128}$', description: 'the visit record\'s 64-byte signature, hex (absent: FF)' },
    certificate: { type: 'string', pattern: '^[0-9A-Fa-f]{380}$', description: 'the 190-byte certificate, hex (absent: FF)' },
  },
} as const;

const WRITE_BODY = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    items: { ...ITEM_VALUES, description: 'TLV items 1–57 by number; null erases (FF)' },
    photo: { type: ['string', 'null'], description: 'JPEG as base64 (≤ 3070 bytes), or null to remove' },
    addAllergies: { type: 'array', maxItems: 3, items: ITEM_VALUES, description: 'records of items 58/59 to append, newest first' },
    addImmunisations: { type: 'array', maxItems: 10, items: ITEM_VALUES, description: 'records of items 60/61 to append, newest first' },
    inpatient: { type: 'array', maxItems: 3, items: VISIT_WRITE, description: 'EE01–EE03: items 64–212' },
    outpatient: { type: 'array', maxItems: 5, items: VISIT_WRITE, description: 'ED01–ED05: items 213–384' },
    eraseInpatient: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 3 } },
    eraseOutpatient: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 5 } },
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
          description:
            'Holds the reader lock for the whole read. Default (no `files`): what a front desk needs, DDF1/EF05 (card data), DDF1/EF06 (cardholder basics) and DDF1/EF07 (photo) — one SAM authorization, ~30 APDUs. `files=all` reads all 22 files (~150 APDUs, seconds at real card speed); `files=` a comma-separated list chooses files (e.g. DDF1/EF05,DF01/EF05).',
          tags: ['health card'],
          params: ID_PARAMS,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { files: { type: 'string', maxLength: 512, description: '`all`, or file ids (DDF1/EF05 …); default DDF1/EF05,DDF1/EF06,DDF1/EF07' }, slot: { type: 'integer', minimum: 0, maximum: 255 } },
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

    app.get<{ Params: { id: string }; Querystring: { ids: string; format?: 'json' | 'pipe'; charset?: PipeCharset; slot?: number; record?: number } }>(
      '/readers/:id/healthcard/items',
      {
        schema: {
          summary: 'Read data items by number (the hospital "by item" API)',
          description:
            'ids=1,11,15 in the order wanted. format=pipe answers text/plain with the values joined by "|" (unwritten → empty), like the vendor DLLs; charset=gbk or gb18030 encodes it for HIS databases in those charsets (Content-Type says which). A character without a GBK code: 422 PIPE_CHARSET_UNENCODABLE.',
          tags: ['health card'],
          params: ID_PARAMS,
          querystring: {
            type: 'object',
            required: ['ids'],
            additionalProperties: false,
            properties: {
              ids: { type: 'string', maxLength: 2048 },
              format: { enum: ['json', 'pipe'] },
              charset: { enum: [...PIPE_CHARSETS], description: 'format=pipe only: utf-8 (default), gbk, gb18030' },
              slot: { type: 'integer', minimum: 0, maximum: 255 },
              record: { type: 'integer', minimum: 1, maximum: 10, description: 'record (58–61: 1 = newest) or visit slot (62–384); default 1' },
            },
          },
          response: {
            // Both media types this route answers, so OpenAPI (and clients generated from it) know format=pipe is text.
            200: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['readerId', 'items', 'pipe'],
                    properties: { readerId: { type: 'string' }, items: { type: 'array', items: ITEM_SCHEMA }, pipe: { type: 'string' } },
                  },
                },
                'text/plain': {
                  schema: {
                    type: 'string',
                    description: 'format=pipe: the values joined by "|". Content-Type: text/plain; charset=utf-8 (default), charset=GBK or charset=GB18030, as the charset parameter asked.',
                  },
                },
              },
            },
          },
        },
      },
      async (req, reply) => {
        const result = await service.readItems(req.params.id, parseIds(req.query.ids), { slot: req.query.slot, record: req.query.record });
        if (req.query.format === 'pipe') {
          const charset = req.query.charset ?? 'utf-8';
          return reply.type(pipeContentType(charset)).send(encodePipe(result.pipe, charset)); // a Buffer is sent as is
        }
        if (req.query.charset !== undefined) throw apiError('BAD_REQUEST', 'charset applies to format=pipe only (JSON is always UTF-8)');
        return result;
      },
    );

    app.put<{ Params: { id: string }; Body: HealthCardWriteRequest; Querystring: { slot?: number } }>(
      '/readers/:id/healthcard/items',
      {
        config: { capability: 'write' },
        schema: {
          summary: 'Write data items, records and visits',
          description:
            'Every value is validated (lengths, code tables, dates, ID check digits) before the first command. Authorization with the update keys through the SAM, secure messaging for TLV records. A failure once the card may have changed answers 422 PARTIAL_WRITE whose details (PartialWriteDetails) place every unit of the request (item, photo, appended record, visit, erase) in exactly one of written (acknowledged by the card), uncertain (sent but unanswered, e.g. the card was pulled out: it may or may not be on the card) and notWritten. Visits and the photo are written so that a write cut short never leaves mixed data that reads as valid: an uncertain visit reads back old, new, or as an empty slot (valid: false); an uncertain photo old, new, or none. Read the card back before retrying: a retried allergy or immunisation append, or a visit written to another slot, adds a duplicate if the uncertain first attempt was applied. A failure before anything was sent answers its own error (e.g. 409 CARD_REMOVED): nothing was written.',
          tags: ['health card'],
          params: ID_PARAMS,
          querystring: { type: 'object', additionalProperties: false, properties: { slot: { type: 'integer', minimum: 0, maximum: 255 } } },
          body: WRITE_BODY,
          response: {
            200: {
              type: 'object',
              required: ['readerId', 'written', 'durationMs', 'apdus', 'roundTrips'],
              properties: {
                readerId: { type: 'string' },
                written: {
                  type: 'object',
                  required: ['files', 'items'],
                  properties: { files: { type: 'array', items: { type: 'string' } }, items: { type: 'array', items: { type: 'integer' } } },
                },
                durationMs: { type: 'number' },
                apdus: { type: 'integer' },
                roundTrips: { type: 'integer' },
              },
            },
            422: { $ref: 'WriteError#', description: 'Refused by the card or the SAM, or PARTIAL_WRITE (details: PartialWriteDetails)' },
          },
        },
      },
      async (req) => service.write(req.params.id, req.body, { slot: req.query.slot }),
    );
  };
}
