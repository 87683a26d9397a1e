// The shapes of the Yika API as a HIS sees them (JSON). They mirror the route schemas in
// daemon/api/routes/*.ts; /v1/openapi.json is the authority when they disagree.

/** The one error body of the API (schema YikaError). */
export interface ApiErrorBody {
  error: {
    /** Stable UPPER_SNAKE code of the error catalogue. */
    code: string;
    /** English, specific to this error; never cardholder data. */
    message: string;
    /** The code's Chinese text from the catalogue, for a Chinese user interface. */
    messageZh: string;
    details?: Record<string, unknown>;
  };
}

/** GET /v1/errors: the error catalogue. */
export interface ErrorCatalog {
  errors: Array<{ code: string; status: number; kind: string; description: string; messageZh: string }>;
}

export type SlotCardState = 'absent' | 'present' | 'powered' | 'mute';

export interface ReaderSlot {
  /** 0x01 user card, 0x02 contactless, 0x11–0x14 SAM1–SAM4 */
  slot: number;
  kind: 'contact' | 'contactless' | 'sam';
  label: string;
  card: SlotCardState;
  atr?: string;
  protocol?: 0 | 1;
}

export interface Reader {
  id: string;
  name: string;
  kind: 'serial' | 'pcsc' | 'sim';
  vendor: string;
  model: string;
  firmware: string;
  serial?: string;
  slots: ReaderSlot[];
  secureChannel: { policy: 'required' | 'preferred' | 'off'; state: 'open' | 'plain' | 'unsupported'; reason?: string };
  health: 'ok' | 'degraded' | 'offline';
  healthDetail?: string;
  batch: { supported: boolean; max: number };
  session: { heldBy: string | null; waiting: number };
}

export interface ApduResult {
  /** Response APDU in hex: data ‖ SW1 SW2 */
  response: string;
  sw: string;
  data: string;
}

/**
 * The answer of a raw APDU batch: one response per command that ran. Fewer responses than commands
 * means it stopped early, and one of the two others says why.
 */
export interface BatchResult {
  responses: ApduResult[];
  /** Index of the command whose status word stopped the batch (unexpected, or 61xx/6Cxx). */
  stoppedAt?: number;
  /**
   * The card was removed or replaced (or the reader went away) before the command at index
   * `responses.length` was sent: that one and the later ones never reached the card. The responses
   * are what the card did. (When nothing ran, the call fails with YikaApiError instead.)
   */
  interrupted?: { code: string; message: string; messageZh: string };
}

/** One data item as the daemon decodes it. */
export interface HealthCardItem {
  /** Data-item number 1–384 (TLV items: the tag). */
  itemNo: number;
  /** Stable English field name, e.g. name, sex, birthDate, idNumber. */
  field: string;
  nameZh: string;
  /** an: text; cn: digits without F padding; b: upper-case hex; null: unwritten. */
  value: string | null;
  /** The file the item was read from (items route). */
  file?: string;
  /** Record (58–61: 1 = newest) or visit slot. */
  record?: number;
  /** The visit slot is marked empty by its DF03 index flag (vendor code 112). */
  invalid?: boolean;
}

export interface HealthCardFieldSet {
  /** Values by English field name. */
  fields?: Record<string, string | null>;
  /** Values with item number and Chinese name, in item order. */
  items?: HealthCardItem[];
}

/** One decoded file; `kind` says which members are present. */
export interface HealthCardFile extends HealthCardFieldSet {
  kind: 'tlv' | 'photo' | 'records' | 'index' | 'visit';
  /** e.g. DDF1/EF06 */
  file: string;
  nameZh: string;
  /** photo: JPEG length (0 = none) and the JPEG as base64. */
  length?: number;
  base64?: string | null;
  /** cyclic files (allergies, immunisations): newest (record 1) first. */
  records?: Array<{ record: number } & HealthCardFieldSet>;
  /** DF03 index files: which visit files hold a valid record. */
  flags?: Array<{ record: number; visitFile: string; valid: boolean }>;
  /** visit files */
  record?: number;
  valid?: boolean;
  signature?: string | null;
  certificate?: string | null;
}

