// Reader routes (routes/readers.ts): the reader list, one reader, slot power, raw APDUs (one or a
// batch), leases and the APDU trace.
import { SLOT_ID_FORMS, SLOT_ID_PATTERN } from '../../../protocol/slot-id.ts';
import { type Static, T } from './json-type.ts';

const HEX_PATTERN = '^(?:[0-9A-Fa-f]{2}\\s?)*$';

export const ReaderSlotSchema = T.Object({
  slot: T.Integer({ description: '0x01 user card, 0x02 contactless, 0x11–0x14 SAM1–SAM4' }),
  kind: T.Enum(['contact', 'contactless', 'sam']),
  label: T.String(),
  card: T.Enum(['absent', 'present', 'powered', 'mute']),
  atr: T.Optional(T.String({ description: 'ATR in hex (when powered)' })),
  protocol: T.Optional(T.Enum([0, 1])),
  rate: T.Optional(
    T.Object(
      {
        fi: T.Integer({ description: 'clock rate conversion factor Fi (ISO 7816-3 table 7)' }),
        di: T.Integer({ description: 'baud rate adjustment factor Di (table 8)' }),
        clockHz: T.Optional(T.Integer({ description: 'card clock f' })),
        bitRate: T.Optional(T.Integer({ description: 'bits per second = clockHz · di / fi' })),
      },
      { description: 'Card interface rate in effect (after PPS), when the reader reports it (PROTOCOL.md 6.1; PC/SC readers negotiate PPS themselves and do not report it)' },
    ),
  ),
});
export type ReaderSlot = Static<typeof ReaderSlotSchema>;
export type SlotCardState = ReaderSlot['card'];

export const ReaderSchema = T.Object({
  id: T.String({ description: 'Stable short id, e.g. sim-1, serial-1, pcsc-1' }),
  name: T.String(),
  kind: T.Enum(['serial', 'pcsc', 'sim']),
  vendor: T.String(),
  model: T.String(),
  firmware: T.String(),
  serial: T.Optional(T.String()),
  slots: T.Array(ReaderSlotSchema),
  secureChannel: T.Object({
    policy: T.Enum(['required', 'preferred', 'off']),
    state: T.Enum(['open', 'plain', 'unsupported']),
    reason: T.Optional(T.String({ description: 'Why the link is not protected (absent when open). Under policy preferred a plaintext link also makes the reader degraded.' })),
  }),
  health: T.Enum(['ok', 'degraded', 'offline']),
  healthDetail: T.Optional(T.String()),
  batch: T.Object({ supported: T.Boolean(), max: T.Integer() }),
  session: T.Object({ heldBy: T.Nullable(T.String()), waiting: T.Integer() }),
});
export type Reader = Static<typeof ReaderSchema>;

export const ReaderListSchema = T.Object({ readers: T.Array(ReaderSchema) });

export const ReaderIdParams = T.Object({ id: T.String({ maxLength: 64 }) });
export const SlotParams = T.Object({
  id: T.String({ maxLength: 64 }),
  slot: T.String({ pattern: SLOT_ID_PATTERN, description: SLOT_ID_FORMS }),
});

const LeaseToken = T.String({
  pattern: '^[0-9a-f]{32}$',
  description: 'Run under this lease (POST /v1/readers/:id/lease): no other client can step in between this request and the next one of the lease',
});

export const PowerBody = T.Object({ action: T.Enum(['on', 'off', 'reset']), lease: T.Optional(LeaseToken) }, { additionalProperties: false });
export type PowerRequest = Static<typeof PowerBody>;

export const ApduBody = T.Object(
  {
    apdu: T.String({ pattern: HEX_PATTERN, maxLength: 2 * 65_544 + 20000 }),
    sensitive: T.Optional(T.Enum(['command', 'response', 'both'])),
    lease: T.Optional(LeaseToken),
  },
  { additionalProperties: false },
);
export type ApduRequest = Static<typeof ApduBody>;

export const ApduResultSchema = T.Object({
  response: T.String({ description: 'Response APDU in hex: data ‖ SW1 SW2' }),
  sw: T.String({ description: 'Status word, 4 hex digits' }),
  data: T.String({ description: 'Response data in hex (without the status word)' }),
});
export type ApduResult = Static<typeof ApduResultSchema>;

