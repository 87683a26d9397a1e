// Health-card routes (RouteModule, registered under /v1): read the card (all files or ?files=),
// read items by number (?ids=1,11,15, optionally &format=pipe like the vendor DLLs), write items.
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import { HealthCardError } from '../../../apdu/healthcard/index.ts';
import type { HealthCardService } from '../../services/health-card-service.ts';
import { apiError } from '../api-errors.ts';
import { encodePipe, pipeContentType } from '../pipe-charset.ts';
import { HealthCardQuery, HealthCardReadSchema, HealthCardWriteRequestSchema, HealthCardWriteResultSchema, ItemsQuery, ItemsResponse, WriteQuery } from '../schemas/health-card.ts';
import { WriteErrorBodySchema } from '../schemas/errors.ts';
import { T } from '../schemas/json-type.ts';
import { ReaderIdParams } from '../schemas/readers.ts';
import type { SchemaTypes } from '../schemas/type-provider.ts';

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new HealthCardError('UNKNOWN_ITEM', 'ids: give item numbers, e.g. ids=1,11,15', { field: 'ids' });
  return ids.map((s) => {
    if (!/^\d{1,3}$/.test(s)) throw new HealthCardError('UNKNOWN_ITEM', `ids: "${s.slice(0, 10)}" is not an item number (1–384)`, { field: 'ids' });
    return Number(s);
  });
}

export function healthCardRoutes(service: HealthCardService): RouteModule {
  return (plain: FastifyInstance) => {
    const app = plain.withTypeProvider<SchemaTypes>();
    app.get(
      '/readers/:id/healthcard',
      {
        schema: {
          summary: 'Read the resident health card in the reader (decoded)',
          description:
            'Holds the reader lock for the whole read. Default (no `files`): what a front desk needs, DDF1/EF05 (card data), DDF1/EF06 (cardholder basics) and DDF1/EF07 (photo) — one SAM authorization, ~30 APDUs. `files=all` reads all 22 files (~150 APDUs, seconds at real card speed); `files=` a comma-separated list chooses files (e.g. DDF1/EF05,DF01/EF05).',
          tags: ['health card'],
          params: ReaderIdParams,
          querystring: HealthCardQuery,
          response: { 200: HealthCardReadSchema },
        },
      },
      async (req) =>
        service.read(req.params.id, {
          files: req.query.files?.split(',').map((f) => f.trim()).filter(Boolean),
          slot: req.query.slot,
        }),
    );

    app.get(
      '/readers/:id/healthcard/items',
      {
        schema: {
          summary: 'Read data items by number (the hospital "by item" API)',
          description:
            'ids=1,11,15 in the order wanted. format=pipe answers text/plain with the values joined by "|" (unwritten → empty), like the vendor DLLs; charset=gbk or gb18030 encodes it for HIS databases in those charsets (Content-Type says which). A character without a GBK code: 422 PIPE_CHARSET_UNENCODABLE.',
          tags: ['health card'],
          params: ReaderIdParams,
          querystring: ItemsQuery,
          response: { 200: ItemsResponse },
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

    app.put(
      '/readers/:id/healthcard/items',
      {
        config: { capability: 'write' },
        schema: {
          summary: 'Write data items, records and visits',
          description:
            'Every value is validated (lengths, code tables, dates, ID check digits) before the first command. Authorization with the update keys through the SAM, secure messaging for TLV records. A failure once the card may have changed answers 422 PARTIAL_WRITE whose details (PartialWriteDetails) place every unit of the request (item, photo, appended record, visit, erase) in exactly one of written (acknowledged by the card), uncertain (sent but unanswered, e.g. the card was pulled out: it may or may not be on the card) and notWritten. Visits and the photo are written so that a write cut short never leaves mixed data that reads as valid: an uncertain visit reads back old, new, or as an empty slot (valid: false); an uncertain photo old, new, or none. Read the card back before retrying: a retried allergy or immunisation append, or a visit written to another slot, adds a duplicate if the uncertain first attempt was applied. A failure before anything was sent answers its own error (e.g. 409 CARD_REMOVED): nothing was written.',
          tags: ['health card'],
          params: ReaderIdParams,
          querystring: WriteQuery,
          body: HealthCardWriteRequestSchema,
          response: {
            200: HealthCardWriteResultSchema,
            422: T.Ref<typeof WriteErrorBodySchema>('WriteError', { description: 'Refused by the card or the SAM, or PARTIAL_WRITE (details: PartialWriteDetails)' }),
          },
        },
      },
      async (req) => service.write(req.params.id, req.body, { slot: req.query.slot }),
    );
  };
}
