// Interrupted card writes (RouteModule, under /v1): the writes the daemon was cut short in when it last
// stopped (crash, kill -9, power loss), from its write journal, until the HIS acknowledges each one.
// A HIS that finds one reads the card back and rewrites what is missing (the items are listed).
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import type { WriteJournal } from '../../journal/write-journal.ts';
import { AcknowledgedWriteSchema, EmptyBody, InterruptedWritesSchema, WriteIdParams } from '../schemas/writes.ts';
import type { SchemaTypes } from '../schemas/type-provider.ts';

export function writeJournalRoutes(journal: WriteJournal): RouteModule {
  return (plain: FastifyInstance) => {
    const app = plain.withTypeProvider<SchemaTypes>();
    app.get(
      '/writes/interrupted',
      {
        schema: {
          summary: 'Card writes cut short when the daemon last stopped, not acknowledged yet',
          description:
            'Each card write is journaled (intent before the first command, outcome at the end, fsync’d; no cardholder values). A write without an outcome when the daemon starts is listed here, in /v1/health and as a write.interrupted event until acknowledged: the card may hold any mix of old and new values for the listed items (each record or visit is whole or absent).',
          tags: ['writes'],
          response: { 200: InterruptedWritesSchema },
        },
      },
      async () => ({ interrupted: journal.interrupted() }),
    );

    app.post(
      '/writes/interrupted/:id/ack',
      {
        // No body is as good as {} (curl -X POST): the schema below still refuses unknown keys.
        preValidation: async (req) => {
          req.body ??= {} as typeof req.body;
        },
        schema: {
          summary: 'Acknowledge an interrupted write (after reading the card back): it is no longer reported',
          tags: ['writes'],
          params: WriteIdParams,
          body: EmptyBody,
          response: { 200: AcknowledgedWriteSchema },
        },
      },
      async (req) => ({ acknowledged: journal.acknowledge(req.params.id) }),
    );
  };
}