const SwPattern = T.String({ pattern: '^[0-9A-Fa-f]{4}$' });
const BatchCommand = T.Object(
  {
    apdu: T.String({ pattern: HEX_PATTERN }),
    expect: T.Optional(
      T.Array(T.Object({ sw: SwPattern, mask: T.Optional(SwPattern) }, { additionalProperties: false }), {
        description:
          'Status words that let the batch continue (default only 9000): sw & mask === sw. A 61xx or 6Cxx answer always stops the batch (T=0: GET RESPONSE or the resend with Le must come next; send it yourself)',
      }),
    ),
  },
  { additionalProperties: false },
);
export const BatchBody = T.Object({ lease: T.Optional(LeaseToken), commands: T.Array(BatchCommand, { minItems: 1, maxItems: 256 }) }, { additionalProperties: false });
/** One command of a raw APDU batch. */
export type BatchCommandRequest = Static<typeof BatchCommand>;

/**
 * The answer of a raw APDU batch: one response per command that ran. Fewer responses than commands
 * means it stopped early, and stoppedAt or interrupted says why.
 */
export const BatchResultSchema = T.Object({
  responses: T.Array(ApduResultSchema, { description: 'One per command that ran, in order' }),
  stoppedAt: T.Optional(T.Integer({ description: 'Index of the command whose status word stopped the batch (unexpected, or 61xx/6Cxx)' })),
  interrupted: T.Optional(
    T.Object(
      { code: T.String(), message: T.String(), messageZh: T.String() },
      {
        additionalProperties: false,
        description:
          'Present when the batch was cut short before the command at index responses.length was sent (card removed or replaced, reader offline): that command and the later ones never reached the card; the responses are those of the commands that ran. code is an error code of the catalogue (CARD_CHANGED, NO_CARD, READER_OFFLINE …).',
      },
    ),
  ),
});
export type BatchResult = Static<typeof BatchResultSchema>;

export const LeaseBody = T.Object(
  {
    waitMs: T.Optional(T.Integer({ minimum: 0, maximum: 120_000, description: 'How long to wait for the reader' })),
    idleMs: T.Optional(T.Integer({ minimum: 100, maximum: 120_000, description: 'The lease ends after this long without a request' })),
  },
  { additionalProperties: false },
);
export type LeaseRequest = Static<typeof LeaseBody>;
export const LeaseTokenBody = T.Object({ lease: LeaseToken }, { additionalProperties: false });

/** POST /v1/readers/:id/lease: the reader held across requests until release or idleMs without a request. */
export const ReaderLeaseSchema = T.Object({
  lease: T.String({ description: 'The lease token: pass it as `lease` in apdu, batch and power requests' }),
  readerId: T.String(),
  idleMs: T.Integer({ description: 'The lease ends when no request used it for this long' }),
  expiresAt: T.String({ description: 'When it ends unless used or renewed before (ISO time)' }),
});
export type ReaderLease = Static<typeof ReaderLeaseSchema>;

export const LeaseReleasedSchema = T.Object({ released: T.Boolean() });

export const TraceQuery = T.Object(
  { format: T.Optional(T.Enum(['json', 'text', 'replay'])), timing: T.Optional(T.Boolean()), slot: T.Optional(T.String({ pattern: SLOT_ID_PATTERN })) },
  { additionalProperties: false },
);

const TraceEntrySchema = T.Object({
  seq: T.Integer(),
  at: T.String(),
  slot: T.Integer(),
  dir: T.Enum(['command', 'response']),
  hex: T.String(),
  ms: T.Optional(T.Number()),
  note: T.Optional(T.String()),
});

/** GET …/trace answers JSON by default; format=text and format=replay answer text/plain. */
export const TraceResponse = {
  content: {
    'application/json': {
      schema: T.Object({ enabled: T.Boolean(), maskData: T.Boolean(), text: T.String(), entries: T.Array(TraceEntrySchema) }),
    },
    'text/plain': { schema: T.String({ description: 'format=text: the trace lines; format=replay: a transcript (text/plain; charset=utf-8).' }) },
  },
};

export const TraceBody = T.Object({ enabled: T.Optional(T.Boolean()), maskData: T.Optional(T.Boolean()), clear: T.Optional(T.Boolean()) }, { additionalProperties: false });
export const TraceSettingsSchema = T.Object({ enabled: T.Boolean(), maskData: T.Boolean() });
