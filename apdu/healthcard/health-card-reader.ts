// Reads the Resident Health Card into typed JSON: identify (DDF1 named WS.SYS.DDF01), authorise each
// DF's read key through the SAM, read files grouped per DF in batches, decode every item with the
// shared codecs. A read either returns complete, decoded files or throws a typed error naming the file.

import type { BatchCommand, CardChannel } from '../card-channel.ts';
import { command } from '../command-apdu.ts';
import { parseResponse } from '../response-apdu.ts';
import { parseSimpleTlv, type SimpleTlv } from '../tlv.ts';
import { hexUpper } from '../../common/hex.ts';
import { decodeValue } from './codecs.ts';
import {
  dataItem, itemFileOf, itemsOfFile, VISIT_TAIL, type CardProfile, type DataItem, type ItemFile, type ItemValues,
} from './data-items.ts';
import {
  READ_CHUNK, ELEMENTARY_FILES, elementaryFile, isFileId, PHOTO_FILE_SIZE, TLV_ITEM_LENGTHS, visitFilesOf, visitIndexOf,
  type DfName, type ElementaryFile, type FileId,
} from './file-map.ts';
import { HealthCardError } from './health-card-errors.ts';
import { CardSession, type CardSessionOptions, type LinkStats } from './card-session.ts';

export interface ItemValue {
  itemNo: number;
  field: string;
  nameZh: string;
  value: string | null;
}

/** Decoded fields of one record or file: by field name, and as an item list (item-number order). */
export interface FieldSet {
  fields: Record<string, string | null>;
  items: ItemValue[];
}

export type FileRead =
  | ({ kind: 'tlv'; file: FileId; nameZh: string } & FieldSet)
  | { kind: 'photo'; file: FileId; nameZh: string; /** JPEG length N (0 when none) */ length: number; base64: string | null }
  | { kind: 'records'; file: FileId; nameZh: string; /** Written records only, newest (record 1) first. */ records: Array<{ record: number } & FieldSet> }
  | { kind: 'index'; file: FileId; nameZh: string; flags: Array<{ record: number; visitFile: FileId; valid: boolean }> }
  | ({ kind: 'visit'; file: FileId; nameZh: string; record: number; valid: true; signature: string | null; certificate: string | null } & FieldSet)
  | { kind: 'visit'; file: FileId; nameZh: string; record: number; valid: false };

export interface HealthCardRead {
  card: { card8: string | null; cityCode: string | null };
  files: Partial<Record<FileId, FileRead>>;
  stats: LinkStats;
}

export interface ReadItemsOptions {
  /** Record for record-based items (58–61: 1 = newest; 62–384: visit slot, EE0n/ED0n). Default 1. */
  record?: number;
  /** Also return the values joined with "|" in the requested order (null → empty), as vendor DLLs do. */
  join?: boolean;
}

export interface ItemsRead {
  items: Array<ItemValue & { file: FileId; record?: number; /** visit slot whose index flag is FF */ invalid?: boolean }>;
  joined?: string;
  stats: LinkStats;
}

export type HealthCardReaderOptions = CardSessionOptions;

const DF_ORDER: DfName[] = ['DDF1', 'DF01', 'DF02', 'DF03'];

function fieldSet(list: DataItem[], valueOf: (d: DataItem) => string | null): FieldSet {
  const fields: Record<string, string | null> = {};
  const items: ItemValue[] = [];
  for (const d of list) {
    const value = valueOf(d);
    fields[d.field] = value;
    items.push({ itemNo: d.itemNo, field: d.field, nameZh: d.nameZh, value });
  }
  return { fields, items };
}

function decodeLayout(group: ItemFile, bytes: Uint8Array): FieldSet {
  return fieldSet(itemsOfFile(group), (d) => decodeValue(d.format, bytes.subarray(d.offset!, d.offset! + d.length), d.itemNo));
}

function selectEf(ef: ElementaryFile): BatchCommand {
  return { apdu: command(0x00, 0xa4, 0x00, 0x00, [ef.fid >> 8, ef.fid & 0xff]) };
}

function readRecord(record: number, length: number): BatchCommand {
  return { apdu: command(0x00, 0xb2, record, 0x04, [], length) };
}

function readBinary(offset: number, length: number): BatchCommand {
  return { apdu: command(0x00, 0xb0, offset >> 8, offset & 0xff, [], length) };
}

function chunks(from: number, to: number): BatchCommand[] {
  const out: BatchCommand[] = [];
  for (let off = from; off < to; off += READ_CHUNK) out.push(readBinary(off, Math.min(READ_CHUNK, to - off)));
  return out;
}

