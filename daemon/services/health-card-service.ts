// The health-card service: what the routes and the CLI call to read and write a Resident Health Card.
// It holds the reader's session lock for the whole operation, checks the card is there, powers it,
// powers the SAM in a SAM slot when a file needs authorization (its PIN is verified once per SAM
// power-on: the SamAuthorizer is kept per reader and SAM slot until the SAM is powered again or
// replaced), runs apdu/healthcard's reader or writer over the slot's CardChannel, and counts reads,
// APDUs, link round trips and latencies.
import { hexUpper } from '../../common/hex.ts';
import { isYikaError } from '../../common/yika-error.ts';
import type { CardChannel } from '../../apdu/card-channel.ts';
import {
  ELEMENTARY_FILES,
  elementaryFile,
  HealthCardError,
  isFileId,
  type FileId,
} from '../../apdu/healthcard/index.ts';
import { HealthCardReader } from '../../apdu/healthcard/health-card-reader.ts';
import { HealthCardWriter, type HealthCardWrite, type WriteResult } from '../../apdu/healthcard/health-card-writer.ts';
import { SamAuthorizer } from '../../apdu/healthcard/sam-authorizer.ts';
import { DeviceError } from '../../protocol/device-error.ts';
import { cardIdentityHash, summariseWrite, type WriteJournal } from '../journal/write-journal.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Reader, ReaderSession } from '../readers/reader.ts';
import type { ReaderRegistry } from '../readers/reader-registry.ts';
// What it returns and accepts: the API's shapes (one definition, daemon/api/schemas/).
import type { HealthCardRead, HealthCardWriteRequest, HealthCardWriteResult, ItemsRead } from '../api/schemas/health-card.ts';

export interface HealthCardServiceOptions {
  registry: ReaderRegistry;
  metrics?: Metrics;
  samPin: string;
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /** Records every write's intent and outcome, so that a write cut short by a crash is reported. */
  journal?: WriteJournal;
}

const USER_CARD_SLOT = 0x01;

/** Errors under a CARD_READ_FAILED / CARD_WRITE_FAILED that say more to the user than the wrapper. */
const SURFACED_CAUSES = new Set([
  'CARD_REMOVED', 'NO_CARD', 'CARD_CHANGED', 'CARD_MUTE', 'CARD_NOT_POWERED', 'READER_OFFLINE',
  'LINK_CLOSED', 'PROTOCOL_TIMEOUT', 'PROTOCOL_PEER_DEAD', 'SECURE_CHANNEL_REJECTED',
]);

function surfaceCause(e: unknown): unknown {
  if (e instanceof HealthCardError && (e.code === 'CARD_READ_FAILED' || e.code === 'CARD_WRITE_FAILED')) {
    const cause = (e as { cause?: unknown }).cause;
    if (isYikaError(cause) && SURFACED_CAUSES.has(cause.code)) return cause;
  }
  return e;
}

interface SamState {
  authorizer: SamAuthorizer;
  powerEpoch: number;
}

export class HealthCardService {
  private readonly sams = new Map<string, SamState>();

  constructor(private readonly options: HealthCardServiceOptions) {
    const m = options.metrics;
    m?.describe('yika_card_operations_total', 'counter', 'Health-card operations (read, items, write) by result (ok or error code)');
    m?.describe('yika_card_operation_seconds', 'histogram', 'Duration of a health-card operation (lock wait excluded)');
    m?.describe('yika_card_operation_apdus', 'histogram', 'APDUs (card and SAM) per health-card operation');
  }

  /** Reads the chosen files (default: DESK_FILES; ['all']: every file), decoded. */
  async read(readerId: string, options: { files?: string[]; slot?: number; batch?: boolean } = {}): Promise<HealthCardRead> {
    const reader = this.options.registry.get(readerId);
    const files = resolveFiles(options.files);
    const slot = options.slot ?? USER_CARD_SLOT;
    const needsSam = files.some((f) => elementaryFile(f).readKey !== 'free');
    return this.operation(reader, 'read', (s) =>
      againAfterPowerLoss(async () => {
        const { atr, channel, authorizer } = await this.open(s, slot, needsSam, options.batch);
        const read = await new HealthCardReader(channel, { atr, authorizer }).readFiles(files);
        return { slot, atr: hexUpper(atr), card: read.card, files: read.files };
      }),
    );
  }

