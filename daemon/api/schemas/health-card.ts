// Health-card routes (routes/healthcard.ts): read the card decoded, read items by number, write items.
// Imports only pure modules (no Node): the front-desk page type-checks against these types.
import { type Static, T } from './json-type.ts';

/** The charsets of format=pipe (pipe-charset.ts encodes them). */
export const PIPE_CHARSETS = ['utf-8', 'gbk', 'gb18030'] as const;

const Value = () => T.Nullable(T.String(), { description: 'an: text; cn: digits without F padding; b: upper-case hex; null: unwritten' });

/** One data item as the daemon decodes it. */
const HealthCardItemSchema = T.Object({
  itemNo: T.Integer({ description: 'Data-item number 1–384 (TLV items: the tag)' }),
  field: T.String({ description: 'Stable English field name' }),
  nameZh: T.String({ description: 'Chinese name of the data item' }),
  value: Value(),
  file: T.Optional(T.String({ description: 'The file the item was read from (items route)' })),
  record: T.Optional(T.Integer({ description: 'Record or visit slot (record-based items)' })),
  invalid: T.Optional(T.Boolean({ description: 'The visit slot is marked empty by its DF03 index flag (vendor code 112)' })),
});
export type HealthCardItem = Static<typeof HealthCardItemSchema>;

const FIELD_SET = {
  fields: T.Optional(T.Dictionary(Value(), { description: 'Values by English field name' })),
  items: T.Optional(T.Array(HealthCardItemSchema, { description: 'Values with item number and Chinese name, in item order' })),
};
const FieldSetSchema = T.Object(FIELD_SET);
export type HealthCardFieldSet = Static<typeof FieldSetSchema>;

/** One decoded file; `kind` says which of the optional members are present. */
const HealthCardFileSchema = T.Object({
  kind: T.Enum(['tlv', 'photo', 'records', 'index', 'visit']),
  file: T.String({ description: 'e.g. DDF1/EF05' }),
  nameZh: T.String(),
  ...FIELD_SET,
  length: T.Optional(T.Integer({ description: 'photo: JPEG length in bytes (0 = none)' })),
  base64: T.Optional(T.Nullable(T.String(), { description: 'photo: the JPEG, base64' })),
  records: T.Optional(
    T.Array(T.Object({ record: T.Integer(), ...FIELD_SET }), { description: 'cyclic files (allergies, immunisations): written records, newest (record 1) first' }),
  ),
  flags: T.Optional(
    T.Array(T.Object({ record: T.Integer(), visitFile: T.String(), valid: T.Boolean() }), { description: 'DF03 index files: which visit files hold a valid record' }),
  ),
  record: T.Optional(T.Integer({ description: 'visit files: the slot (EE0n/ED0n)' })),
  valid: T.Optional(T.Boolean({ description: 'visit files: false when the index flag marks the slot empty' })),
  signature: T.Optional(T.Nullable(T.String(), { description: 'visit files: 64-byte signature, hex' })),
  certificate: T.Optional(T.Nullable(T.String(), { description: 'visit files: 190-byte certificate, hex' })),
});
export type HealthCardFile = Static<typeof HealthCardFileSchema>;

/** GET /v1/readers/:id/healthcard */
export const HealthCardReadSchema = T.Object({
  readerId: T.String(),
  slot: T.Integer(),
  atr: T.String({ description: 'ATR of the card (hex)' }),
  readAt: T.String({ format: 'date-time' }),
  durationMs: T.Number({ description: 'Time spent on card and SAM (lock wait excluded)' }),
  apdus: T.Integer({ description: 'APDUs exchanged with card and SAM for this read' }),
  roundTrips: T.Integer({ description: 'Link round trips for this read (batching makes it smaller than apdus)' }),
  card: T.Object({ card8: T.Nullable(T.String()), cityCode: T.Nullable(T.String()) }),
  files: T.Dictionary(HealthCardFileSchema, { description: 'Decoded files keyed by file id (DDF1/EF05 …)' }),
});
export type HealthCardRead = Static<typeof HealthCardReadSchema>;

export const HealthCardQuery = T.Object(
  {
    files: T.Optional(T.String({ maxLength: 512, description: '`all`, or file ids (DDF1/EF05 …); default DDF1/EF05,DDF1/EF06,DDF1/EF07' })),
    slot: T.Optional(T.Integer({ minimum: 0, maximum: 255 })),
  },
  { additionalProperties: false },
);
export type HealthCardQueryParams = Static<typeof HealthCardQuery>;

