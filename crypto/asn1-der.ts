// The few ASN.1 DER pieces SM2 needs: SPKI, PKCS#8, SEC1 ECPrivateKey and the signature SEQUENCE.
// Strict reader (definite minimal lengths, no trailing bytes), tiny writer.
import { CryptoEncodingError } from './crypto-errors.ts';
import { concatBytes } from './byte-encoding.ts';

const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;

export interface DerElement {
  tag: number;
  /** Contents, a view into the input. */
  value: Uint8Array;
  /** Offset just past this element in the input. */
  end: number;
}

export function derEncodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function derTlv(tag: number, value: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), derEncodeLength(value.length), value);
}

export function derSequence(...items: Uint8Array[]): Uint8Array {
  return derTlv(TAG_SEQUENCE, concatBytes(...items));
}

/** INTEGER from a non-negative BigInt (minimal two's complement). */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('negative INTEGER not supported');
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Buffer.from(hex, 'hex') as Uint8Array;
  if (bytes[0] & 0x80) bytes = concatBytes(Uint8Array.of(0), bytes);
  return derTlv(TAG_INTEGER, bytes);
}

export function derOid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map((p) => BigInt(p));
  const out: number[] = [Number(parts[0] * 40n + parts[1])];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let v = part;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] |= 0x80;
    out.push(...chunk);
  }
  return derTlv(TAG_OID, Uint8Array.from(out));
}

export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new CryptoEncodingError('empty OBJECT IDENTIFIER');
  const parts: bigint[] = [];
  let acc = 0n;
  for (let i = 0; i < value.length; i++) {
    acc = (acc << 7n) | BigInt(value[i] & 0x7f);
    if ((value[i] & 0x80) === 0) {
      parts.push(acc);
      acc = 0n;
    } else if (i === value.length - 1) {
      throw new CryptoEncodingError('truncated OBJECT IDENTIFIER');
    }
  }
  const first = parts[0];
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...parts.slice(1)].join('.');
}

/** Reads one TLV at `offset`. Rejects indefinite, non-minimal or overlong lengths and multi-byte tags. */
export function derRead(input: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > input.length) throw new CryptoEncodingError('truncated DER');
  const tag = input[offset];
  if ((tag & 0x1f) === 0x1f) throw new CryptoEncodingError('multi-byte DER tags are not supported');
  let pos = offset + 1;
  const first = input[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new CryptoEncodingError('unsupported DER length form');
    if (pos + count > input.length) throw new CryptoEncodingError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + input[pos++];
    if (length < 0x80 || input[pos - count] === 0) throw new CryptoEncodingError('non-minimal DER length');
  }
  if (pos + length > input.length) throw new CryptoEncodingError('DER value runs past the end');
  return { tag, value: input.subarray(pos, pos + length), end: pos + length };
}

/** Reads all elements of a constructed value's contents. */
export function derChildren(value: Uint8Array): DerElement[] {
  const out: DerElement[] = [];
  let off = 0;
  while (off < value.length) {
    const el = derRead(value, off);
    out.push(el);
    off = el.end;
  }
  return out;
}

/** Reads one element that must span the whole input and carry `tag`. */
export function derReadWhole(input: Uint8Array, tag: number, what: string): DerElement {
  if (!(input instanceof Uint8Array)) throw new CryptoEncodingError(`${what}: DER input must be a Uint8Array`);
  const el = derRead(input, 0);
  if (el.tag !== tag) throw new CryptoEncodingError(`${what}: unexpected DER tag`, { tag: el.tag });
  if (el.end !== input.length) throw new CryptoEncodingError(`${what}: trailing bytes after DER`);
  return el;
}

/** A non-negative INTEGER in strict DER (minimal encoding). */
export function derDecodeUnsignedInteger(el: DerElement, what: string): bigint {
  if (el.tag !== TAG_INTEGER) throw new CryptoEncodingError(`${what}: expected INTEGER`);
  const v = el.value;
  if (v.length === 0) throw new CryptoEncodingError(`${what}: empty INTEGER`);
  if (v[0] & 0x80) throw new CryptoEncodingError(`${what}: negative INTEGER`);
  if (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) throw new CryptoEncodingError(`${what}: non-minimal INTEGER`);
  return BigInt('0x' + Buffer.from(v).toString('hex'));
}

export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block in order: label and DER bytes (ignores text around the blocks). */
function pemDecodeAll(pem: string): Array<{ label: string; der: Uint8Array }> {
  const blocks: Array<{ label: string; der: Uint8Array }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    const body = m[2].replace(/\s+/g, '');
    if (/^Proc-Type:/m.test(m[2])) throw new CryptoEncodingError('encrypted PEM is not supported', { label: m[1] });
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new CryptoEncodingError('PEM body is not base64', { label: m[1] });
    blocks.push({ label: m[1], der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return blocks;
}

/** The first PEM block whose label is one of `labels`. */
export function pemDecode(pem: string, labels: readonly string[]): { label: string; der: Uint8Array } {
  if (typeof pem !== 'string') throw new CryptoEncodingError('PEM must be a string');
  const blocks = pemDecodeAll(pem);
  const found = blocks.find((b) => labels.includes(b.label));
  if (!found) {
    throw new CryptoEncodingError(`no ${labels.join(' / ')} PEM block found`, { labels: blocks.map((b) => b.label) });
  }
  return found;
}