  /** Reads items by number (1–384) in the requested order; `record` chooses the record or visit slot. */
  async readItems(readerId: string, ids: number[], options: { slot?: number; record?: number } = {}): Promise<ItemsRead> {
    const reader = this.options.registry.get(readerId);
    const slot = options.slot ?? USER_CARD_SLOT;
    // Items 1–10 and 57 are in the freely readable DDF1/EF05; every other item needs the SAM.
    const needsSam = ids.some((n) => !FREE_ITEMS.has(n));
    const result = await this.operation(reader, 'items', (s) =>
      againAfterPowerLoss(async () => {
        const { atr, channel, authorizer } = await this.open(s, slot, needsSam);
        const read = await new HealthCardReader(channel, { atr, authorizer }).readItems(ids, { record: options.record, join: true });
        return { items: read.items, pipe: read.joined ?? '' };
      }),
    );
    return { readerId, items: result.items, pipe: result.pipe };
  }

  /** Writes items/records/visits; validates everything before the first command. */
  async write(readerId: string, request: HealthCardWriteRequest, options: { slot?: number } = {}): Promise<HealthCardWriteResult> {
    const reader = this.options.registry.get(readerId);
    const slot = options.slot ?? USER_CARD_SLOT;
    const { photo, ...rest } = request;
    const write: HealthCardWrite = { ...rest };
    if (photo !== undefined) write.photo = photo === null ? null : decodePhoto(photo);
    const result = await this.operation(reader, 'write', async (s) => {
      const { atr, channel, authorizer } = await this.open(s, slot, true);
      const writer = new HealthCardWriter(channel, { atr, authorizer });
      writer.plan(write); // a bad value is refused here, before the journal and the card see anything
      const journal = this.options.journal;
      const entry = journal?.begin({ readerId, slot, card: cardIdentityHash(atr), what: summariseWrite(write) });
      let r: WriteResult;
      try {
        r = await writer.write(write);
      } catch (e) {
        if (entry) journal!.end(entry.id, { result: 'error', code: (surfaceCause(e) as { code?: string }).code ?? 'INTERNAL' });
        throw e;
      }
      if (entry) journal!.end(entry.id, { result: 'ok' });
      return { written: { files: r.files, items: r.items } };
    });
    return { readerId, written: result.written, durationMs: result.durationMs, apdus: result.apdus, roundTrips: result.roundTrips };
  }

  /** Powers the card (and the SAM when needed) and makes the channels. Runs inside the reader lock. */
  private async open(s: ReaderSession, slot: number, needsSam: boolean, batch = true): Promise<{ atr: Uint8Array; channel: CardChannel; authorizer?: SamAuthorizer }> {
    const state = s.slot(slot);
    if (state.card === 'absent') {
      throw new DeviceError('NO_CARD', `No card in the ${state.label} slot of reader ${s.reader.id}: insert a health card`, { readerId: s.reader.id, slot });
    }
    const atr = await s.ensurePowered(slot);
    // batch: false sends every APDU on its own (benchmarks compare both).
    const channel = s.channel(slot, { batch });
    return { atr, channel, authorizer: needsSam ? await this.samFor(s) : undefined };
  }

  /** The SAM authorizer of the first SAM slot holding a card; its PIN state lives until the SAM is re-powered. */
  private async samFor(s: ReaderSession): Promise<SamAuthorizer> {
    const reader = s.reader;
    const samSlot = reader.slotsOfKind('sam').find((n) => s.slot(n).card !== 'absent');
    if (samSlot === undefined) {
      throw new HealthCardError('NO_SAM', `Reader ${reader.id} has no SAM in its SAM slots: reading this needs one (insert the SAM card)`, { readerId: reader.id });
    }
    await s.ensurePowered(samSlot);
    const key = `${reader.id}/${samSlot}`;
    const epoch = reader.powerEpoch(samSlot);
    const cached = this.sams.get(key);
    if (cached && cached.powerEpoch === epoch) return cached.authorizer;
    const authorizer = new SamAuthorizer(s.channel(samSlot, { batch: false }), { pin: this.options.samPin });
    this.sams.set(key, { authorizer, powerEpoch: epoch });
    return authorizer;
  }

