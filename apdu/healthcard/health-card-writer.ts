// Writes the Resident Health Card: every value is encoded and validated before the first command;
// then per DF: EXTERNAL AUTHENTICATE with the file's update key (HEALTHCARD-SECURITY.md key table),
// secure-messaging UPDATE RECORD for TLV items, cyclic appends (00 DC 00 03) for allergies and
// immunisations, UPDATE BINARY in 0x80 chunks for the photo and visit files, with the DF03 index flag
// set after the visit data (84 D2) or erased (84 0C). A failure after the first write raises
// PARTIAL_WRITE listing exactly the files and items already written.

import type { BatchCommand, CardChannel } from '../card-channel.ts';
import { command } from '../command-apdu.ts';
import { buildSimpleTlv } from '../tlv.ts';
import { isYikaError } from '../../common/yika-error.ts';
import { encodeB, encodeValue } from './codecs.ts';
import { dataItem, itemsOfFile, VISIT_TAIL, type DataItem, type ItemFile, type ItemValues } from './data-items.ts';
import {
  BINARY_CHUNK, DEDICATED_FILES, ELEMENTARY_FILES, elementaryFile, KEYS, PHOTO_FILE_SIZE, visitFilesOf,
  type DfName, type ElementaryFile, type FileId,
} from './file-map.ts';
import { HealthCardError, ItemValueError } from './health-card-errors.ts';
import { CardSession, type CardSessionOptions, type LinkStats } from './card-session.ts';
import { isCityCodeShape, isValidDate, isValidDateTime, isValidIdNumber, isValidSexCode } from './validation.ts';

export interface VisitWrite {
  /** Slot 1–3 (EE01–EE03) or 1–5 (ED01–ED05). */
  slot: number;
  /** Items 64–212 (inpatient) or 213–384 (outpatient); absent items are written as FF (unwritten). */
  values: ItemValues;
  /** Optional 64-byte signature and 190-byte certificate (hex) written after the data area; absent = FF. */
  signature?: string;
  certificate?: string;
}

export interface HealthCardWrite {
  /** TLV items 1–57; null erases the value (FF). */
  items?: ItemValues;
  /** Photo bytes (≤ 3070), or null to remove the photo. */
  photo?: Uint8Array | null;
  /** Allergy records (items 58/59) to append, newest first: the first one ends up as record 1. */
  addAllergies?: ItemValues[];
  /** Immunisation records (items 60/61) to append, newest first. */
  addImmunisations?: ItemValues[];
  inpatient?: VisitWrite[];
  outpatient?: VisitWrite[];
  /** Slots whose index flag is set back to FF (record invalid). */
  eraseInpatient?: number[];
  eraseOutpatient?: number[];
}

export interface WriteResult {
  /** Files written, in order. */
  files: FileId[];
  /** Item numbers written (TLV items, 58–61 of appended records, 64–384 of written visits). */
  items: number[];
  stats: LinkStats;
}

export type HealthCardWriterOptions = CardSessionOptions;

/** Code-table and shape checks beyond the encoding (returns a reason, or undefined when fine). */
export function checkItemValue(item: DataItem, value: string): string | undefined {
  switch (item.itemNo) {
    case 0x0c: return isValidSexCode(value) ? undefined : 'sex must be a GB/T 2261.1 code (00, 01, 02, 09)';
    case 0x08: case 0x0f: return isValidIdNumber(value) ? undefined : 'not a valid GB 11643 ID number (check digit, date, division code)';
    case 0x39: return isCityCodeShape(value) ? undefined : 'city code must be a 6-digit GB/T 2260 code';
    case 0x0d: {
      const n = Number(value);
      return /^\d{2}$/.test(value) && ((n >= 1 && n <= 56) || n === 97 || n === 98) ? undefined : 'ethnicity must be a GB 3304 code (01–56, 97, 98)';
    }
  }
  if (item.format === 'cn' && item.length === 4 && /Date$/.test(item.field)) return isValidDate(value) ? undefined : 'not a valid date YYYYMMDD';
  if (item.format === 'cn' && item.length === 7 && /DateTime$/.test(item.field)) return isValidDateTime(value) ? undefined : 'not a valid date-time YYYYMMDDhhmmss';
  return undefined;
}

/** Encodes and checks one value; throws ItemValueError naming the item. */
export function prepareValue(item: DataItem, value: string | null | undefined): Uint8Array {
  const v = value ?? null;
  const bytes = encodeValue(item.format, item.length, v, item.itemNo);
  if (v !== null) {
    const problem = checkItemValue(item, v);
    if (problem) throw new ItemValueError('ITEM_VALUE_INVALID', `item ${item.itemNo}: ${problem}`, { itemNo: item.itemNo });
  }
  return bytes;
}

