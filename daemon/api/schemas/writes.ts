// Interrupted card writes (routes/writes.ts): what the daemon's write journal reports.
import { type Static, T } from './json-type.ts';

const IntList = (description?: string) => T.Array(T.Integer(), description === undefined ? undefined : { description });

export const InterruptedWriteSchema = T.Object({
  id: T.String({ description: 'The write id (w-…), for the acknowledgement' }),
  readerId: T.String(),
  slot: T.Integer(),
  card: T.String({ description: 'SM3 hash of the card ATR (16 hex digits): which card, never whose' }),
  startedAt: T.String({ description: 'When the write began (ISO 8601)' }),
  detectedAt: T.String({ description: 'When the daemon found it cut short (its next start)' }),
  what: T.Object(
    {
      items: IntList('TLV items 1–57 written or erased'),
      photo: T.Optional(T.Enum(['set', 'remove'])),
      allergies: T.Optional(T.Integer({ description: 'Allergy records appended' })),
      immunisations: T.Optional(T.Integer({ description: 'Immunisation records appended' })),
      inpatient: T.Optional(IntList('Inpatient visit slots written')),
      outpatient: T.Optional(IntList('Outpatient visit slots written')),
      eraseInpatient: T.Optional(IntList()),
      eraseOutpatient: T.Optional(IntList()),
    },
    { description: 'What the write touched (item numbers and slots; never values). Read these back before writing again.' },
  ),
});
/** A card write cut short when the daemon last stopped (GET /v1/writes/interrupted). No values, only what was touched. */
export type InterruptedWrite = Static<typeof InterruptedWriteSchema>;

export const InterruptedWritesSchema = T.Object({ interrupted: T.Array(InterruptedWriteSchema) });

export const WriteIdParams = T.Object({ id: T.String({ maxLength: 64 }) }, { additionalProperties: false });

/** No body is as good as {}: the route turns a missing body into {} before validation. */
export const EmptyBody = T.Object({}, { additionalProperties: false, description: 'Empty ({} or no body at all).' });

export const AcknowledgedWriteSchema = T.Object({ acknowledged: InterruptedWriteSchema });
