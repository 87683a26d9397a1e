// Writes the Resident Health Card: every value is encoded and validated before the first command;
// then per DF: EXTERNAL AUTHENTICATE with the file's update key (HEALTHCARD-SECURITY.md key table),
// secure-messaging UPDATE RECORD for TLV items, cyclic appends (00 DC 00 03) for allergies and
// immunisations, UPDATE BINARY in 0x80 chunks for the photo and visit files.
// Units that take several commands are journaled so that a write cut short at any APDU never leaves
// mixed old/new data that reads as valid:
// - a visit: clear the slot's DF03 index flag (84 0C: FF, the slot reads "no record"), write the
//   visit file, set the flag valid (84 D2 … 00) last;
// - the photo: its 2-byte length prefix to FF FF first (reads "no photo"), the body, the length last.
// A failure once the card may have changed raises PARTIAL_WRITE reporting every unit of the request (an
// item, the photo, one appended record, one visit, one erase) as exactly one of: written (the card
// acknowledged it), uncertain (the command that completes it was sent and no answer came back, or part
// of it reached the card) or not written (never sent, or refused by the card with its memory unchanged).

import { neverSent, type BatchCommand, type CardChannel } from '../card-channel.ts';
import { command } from '../command-apdu.ts';
import { buildSimpleTlv } from '../tlv.ts';
import { statusWord, swHex } from '../response-apdu.ts';
import { isYikaError } from '../../common/yika-error.ts';
import { encodeB, encodeValue } from './codecs.ts';
import { dataItem, itemsOfFile, VISIT_TAIL, type DataItem, type ItemFile, type ItemValues } from './data-items.ts';
import {
  BINARY_CHUNK, DEDICATED_FILES, ELEMENTARY_FILES, elementaryFile, KEYS, PHOTO_FILE_SIZE, visitFilesOf,
  type DfName, type ElementaryFile, type FileId,
} from './file-map.ts';
import { HealthCardError, ItemValueError } from './health-card-errors.ts';
import { CardSession, type CardSessionOptions, type LinkStats, type RunProgress } from './card-session.ts';
import { isCityCodeShape, isJpeg, isValidDate, isValidDateTime, isValidIdNumber, isValidPhone, isValidSexCode } from './validation.ts';

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

/** What a unit of a write request is (named after the request field it comes from). */
export type WriteUnitKind = 'item' | 'photo' | 'allergy' | 'immunisation' | 'inpatient' | 'outpatient' | 'eraseInpatient' | 'eraseOutpatient';

/**
 * One unit of a write request, the smallest thing the writer reports on: a TLV item, the photo, one
 * appended allergy or immunisation record, one visit, one erased visit slot.
 */
export interface WriteUnit {
  kind: WriteUnitKind;
  /** The file it changes (for an erase: the index file DF03/EF05 or DF03/EF06). */
  file: FileId;
  /** Its item numbers: one TLV item, 58/59 or 60/61 of a record, 64–212 or 213–384 of a visit; none for photo and erase. */
  items: number[];
  /** allergy / immunisation: its position in addAllergies / addImmunisations. */
  index?: number;
  /** inpatient / outpatient / erase: the visit slot. */
  slot?: number;
}

/**
 * Why a unit is uncertain. no-answer: the command that completes it was sent and no answer came back
 * (card removed, link dropped, timeout), so the card may or may not have executed it. partly-written:
 * some of its commands were acknowledged, then it stopped: a visit slot then reads invalid (its index
 * flag was cleared first), the photo reads as none (its length prefix was set to FF FF first). card-
 * memory-changed: the card refused it with a status word saying its memory changed anyway (ISO 7816-4
 * 63xx/65xx). Whatever the reason, an uncertain visit reads back old, invalid or new (never mixed data
 * marked valid), an uncertain photo old, none or new.
 */
export type UncertainReason = 'no-answer' | 'partly-written' | 'card-memory-changed';

export interface UncertainUnit extends WriteUnit {
  reason: UncertainReason;
}

