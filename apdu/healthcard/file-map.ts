// The Resident Health Card file tree and its access keys, as one table (shared/domain/health-card.md §2–3,
// docs/HEALTHCARD-SECURITY.md "Key table" and "Access rules"). The simulator personalises cards from it
// and the host reader/writer walks it, so card and host cannot disagree about a FID or a key.

/** Key names of HEALTHCARD-SECURITY.md. */
export type KeyName =
  | 'RK_DDF1' | 'UK_DDF1' | 'STK_DDF1'
  | 'RK_DF01' | 'UK_DF01' | 'STK_DF01'
  | 'RK_DF02' | 'UK_DF02_1' | 'UK_DF02_2' | 'UK_DF02_3' | 'STK_DF02'
  | 'RK_DF03' | 'UK_DF03_1' | 'UK_DF03_2' | 'STK_DF03';

export type DfName = 'DDF1' | 'DF01' | 'DF02' | 'DF03';

export interface KeyDefinition {
  name: KeyName;
  df: DfName;
  use: 'read' | 'update' | 'secure-messaging';
  /** P2 of EXTERNAL AUTHENTICATE (00 82 00 P2); absent for secure-messaging keys (implicit). */
  cardRef?: number;
  /** P1 P2 of the SAM's 80 DE (key index). */
  sam: readonly [number, number];
  /** two-level = card8 ‖ city8 (SAM P1 47/48); one-level = card8 (SAM P1 27/28). */
  derivation: 'one-level' | 'two-level';
}

function key(name: KeyName, df: DfName, use: KeyDefinition['use'], cardRef: number | undefined, p1: number, p2: number): KeyDefinition {
  const derivation = p1 === 0x47 || p1 === 0x48 ? 'two-level' : 'one-level';
  return cardRef === undefined ? { name, df, use, sam: [p1, p2], derivation } : { name, df, use, cardRef, sam: [p1, p2], derivation };
}

export const KEYS: Readonly<Record<KeyName, KeyDefinition>> = {
  RK_DDF1: key('RK_DDF1', 'DDF1', 'read', 0x04, 0x47, 0x31),
  UK_DDF1: key('UK_DDF1', 'DDF1', 'update', 0x05, 0x27, 0x2a),
  STK_DDF1: key('STK_DDF1', 'DDF1', 'secure-messaging', undefined, 0x28, 0x02),
  RK_DF01: key('RK_DF01', 'DF01', 'read', 0x84, 0x47, 0x32),
  UK_DF01: key('UK_DF01', 'DF01', 'update', 0x85, 0x27, 0x2b),
  STK_DF01: key('STK_DF01', 'DF01', 'secure-messaging', undefined, 0x28, 0x03),
  RK_DF02: key('RK_DF02', 'DF02', 'read', 0x84, 0x47, 0x33),
  UK_DF02_1: key('UK_DF02_1', 'DF02', 'update', 0x85, 0x47, 0x2c),
  UK_DF02_2: key('UK_DF02_2', 'DF02', 'update', 0x86, 0x47, 0x2d),
  UK_DF02_3: key('UK_DF02_3', 'DF02', 'update', 0x87, 0x47, 0x2e),
  STK_DF02: key('STK_DF02', 'DF02', 'secure-messaging', undefined, 0x48, 0x04),
  RK_DF03: key('RK_DF03', 'DF03', 'read', 0x84, 0x47, 0x34),
  UK_DF03_1: key('UK_DF03_1', 'DF03', 'update', 0x85, 0x47, 0x2f),
  UK_DF03_2: key('UK_DF03_2', 'DF03', 'update', 0x86, 0x27, 0x30),
  STK_DF03: key('STK_DF03', 'DF03', 'secure-messaging', undefined, 0x48, 0x05),
};

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

export const MF = {
  fid: 0x3f00,
  /** DF name "jmjkkyyhj" right-padded with 00 to 16 bytes. */
  dfName: concat(ascii('jmjkkyyhj'), new Uint8Array(7)),
} as const;

const DDF1_NAME = 'WS.SYS.DDF01';

export interface DedicatedFile {
  name: DfName;
  fid: number;
  /** DF name (DDF1) or AID (DF01–DF03) carried in tag 84 of the FCI and accepted by SELECT by name. */
  dfName: Uint8Array;
  readKey: KeyName;
  smKey: KeyName;
}