export const ItemsQuery = T.Object(
  {
    ids: T.String({ maxLength: 2048 }),
    format: T.Optional(T.Enum(['json', 'pipe'])),
    charset: T.Optional(T.Enum(PIPE_CHARSETS, { description: 'format=pipe only: utf-8 (default), gbk, gb18030' })),
    slot: T.Optional(T.Integer({ minimum: 0, maximum: 255 })),
    record: T.Optional(T.Integer({ minimum: 1, maximum: 10, description: 'record (58–61: 1 = newest) or visit slot (62–384); default 1' })),
  },
  { additionalProperties: false },
);
export type ItemsQueryParams = Static<typeof ItemsQuery>;

/** GET /v1/readers/:id/healthcard/items (JSON). */
export const ItemsReadSchema = T.Object({
  readerId: T.String(),
  items: T.Array(HealthCardItemSchema),
  pipe: T.String(),
});
export type ItemsRead = Static<typeof ItemsReadSchema>;

/** Both media types the items route answers, so OpenAPI (and clients generated from it) know format=pipe is text. */
export const ItemsResponse = {
  content: {
    'application/json': { schema: ItemsReadSchema },
    // Typed as bytes too: the handler sends the text already encoded in the charset asked.
    'text/plain': {
      schema: T.Unsafe<string | Uint8Array>({
        type: 'string',
        description: 'format=pipe: the values joined by "|". Content-Type: text/plain; charset=utf-8 (default), charset=GBK or charset=GB18030, as the charset parameter asked.',
      }),
    },
  },
};

/** Item values by number ("11": "王小明"); null erases (FF). */
const ItemValuesSchema = (description?: string) =>
  T.Unsafe<Record<string, string | null>>({ type: 'object', patternProperties: { '^\\d{1,3}$': Value() }, additionalProperties: false, ...(description ? { description } : {}) });
export type ItemValues = Static<ReturnType<typeof ItemValuesSchema>>;

const VisitWrite = T.Object(
  {
    slot: T.Integer({ minimum: 1, maximum: 5 }),
    values: ItemValuesSchema(),
    signature: T.Optional(T.String({ pattern: '^[0-9A-Fa-f]{128}$', description: "the visit record's 64-byte signature, hex (absent: FF)" })),
    certificate: T.Optional(T.String({ pattern: '^[0-9A-Fa-f]{380}$', description: 'the 190-byte certificate, hex (absent: FF)' })),
  },
  { additionalProperties: false },
);

/** PUT /v1/readers/:id/healthcard/items: everything is validated before the first command. */
export const HealthCardWriteRequestSchema = T.Object(
  {
    items: T.Optional(ItemValuesSchema('TLV items 1–57 by number; null erases (FF)')),
    photo: T.Optional(T.Nullable(T.String(), { description: 'JPEG as base64 (≤ 3070 bytes), or null to remove' })),
    addAllergies: T.Optional(T.Array(ItemValuesSchema(), { maxItems: 3, description: 'records of items 58/59 to append, newest first' })),
    addImmunisations: T.Optional(T.Array(ItemValuesSchema(), { maxItems: 10, description: 'records of items 60/61 to append, newest first' })),
    inpatient: T.Optional(T.Array(VisitWrite, { maxItems: 3, description: 'EE01–EE03: items 64–212' })),
    outpatient: T.Optional(T.Array(VisitWrite, { maxItems: 5, description: 'ED01–ED05: items 213–384' })),
    eraseInpatient: T.Optional(T.Array(T.Integer({ minimum: 1, maximum: 3 }))),
    eraseOutpatient: T.Optional(T.Array(T.Integer({ minimum: 1, maximum: 5 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type HealthCardWriteRequest = Static<typeof HealthCardWriteRequestSchema>;

export const WriteQuery = T.Object({ slot: T.Optional(T.Integer({ minimum: 0, maximum: 255 })) }, { additionalProperties: false });

export const HealthCardWriteResultSchema = T.Object({
  readerId: T.String(),
  written: T.Object({ files: T.Array(T.String()), items: T.Array(T.Integer()) }),
  durationMs: T.Number(),
  apdus: T.Integer(),
  roundTrips: T.Integer(),
});
export type HealthCardWriteResult = Static<typeof HealthCardWriteResultSchema>;
