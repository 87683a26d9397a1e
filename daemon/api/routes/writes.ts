// Interrupted card writes (RouteModule, under /v1): the writes the daemon was cut short in when it last
// stopped (crash, kill -9, power loss), from its write journal, until the HIS acknowledges each one.
// A HIS that finds one reads the card back and rewrites what is missing (the items are listed).
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import type { WriteJournal } from '../../journal/write-journal.ts';

const INT_LIST = { type: 'array', items: { type: 'integer' } } as const;

export const INTERRUPTED_WRITE_SCHEMA = {
  type: 'object',
  required: ['id', 'readerId', 'slot', 'card', 'startedAt', 'detectedAt', 'what'],
  properties: {
    id: { type: 'string', description: 'The write id (w-…), for the acknowledgement' },
    readerId: { type: 'string' },
    slot: { type: 'integer' },
    card: { type: 'string', description: 'SM3 hash of the card ATR (16 hex digits): which card, never whose' },
    startedAt: { type: 'string', description: 'When the write began (ISO 8601)' },
    detectedAt: { type: 'string', description: 'When the daemon found it cut short (its next start)' },
    what: {
      type: 'object',
      required: ['items'],
      description: 'What the write touched (item numbers and slots; never values). Read these back before writing again.',
      properties: {
        items: { ...INT_LIST, description: 'TLV items 1–57 written or erased' },
        photo: { enum: ['set', 'remove'] },
        allergies: { type: 'integer', description: 'Allergy records appended' },
        immunisations: { type: 'integer', description: 'Immunisation records appended' },
        inpatient: { ...INT_LIST, description: 'Inpatient visit slots written' },
        outpatient: { ...INT_LIST, description: 'Outpatient visit slots written' },
        eraseInpatient: INT_LIST,
        eraseOutpatient: INT_LIST,
      },
    },
  },
} as const;

const ID_PARAMS = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 } } } as const;

export function writeJournalRoutes(journal: WriteJournal): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/writes/interrupted',
      {
        schema: {
          summary: 'Card writes cut short when the daemon last stopped, not acknowledged yet',
          description:
            'Each card write is journaled (intent before the first command, outcome at the end, fsync’d; no cardholder values). A write without an outcome when the daemon starts is listed here, in /v1/health and as a write.interrupted event until acknowledged: the card may hold any mix of old and new values for the listed items (each record or visit is whole or absent).',
          tags: ['writes'],
          response: { 200: { type: 'object', required: ['interrupted'], properties: { interrupted: { type: 'array', items: INTERRUPTED_WRITE_SCHEMA } } } },
        },
      },
      async () => ({ interrupted: journal.interrupted() }),
    );

    app.post<{ Params: { id: string }; Body: Record<string, never> }>(
      '/writes/interrupted/:id/ack',
      {
        // No body is as good as {} (curl -X POST): the schema below still refuses unknown keys.
        preValidation: async (req) => {
          req.body ??= {};
        },
        schema: {
          summary: 'Acknowledge an interrupted write (after reading the card back): it is no longer reported',
          tags: ['writes'],
          params: ID_PARAMS,
          body: { type: 'object', additionalProperties: false, properties: {}, description: 'Empty ({} or no body at all).' },
          response: { 200: { type: 'object', required: ['acknowledged'], properties: { acknowledged: INTERRUPTED_WRITE_SCHEMA } } },
        },
      },
      async (req) => ({ acknowledged: journal.acknowledge(req.params.id) }),
    );
  };
}