export const DEDICATED_FILES: Readonly<Record<DfName, DedicatedFile>> = {
  DDF1: { name: 'DDF1', fid: 0xddf1, dfName: ascii(DDF1_NAME), readKey: 'RK_DDF1', smKey: 'STK_DDF1' },
  DF01: { name: 'DF01', fid: 0xdf01, dfName: Uint8Array.of(0x91, 0x56, 0x00, 0x01, 0x32, 0x00), readKey: 'RK_DF01', smKey: 'STK_DF01' },
  DF02: { name: 'DF02', fid: 0xdf02, dfName: Uint8Array.of(0x91, 0x56, 0x00, 0x01, 0x32, 0x01), readKey: 'RK_DF02', smKey: 'STK_DF02' },
  DF03: { name: 'DF03', fid: 0xdf03, dfName: Uint8Array.of(0x91, 0x56, 0x00, 0x01, 0x32, 0x02), readKey: 'RK_DF03', smKey: 'STK_DF03' },
};

/** FCI returned by SELECT: MF and DDF1 `6F len 84 len name A5 00`; DF01–03 `6F 08 84 06 AID`. */
export function fciOf(df: 'MF' | DfName): Uint8Array {
  if (df === 'MF' || df === 'DDF1') {
    const name = df === 'MF' ? MF.dfName : DEDICATED_FILES.DDF1.dfName;
    return concat([0x6f, name.length + 4, 0x84, name.length], name, [0xa5, 0x00]);
  }
  const aid = DEDICATED_FILES[df].dfName;
  return concat([0x6f, aid.length + 2, 0x84, aid.length], aid);
}

/** What a file holds, which decides how the host reads and writes it. */
export type FileContent =
  | 'tlv-records' // linear, one SIMPLE-TLV per record, tag = item number, SM UPDATE RECORD
  | 'photo' // transparent, 2-byte BE length ‖ JPEG
  | 'cyclic-records' // raw fixed-size records, newest = record 1, appended with 00 DC 00 03
  | 'index-flags' // DF03 EF05/EF06: one byte per visit file, 00 valid / FF empty
  | 'visit'; // DF03 EExx/EDxx: data ‖ signature(64) ‖ certificate(190)

export type FileId =
  | 'DDF1/EF05' | 'DDF1/EF06' | 'DDF1/EF07' | 'DDF1/EF08'
  | 'DF01/EF05' | 'DF01/EF06' | 'DF01/EF07' | 'DF01/EF08'
  | 'DF02/EF05' | 'DF02/EF06' | 'DF02/EF07' | 'DF02/EF08'
  | 'DF03/EF05' | 'DF03/EF06'
  | 'DF03/EE01' | 'DF03/EE02' | 'DF03/EE03'
  | 'DF03/ED01' | 'DF03/ED02' | 'DF03/ED03' | 'DF03/ED04' | 'DF03/ED05';

export interface ElementaryFile {
  id: FileId;
  df: DfName;
  fid: number;
  structure: 'transparent' | 'linear' | 'cyclic';
  content: FileContent;
  /** Linear/cyclic: number of records. */
  recordCount?: number;
  /** Linear/cyclic: record size; for TLV files the largest record (each record is 2 + its item length). */
  recordSize?: number;
  /** TLV files: the item number (= tag) held by each record, record 1 first. */
  recordItems?: readonly number[];
  /** Transparent: file size in bytes. */
  size?: number;
  /** 'free' or the key that must be authenticated (EXTERNAL AUTHENTICATE) in the DF. */
  readKey: KeyName | 'free';
  updateKey: KeyName;
  /** TLV files are updated with secure messaging (CLA 04) under the DF's STK; others with plain commands. */
  updateMode: 'secure-messaging' | 'plain';
  nameZh: string;
}

/** DF03 visit files: data area sizes (the layouts are in data-items.ts). */
export const VISIT_SIGNATURE_LENGTH = 64;
export const VISIT_CERTIFICATE_LENGTH = 190;
export const INPATIENT_DATA_LENGTH = 1639;
export const OUTPATIENT_DATA_LENGTH = 3013;
export const INPATIENT_FILE_SIZE = INPATIENT_DATA_LENGTH + VISIT_SIGNATURE_LENGTH + VISIT_CERTIFICATE_LENGTH; // 1893
export const OUTPATIENT_FILE_SIZE = OUTPATIENT_DATA_LENGTH + VISIT_SIGNATURE_LENGTH + VISIT_CERTIFICATE_LENGTH; // 3267
export const PHOTO_FILE_SIZE = 3072;
/** Chunk size of READ BINARY / UPDATE BINARY used by the SDKs. */
/**
 * READ BINARY chunk: 256 bytes, the largest short Le (00). The SDKs in the field read 0x80 at a time;
 * twice as much per command halves the commands (and their per-command processing time) for the photo
 * and the visit files. Extended Le would be larger still, but the card's ATR does not announce extended
 * length (its historical bytes are the chip serial, not a compact-TLV card-capabilities object), so
 * the host does not use it. Writes stay at BINARY_CHUNK.
 */