/** GET /v1/readers/:id/healthcard */
export interface HealthCardRead {
  readerId: string;
  slot: number;
  atr: string;
  readAt: string;
  /** Time spent on card and SAM (lock wait excluded). */
  durationMs: number;
  apdus: number;
  roundTrips: number;
  card: { card8?: string | null; cityCode?: string | null };
  /** Decoded files keyed by file id (DDF1/EF05 …). */
  files: Record<string, HealthCardFile>;
}

/** Item values by number ("11": "王小明"); null erases (FF). */
export type ItemValues = Record<string, string | null>;

/** PUT /v1/readers/:id/healthcard/items: everything is validated before the first command. */
export interface HealthCardWriteRequest {
  items?: ItemValues;
  /** JPEG as base64 (≤ 3070 bytes), or null to remove. */
  photo?: string | null;
  addAllergies?: ItemValues[];
  addImmunisations?: ItemValues[];
  inpatient?: Array<{ slot: number; values: ItemValues }>;
  outpatient?: Array<{ slot: number; values: ItemValues }>;
  eraseInpatient?: number[];
  eraseOutpatient?: number[];
}

export interface HealthCardWriteResult {
  readerId: string;
  written: { files: string[]; items: number[] };
  durationMs: number;
  apdus: number;
  roundTrips: number;
}

/** One unit of a write request, as PARTIAL_WRITE reports it (schema WriteUnit). */
export interface WriteUnit {
  kind: 'item' | 'photo' | 'allergy' | 'immunisation' | 'inpatient' | 'outpatient' | 'eraseInpatient' | 'eraseOutpatient';
  file: string;
  items: number[];
  /** allergy / immunisation: position in addAllergies / addImmunisations. */
  index?: number;
  /** inpatient / outpatient / erase: the visit slot. */
  slot?: number;
}

/** YikaApiError.details of PARTIAL_WRITE (schema PartialWriteDetails). Read the card back before retrying. */
export interface PartialWriteDetails {
  written: WriteUnit[];
  /** Sent but unanswered (no-answer), partly written, or refused with the card's memory changed: may or may not be on the card. */
  uncertain: Array<WriteUnit & { reason: 'no-answer' | 'partly-written' | 'card-memory-changed' }>;
  notWritten: WriteUnit[];
  writtenFiles: string[];
  writtenItems: number[];
  uncertainItems: number[];
  notWrittenItems: number[];
  failedFile: string | null;
  causeCode: string;
}

/** GET /v1/readers/:id/healthcard/items (JSON). */
export interface ItemsRead {
  readerId: string;
  items: HealthCardItem[];
  /** The values joined by "|" (unwritten → empty), like the vendor DLLs. */
  pipe: string;
}

export type QrResultCode =
  | 'TOO_LONG' | 'NOT_EHC1' | 'LEGACY_ONLINE_ONLY' | 'BAD_CHARSET' | 'BAD_ENCODING' | 'TOO_SHORT'
  | 'UNSUPPORTED_VERSION' | 'NO_TRUSTLIST' | 'TRUSTLIST_EXPIRED' | 'UNKNOWN_KID' | 'KEY_REVOKED'
  | 'TYPE_NOT_ALLOWED' | 'BAD_PAYLOAD' | 'BAD_SIGNATURE' | 'KEY_NOT_VALID_AT_IAT' | 'KEY_EXPIRED'
  | 'NOT_YET_VALID' | 'EXPIRED' | 'CARD_REVOKED' | 'REPLAYED' | 'REPLAY_STORE_UNAVAILABLE' | 'VALID';

