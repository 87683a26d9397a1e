// SIMPLE-TLV (ISO/IEC 7816-4 §5.2: tag 1 byte 01–FE, length 1 byte or FF + 2 bytes) and BER-TLV
// (multi-byte tags, definite lengths up to 3 length bytes, constructed objects). Malformed input only
// ever raises TLV_MALFORMED, never another exception (fuzz-tested).

import { ApduFormatError } from './apdu-errors.ts';

export interface SimpleTlv {
  tag: number;
  value: Uint8Array;
}

function malformed(message: string, offset: number): ApduFormatError {
  return new ApduFormatError('TLV_MALFORMED', message, { offset });
}

/** Parses a sequence of SIMPLE-TLV objects (the whole input must be consumed). */
export function parseSimpleTlv(bytes: Uint8Array): SimpleTlv[] {
  const out: SimpleTlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    const tag = bytes[i];
    if (tag === 0x00 || tag === 0xff) throw malformed(`SIMPLE-TLV tag ${tag.toString(16)} is invalid`, i);
    if (i + 1 >= bytes.length) throw malformed('SIMPLE-TLV truncated before its length', i);
    let len = bytes[i + 1];
    let start = i + 2;
    if (len === 0xff) {
      if (i + 3 >= bytes.length) throw malformed('SIMPLE-TLV truncated in its 3-byte length', i);
      len = (bytes[i + 2] << 8) | bytes[i + 3];
      start = i + 4;
    }
    if (start + len > bytes.length) throw malformed('SIMPLE-TLV value truncated', i);
    out.push({ tag, value: bytes.slice(start, start + len) });
    i = start + len;
  }
  return out;
}

export function buildSimpleTlv(tag: number, value: Uint8Array): Uint8Array {
  if (!Number.isInteger(tag) || tag < 1 || tag > 0xfe) throw malformed('SIMPLE-TLV tag must be 01–FE', 0);
  if (value.length > 0xffff) throw malformed('SIMPLE-TLV value longer than 65535', 0);
  const head = value.length < 0xff ? [tag, value.length] : [tag, 0xff, value.length >> 8, value.length & 0xff];
  const out = new Uint8Array(head.length + value.length);
  out.set(head);
  out.set(value, head.length);
  return out;
}

export interface BerTlv {
  /** The tag bytes as a big-endian number (e.g. 0x6F, 0x9F38, 0xBF0C). */
  tag: number;
  constructed: boolean;
  value: Uint8Array;
  /** Constructed objects: their parsed children. */
  children?: BerTlv[];
}

const BER_MAX_DEPTH = 16;

function readTag(bytes: Uint8Array, i: number): { tag: number; next: number } {
  if (i >= bytes.length) throw malformed('BER-TLV truncated in its tag', i);
  let tag = bytes[i];
  let j = i + 1;
  if ((tag & 0x1f) === 0x1f) {
    for (let n = 0; ; n++) {
      if (j >= bytes.length) throw malformed('BER-TLV truncated in a multi-byte tag', i);
      if (n >= 3) throw malformed('BER-TLV tag longer than 4 bytes', i);
      const b = bytes[j++];
      tag = tag * 256 + b;
      if ((b & 0x80) === 0) break;
    }
  }
  return { tag, next: j };
}

function readLength(bytes: Uint8Array, i: number): { len: number; next: number } {
  if (i >= bytes.length) throw malformed('BER-TLV truncated before its length', i);
  const first = bytes[i];
  if (first < 0x80) return { len: first, next: i + 1 };
  if (first === 0x80) throw malformed('BER-TLV indefinite length is not allowed', i);
  const n = first & 0x7f;
  if (n > 3) throw malformed('BER-TLV length field longer than 3 bytes', i);
  if (i + n >= bytes.length) throw malformed('BER-TLV truncated in its length', i);
  let len = 0;
  for (let k = 1; k <= n; k++) len = len * 256 + bytes[i + k];
  return { len, next: i + 1 + n };
}

function parseBerAt(bytes: Uint8Array, depth: number): BerTlv[] {
  if (depth > BER_MAX_DEPTH) throw malformed(`BER-TLV nested deeper than ${BER_MAX_DEPTH}`, 0);
  const out: BerTlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    // 00 and FF between objects are padding (ISO/IEC 7816-4 §5.2.2).
    if (bytes[i] === 0x00 || bytes[i] === 0xff) { i++; continue; }
    const firstTagByte = bytes[i];
    const { tag, next } = readTag(bytes, i);
    const { len, next: valueStart } = readLength(bytes, next);
    if (valueStart + len > bytes.length) throw malformed('BER-TLV value truncated', i);
    const value = bytes.slice(valueStart, valueStart + len);
    const constructed = (firstTagByte & 0x20) !== 0;
    out.push(constructed ? { tag, constructed, value, children: parseBerAt(value, depth + 1) } : { tag, constructed, value });
    i = valueStart + len;
  }
  return out;
}

/** Parses a sequence of BER-TLV objects, recursing into constructed ones. */
export function parseBerTlv(bytes: Uint8Array): BerTlv[] {
  return parseBerAt(bytes, 0);
}

function tagBytes(tag: number): number[] {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffffff) throw malformed('BER-TLV tag out of range', 0);
  const out: number[] = [];
  let t = tag;
  while (t > 0) { out.unshift(t & 0xff); t = Math.floor(t / 256); }
  return out;
}

function lengthBytes(len: number): number[] {
  if (len < 0x80) return [len];
  if (len <= 0xff) return [0x81, len];
  if (len <= 0xffff) return [0x82, len >> 8, len & 0xff];
  if (len <= 0xffffff) return [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  throw malformed('BER-TLV value too long', 0);
}

/** Builds one BER-TLV object; a constructed value may be given as children. */
export function buildBerTlv(tag: number, value: Uint8Array | BerTlv[]): Uint8Array {
  const body = value instanceof Uint8Array ? value : concatBytes(value.map((c) => buildBerTlv(c.tag, c.children ?? c.value)));
  return concatBytes([Uint8Array.from([...tagBytes(tag), ...lengthBytes(body.length)]), body]);
}

/** First object with this tag, searching depth-first through constructed objects. */
export function findBerTlv(nodes: BerTlv[], tag: number): BerTlv | undefined {
  for (const n of nodes) {
    if (n.tag === tag) return n;
    if (n.children) {
      const hit = findBerTlv(n.children, tag);
      if (hit) return hit;
    }
  }
  return undefined;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