export const READ_CHUNK = 0x100;
export const BINARY_CHUNK = 0x80;
export const ALLERGY_RECORD_SIZE = 120;
export const ALLERGY_RECORD_COUNT = 3;
export const IMMUNISATION_RECORD_SIZE = 24;
export const IMMUNISATION_RECORD_COUNT = 10;
export const INPATIENT_VISIT_COUNT = 3;
export const OUTPATIENT_VISIT_COUNT = 5;

/** Value lengths of the TLV items (tag = item number), needed to size the TLV records. */
export const TLV_ITEM_LENGTHS: Readonly<Record<number, number>> = {
  0x01: 1, 0x02: 4, 0x03: 30, 0x04: 11, 0x05: 180, 0x06: 4, 0x07: 4, 0x08: 18, 0x09: 3, 0x0a: 10,
  0x0b: 30, 0x0c: 1, 0x0d: 1, 0x0e: 4, 0x0f: 18, 0x10: 20, 0x11: 20, 0x12: 1, 0x13: 1, 0x14: 1,
  0x15: 1, 0x16: 100, 0x17: 1, 0x18: 100,
  0x19: 30, 0x1a: 1, 0x1b: 20, 0x1c: 30, 0x1d: 1, 0x1e: 20, 0x1f: 30, 0x20: 1, 0x21: 20,
  0x22: 1, 0x23: 1, 0x24: 3, 0x25: 1, 0x26: 18, 0x27: 17, 0x28: 18,
  0x29: 1, 0x2a: 1, 0x2b: 1, 0x2c: 1, 0x2d: 1, 0x2e: 1, 0x2f: 1, 0x30: 1, 0x31: 1, 0x32: 1, 0x33: 1, 0x34: 1,
  0x35: 1, 0x36: 1, 0x37: 40, 0x38: 1, 0x39: 3,
};

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function tlvFile(id: FileId, fid: number, items: number[], readKey: KeyName | 'free', updateKey: KeyName, nameZh: string): ElementaryFile {
  return {
    id, df: id.split('/')[0] as DfName, fid, structure: 'linear', content: 'tlv-records',
    recordCount: items.length, recordSize: Math.max(...items.map((t) => TLV_ITEM_LENGTHS[t] + 2)), recordItems: items,
    readKey, updateKey, updateMode: 'secure-messaging', nameZh,
  };
}

function visitFile(id: FileId, fid: number, size: number, updateKey: KeyName, nameZh: string): ElementaryFile {
  return { id, df: 'DF03', fid, structure: 'transparent', content: 'visit', size, readKey: 'RK_DF03', updateKey, updateMode: 'plain', nameZh };
}

