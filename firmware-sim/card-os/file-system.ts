// The card's file system (ISO/IEC 7816-4 §7): a tree of dedicated files (MF, DFs) holding elementary
// files that are transparent, linear (fixed or variable record sizes) or cyclic. Keys and their retry
// counters live in the DF that owns them; they are non-volatile (survive power-off).

/** Who may do something to a file. `key` = the key reference authenticated in the file's DF. */
export type AccessCondition = { type: 'always' } | { type: 'never' } | { type: 'key'; ref: number };

export const ALWAYS: AccessCondition = { type: 'always' };
export const NEVER: AccessCondition = { type: 'never' };
export const afterKey = (ref: number): AccessCondition => ({ type: 'key', ref });

export interface AccessRules {
  read: AccessCondition;
  update: AccessCondition;
  /** 'secure-messaging': UPDATE RECORD only with CLA 04 (plain 00 DC → 6982). */
  updateMode?: 'plain' | 'secure-messaging';
}

/** A key of the card: 16-byte SM4 key with its retry counter (63Cx, then 6983 when 0). */
export interface CardKey {
  ref: number;
  key: Uint8Array;
  maxTries: number;
  triesLeft: number;
}

export class DedicatedFile {
  readonly type = 'df' as const;
  parent?: DedicatedFile;
  readonly children: Array<DedicatedFile | ElementaryFile> = [];
  /** Keys for EXTERNAL AUTHENTICATE, by reference (P2 of 00 82). */
  readonly keys = new Map<number, CardKey>();
  /** The DF's implicit secure-messaging key (STK), if any. */
  smKey?: Uint8Array;

  constructor(
    readonly fid: number,
    /** DF name / AID for SELECT by name (P1 = 04). */
    readonly name: Uint8Array | undefined,
    /** The FCI returned by SELECT (empty = answer bare 9000). */
    readonly fci: Uint8Array,
  ) {}

  add<T extends DedicatedFile | ElementaryFile>(child: T): T {
    child.parent = this;
    this.children.push(child);
    return child;
  }

  addKey(ref: number, key: Uint8Array, maxTries = 15): void {
    this.keys.set(ref, { ref, key: Uint8Array.from(key), maxTries, triesLeft: maxTries });
  }

  child(fid: number): DedicatedFile | ElementaryFile | undefined {
    return this.children.find((c) => c.fid === fid);
  }

  /** Depth-first walk over this DF and every DF below it. */
  *dedicatedFiles(): Generator<DedicatedFile> {
    yield this;
    for (const c of this.children) if (c instanceof DedicatedFile) yield* c.dedicatedFiles();
  }
}

abstract class ElementaryFileBase {
  parent?: DedicatedFile;
  constructor(
    readonly fid: number,
    readonly access: AccessRules,
    /** Short file identifier (1..30) for READ with SFI; defaults to the low 5 bits of the FID. */
    readonly sfi: number | undefined,
    /** A free label for proprietary commands ("index-flags"), never cardholder data. */
    readonly purpose?: string,
  ) {}
}

export class TransparentFile extends ElementaryFileBase {
  readonly type = 'transparent' as const;
  readonly data: Uint8Array;
  constructor(fid: number, size: number, access: AccessRules, options: { sfi?: number; purpose?: string; fill?: number } = {}) {
    super(fid, access, options.sfi ?? defaultSfi(fid), options.purpose);
    this.data = new Uint8Array(size).fill(options.fill ?? 0xff);
  }
}

export class RecordFile extends ElementaryFileBase {
  readonly records: Uint8Array[];
  constructor(
    fid: number,
    readonly type: 'linear' | 'cyclic',
    /** One entry per record: its fixed length (records exist from personalisation, filled with `fill`). */
    recordLengths: number[],
    access: AccessRules,
    options: { sfi?: number; purpose?: string; fill?: number } = {},
  ) {
    super(fid, access, options.sfi ?? defaultSfi(fid), options.purpose);
    this.records = recordLengths.map((n) => new Uint8Array(n).fill(options.fill ?? 0xff));
  }
}

export type ElementaryFile = TransparentFile | RecordFile;

function defaultSfi(fid: number): number | undefined {
  const sfi = fid & 0x1f;
  return sfi >= 1 && sfi <= 30 ? sfi : undefined;
}