function layoutBytes(group: ItemFile, size: number, values: ItemValues): Uint8Array {
  const allowed = new Set(itemsOfFile(group).map((d) => d.itemNo));
  for (const key of Object.keys(values)) {
    if (!allowed.has(Number(key))) throw new HealthCardError('UNKNOWN_ITEM', `item ${key} does not belong to ${group}`, { itemNo: Number(key) });
  }
  const out = new Uint8Array(size).fill(0xff);
  for (const d of itemsOfFile(group)) out.set(prepareValue(d, values[d.itemNo]), d.offset!);
  return out;
}

/** One unit of work on the card, all validated already. */
interface Step {
  df: DfName;
  file: FileId;
  key: ElementaryFile['updateKey'];
  items: number[];
  /** Runs the step; calls done() with the items each completed command made durable. */
  run(session: CardSession, writer: HealthCardWriter, done: (items: number[]) => void): Promise<void>;
}

function updateBinaryCommands(data: Uint8Array, base = 0): BatchCommand[] {
  const out: BatchCommand[] = [];
  for (let off = 0; off < data.length; off += BINARY_CHUNK) {
    const at = base + off;
    out.push({ apdu: command(0x00, 0xd6, at >> 8, at & 0xff, data.subarray(off, off + BINARY_CHUNK)) });
  }
  return out;
}

function selectEf(ef: ElementaryFile): BatchCommand {
  return { apdu: command(0x00, 0xa4, 0x00, 0x00, [ef.fid >> 8, ef.fid & 0xff]) };
}

export class HealthCardWriter {
  private readonly session: CardSession;

  constructor(card: CardChannel, private readonly options: HealthCardWriterOptions = {}) {
    this.session = new CardSession(card, options);
  }