export interface QrVerifyResult {
  ok: boolean;
  code: QrResultCode;
  message: string;
  type: 'dynamic' | 'static' | null;
  key: { kid: string; issuer: string } | null;
  kid: string | null;
  /** Only when ok: the card id for the HIS (cardholder data: never log it). */
  claims: { cardId: string; cardIdKind: 'card' | 'pseudonym'; ttl: number; ext?: Record<string, unknown> } | null;
  issuedAt: string | null;
  expiresAt: string | null;
  bundleSeq: number | null;
  /** Seconds since the trust bundle was issued. */
  bundleAge: number | null;
  warnings: string[];
  cached: boolean;
  bounce: boolean;
  /** What kind of code the text is (QR.md §13). */
  kind: 'ehc1' | 'ehc-online' | 'insurance' | 'payment' | 'id-number' | 'unknown';
  /** Payment codes: the scheme. */
  scheme: 'wechat' | 'alipay' | 'unionpay' | null;
  /** Payment, insurance and ID texts: masked. */
  masked: string | null;
  /** Valid codes: dynamic (single use) or static (printed/screenshot). */
  assurance: 'dynamic' | 'static' | null;
  /** Valid static codes: the second check local policy asks for (id-card, password, sms, none). */
  staticCheck: 'id-card' | 'password' | 'sms' | 'none' | null;
  /** Set on results of a reader's scanner: GET /v1/qr/scans/:scanId gives the full result for two minutes. */
  scanId?: string;
}

export interface QrStats {
  verifications: number;
  results: Partial<Record<QrResultCode, number>>;
  cache: { hits: number; misses: number; hitRate: number; entries: number; bytes: number; evictions: number };
  shared?: { configured: boolean; healthy: boolean | null };
  pool?: { size: number };
  trust?: { state: string; seq: number | null; ageSeconds: number | null };
}

export interface QrTrust {
  state: 'none' | 'fresh' | 'stale' | 'expired';
  seq: number | null;
  issuedAt?: string | null;
  nextUpdate?: string | null;
  ageSeconds: number | null;
  expiredPolicy?: 'fail' | 'degrade';
  anchorKid?: string | null;
  source?: string | null;
  demo?: boolean;
  revokedCards: number;
  keys: Array<{ kid: string; issuer: string; status: string; types: string[]; signFrom: string; signUntil: string; verifyUntil: string }>;
}

/** POST /v1/readers/:id/lease: the reader held across requests until release or idleMs without a request. */
export interface ReaderLease {
  lease: string;
  readerId: string;
  idleMs: number;
  expiresAt: string;
}

/** A card write cut short when the daemon last stopped (GET /v1/writes/interrupted). No values, only what was touched. */
export interface InterruptedWrite {
  id: string;
  readerId: string;
  slot: number;
  /** SM3 hash of the card ATR (16 hex digits). */
  card: string;
  startedAt: string;
  detectedAt: string;
  what: {
    items: number[];
    photo?: 'set' | 'remove';
    allergies?: number;
    immunisations?: number;
    inpatient?: number[];
    outpatient?: number[];
    eraseInpatient?: number[];
    eraseOutpatient?: number[];
  };
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** reasonZh: the same reason in Chinese. */
  degraded: Array<{ component: string; reason: string; reasonZh: string }>;
  uptimeSeconds: number;
  version: string;
}

export type YikaEventType = 'reader.attached' | 'reader.detached' | 'reader.health' | 'card.inserted' | 'card.removed' | 'qr.scanned' | 'write.interrupted';

export type YikaEvent = (
  | { type: 'reader.attached'; readerId: string; name: string }
  | { type: 'reader.detached'; readerId: string; reason?: string }
  | { type: 'reader.health'; readerId: string; health: 'ok' | 'degraded' | 'offline'; detail?: string }
  | { type: 'card.inserted'; readerId: string; slot: number }
  | { type: 'card.removed'; readerId: string; slot: number }
  | { type: 'qr.scanned'; readerId?: string; result: Record<string, unknown> }
  | { type: 'write.interrupted'; writeId: string; readerId: string; slot: number; startedAt: string }
) & { seq: number; at: string };

export interface StreamHello {
  type: 'stream.hello';
  position: number;
  oldest: number;
  resume: { after: number; complete: boolean } | null;
}