function dataOf(file: string, response: Uint8Array, expectedLength?: number): Uint8Array {
  const r = parseResponse(response);
  if (expectedLength !== undefined && r.data.length !== expectedLength) {
    throw new HealthCardError('CARD_DATA_MALFORMED', `${file}: expected ${expectedLength} bytes, got ${r.data.length}`, { file });
  }
  return r.data;
}

function isAllFf(b: Uint8Array): boolean {
  return b.every((x) => x === 0xff);
}

export class HealthCardReader {
  private readonly session: CardSession;

  constructor(card: CardChannel, options: HealthCardReaderOptions = {}) {
    this.session = new CardSession(card, options);
  }

  /** SELECT DDF1 and check its name; NOT_A_HEALTH_CARD otherwise. */
  async identify(): Promise<void> {
    await this.session.identify();
  }

  /** Reads every file of the card. */
  async readAll(): Promise<HealthCardRead> {
    return this.readFiles(ELEMENTARY_FILES.map((f) => f.id));
  }

  /**
   * Reads the given files (any order; grouped per DF). Visit files read their DF03 index first; a
   * slot whose flag is FF is reported `valid: false` without reading it.
   */
  async readFiles(files: readonly FileId[]): Promise<HealthCardRead> {
    for (const f of files) if (!isFileId(f)) throw new HealthCardError('UNKNOWN_ITEM', `no file ${String(f)}`);
    const wanted = new Set<FileId>(files);
    const result: HealthCardRead['files'] = {};
    await this.session.identify();
    const needsAuth = [...wanted].some((f) => elementaryFile(f).readKey !== 'free');
    if (needsAuth || wanted.has('DDF1/EF05')) await this.readDdf1Ef05(result);
    for (const df of DF_ORDER) {
      const inDf = ELEMENTARY_FILES.filter((f) => f.df === df && wanted.has(f.id) && !result[f.id]);
      if (inDf.length === 0) continue;
      await this.readDf(df, inDf, result);
    }
    // Keep DDF1/EF05 in the result only when asked for.
    if (!wanted.has('DDF1/EF05')) delete result['DDF1/EF05'];
    return {
      card: { card8: this.session.card8 ? hexUpper(this.session.card8) : null, cityCode: this.session.cityCode ?? null },
      files: result,
      stats: this.session.finishStats(),
    };
  }

  /** Reads items by number (1–384), the vendor "by item" API. */
  async readItems(itemNos: readonly number[], options: ReadItemsOptions = {}): Promise<ItemsRead> {
    const record = options.record ?? 1;
    const items = itemNos.map((n) => {
      try { return dataItem(n); } catch { throw new HealthCardError('UNKNOWN_ITEM', `no data item ${n} (valid: 1–384)`, { itemNo: n }); }
    });
    const files = new Set<FileId>();
    for (const d of items) files.add(this.fileOfItem(d, record));
    const read = await this.readFiles([...files]);
    const out: ItemsRead['items'] = items.map((d) => {
      const file = this.fileOfItem(d, record);
      const base = { itemNo: d.itemNo, field: d.field, nameZh: d.nameZh, file };
      const fr = read.files[file];
      if (!fr) return { ...base, value: null };
      switch (fr.kind) {
        case 'tlv': return { ...base, value: fr.fields[d.field] ?? null };
        case 'records': return { ...base, record, value: fr.records.find((r) => r.record === record)?.fields[d.field] ?? null };
        case 'index': {
          const flag = fr.flags.find((f) => f.record === record);
          return { ...base, record, value: flag?.valid ? '00' : null };
        }
        case 'visit': return fr.valid ? { ...base, record, value: fr.fields[d.field] ?? null } : { ...base, record, value: null, invalid: true };
        default: return { ...base, value: null };
      }
    });
    const result: ItemsRead = { items: out, stats: read.stats };
    if (options.join) result.joined = out.map((i) => i.value ?? '').join('|');
    return result;
  }

  /** Reads the whole card into the profile exchange format (what the simulator personalises from). */
  async readProfile(): Promise<CardProfile> {
    return toProfile(await this.readAll());
  }

  private fileOfItem(d: DataItem, record: number): FileId {
    if (d.file === 'DF03/EE' || d.file === 'DF03/ED') {
      const ids = visitFilesOf(d.file === 'DF03/EE' ? 'DF03/EF05' : 'DF03/EF06');
      if (!Number.isInteger(record) || record < 1 || record > ids.length) throw new HealthCardError('UNKNOWN_ITEM', `no visit record ${record}`, { itemNo: d.itemNo });
      return ids[record - 1];
    }
    if (d.tag === undefined) {
      const ef = elementaryFile(d.file as FileId);
      if (!Number.isInteger(record) || record < 1 || record > (ef.recordCount ?? 0)) throw new HealthCardError('UNKNOWN_ITEM', `no record ${record} in ${ef.id}`, { itemNo: d.itemNo });
    }
    return d.file as FileId;
  }