  /** Validates and encodes a whole request without touching the card (throws the first problem). */
  plan(request: HealthCardWrite): Step[] {
    const steps: Step[] = [];
    // TLV items, grouped per file in file-map order.
    const items = request.items ?? {};
    const byFile = new Map<FileId, Array<{ item: DataItem; tlv: Uint8Array; record: number }>>();
    for (const [key, value] of Object.entries(items)) {
      const n = Number(key);
      let item: DataItem;
      try { item = dataItem(n); } catch { throw new HealthCardError('UNKNOWN_ITEM', `no data item ${key}`, { itemNo: n }); }
      if (item.tag === undefined) throw new HealthCardError('UNKNOWN_ITEM', `item ${n} is not a TLV item (1–57); use the record/visit fields`, { itemNo: n });
      const ef = elementaryFile(item.file as FileId);
      const record = ef.recordItems!.indexOf(item.tag) + 1;
      const list = byFile.get(ef.id) ?? [];
      list.push({ item, tlv: buildSimpleTlv(item.tag, prepareValue(item, value)), record });
      byFile.set(ef.id, list);
    }
    for (const ef of ELEMENTARY_FILES) {
      const list = byFile.get(ef.id);
      if (!list) continue;
      list.sort((a, b) => a.record - b.record);
      steps.push({
        df: ef.df, file: ef.id, key: ef.updateKey, items: list.map((l) => l.item.itemNo),
        run: async (session, writer, done) => {
          await session.run(ef.id, [selectEf(ef)], 'CARD_WRITE_FAILED');
          for (const l of list) {
            await writer.authorizer().secureUpdateRecord(session.channel, {
              record: l.record, tlv: l.tlv, stk: KEYS[DEDICATED_FILES[ef.df].smKey].sam, card8: session.requireCard8(), city8: session.requireCity8(),
            });
            done([l.item.itemNo]);
          }
        },
      });
    }
    if (request.photo !== undefined) {
      const ef = elementaryFile('DDF1/EF07');
      const photo = request.photo;
      if (photo && (photo.length === 0 || photo.length + 2 > PHOTO_FILE_SIZE)) {
        throw new ItemValueError('ITEM_VALUE_TOO_LONG', `photo of ${photo.length} bytes, 1–${PHOTO_FILE_SIZE - 2} allowed`, { max: PHOTO_FILE_SIZE - 2 });
      }
      const data = photo ? Uint8Array.from([photo.length >> 8, photo.length & 0xff, ...photo]) : Uint8Array.of(0xff, 0xff);
      steps.push({ df: 'DDF1', file: ef.id, key: ef.updateKey, items: [], run: (s, _w, done) => s.run(ef.id, [selectEf(ef), ...updateBinaryCommands(data)], 'CARD_WRITE_FAILED').then(() => done([])) });
    }
    const cyclic = (id: 'DF02/EF07' | 'DF02/EF08', records: ItemValues[] | undefined): void => {
      if (!records || records.length === 0) return;
      const ef = elementaryFile(id);
      if (records.length > ef.recordCount!) throw new HealthCardError('ITEM_VALUE_TOO_LONG', `${id} holds ${ef.recordCount} records`, { file: id });
      // Each append becomes record 1: append the oldest first so the first given ends up newest.
      const raws = records.map((r) => layoutBytes(id, ef.recordSize!, r)).reverse();
      steps.push({
        df: 'DF02', file: id, key: ef.updateKey, items: itemsOfFile(id).map((d) => d.itemNo),
        run: (s, _w, done) => s.run(id, [selectEf(ef), ...raws.map((raw) => ({ apdu: command(0x00, 0xdc, 0x00, 0x03, raw) }))], 'CARD_WRITE_FAILED').then(() => done(itemsOfFile(id).map((d) => d.itemNo))),
      });
    };
    cyclic('DF02/EF07', request.addAllergies);
    cyclic('DF02/EF08', request.addImmunisations);
    const visits = (indexId: 'DF03/EF05' | 'DF03/EF06', group: ItemFile, writes: VisitWrite[] | undefined, erases: number[] | undefined): void => {
      const ids = visitFilesOf(indexId);
      const index = elementaryFile(indexId);
      const slotOk = (slot: number): void => {
        if (!Number.isInteger(slot) || slot < 1 || slot > ids.length) throw new HealthCardError('UNKNOWN_ITEM', `no visit slot ${slot} in ${group}`, { file: indexId });
      };
      for (const w of writes ?? []) {
        slotOk(w.slot);
        const ef = elementaryFile(ids[w.slot - 1]);
        const dataLength = itemsOfFile(group).reduce((s, d) => s + d.length, 0);
        const data = new Uint8Array(ef.size!).fill(0xff);
        data.set(layoutBytes(group, dataLength, w.values));
        if (w.signature !== undefined) data.set(encodeB(w.signature, VISIT_TAIL.signatureLength), dataLength);
        if (w.certificate !== undefined) data.set(encodeB(w.certificate, VISIT_TAIL.certificateLength), dataLength + VISIT_TAIL.signatureLength);
        steps.push({
          df: 'DF03', file: ef.id, key: ef.updateKey, items: itemsOfFile(group).map((d) => d.itemNo),
          run: async (s, _w, done) => {
            await s.run(ef.id, [selectEf(ef), ...updateBinaryCommands(data)], 'CARD_WRITE_FAILED');
            // The index flag goes valid only after the data is complete.
            await s.run(indexId, [selectEf(index), { apdu: command(0x84, 0xd2, w.slot, 0x04, [0x00]) }], 'CARD_WRITE_FAILED');
            done(itemsOfFile(group).map((d) => d.itemNo));
          },
        });
      }
      for (const slot of erases ?? []) {
        slotOk(slot);
        steps.push({
          df: 'DF03', file: indexId, key: index.updateKey, items: [],
          run: (s, _w, done) => s.run(indexId, [selectEf(index), { apdu: Uint8Array.of(0x84, 0x0c, slot, 0x04, 0x00) }], 'CARD_WRITE_FAILED').then(() => done([])),
        });
      }
    };
    visits('DF03/EF05', 'DF03/EE', request.inpatient, request.eraseInpatient);
    visits('DF03/EF06', 'DF03/ED', request.outpatient, request.eraseOutpatient);
    const order: DfName[] = ['DDF1', 'DF01', 'DF02', 'DF03'];
    return steps.sort((a, b) => order.indexOf(a.df) - order.indexOf(b.df));
  }

  authorizer() {
    if (!this.options.authorizer) throw new HealthCardError('NO_SAM', 'writing needs a SAM');
    return this.options.authorizer;
  }

  /** Validates everything, then writes; PARTIAL_WRITE when a failure follows a successful write. */
  async write(request: HealthCardWrite): Promise<WriteResult> {
    const steps = this.plan(request);
    this.authorizer();
    const files: FileId[] = [];
    const items: number[] = [];
    let current: Step | undefined;
    try {
      await this.session.identify();
      await this.session.loadCityCode();
      this.session.requireCard8();
      for (const step of steps) {
        current = step;
        await this.session.authenticate(step.key);
        await step.run(this.session, this, (written) => {
          if (!files.includes(step.file)) files.push(step.file);
          for (const n of written) if (!items.includes(n)) items.push(n);
        });
      }
    } catch (e) {
      if (files.length === 0 && items.length === 0) throw e;
      throw new HealthCardError('PARTIAL_WRITE', `write stopped at ${current?.file ?? 'start'} after ${files.length} file(s)`, {
        writtenFiles: files, writtenItems: items, failedFile: current?.file ?? null, causeCode: isYikaError(e) ? e.code : 'ERROR',
      }, { cause: e });
    }
    return { files, items, stats: this.session.finishStats() };
  }
}
