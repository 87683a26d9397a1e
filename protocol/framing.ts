// Layer 1 of the reader protocol: frames on a byte stream. Pure, no I/O.
//
//   frame  = COBS( payload ‖ CRC32(payload) as 4 bytes little-endian ) ‖ 0x00
//
// COBS (Consistent Overhead Byte Stuffing) removes every 0x00 from the body, so 0x00 only ever
// appears as the frame delimiter: a receiver that lost sync (garbage, a truncated frame, a reset
// peer) is back in sync at the next 0x00, and the next good frame is never lost. The CRC is
// CRC-32/ISO-HDLC (zlib's crc32) over the payload; it is appended little-endian, like the Ethernet
// FCS, so a C implementation on a little-endian MCU can memcpy it. Payloads are 1..maxFrame bytes;
// an empty frame (a lone 0x00) is a no-op a sender may use to flush the receiver.
import { crc32 } from './crc32.ts';
import { ProtocolError } from './protocol-errors.ts';

export const FRAME_DELIMITER = 0x00;
export const CRC_LENGTH = 4;
/** Every v1 device and host accepts payloads of at least this size (before hello negotiates more). */
export const MIN_MAX_FRAME = 512;
/** The largest maxFrame anyone may announce (bounds every buffer). */
export const MAX_MAX_FRAME = 262_144;

/** Largest COBS-encoded body (without the delimiter) for a payload of at most maxFrame bytes. */
export function maxEncodedLength(maxFrame: number): number {
  const body = maxFrame + CRC_LENGTH;
  return body + Math.floor(body / 254) + 1;
}

function checkMaxFrame(maxFrame: number): number {
  if (!Number.isInteger(maxFrame) || maxFrame < 1 || maxFrame > MAX_MAX_FRAME) {
    throw new ProtocolError('PROTOCOL_BAD_FRAME', `maxFrame must be an integer in 1..${MAX_MAX_FRAME}`, { maxFrame });
  }
  return maxFrame;
}

export class FrameEncoder {
  private limit: number;

  constructor(maxFrame = MAX_MAX_FRAME) {
    this.limit = checkMaxFrame(maxFrame);
  }

  get maxFrame(): number {
    return this.limit;
  }

  /** The peer's limit, once hello has negotiated it. */
  set maxFrame(value: number) {
    this.limit = checkMaxFrame(value);
  }

  /** One complete frame (COBS body + delimiter) for a payload of 1..maxFrame bytes. */
  encode(payload: Uint8Array): Uint8Array {
    const n = payload.length;
    if (n === 0 || n > this.limit) {
      throw new ProtocolError('PROTOCOL_BAD_FRAME', `frame payload must be 1..${this.limit} bytes`, { length: n, maxFrame: this.limit });
    }
    const crc = crc32(payload);
    // Buffer.allocUnsafe slices a shared pool: far cheaper than a fresh ArrayBuffer for small frames.
    // Every returned byte is written below.
    const pooled = Buffer.allocUnsafe(maxEncodedLength(n) + 1);
    const out = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
    let codeIdx = 0;
    let o = 1;
    let code = 1;
    // Stuff the payload run by run: a run of non-zero bytes (found with the native indexOf) is copied
    // as a block, split where a COBS block reaches 254 data bytes; short runs go byte by byte, where
    // a block copy costs more than it saves.
    let i = 0;
    while (i < n) {
      let zero = payload.indexOf(0, i);
      if (zero < 0) zero = n;
      while (i < zero) {
        const take = Math.min(0xff - code, zero - i);
        if (take >= 16) out.set(payload.subarray(i, i + take), o);
        else for (let k = 0; k < take; k++) out[o + k] = payload[i + k];
        o += take;
        i += take;
        code += take;
        if (code === 0xff) {
          out[codeIdx] = code;
          codeIdx = o++;
          code = 1;
        }
      }
      if (zero < n) {
        out[codeIdx] = code;
        codeIdx = o++;
        code = 1;
        i = zero + 1;
      }
    }
    for (let k = 0; k < CRC_LENGTH; k++) {
      const b = (crc >>> (8 * k)) & 0xff;
      if (b === 0) {
        out[codeIdx] = code;
        codeIdx = o++;
        code = 1;
      } else {
        out[o++] = b;
        if (++code === 0xff) {
          out[codeIdx] = code;
          codeIdx = o++;
          code = 1;
        }
      }
    }
    out[codeIdx] = code;
    out[o++] = FRAME_DELIMITER;
    return o === out.length ? out : out.subarray(0, o);
  }
}

export interface FrameDecoderCounters {
  /** Good frames delivered. */
  frames: number;
  /** Bytes pushed in. */
  bytes: number;
  /** Frames whose CRC did not match (line noise, truncation, garbage that happened to be valid COBS). */
  crcErrors: number;
  /** Frames that are not valid COBS (a block runs past the delimiter). */
  cobsErrors: number;
  /** Frames too short to hold a payload and a CRC. */
  shortFrames: number;
  /** Frames longer than maxFrame (discarded up to the next delimiter without buffering). */
  oversizeFrames: number;
  /** Empty frames (consecutive delimiters), ignored. */
  emptyFrames: number;
}

