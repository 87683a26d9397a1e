// The health-card service: what the routes and the CLI call to read and write a Resident Health Card.
// It holds the reader's session lock for the whole operation, checks the card is there, powers it,
// (for protected files) powers the SAM and verifies its PIN once per SAM power-on, runs the apdu/healthcard
// reader or writer over the slot's CardChannel, and counts reads, APDUs, round trips and latencies.
import { DeviceError } from '../../protocol/device-error.ts';
import type { CardChannel } from '../../apdu/card-channel.ts';
import { statusWord } from '../../apdu/response-apdu.ts';
import { parseSimpleTlv } from '../../apdu/tlv.ts';
import {
  DATA_ITEMS,
  DDF1_NAME,
  dataItem,
  decodeValue,
  elementaryFile,
  HealthCardError,
  isFileId,
  isItemNumber,
  type FileId,
} from '../../apdu/healthcard/index.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Reader, ReaderSession } from '../readers/reader.ts';
import type { ReaderRegistry } from '../readers/reader-registry.ts';

export interface DecodedItem {
  item: number;
  field: string;
  nameZh: string;
  value: string | null;
}

export interface DecodedFile {
  file: FileId;
  nameZh: string;
  items: DecodedItem[];
}

export interface HealthCardRead {
  readerId: string;
  slot: number;
  atr: string;
  readAt: string;
  durationMs: number;
  apdus: number;
  roundTrips: number;
  files: Partial<Record<FileId, DecodedFile>>;
}

export interface ItemsRead {
  readerId: string;
  items: DecodedItem[];
  /** Values joined by "|" in the requested order, as the vendor DLLs return them (null → empty). */
  pipe: string;
}

export interface HealthCardServiceOptions {
  registry: ReaderRegistry;
  metrics?: Metrics;
  samPin: string;
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export const USER_CARD_SLOT = 0x01;
export const FREE_FILES: readonly FileId[] = ['DDF1/EF05'];

export class HealthCardService {
  constructor(private readonly options: HealthCardServiceOptions) {
    const m = options.metrics;
    m?.describe('yika_card_reads_total', 'counter', 'Health-card reads, by result (ok or error code)');
    m?.describe('yika_card_read_seconds', 'histogram', 'Duration of a health-card read (lock wait excluded)');
    m?.describe('yika_card_read_apdus', 'histogram', 'APDUs per health-card read');
  }

  /** Reads the chosen files (default: every file this build can read). */
  async read(readerId: string, options: { files?: string[]; slot?: number } = {}): Promise<HealthCardRead> {
    const reader = this.options.registry.get(readerId);
    const files = this.resolveFiles(options.files);
    const slot = options.slot ?? USER_CARD_SLOT;
    return this.measure(reader, 'read', () =>
      reader.session('health-card read', async (s) => {
        const { atr, channel } = await this.openCard(s, slot);
        const start = { apdus: reader.stats.apdus, roundTrips: reader.stats.roundTrips, t: performance.now() };
        const decoded: Partial<Record<FileId, DecodedFile>> = {};
        await this.selectDdf1(channel);
        for (const f of files) decoded[f] = await this.readTlvFile(channel, f);
        return {
          readerId,
          slot,
          atr: Buffer.from(atr).toString('hex').toUpperCase(),
          readAt: new Date().toISOString(),
          durationMs: Math.round((performance.now() - start.t) * 100) / 100,
          apdus: reader.stats.apdus - start.apdus,
          roundTrips: reader.stats.roundTrips - start.roundTrips,
          files: decoded,
        };
      }),
    );
  }

  /** Reads items by number (1–384), in the requested order. */
  async readItems(readerId: string, ids: number[], options: { slot?: number } = {}): Promise<ItemsRead> {
    for (const id of ids) {
      if (!isItemNumber(id)) throw new HealthCardError('UNKNOWN_ITEM', `No data item ${id} (valid: 1–384)`, { item: id });
    }
    const files = [...new Set(ids.map((id) => dataItem(id).file))];
    const unsupported = files.filter((f) => !isFileId(f) || !FREE_FILES.includes(f as FileId));
    if (unsupported.length) {
      throw new HealthCardError('UNKNOWN_ITEM', `Items of ${unsupported.join(', ')} need SAM authorization, not available in this build yet`, { files: unsupported });
    }
    const read = await this.read(readerId, { files: files as FileId[], slot: options.slot });
    const byItem = new Map<number, DecodedItem>();
    for (const f of Object.values(read.files)) for (const it of f?.items ?? []) byItem.set(it.item, it);
    const items = ids.map((id) => byItem.get(id) ?? { item: id, field: dataItem(id).field, nameZh: dataItem(id).nameZh, value: null });
    return { readerId, items, pipe: items.map((i) => i.value ?? '').join('|') };
  }