  private async readDdf1Ef05(result: HealthCardRead['files']): Promise<void> {
    const ef = elementaryFile('DDF1/EF05');
    await this.session.selectDf('DDF1');
    const responses = await this.session.run(ef.id, [selectEf(ef), ...ef.recordItems!.map((t, i) => readRecord(i + 1, TLV_ITEM_LENGTHS[t] + 2))]);
    const read = decodeTlvFile(ef, responses.slice(1));
    result[ef.id] = read;
    this.session.cityCode = read.fields.cityCode ?? undefined;
  }

  private async readDf(df: DfName, files: ElementaryFile[], result: HealthCardRead['files']): Promise<void> {
    await this.session.selectDf(df);
    const keys = new Set(files.map((f) => f.readKey));
    for (const k of keys) if (k !== 'free') await this.session.authenticate(k);
    // DF03: index files first (they decide which visit files exist).
    const wantsVisits = files.some((f) => f.content === 'visit');
    const plain = files.filter((f) => f.content !== 'visit' && f.content !== 'photo');
    if (wantsVisits) {
      for (const idx of ['DF03/EF05', 'DF03/EF06'] as const) if (!plain.some((f) => f.id === idx)) plain.push(elementaryFile(idx));
    }
    // One batch for all record files of the DF.
    const commands: BatchCommand[] = [];
    const spans: Array<{ ef: ElementaryFile; from: number; to: number }> = [];
    for (const ef of plain) {
      const from = commands.length + 1;
      commands.push(selectEf(ef));
      for (let r = 1; r <= ef.recordCount!; r++) {
        commands.push(readRecord(r, ef.content === 'tlv-records' ? TLV_ITEM_LENGTHS[ef.recordItems![r - 1]] + 2 : ef.recordSize!));
      }
      spans.push({ ef, from, to: commands.length });
    }
    if (commands.length > 0) {
      const fileAt = (i: number): string => (spans.find((sp) => i < sp.to) ?? spans[spans.length - 1]).ef.id;
      const responses = await this.session.run(fileAt, commands);
      for (const { ef, from, to } of spans) {
        const records = responses.slice(from, to);
        if (ef.content === 'tlv-records') result[ef.id] = decodeTlvFile(ef, records);
        else if (ef.content === 'cyclic-records') result[ef.id] = decodeCyclic(ef, records);
        else result[ef.id] = decodeIndex(ef, records);
      }
    }
    const photo = files.find((f) => f.content === 'photo');
    if (photo) result[photo.id] = await this.readPhoto(photo);
    const visits = files.filter((f) => f.content === 'visit');
    if (visits.length > 0) await this.readVisits(visits, result);
    // Index files were read only to find the visits: drop those nobody asked for.
    if (wantsVisits) for (const idx of ['DF03/EF05', 'DF03/EF06'] as const) if (!files.some((f) => f.id === idx)) delete result[idx];
  }

  private async readPhoto(ef: ElementaryFile): Promise<FileRead> {
    const first = await this.session.run(ef.id, [selectEf(ef), readBinary(0, READ_CHUNK)]);
    const head = dataOf(ef.id, first[1], READ_CHUNK);
    const n = (head[0] << 8) | head[1];
    if (n === 0xffff || n === 0) return { kind: 'photo', file: ef.id, nameZh: ef.nameZh, length: 0, base64: null };
    if (n + 2 > PHOTO_FILE_SIZE) throw new HealthCardError('CARD_DATA_MALFORMED', `${ef.id}: photo length ${n} exceeds the file`, { file: ef.id });
    const rest = n + 2 > READ_CHUNK ? await this.session.run(ef.id, chunks(READ_CHUNK, n + 2)) : [];
    const bytes = new Uint8Array(Math.max(READ_CHUNK, n + 2));
    bytes.set(head);
    rest.forEach((r, i) => bytes.set(dataOf(ef.id, r, Math.min(READ_CHUNK, n + 2 - READ_CHUNK * (i + 1))), READ_CHUNK * (i + 1)));
    return { kind: 'photo', file: ef.id, nameZh: ef.nameZh, length: n, base64: Buffer.from(bytes.subarray(2, n + 2)).toString('base64') };
  }