export type FrameErrorKind = 'crc' | 'cobs' | 'short' | 'oversize';

/**
 * Splits a byte stream into payloads. Holds one buffer of maxEncodedLength(maxFrame) bytes for its
 * whole life; a frame longer than that is skipped without buffering. Errors never throw: they are
 * counted (and reported to onError) and the decoder is in sync again at the next delimiter.
 */
export class FrameDecoder {
  readonly maxFrame: number;
  readonly counters: FrameDecoderCounters = { frames: 0, bytes: 0, crcErrors: 0, cobsErrors: 0, shortFrames: 0, oversizeFrames: 0, emptyFrames: 0 };
  /** Called once per bad frame; for diagnostics (e.g. the session counts them). */
  onError?: (kind: FrameErrorKind) => void;

  private readonly buf: Uint8Array;
  private len = 0;
  private discarding = false;

  constructor(maxFrame = MAX_MAX_FRAME) {
    this.maxFrame = checkMaxFrame(maxFrame);
    this.buf = new Uint8Array(maxEncodedLength(maxFrame));
  }

  /** Total bad frames of every kind. */
  get errors(): number {
    const c = this.counters;
    return c.crcErrors + c.cobsErrors + c.shortFrames + c.oversizeFrames;
  }

  /** Bytes held for an unfinished frame. */
  get pending(): number {
    return this.len;
  }

  /** Forget a partial frame (after a link reset). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
  }

  /** Feed received bytes; returns the payloads of the frames they completed, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.counters.bytes += bytes.length;
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      const j = bytes.indexOf(FRAME_DELIMITER, i);
      if (j >= 0 && this.len === 0 && !this.discarding) {
        // Fast path: a whole frame inside this chunk decodes straight into its payload, no staging copy.
        if (j - i > this.buf.length) this.fail('oversize');
        else if (j === i) this.counters.emptyFrames++;
        else this.deliver(bytes, i, j, out);
        i = j + 1;
        continue;
      }
      const end = j < 0 ? n : j;
      if (!this.discarding && end > i) {
        const take = end - i;
        if (this.len + take > this.buf.length) {
          this.discarding = true;
          this.len = 0;
        } else {
          this.buf.set(bytes.subarray(i, end), this.len);
          this.len += take;
        }
      }
      if (j < 0) break;
      this.finishFrame(out);
      i = j + 1;
    }
    return out;
  }

  /** A frame completed from staged bytes (it spanned several chunks). */
  private finishFrame(out: Uint8Array[]): void {
    if (this.discarding) {
      this.discarding = false;
      this.fail('oversize');
      return;
    }
    const len = this.len;
    this.len = 0;
    if (len === 0) {
      this.counters.emptyFrames++;
      return;
    }
    this.deliver(this.buf, 0, len, out);
  }

  /** COBS-decodes src[start, end) (one frame without its delimiter), checks it, and appends the payload. */
  private deliver(src: Uint8Array, start: number, end: number, out: Uint8Array[]): void {
    // The decoded body is never longer than the encoded frame: one allocation of at most that size.
    const pooled = Buffer.allocUnsafe(end - start);
    const dst = new Uint8Array(pooled.buffer, pooled.byteOffset, end - start);
    let r = start;
    let w = 0;
    while (r < end) {
      const code = src[r++];
      const blockEnd = r + code - 1;
      if (blockEnd > end) {
        this.fail('cobs');
        return;
      }
      if (code > 1) dst.set(src.subarray(r, blockEnd), w);
      w += code - 1;
      r = blockEnd;
      if (code !== 0xff && r < end) dst[w++] = 0;
    }
    if (w < CRC_LENGTH + 1) {
      this.fail('short');
      return;
    }
    const payloadLength = w - CRC_LENGTH;
    if (payloadLength > this.maxFrame) {
      this.fail('oversize');
      return;
    }
    const expected = (dst[payloadLength] | (dst[payloadLength + 1] << 8) | (dst[payloadLength + 2] << 16) | (dst[payloadLength + 3] << 24)) >>> 0;
    const payload = dst.subarray(0, payloadLength);
    if (crc32(payload) !== expected) {
      this.fail('crc');
      return;
    }
    this.counters.frames++;
    out.push(payload);
  }

  private fail(kind: FrameErrorKind): void {
    const c = this.counters;
    if (kind === 'crc') c.crcErrors++;
    else if (kind === 'cobs') c.cobsErrors++;
    else if (kind === 'short') c.shortFrames++;
    else c.oversizeFrames++;
    this.onError?.(kind);
  }
}
