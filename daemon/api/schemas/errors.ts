// The API's error shapes, registered once with app.addSchema (server.ts) so routes $ref them
// ("YikaError#") and the OpenAPI document lists them under components.schemas.
import { type Static, T } from './json-type.ts';

const Details = T.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description: 'Machine-readable context (slot, retryAfterSeconds, issues …).' });

export const ErrorBodySchema = T.Object(
  {
    error: T.Object(
      {
        code: T.String({ pattern: '^[A-Z0-9_]+$', description: 'Stable UPPER_SNAKE code (see the error table).' }),
        message: T.String({ description: 'What went wrong and what to do, for people; never contains cardholder data.' }),
        messageZh: T.String({ description: "The code's Chinese text from the error catalogue (the same for every error of this code), for a Chinese user interface." }),
        details: T.Optional(Details),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'YikaError', description: 'The one error shape of the API.', additionalProperties: false },
);
/** The one error body of the API (schema YikaError). */
export type ApiErrorBody = Static<typeof ErrorBodySchema>;

/** The error responses every route gets unless it declares its own. */
export const DEFAULT_ERROR_RESPONSES = {
  '4xx': { $ref: 'YikaError#', description: 'Refused: { error: { code, message, messageZh, details? } }' },
  '5xx': { $ref: 'YikaError#', description: 'Failed in the daemon or a device: { error: { code, message, messageZh, details? } }' },
} as const;

const WRITE_UNIT_KINDS = ['item', 'photo', 'allergy', 'immunisation', 'inpatient', 'outpatient', 'eraseInpatient', 'eraseOutpatient'] as const;

/** One unit of a write request (apdu/healthcard/health-card-writer.ts WriteUnit). */
export const WriteUnitSchema = T.Object(
  {
    kind: T.Enum(WRITE_UNIT_KINDS, { type: 'string' }),
    file: T.String({ description: 'The file it changes (an erase: the index file DF03/EF05 or DF03/EF06).' }),
    items: T.Array(T.Integer(), { description: 'Its item numbers (none for the photo and an erase).' }),
    index: T.Optional(T.Integer({ description: 'allergy / immunisation: its position (0-based) in addAllergies / addImmunisations.' })),
    slot: T.Optional(T.Integer({ description: 'inpatient / outpatient / erase: the visit slot.' })),
    reason: T.Optional(
      T.Enum(['no-answer', 'partly-written', 'card-memory-changed'], {
        type: 'string',
        description:
          'Uncertain units only. no-answer: the command that completes it was sent and no answer came back (card removed, link dropped, timeout): the card may or may not have executed it. partly-written: part of it was acknowledged, then the write stopped. card-memory-changed: the card refused it with a status word saying its memory changed (ISO 7816-4 63xx/65xx).',
      }),
    ),
  },
  {
    $id: 'WriteUnit',
    description: 'One unit of a write request: a TLV item, the photo, one appended allergy or immunisation record, one visit, one erased visit slot.',
    additionalProperties: true,
  },
);
/** One unit of a write request, as PARTIAL_WRITE reports it (schema WriteUnit). */
export type WriteUnit = Static<typeof WriteUnitSchema>;

const WriteUnits = (description?: string) => T.Array(T.Ref<typeof WriteUnitSchema>('WriteUnit'), description === undefined ? undefined : { description });

const PARTIAL_WRITE_PROPERTIES = {
  written: WriteUnits('Acknowledged by the card.'),
  uncertain: WriteUnits('Maybe applied, maybe not (each with its reason): read the card back.'),
  notWritten: WriteUnits('Never sent, or refused by the card with its memory unchanged.'),
  writtenFiles: T.Array(T.String(), { description: 'The files of written.' }),
  writtenItems: T.Array(T.Integer(), { description: 'The item numbers of written (an item of several appended records can also appear in another list).' }),
  uncertainItems: T.Array(T.Integer()),
  notWrittenItems: T.Array(T.Integer()),
  failedFile: T.Nullable(T.String(), { description: 'The file being written when the write stopped.' }),
  causeCode: T.String({ description: 'Why it stopped: CARD_REMOVED, CARD_CHANGED, NO_CARD, CARD_WRITE_FAILED, CARD_KEY_BLOCKED …' }),
};

/** details of PARTIAL_WRITE: every unit of the request in exactly one of written / uncertain / notWritten. */
export const PartialWriteDetailsSchema = T.Object(PARTIAL_WRITE_PROPERTIES, {
  $id: 'PartialWriteDetails',
  description:
    'details of a PARTIAL_WRITE error: every unit of the request is in exactly one of written, uncertain and notWritten. Read the card back before retrying; retry only what is missing. Retrying an uncertain cyclic append (addAllergies, addImmunisations) or a visit record written to another slot adds a duplicate if the first attempt was applied.',
  additionalProperties: true,
});
/** YikaApiError.details of PARTIAL_WRITE (schema PartialWriteDetails). Read the card back before retrying. */
export type PartialWriteDetails = Static<typeof PartialWriteDetailsSchema>;

/** The error body of a write: PARTIAL_WRITE carries PartialWriteDetails, any other code its own details. */
export const WriteErrorBodySchema = T.Object(
  {
    error: T.Object(
      {
        code: T.String({ pattern: '^[A-Z0-9_]+$' }),
        message: T.String(),
        messageZh: T.String({ description: "The code's Chinese text from the error catalogue." }),
        details: T.Optional(
          T.Unsafe<Record<string, unknown>>({
            type: 'object',
            additionalProperties: true,
            description: 'PARTIAL_WRITE: PartialWriteDetails (written, uncertain, notWritten …); other codes: their own context (file, sw, triesLeft …).',
            properties: PARTIAL_WRITE_PROPERTIES,
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'WriteError', description: 'The one error shape of the API; for PARTIAL_WRITE, details is a PartialWriteDetails.', additionalProperties: false },
);