  /** Runs one operation under the reader lock, with metrics and the cause-surfacing of errors. */
  private async operation<T extends object>(reader: Reader, op: string, fn: (s: ReaderSession) => Promise<T>): Promise<T & { readerId: string; readAt: string; durationMs: number; apdus: number; roundTrips: number }> {
    const m = this.options.metrics;
    try {
      const result = await reader.session(`health-card ${op}`, async (s) => {
        const start = { apdus: reader.stats.apdus, roundTrips: reader.stats.roundTrips, t: performance.now() };
        const value = await fn(s);
        return {
          readerId: reader.id,
          ...value,
          readAt: new Date().toISOString(),
          durationMs: Math.round((performance.now() - start.t) * 100) / 100,
          apdus: reader.stats.apdus - start.apdus,
          roundTrips: reader.stats.roundTrips - start.roundTrips,
        };
      });
      m?.inc('yika_card_operations_total', { op, result: 'ok' });
      m?.observe('yika_card_operation_seconds', result.durationMs / 1000, { op });
      m?.observe('yika_card_operation_apdus', result.apdus, { op }, [5, 10, 20, 50, 100, 200, 500]);
      return result;
    } catch (e) {
      const surfaced = surfaceCause(e);
      m?.inc('yika_card_operations_total', { op, result: (surfaced as { code?: string }).code ?? 'INTERNAL' });
      this.options.logger?.debug({ readerId: reader.id, op, code: (surfaced as { code?: string }).code }, 'health-card operation failed');
      throw surfaced;
    }
  }
}

/**
 * Runs a read once more when the card or the SAM lost its power under it (another PC/SC program reset
 * it: CARD_NOT_POWERED with details.powerLost, the command not executed). The reader model already has
 * the slot unpowered, so the second run powers it on and authorizes again (SAM PIN, card auth) from
 * the start. Reads only: a write is never repeated behind the caller's back.
 */
async function againAfterPowerLoss<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!lostPower(e)) throw e;
    return fn();
  }
}

/** A CARD_NOT_POWERED with details.powerLost, as the error or as a cause of it (reader and SAM wrap). */
function lostPower(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    if (isYikaError(c) && c.code === 'CARD_NOT_POWERED' && c.details?.powerLost === true) return true;
  }
  return false;
}

const FREE_ITEMS = new Set(elementaryFile('DDF1/EF05').recordItems);

/**
 * What a front desk needs from a card, read when no files are named: DDF1/EF05 (card number, card type,
 * issuer, city code: free read, and the city code is what the SAM diversifies with), DDF1/EF06 (name,
 * sex, ethnicity, birth date, ID number: who the patient is) and DDF1/EF07 (the photo: is it them).
 * All three sit in DDF1, so one SAM authorization serves the read. Everything else (EF08 validity and
 * phones, DF01–DF03 addresses, clinical data, visits: 19 more files, ~200 APDUs) on `files=all`.
 */
const DESK_FILES: readonly FileId[] = ['DDF1/EF05', 'DDF1/EF06', 'DDF1/EF07'];

function resolveFiles(requested?: string[]): FileId[] {
  if (!requested || requested.length === 0) return [...DESK_FILES];
  if (requested.length === 1 && requested[0].trim().toLowerCase() === 'all') return ELEMENTARY_FILES.map((f) => f.id);
  const out: FileId[] = [];
  for (const f of requested) {
    const id = normaliseFileId(f);
    if (!id) throw new HealthCardError('UNKNOWN_ITEM', `No file "${f.slice(0, 20)}" (e.g. DDF1/EF05, DF01/EF06, DF03/EE01)`, { file: f.slice(0, 20) });
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** Accepts "DDF1/EF05", "ddf1/ef05" and the short DDF1 names "EF05" … "EF08". */
function normaliseFileId(text: string): FileId | undefined {
  const t = text.trim().toUpperCase();
  if (isFileId(t)) return t;
  if (isFileId(`DDF1/${t}`)) return `DDF1/${t}` as FileId;
  return undefined;
}

function decodePhoto(base64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new HealthCardError('ITEM_VALUE_INVALID', 'photo: expected base64', { field: 'photo' });
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}