  private async readVisits(visits: ElementaryFile[], result: HealthCardRead['files']): Promise<void> {
    const toRead: ElementaryFile[] = [];
    for (const ef of visits) {
      const { indexFile, record } = visitIndexOf(ef.id)!;
      const idx = result[indexFile];
      const valid = idx?.kind === 'index' && idx.flags.some((f) => f.record === record && f.valid);
      if (valid) toRead.push(ef);
      else result[ef.id] = { kind: 'visit', file: ef.id, nameZh: ef.nameZh, record, valid: false };
    }
    // Each visit file is SELECT + its READ BINARY chunks; all go in one run (batches of maxBatch).
    const commands: BatchCommand[] = [];
    const spans: Array<{ ef: ElementaryFile; from: number; to: number }> = [];
    for (const ef of toRead) {
      const from = commands.length;
      commands.push(selectEf(ef), ...chunks(0, ef.size!));
      spans.push({ ef, from, to: commands.length });
    }
    const all = toRead.length ? await this.session.run((i) => (spans.find((sp) => i < sp.to) ?? spans[spans.length - 1]).ef.id, commands) : [];
    for (const { ef, from, to } of spans) {
      const responses = all.slice(from, to);
      const bytes = new Uint8Array(ef.size!);
      responses.slice(1).forEach((r, i) => bytes.set(dataOf(ef.id, r, Math.min(READ_CHUNK, ef.size! - READ_CHUNK * i)), READ_CHUNK * i));
      const group = itemFileOf(ef.id);
      const tail = group === 'DF03/EE' ? VISIT_TAIL.inpatient : VISIT_TAIL.outpatient;
      const sig = bytes.subarray(tail.signatureOffset, tail.signatureOffset + VISIT_TAIL.signatureLength);
      const cert = bytes.subarray(tail.certificateOffset, tail.certificateOffset + VISIT_TAIL.certificateLength);
      result[ef.id] = {
        kind: 'visit', file: ef.id, nameZh: ef.nameZh, record: visitIndexOf(ef.id)!.record, valid: true,
        signature: isAllFf(sig) ? null : hexUpper(sig), certificate: isAllFf(cert) ? null : hexUpper(cert),
        ...decodeLayout(group, bytes.subarray(0, tail.signatureOffset)),
      };
    }
  }
}

function decodeTlvFile(ef: ElementaryFile, records: Uint8Array[]): FileRead & { kind: 'tlv' } {
  const values = new Map<number, string | null>();
  ef.recordItems!.forEach((tag, i) => {
    const data = dataOf(ef.id, records[i]);
    let tlv: SimpleTlv[];
    try { tlv = parseSimpleTlv(data); } catch { tlv = []; }
    if (tlv.length !== 1 || tlv[0].tag !== tag || tlv[0].value.length !== TLV_ITEM_LENGTHS[tag]) {
      throw new HealthCardError('CARD_DATA_MALFORMED', `${ef.id}: record ${i + 1} is not item ${tag}`, { file: ef.id, record: i + 1 });
    }
    const d = dataItem(tag);
    values.set(tag, decodeValue(d.format, tlv[0].value, tag));
  });
  const list = ef.recordItems!.map((t) => dataItem(t)).sort((a, b) => a.itemNo - b.itemNo);
  return { kind: 'tlv', file: ef.id, nameZh: ef.nameZh, ...fieldSet(list, (d) => values.get(d.itemNo) ?? null) };
}

function decodeCyclic(ef: ElementaryFile, records: Uint8Array[]): FileRead {
  const out: Array<{ record: number } & FieldSet> = [];
  records.forEach((r, i) => {
    const data = dataOf(ef.id, r, ef.recordSize);
    if (isAllFf(data)) return;
    out.push({ record: i + 1, ...decodeLayout(ef.id, data) });
  });
  return { kind: 'records', file: ef.id, nameZh: ef.nameZh, records: out };
}

function decodeIndex(ef: ElementaryFile, records: Uint8Array[]): FileRead {
  const visitFiles = visitFilesOf(ef.id as 'DF03/EF05' | 'DF03/EF06');
  return {
    kind: 'index', file: ef.id, nameZh: ef.nameZh,
    flags: records.map((r, i) => ({ record: i + 1, visitFile: visitFiles[i], valid: dataOf(ef.id, r, 1)[0] === 0x00 })),
  };
}

function itemValues(fs: FieldSet): ItemValues {
  const out: ItemValues = {};
  for (const i of fs.items) out[i.itemNo] = i.value;
  return out;
}

/** A full read → the profile exchange format (items 1–57, photo base64, records, visit slots). */
function toProfile(read: HealthCardRead): CardProfile {
  const profile: CardProfile = { items: {}, photo: null, allergies: [], immunisations: [], inpatient: [], outpatient: [] };
  for (const fr of Object.values(read.files)) {
    if (!fr) continue;
    if (fr.kind === 'tlv') Object.assign(profile.items, itemValues(fr));
    else if (fr.kind === 'photo') profile.photo = fr.base64;
    else if (fr.kind === 'records') (fr.file === 'DF02/EF07' ? profile.allergies! : profile.immunisations!).push(...fr.records.map(itemValues));
    else if (fr.kind === 'visit') {
      const list = fr.file.startsWith('DF03/EE') ? profile.inpatient! : profile.outpatient!;
      list[fr.record - 1] = fr.valid ? itemValues(fr) : null;
    }
  }
  return profile;
}
