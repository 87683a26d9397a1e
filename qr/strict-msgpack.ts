// A small, strict MessagePack reader and writer for the EHC1 claims. Strict means: every length is
// checked against the remaining bytes before use, nesting and element counts are bounded, extension
// types are refused, map keys must be strings and unique, and the caller checks that the whole input
// was consumed. The signature covers the exact bytes, so the reader never needs to re-encode.

export class MsgpackFormatError extends Error {}

export type MsgValue = null | boolean | number | bigint | string | Uint8Array | MsgValue[] | { [key: string]: MsgValue };

const MAX_DEPTH = 4;
const MAX_ELEMENTS = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class StrictReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) throw new MsgpackFormatError('truncated');
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  private uintN(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos++];
    return v;
  }

  /** Reads an array header; returns the element count. */
  arrayHeader(): number {
    const b = this.byte();
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b === 0xdc) return this.uintN(2);
    throw new MsgpackFormatError('expected an array');
  }

  /** Reads a bin; only the bin family is accepted (not str). */
  bin(): Uint8Array {
    const b = this.byte();
    let len: number;
    if (b === 0xc4) len = this.uintN(1);
    else if (b === 0xc5) len = this.uintN(2);
    else throw new MsgpackFormatError('expected bin');
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Reads a non-negative integer of at most 32 bits (positive fixint, uint8/16/32). */
  uint32(): number {
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b === 0xcc) return this.uintN(1);
    if (b === 0xcd) return this.uintN(2);
    if (b === 0xce) return this.uintN(4);
    throw new MsgpackFormatError('expected an unsigned integer of at most 32 bits');
  }

  /** Reads any value (for extensions and ignored trailing elements), bounded in depth and size. */
  value(depth = 0): MsgValue {
    if (depth > MAX_DEPTH) throw new MsgpackFormatError('nested too deeply');
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xc5:
        this.pos--;
        return this.bin();
      case 0xcc:
        return this.uintN(1);
      case 0xcd:
        return this.uintN(2);
      case 0xce:
        return this.uintN(4);
      case 0xd0:
        return (this.uintN(1) << 24) >> 24;
      case 0xd1:
        return (this.uintN(2) << 16) >> 16;
      case 0xd2:
        return this.uintN(4) | 0;
      case 0xd9:
        return this.str(this.uintN(1));
      case 0xda:
        return this.str(this.uintN(2));
      case 0xdc:
        return this.array(this.uintN(2), depth);
      case 0xde:
        return this.map(this.uintN(2), depth);
      default:
        // 64-bit integers, floats, str32/bin32/array32/map32 and every ext type: not used by EHC1.
        throw new MsgpackFormatError(`type 0x${b.toString(16)} not allowed`);
    }
  }

  private str(len: number): string {
    this.need(len);
    let s: string;
    try {
      s = utf8.decode(this.buf.subarray(this.pos, this.pos + len));
    } catch {
      throw new MsgpackFormatError('invalid UTF-8');
    }
    this.pos += len;
    return s;
  }

  private array(n: number, depth: number): MsgValue[] {
    if (n > MAX_ELEMENTS) throw new MsgpackFormatError('too many elements');
    const out: MsgValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  /** Reads a map with unique string keys into a null-prototype object. */
  map(n: number, depth: number): { [key: string]: MsgValue } {
    if (n > MAX_ELEMENTS) throw new MsgpackFormatError('too many elements');
    const out = Object.create(null) as { [key: string]: MsgValue };
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (typeof k !== 'string') throw new MsgpackFormatError('map key is not a string');
      if (k in out) throw new MsgpackFormatError('duplicate map key');
      out[k] = this.value(depth + 1);
    }
    return out;
  }
}

/** A growable writer producing the shortest standard encodings. */
export class StrictWriter {
  private readonly parts: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  arrayHeader(n: number): this {
    if (n <= 15) this.parts.push(0x90 | n);
    else if (n <= 0xffff) this.parts.push(0xdc, n >> 8, n & 0xff);
    else throw new RangeError('array too long');
    return this;
  }

  bin(b: Uint8Array): this {
    if (b.length <= 0xff) this.parts.push(0xc4, b.length);
    else if (b.length <= 0xffff) this.parts.push(0xc5, b.length >> 8, b.length & 0xff);
    else throw new RangeError('bin too long');
    for (const x of b) this.parts.push(x);
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('uint out of range');
    if (v <= 0x7f) this.parts.push(v);
    else if (v <= 0xff) this.parts.push(0xcc, v);
    else if (v <= 0xffff) this.parts.push(0xcd, v >> 8, v & 0xff);
    else this.parts.push(0xce, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  /** Writes a fixed-width uint32 (used for iat so that a code's size does not depend on the time). */
  uint32Fixed(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('uint out of range');
    this.parts.push(0xce, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  str(s: string): this {
    const b = utf8Encoder.encode(s);
    if (b.length <= 31) this.parts.push(0xa0 | b.length);
    else if (b.length <= 0xff) this.parts.push(0xd9, b.length);
    else if (b.length <= 0xffff) this.parts.push(0xda, b.length >> 8, b.length & 0xff);
    else throw new RangeError('string too long');
    for (const x of b) this.parts.push(x);
    return this;
  }

  value(v: MsgValue, depth = 0): this {
    if (depth > MAX_DEPTH) throw new RangeError('nested too deeply');
    if (v === null) this.parts.push(0xc0);
    else if (typeof v === 'boolean') this.parts.push(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new RangeError('only integers are allowed');
      if (v >= 0) this.uint(v);
      else if (v >= -32) this.parts.push(v + 0x100);
      else if (v >= -0x80000000) this.parts.push(0xd2, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      else throw new RangeError('integer out of range');
    } else if (typeof v === 'bigint') throw new RangeError('64-bit integers are not allowed');
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof Uint8Array) this.bin(v);
    else if (Array.isArray(v)) {
      if (v.length > MAX_ELEMENTS) throw new RangeError('too many elements');
      this.arrayHeader(v.length);
      for (const x of v) this.value(x, depth + 1);
    } else {
      const keys = Object.keys(v);
      if (keys.length > MAX_ELEMENTS) throw new RangeError('too many elements');
      if (keys.length <= 15) this.parts.push(0x80 | keys.length);
      else this.parts.push(0xde, keys.length >> 8, keys.length & 0xff);
      for (const k of keys) this.str(k).value(v[k], depth + 1);
    }
    return this;
  }
}