/** The details of PARTIAL_WRITE: every unit of the request in exactly one of the three lists. */
export interface PartialWriteDetails {
  /** Acknowledged by the card. */
  written: WriteUnit[];
  /** Maybe applied, maybe not: read the card back before retrying these. */
  uncertain: UncertainUnit[];
  /** Never sent, or refused by the card with its memory unchanged. */
  notWritten: WriteUnit[];
  /** The files and item numbers of `written` (an item of several appended records can also be in another list). */
  writtenFiles: FileId[];
  writtenItems: number[];
  /** The item numbers of `uncertain` and `notWritten`. */
  uncertainItems: number[];
  notWrittenItems: number[];
  /** The file being written when the write stopped. */
  failedFile: FileId | null;
  /** The code of the error that stopped the write (CARD_REMOVED, CARD_CHANGED, CARD_WRITE_FAILED …). */
  causeCode: string;
}

export interface WriteResult {
  /** Files written, in order. */
  files: FileId[];
  /** Item numbers written (TLV items, 58–61 of appended records, 64–384 of written visits). */
  items: number[];
  /** Every unit of the request, in the order written. */
  units: WriteUnit[];
  stats: LinkStats;
}

export type HealthCardWriterOptions = CardSessionOptions;

/** The check of each value type beyond the encoding (returns a reason, or undefined when fine). */
export function checkItemValue(item: DataItem, value: string): string | undefined {
  switch (item.valueType) {
    case 'sex': return isValidSexCode(value) ? undefined : 'sex must be a GB/T 2261.1 code (00, 01, 02, 09)';
    case 'idNumber': return isValidIdNumber(value) ? undefined : 'not a valid GB 11643 ID number (check digit, date, division code)';
    case 'cityCode': return isCityCodeShape(value) ? undefined : 'city code must be a 6-digit GB/T 2260 code';
    case 'ethnicity': {
      const n = Number(value);
      return /^\d{2}$/.test(value) && ((n >= 1 && n <= 56) || n === 97 || n === 98) ? undefined : 'ethnicity must be a GB 3304 code (01–56, 97, 98)';
    }
    case 'date': return isValidDate(value) ? undefined : 'not a valid date YYYYMMDD';
    case 'dateTime': return isValidDateTime(value) ? undefined : 'not a valid date-time YYYYMMDDhhmmss';
    case 'phone': return isValidPhone(value) ? undefined : 'a phone number holds digits, an optional leading + and - or space separators only';
    case 'text': case 'digits': case 'hex': return undefined; // the codec (gb18030-text.ts, BCD, hex) is the check
  }
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

/** How a step tells the writer what reached the card; a unit it does not report stays "not written". */
interface UnitReport {
  written(unit: WriteUnit): void;
  uncertain(unit: WriteUnit, reason: UncertainReason): void;
}

/** One piece of work on the card (one file, one DF key), all validated already. */
interface Step {
  df: DfName;
  file: FileId;
  key: ElementaryFile['updateKey'];
  units: WriteUnit[];
  run(session: CardSession, writer: HealthCardWriter, report: UnitReport): Promise<void>;
}

/** ISO 7816-4: SW1 63 (warning) and 65 (execution error) say the card's non-volatile memory changed. */
function memoryChanged(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw1 === 0x63 || sw1 === 0x65;
}

/**
 * After a failed CardSession.run: what became of the commands [from, to) of one unit. 'done' when all
 * were acknowledged, 'untouched' when none of them can have changed the card. A unit of several
 * commands whose first ones were acknowledged is 'partly-written', unless only its completing command
 * (the last) is left and got no answer ('no-answer').
 */
function fate(p: RunProgress, from: number, to: number): 'done' | 'untouched' | UncertainReason {
  if (p.acknowledged >= to) return 'done';
  const inFlight = p.inFlight > 0 && p.acknowledged + p.inFlight > from;
  if (p.refusedSw !== undefined && p.acknowledged >= from && memoryChanged(p.refusedSw)) return 'card-memory-changed';
  if (p.acknowledged > from) return inFlight && p.acknowledged === to - 1 ? 'no-answer' : 'partly-written';
  return inFlight ? 'no-answer' : 'untouched';
}

/** Runs `commands`; on failure reports each unit by the fate of its command range, then rethrows. */
async function runUnits(
  session: CardSession, file: FileId | ((commandIndex: number) => FileId), commands: BatchCommand[], report: UnitReport,
  ranges: Array<{ unit: WriteUnit; from: number; to: number }>,
): Promise<void> {
  const progress: RunProgress = { acknowledged: 0, inFlight: 0 };
  try {
    await session.run(file, commands, 'CARD_WRITE_FAILED', progress);
  } catch (e) {
    for (const r of ranges) {
      const f = fate(progress, r.from, r.to);
      if (f === 'done') report.written(r.unit);
      else if (f !== 'untouched') report.uncertain(r.unit, f);
    }
    throw e;
  }
  for (const r of ranges) report.written(r.unit);
}

/** UPDATE BINARY of `data` at offset `base`, in chunks that end on 0x80 boundaries. */
function updateBinaryCommands(data: Uint8Array, base = 0): BatchCommand[] {
  const out: BatchCommand[] = [];
  for (let at = base; at < base + data.length;) {
    const end = Math.min(base + data.length, (Math.floor(at / BINARY_CHUNK) + 1) * BINARY_CHUNK);
    out.push({ apdu: command(0x00, 0xd6, at >> 8, at & 0xff, data.subarray(at - base, end - base)) });
    at = end;
  }
  return out;
}

/** The photo's length prefix meaning "no photo" (unwritten): readers treat the file as empty. */
const NO_PHOTO = Uint8Array.of(0xff, 0xff);

function selectEf(ef: ElementaryFile): BatchCommand {
  return { apdu: command(0x00, 0xa4, 0x00, 0x00, [ef.fid >> 8, ef.fid & 0xff]) };
}

/** TLV items 1–57, one step per file in file-map order, each record written with secure UPDATE RECORD. */
function itemSteps(items: Record<number, string | null>): Step[] {
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
  const steps: Step[] = [];
  for (const ef of ELEMENTARY_FILES) {
    const list = byFile.get(ef.id);
    if (!list) continue;
    list.sort((a, b) => a.record - b.record);
    const records = list.map((l) => ({ ...l, unit: { kind: 'item', file: ef.id, items: [l.item.itemNo] } satisfies WriteUnit }));
    steps.push({
      df: ef.df, file: ef.id, key: ef.updateKey, units: records.map((r) => r.unit),
      run: async (session, writer, report) => {
        await session.run(ef.id, [selectEf(ef)], 'CARD_WRITE_FAILED');
        for (const l of records) await secureUpdateRecord(session, writer, report, ef, l);
      },
    });
  }
  return steps;
}

async function secureUpdateRecord(
  session: CardSession, writer: HealthCardWriter, report: UnitReport, ef: ElementaryFile,
  l: { tlv: Uint8Array; record: number; unit: WriteUnit },
): Promise<void> {
  const update = await writer.authorizer().secureUpdateRecordCommand(session.channel, {
    record: l.record, tlv: l.tlv, stk: KEYS[DEDICATED_FILES[ef.df].smKey].sam, card8: session.requireCard8(), city8: session.requireCity8(),
  });
  // The one command that changes the card: sent here, so its fate is known exactly.
  let response: Uint8Array;
  try {
    response = await session.channel.transmit(update, { sensitive: 'command' });
  } catch (e) {
    if (!neverSent(e)) report.uncertain(l.unit, 'no-answer');
    throw e;
  }
  const sw = statusWord(response);
  if (sw !== 0x9000) {
    if (memoryChanged(sw)) report.uncertain(l.unit, 'card-memory-changed');
    throw new HealthCardError('CARD_WRITE_FAILED', `secure UPDATE RECORD ${l.record} answered ${swHex(sw)}`, { file: ef.id, record: l.record, sw: swHex(sw) });
  }
  report.written(l.unit);
}

/** The photo (EF07 of DDF1) or, for null, its removal. */
function photoStep(photo: Uint8Array | null): Step {
  const ef = elementaryFile('DDF1/EF07');
  if (photo && (photo.length === 0 || photo.length + 2 > PHOTO_FILE_SIZE)) {
    throw new ItemValueError('ITEM_VALUE_TOO_LONG', `photo of ${photo.length} bytes, 1–${PHOTO_FILE_SIZE - 2} allowed`, { length: photo.length, max: PHOTO_FILE_SIZE - 2 });
  }
  if (photo && !isJpeg(photo)) throw new ItemValueError('PHOTO_NOT_JPEG', 'the photo is not a JPEG file (it must start with FF D8 FF and end with FF D9)', { length: photo.length });
  const unit: WriteUnit = { kind: 'photo', file: ef.id, items: [] };
  // Journaled by the length prefix: FF FF (no photo) first, then the body, then the length. A write
  // cut short reads back as the old photo (nothing reached the card), no photo, or the new photo.
  const commands = photo
    ? [
      selectEf(ef),
      ...updateBinaryCommands(NO_PHOTO),
      ...updateBinaryCommands(photo, 2),
      ...updateBinaryCommands(Uint8Array.of(photo.length >> 8, photo.length & 0xff)),
    ]
    : [selectEf(ef), ...updateBinaryCommands(NO_PHOTO)];
  return {
    df: 'DDF1', file: ef.id, key: ef.updateKey, units: [unit],
    run: (s, _w, report) => runUnits(s, ef.id, commands, report, [{ unit, from: 1, to: commands.length }]),
  };
}

/** Allergy (EF07) or immunisation (EF08) records appended to the cyclic file of DF02. */
function cyclicSteps(id: 'DF02/EF07' | 'DF02/EF08', records: ItemValues[] | undefined): Step[] {
  if (!records || records.length === 0) return [];
  const ef = elementaryFile(id);
  if (records.length > ef.recordCount!) throw new HealthCardError('ITEM_VALUE_TOO_LONG', `${id} holds ${ef.recordCount} records`, { file: id });
  const items = itemsOfFile(id).map((d) => d.itemNo);
  const kind = id === 'DF02/EF07' ? 'allergy' : 'immunisation';
  const units: WriteUnit[] = records.map((_, index) => ({ kind, file: id, items, index }));
  // Each append becomes record 1: append the oldest first so the first given ends up newest.
  const raws = records.map((r) => layoutBytes(id, ef.recordSize!, r)).reverse();
  const commands = [selectEf(ef), ...raws.map((raw) => ({ apdu: command(0x00, 0xdc, 0x00, 0x03, raw) }))];
  // Command 1 + j appends request record (n - 1 - j).
  const ranges = units.map((unit, index) => {
    const at = 1 + (records.length - 1 - index);
    return { unit, from: at, to: at + 1 };
  }).reverse();
  return [{ df: 'DF02', file: id, key: ef.updateKey, units, run: (s, _w, report) => runUnits(s, id, commands, report, ranges) }];
}

/** Inpatient (index EF05, visits EE01–03) or outpatient (index EF06, visits ED01–05) writes and erases. */
function visitSteps(indexId: 'DF03/EF05' | 'DF03/EF06', group: ItemFile, writes: VisitWrite[] | undefined, erases: number[] | undefined): Step[] {
  const ids = visitFilesOf(indexId);
  const index = elementaryFile(indexId);
  const inpatient = indexId === 'DF03/EF05';
  const slotOk = (slot: number): void => {
    if (!Number.isInteger(slot) || slot < 1 || slot > ids.length) throw new HealthCardError('UNKNOWN_ITEM', `no visit slot ${slot} in ${group}`, { file: indexId });
  };
  // One request touches a slot once: a write and an erase (or two writes) of the same slot would
  // leave the outcome to the order of the steps, which the caller cannot see.
  const seen = new Set<number>();
  for (const slot of [...(writes ?? []).map((w) => w.slot), ...(erases ?? [])]) {
    if (seen.has(slot)) throw new HealthCardError('ITEM_VALUE_INVALID', `visit slot ${slot} of ${group} appears twice in one write request`, { file: indexId, slot });
    seen.add(slot);
  }
  const steps: Step[] = [];
  for (const w of writes ?? []) {
    slotOk(w.slot);
    steps.push(visitWriteStep(index, elementaryFile(ids[w.slot - 1]), group, w, inpatient));
  }
  for (const slot of erases ?? []) {
    slotOk(slot);
    const unit: WriteUnit = { kind: inpatient ? 'eraseInpatient' : 'eraseOutpatient', file: indexId, items: [], slot };
    const commands = [selectEf(index), { apdu: Uint8Array.of(0x84, 0x0c, slot, 0x04, 0x00) }];
    steps.push({
      df: 'DF03', file: indexId, key: index.updateKey, units: [unit],
      run: (s, _w, report) => runUnits(s, indexId, commands, report, [{ unit, from: 1, to: 2 }]),
    });
  }
  return steps;
}

function visitWriteStep(index: ElementaryFile, ef: ElementaryFile, group: ItemFile, w: VisitWrite, inpatient: boolean): Step {
  const dataLength = itemsOfFile(group).reduce((s, d) => s + d.length, 0);
  const data = new Uint8Array(ef.size!).fill(0xff);
  data.set(layoutBytes(group, dataLength, w.values));
  if (w.signature !== undefined) data.set(encodeB(w.signature, VISIT_TAIL.signatureLength), dataLength);
  if (w.certificate !== undefined) data.set(encodeB(w.certificate, VISIT_TAIL.certificateLength), dataLength + VISIT_TAIL.signatureLength);
  const unit: WriteUnit = { kind: inpatient ? 'inpatient' : 'outpatient', file: ef.id, items: itemsOfFile(group).map((d) => d.itemNo), slot: w.slot };
  // Journaled by the index flag: clear it (the slot reads "no record"), write the data, set it
  // valid last. Cut short, the slot reads old-and-valid (nothing reached the card), invalid, or
  // new-and-valid: never mixed data marked valid.
  const commands = [
    selectEf(index), { apdu: Uint8Array.of(0x84, 0x0c, w.slot, 0x04, 0x00) },
    selectEf(ef), ...updateBinaryCommands(data),
    selectEf(index), { apdu: command(0x84, 0xd2, w.slot, 0x04, [0x00]) },
  ];
  const fileAt = (i: number): FileId => (i >= 2 && i < commands.length - 2 ? ef.id : index.id);
  return {
    df: 'DF03', file: ef.id, key: ef.updateKey, units: [unit],
    run: (s, _w, report) => runUnits(s, fileAt, commands, report, [{ unit, from: 1, to: commands.length }]),
  };
}

export class HealthCardWriter {
  private readonly session: CardSession;

  constructor(card: CardChannel, private readonly options: HealthCardWriterOptions = {}) {
    this.session = new CardSession(card, options);
  }

  /** Validates and encodes a whole request without touching the card (throws the first problem). */
  plan(request: HealthCardWrite): Step[] {
    const steps: Step[] = [
      ...itemSteps(request.items ?? {}),
      ...(request.photo !== undefined ? [photoStep(request.photo)] : []),
      ...cyclicSteps('DF02/EF07', request.addAllergies),
      ...cyclicSteps('DF02/EF08', request.addImmunisations),
      ...visitSteps('DF03/EF05', 'DF03/EE', request.inpatient, request.eraseInpatient),
      ...visitSteps('DF03/EF06', 'DF03/ED', request.outpatient, request.eraseOutpatient),
    ];
    const order: DfName[] = ['DDF1', 'DF01', 'DF02', 'DF03'];
    return steps.sort((a, b) => order.indexOf(a.df) - order.indexOf(b.df));
  }

  authorizer() {
    if (!this.options.authorizer) throw new HealthCardError('NO_SAM', 'writing needs a SAM');
    return this.options.authorizer;
  }

  /**
   * Validates everything, then writes. A failure before anything can have changed the card throws its
   * own error; after that it throws PARTIAL_WRITE (details: PartialWriteDetails) placing every unit of
   * the request in written, uncertain or notWritten.
   */
  async write(request: HealthCardWrite): Promise<WriteResult> {
    const steps = this.plan(request);
    this.authorizer();
    const fates = new Map<WriteUnit, 'written' | UncertainReason>();
    const report: UnitReport = {
      written: (unit) => void fates.set(unit, 'written'),
      uncertain: (unit, reason) => void fates.set(unit, reason),
    };
    let current: Step | undefined;
    try {
      await this.session.identify();
      await this.session.loadCityCode();
      this.session.requireCard8();
      for (const step of steps) {
        current = step;
        await this.session.authenticate(step.key);
        await step.run(this.session, this, report);
      }
    } catch (e) {
      const details = partialWriteDetails(steps, fates, current?.file ?? null, causeCodeOf(e));
      if (details.written.length === 0 && details.uncertain.length === 0) throw e;
      throw new HealthCardError('PARTIAL_WRITE', partialWriteMessage(details), { ...details }, { cause: e });
    }
    const units = steps.flatMap((s) => s.units);
    return { ...writtenFilesAndItems(units), units, stats: this.session.finishStats() };
  }
}

/** The code that says why: CARD_REMOVED rather than the CARD_WRITE_FAILED wrapped around it. */
function causeCodeOf(e: unknown): string {
  let error = e;
  for (let depth = 0; depth < 4; depth++) {
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    if (!(error instanceof HealthCardError) || (error.code !== 'CARD_READ_FAILED' && error.code !== 'CARD_WRITE_FAILED') || !isYikaError(cause)) break;
    error = cause;
  }
  return isYikaError(error) ? error.code : 'ERROR';
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function writtenFilesAndItems(units: WriteUnit[]): { files: FileId[]; items: number[] } {
  return { files: unique(units.map((u) => u.file)), items: unique(units.flatMap((u) => u.items)) };
}

function partialWriteDetails(steps: Step[], fates: Map<WriteUnit, 'written' | UncertainReason>, failedFile: FileId | null, causeCode: string): PartialWriteDetails {
  const written: WriteUnit[] = [];
  const uncertain: UncertainUnit[] = [];
  const notWritten: WriteUnit[] = [];
  for (const unit of steps.flatMap((s) => s.units)) {
    const f = fates.get(unit);
    if (f === 'written') written.push({ ...unit });
    else if (f) uncertain.push({ ...unit, reason: f });
    else notWritten.push({ ...unit });
  }
  const w = writtenFilesAndItems(written);
  return {
    written, uncertain, notWritten,
    writtenFiles: w.files, writtenItems: w.items,
    uncertainItems: unique(uncertain.flatMap((u) => u.items)), notWrittenItems: unique(notWritten.flatMap((u) => u.items)),
    failedFile, causeCode,
  };
}

const KIND_WORDS: Record<WriteUnitKind, string> = {
  item: 'item', photo: 'photo', allergy: 'allergy record', immunisation: 'immunisation record',
  inpatient: 'inpatient visit', outpatient: 'outpatient visit', eraseInpatient: 'inpatient erase', eraseOutpatient: 'outpatient erase',
};

function describeUnit(u: WriteUnit): string {
  if (u.kind === 'item') return `item ${u.items[0]}`;
  if (u.slot !== undefined) return `${KIND_WORDS[u.kind]} slot ${u.slot}`;
  if (u.index !== undefined) return `${KIND_WORDS[u.kind]} ${u.index + 1}`;
  return KIND_WORDS[u.kind];
}

/** For the front desk: what happened and what to do (names units by number only, never values). */
function partialWriteMessage(d: PartialWriteDetails): string {
  const list = (units: WriteUnit[]): string => (units.length ? units.map(describeUnit).join(', ') : 'nothing');
  const parts = [
    `The write stopped at ${d.failedFile ?? 'the start'} (${d.causeCode}).`,
    `Written: ${list(d.written)}.`,
  ];
  if (d.uncertain.length) parts.push(`Uncertain (sent, but the card's answer was lost or it stopped midway; it may or may not be on the card): ${list(d.uncertain)}.`);
  parts.push(`Not written: ${list(d.notWritten)}.`);
  parts.push('Read the card back before retrying, and retry only what is missing:');
  parts.push(
    d.uncertain.length
      ? 'retrying an uncertain allergy or immunisation record, or a visit record written to another slot, adds a duplicate if the first attempt was applied.'
      : 'retrying an allergy or immunisation record that was written appends it twice.',
  );
  return parts.join(' ');
}
