// Shared JSON schemas of the API layer, registered once with app.addSchema so routes can $ref them
// ("YikaError#") and the OpenAPI document lists them under components.schemas.
export const ERROR_BODY_SCHEMA = {
  $id: 'YikaError',
  type: 'object',
  description: 'The one error shape of the API.',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'messageZh'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[A-Z0-9_]+$', description: 'Stable UPPER_SNAKE code (see the error table).' },
        message: { type: 'string', description: 'What went wrong and what to do, for people; never contains cardholder data.' },
        messageZh: { type: 'string', description: "The code's Chinese text from the error catalogue (the same for every error of this code), for a Chinese user interface." },
        details: { type: 'object', additionalProperties: true, description: 'Machine-readable context (slot, retryAfterSeconds, issues …).' },
      },
    },
  },
} as const;

export const HEALTH_REPORT_SCHEMA = {
  $id: 'HealthReport',
  type: 'object',
  required: ['status', 'degraded', 'uptimeSeconds', 'version'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    degraded: {
      type: 'array',
      description: 'What is degraded and why, in words a front-desk user can act on.',
      items: {
        type: 'object',
        required: ['component', 'reason', 'reasonZh'],
        additionalProperties: false,
        properties: {
          component: { type: 'string' },
          reason: { type: 'string' },
          reasonZh: { type: 'string', description: 'The same in Chinese, for the front-desk page or a Chinese HIS.' },
        },
      },
    },
    uptimeSeconds: { type: 'number' },
    version: { type: 'string' },
  },
} as const;

/** The error responses every route gets unless it declares its own. */
export const DEFAULT_ERROR_RESPONSES = {
  '4xx': { $ref: 'YikaError#', description: 'Refused: { error: { code, message, messageZh, details? } }' },
  '5xx': { $ref: 'YikaError#', description: 'Failed in the daemon or a device: { error: { code, message, messageZh, details? } }' },
} as const;

/** One unit of a write request (apdu/healthcard/health-card-writer.ts WriteUnit). */
export const WRITE_UNIT_SCHEMA = {
  $id: 'WriteUnit',
  type: 'object',
  description: 'One unit of a write request: a TLV item, the photo, one appended allergy or immunisation record, one visit, one erased visit slot.',
  required: ['kind', 'file', 'items'],
  additionalProperties: true,
  properties: {
    kind: { type: 'string', enum: ['item', 'photo', 'allergy', 'immunisation', 'inpatient', 'outpatient', 'eraseInpatient', 'eraseOutpatient'] },
    file: { type: 'string', description: 'The file it changes (an erase: the index file DF03/EF05 or DF03/EF06).' },
    items: { type: 'array', items: { type: 'integer' }, description: 'Its item numbers (none for the photo and an erase).' },
    index: { type: 'integer', description: 'allergy / immunisation: its position (0-based) in addAllergies / addImmunisations.' },
    slot: { type: 'integer', description: 'inpatient / outpatient / erase: the visit slot.' },
    reason: {
      type: 'string',
      enum: ['no-answer', 'partly-written', 'card-memory-changed'],
      description:
        'Uncertain units only. no-answer: the command that completes it was sent and no answer came back (card removed, link dropped, timeout): the card may or may not have executed it. partly-written: part of it was acknowledged, then the write stopped. card-memory-changed: the card refused it with a status word saying its memory changed (ISO 7816-4 63xx/65xx).',
    },
  },
} as const;

/** details of PARTIAL_WRITE: every unit of the request in exactly one of written / uncertain / notWritten. */
export const PARTIAL_WRITE_DETAILS_SCHEMA = {
  $id: 'PartialWriteDetails',
  type: 'object',
  description:
    'details of a PARTIAL_WRITE error: every unit of the request is in exactly one of written, uncertain and notWritten. Read the card back before retrying; retry only what is missing. Retrying an uncertain cyclic append (addAllergies, addImmunisations) or a visit record written to another slot adds a duplicate if the first attempt was applied.',
  required: ['written', 'uncertain', 'notWritten', 'writtenFiles', 'writtenItems', 'uncertainItems', 'notWrittenItems', 'failedFile', 'causeCode'],
  additionalProperties: true,
  properties: {
    written: { type: 'array', items: { $ref: 'WriteUnit#' }, description: 'Acknowledged by the card.' },
    uncertain: { type: 'array', items: { $ref: 'WriteUnit#' }, description: 'Maybe applied, maybe not (each with its reason): read the card back.' },
    notWritten: { type: 'array', items: { $ref: 'WriteUnit#' }, description: 'Never sent, or refused by the card with its memory unchanged.' },
    writtenFiles: { type: 'array', items: { type: 'string' }, description: 'The files of written.' },
    writtenItems: { type: 'array', items: { type: 'integer' }, description: 'The item numbers of written (an item of several appended records can also appear in another list).' },
    uncertainItems: { type: 'array', items: { type: 'integer' } },
    notWrittenItems: { type: 'array', items: { type: 'integer' } },
    failedFile: { type: ['string', 'null'], description: 'The file being written when the write stopped.' },
    causeCode: { type: 'string', description: 'Why it stopped: CARD_REMOVED, CARD_CHANGED, NO_CARD, CARD_WRITE_FAILED, CARD_KEY_BLOCKED …' },
  },
} as const;

/** The error body of a write: PARTIAL_WRITE carries PartialWriteDetails, any other code its own details. */
export const WRITE_ERROR_BODY_SCHEMA = {
  $id: 'WriteError',
  type: 'object',
  description: 'The one error shape of the API; for PARTIAL_WRITE, details is a PartialWriteDetails.',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'messageZh'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[A-Z0-9_]+$' },
        message: { type: 'string' },
        messageZh: { type: 'string', description: "The code's Chinese text from the error catalogue." },
        details: {
          type: 'object',
          additionalProperties: true,
          description: 'PARTIAL_WRITE: PartialWriteDetails (written, uncertain, notWritten …); other codes: their own context (file, sw, triesLeft …).',
          properties: PARTIAL_WRITE_DETAILS_SCHEMA.properties,
        },
      },
    },
  },
} as const;