  private resolveFiles(requested?: string[]): FileId[] {
    if (!requested || requested.length === 0) return [...FREE_FILES];
    return requested.map((f) => {
      const id = f.toUpperCase();
      if (!isFileId(id)) throw new HealthCardError('UNKNOWN_ITEM', `No file "${f}" (e.g. DDF1/EF05, DF01/EF06)`, { file: f });
      if (!FREE_FILES.includes(id)) throw new HealthCardError('UNKNOWN_ITEM', `Reading ${id} needs SAM authorization, not available in this build yet`, { file: id });
      return id;
    });
  }

  private async openCard(s: ReaderSession, slot: number): Promise<{ atr: Uint8Array; channel: CardChannel }> {
    const state = s.slot(slot);
    if (state.card === 'absent') throw new DeviceError('NO_CARD', `No card in ${state.label} of reader ${s.reader.id}: insert a health card`, { readerId: s.reader.id, slot });
    const atr = await s.ensurePowered(slot);
    return { atr, channel: s.channel(slot) };
  }

  private async selectDdf1(channel: CardChannel): Promise<void> {
    const name = Buffer.from(DDF1_NAME, 'ascii');
    const r = await channel.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, name.length, ...name, 0x00]));
    const sw = statusWord(r);
    if (sw !== 0x9000 && (sw & 0xff00) !== 0x6100) {
      throw new HealthCardError('NOT_A_HEALTH_CARD', `The card has no ${DDF1_NAME} application: it is not a resident health card`, { sw: sw.toString(16).toUpperCase() });
    }
  }

  /** Reads a TLV record file record by record (by tag), decoding every item. */
  private async readTlvFile(channel: CardChannel, id: FileId): Promise<DecodedFile> {
    const ef = elementaryFile(id);
    const fid = ef.fid;
    const sel = await channel.transmit(Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, fid >> 8, fid & 0xff]));
    if (statusWord(sel) !== 0x9000) throw new HealthCardError('CARD_READ_FAILED', `SELECT ${id} failed`, { file: id, sw: statusWord(sel).toString(16).toUpperCase() });
    const items: DecodedItem[] = [];
    for (const tag of ef.recordItems ?? []) {
      const def = dataItem(tag);
      const r = await channel.transmit(Uint8Array.from([0x00, 0xb2, tag, 0x00, (def.length + 2) & 0xff]));
      const sw = statusWord(r);
      if (sw !== 0x9000) throw new HealthCardError('CARD_READ_FAILED', `READ RECORD of item ${tag} in ${id} failed`, { file: id, item: tag, sw: sw.toString(16).toUpperCase() });
      const [tlv] = parseSimpleTlv(r.subarray(0, r.length - 2));
      if (!tlv || tlv.tag !== tag || tlv.value.length !== def.length) {
        throw new HealthCardError('CARD_DATA_MALFORMED', `Record of item ${tag} in ${id} is not a TLV of the expected tag and length`, { file: id, item: tag });
      }
      items.push({ item: tag, field: def.field, nameZh: def.nameZh, value: decodeValue(def.format, tlv.value, tag) });
    }
    return { file: id, nameZh: ef.nameZh, items };
  }

  private async measure<T>(reader: Reader, op: string, fn: () => Promise<T>): Promise<T> {
    const m = this.options.metrics;
    const t = performance.now();
    const apdus = reader.stats.apdus;
    try {
      const result = await fn();
      m?.inc('yika_card_reads_total', { result: 'ok' });
      m?.observe('yika_card_read_seconds', (performance.now() - t) / 1000);
      m?.observe('yika_card_read_apdus', reader.stats.apdus - apdus, undefined, [5, 10, 20, 50, 100, 200, 500]);
      return result;
    } catch (e) {
      m?.inc('yika_card_reads_total', { result: (e as { code?: string }).code ?? 'INTERNAL' });
      this.options.logger?.debug({ readerId: reader.id, op, code: (e as { code?: string }).code }, 'health-card operation failed');
      throw e;
    }
  }
}

/** Every item number, for docs and the CLI's completion. */
export const ALL_ITEM_NUMBERS = DATA_ITEMS.map((d) => d.itemNo);