export const ELEMENTARY_FILES: readonly ElementaryFile[] = [
  tlvFile('DDF1/EF05', 0xef05, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x39], 'free', 'UK_DDF1', '发卡机构数据'),
  tlvFile('DDF1/EF06', 0xef06, range(0x0b, 0x0f), 'RK_DDF1', 'UK_DDF1', '持卡人基本信息'),
  { id: 'DDF1/EF07', df: 'DDF1', fid: 0xef07, structure: 'transparent', content: 'photo', size: PHOTO_FILE_SIZE, readKey: 'RK_DDF1', updateKey: 'UK_DDF1', updateMode: 'plain', nameZh: '照片' },
  tlvFile('DDF1/EF08', 0xef08, [0x07, 0x10, 0x11, 0x12, 0x13, 0x14], 'RK_DDF1', 'UK_DDF1', '有效期、电话与支付方式'),
  tlvFile('DF01/EF05', 0xef05, range(0x15, 0x18), 'RK_DF01', 'UK_DF01', '地址信息'),
  tlvFile('DF01/EF06', 0xef06, range(0x19, 0x21), 'RK_DF01', 'UK_DF01', '联系人信息'),
  tlvFile('DF01/EF07', 0xef07, range(0x22, 0x24), 'RK_DF01', 'UK_DF01', '职业婚姻信息'),
  tlvFile('DF01/EF08', 0xef08, range(0x25, 0x28), 'RK_DF01', 'UK_DF01', '证件信息'),
  tlvFile('DF02/EF05', 0xef05, range(0x29, 0x37), 'RK_DF02', 'UK_DF02_1', '临床基本数据'),
  tlvFile('DF02/EF06', 0xef06, [0x38], 'RK_DF02', 'UK_DF02_1', '特殊信息数据'),
  { id: 'DF02/EF07', df: 'DF02', fid: 0xef07, structure: 'cyclic', content: 'cyclic-records', recordCount: ALLERGY_RECORD_COUNT, recordSize: ALLERGY_RECORD_SIZE, readKey: 'RK_DF02', updateKey: 'UK_DF02_2', updateMode: 'plain', nameZh: '过敏基本数据' },
  { id: 'DF02/EF08', df: 'DF02', fid: 0xef08, structure: 'cyclic', content: 'cyclic-records', recordCount: IMMUNISATION_RECORD_COUNT, recordSize: IMMUNISATION_RECORD_SIZE, readKey: 'RK_DF02', updateKey: 'UK_DF02_3', updateMode: 'plain', nameZh: '免疫基本数据' },
  { id: 'DF03/EF05', df: 'DF03', fid: 0xef05, structure: 'linear', content: 'index-flags', recordCount: INPATIENT_VISIT_COUNT, recordSize: 1, readKey: 'RK_DF03', updateKey: 'UK_DF03_1', updateMode: 'plain', nameZh: '住院信息索引' },
  { id: 'DF03/EF06', df: 'DF03', fid: 0xef06, structure: 'linear', content: 'index-flags', recordCount: OUTPATIENT_VISIT_COUNT, recordSize: 1, readKey: 'RK_DF03', updateKey: 'UK_DF03_2', updateMode: 'plain', nameZh: '门诊信息索引' },
  visitFile('DF03/EE01', 0xee01, INPATIENT_FILE_SIZE, 'UK_DF03_1', '住院信息1'),
  visitFile('DF03/EE02', 0xee02, INPATIENT_FILE_SIZE, 'UK_DF03_1', '住院信息2'),
  visitFile('DF03/EE03', 0xee03, INPATIENT_FILE_SIZE, 'UK_DF03_1', '住院信息3'),
  visitFile('DF03/ED01', 0xed01, OUTPATIENT_FILE_SIZE, 'UK_DF03_2', '门诊信息1'),
  visitFile('DF03/ED02', 0xed02, OUTPATIENT_FILE_SIZE, 'UK_DF03_2', '门诊信息2'),
  visitFile('DF03/ED03', 0xed03, OUTPATIENT_FILE_SIZE, 'UK_DF03_2', '门诊信息3'),
  visitFile('DF03/ED04', 0xed04, OUTPATIENT_FILE_SIZE, 'UK_DF03_2', '门诊信息4'),
  visitFile('DF03/ED05', 0xed05, OUTPATIENT_FILE_SIZE, 'UK_DF03_2', '门诊信息5'),
];

const FILE_BY_ID = new Map(ELEMENTARY_FILES.map((f) => [f.id, f]));

export function elementaryFile(id: FileId): ElementaryFile {
  const f = FILE_BY_ID.get(id);
  if (!f) throw new RangeError(`unknown file ${id}`);
  return f;
}

export function isFileId(id: string): id is FileId {
  return FILE_BY_ID.has(id as FileId);
}

/** Visit file → its index file and record (EE02 → DF03/EF05 record 2). */
export function visitIndexOf(id: FileId): { indexFile: FileId; record: number } | undefined {
  const m = /^DF03\/(EE|ED)0(\d)$/.exec(id);
  if (!m) return undefined;
  return { indexFile: m[1] === 'EE' ? 'DF03/EF05' : 'DF03/EF06', record: Number(m[2]) };
}

/** The visit files of an index file, record 1 first. */
export function visitFilesOf(indexFile: 'DF03/EF05' | 'DF03/EF06'): FileId[] {
  return indexFile === 'DF03/EF05'
    ? ['DF03/EE01', 'DF03/EE02', 'DF03/EE03']
    : ['DF03/ED01', 'DF03/ED02', 'DF03/ED03', 'DF03/ED04', 'DF03/ED05'];
}
