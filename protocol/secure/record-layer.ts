// The record layer of the SM secure channel (suite 1): encrypt-then-MAC with per-direction keys.
//
//   record = 0xC1 ‖ seq (8 bytes, big-endian) ‖ SM4-CTR(encKey, IV = seq ‖ 0^8, message) ‖ tag (16)
//   tag    = HMAC-SM3(macKey, 0xC1 ‖ seq ‖ ciphertext), first 16 bytes
//
// seq starts at 0 in each direction and increases by one per record. A receiver accepts a record only
// if its seq is greater than the last accepted one and at most MAX_SEQ_GAP ahead (frames lost to line
// noise leave gaps; a replayed or reordered record has a seq not greater than the last one). The tag
// is checked (constant time) before anything is decrypted. Every REKEY_INTERVAL records the keys of a
// direction ratchet forward: (enc', mac') = SM3-KDF(enc ‖ mac ‖ "yika-sc1 rekey", 32), so a later key
// compromise reveals nothing about earlier epochs.
import { timingSafeEqual } from 'node:crypto';
import { concatBytes, hmacSm3, sm3Kdf, sm4Ctr, utf8 } from '../../crypto/index.ts';
import type { RecordProtector } from '../frame-channel.ts';
import { RECORD_MARKER } from '../frame-channel.ts';
import { ProtocolError } from '../protocol-errors.ts';

const RECORD_HEADER_LENGTH = 9;
const RECORD_TAG_LENGTH = 16;
export const RECORD_OVERHEAD = RECORD_HEADER_LENGTH + RECORD_TAG_LENGTH;
/** Records per direction between two key ratchets. */
const REKEY_INTERVAL = 65_536;
/** Largest accepted jump of seq (frames lost in between). */
export const MAX_SEQ_GAP = 1024;
const REKEY_LABEL = utf8('yika-sc1 rekey');

export type RecordRejectReason = 'short' | 'marker' | 'replay' | 'gap' | 'tag';

export class SecureRecordError extends ProtocolError {
  readonly reason: RecordRejectReason;
  constructor(reason: RecordRejectReason, message: string) {
    super('SECURE_CHANNEL_REJECTED', message, { reason });
    this.reason = reason;
  }
}

export interface DirectionKeys {
  enc: Uint8Array;
  mac: Uint8Array;
}

function ratchet(keys: DirectionKeys): DirectionKeys {
  const k = sm3Kdf(concatBytes(keys.enc, keys.mac, REKEY_LABEL), 32);
  return { enc: k.subarray(0, 16), mac: k.subarray(16, 32) };
}

function seqBytes(seq: number): Uint8Array {
  const b = new Uint8Array(8);
  const hi = Math.floor(seq / 0x1_0000_0000);
  const lo = seq >>> 0;
  b[0] = hi >>> 24; b[1] = hi >>> 16; b[2] = hi >>> 8; b[3] = hi;
  b[4] = lo >>> 24; b[5] = lo >>> 16; b[6] = lo >>> 8; b[7] = lo;
  return b;
}

function readSeq(b: Uint8Array): number {
  const hi = ((b[1] << 24) | (b[2] << 16) | (b[3] << 8) | b[4]) >>> 0;
  const lo = ((b[5] << 24) | (b[6] << 16) | (b[7] << 8) | b[8]) >>> 0;
  return hi * 0x1_0000_0000 + lo; // > 2^53 loses precision, but such a seq is rejected as a gap anyway
}

export interface RecordLayerCounters {
  sealed: number;
  opened: number;
  rejected: Record<RecordRejectReason, number>;
  rekeys: number;
  /** Records skipped (seq gaps), e.g. frames lost to line noise. */
  skipped: number;
}

export class SecureRecordLayer implements RecordProtector {
  readonly overhead = RECORD_OVERHEAD;
  readonly counters: RecordLayerCounters = { sealed: 0, opened: 0, rejected: { short: 0, marker: 0, replay: 0, gap: 0, tag: 0 }, rekeys: 0, skipped: 0 };
  // ECMAScript-private: keys never show up in JSON, console output or structured clones.
  #sendSeq = 0;
  #sendEpoch = 0;
  #send: DirectionKeys;
  #recvLast = -1;
  #recvEpoch = 0;
  #recv: DirectionKeys;
  readonly #rekeyInterval: number;

  constructor(keys: { send: DirectionKeys; receive: DirectionKeys }, rekeyInterval = REKEY_INTERVAL) {
    this.#send = keys.send;
    this.#recv = keys.receive;
    this.#rekeyInterval = rekeyInterval;
  }

  /** Diagnostics only: counters, never keys. */
  toJSON(): { overhead: number; counters: RecordLayerCounters } {
    return { overhead: this.overhead, counters: this.counters };
  }

  /** The seq the next sealed record will carry. */
  get nextSendSeq(): number {
    return this.#sendSeq;
  }

  /**
   * Conformance and loss tests only: the next record goes out `count` seqs later, as if that many
   * records had been lost on the line (PROTOCOL.md 10.3: gaps, the first-record window, rekeying).
   */
  skipSendSeq(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('skipSendSeq needs a count >= 0');
    this.#sendSeq += count;
  }

  seal(plain: Uint8Array): Uint8Array {
    const seq = this.#sendSeq++;
    const epoch = Math.floor(seq / this.#rekeyInterval);
    while (this.#sendEpoch < epoch) {
      this.#send = ratchet(this.#send);
      this.#sendEpoch++;
      this.counters.rekeys++;
    }
    const sb = seqBytes(seq);
    const iv = new Uint8Array(16);
    iv.set(sb, 0);
    const ct = sm4Ctr(this.#send.enc, iv, plain);
    const out = new Uint8Array(RECORD_OVERHEAD + ct.length);
    out[0] = RECORD_MARKER;
    out.set(sb, 1);
    out.set(ct, RECORD_HEADER_LENGTH);
    const tag = hmacSm3(this.#send.mac, out.subarray(0, RECORD_HEADER_LENGTH + ct.length));
    out.set(tag.subarray(0, RECORD_TAG_LENGTH), RECORD_HEADER_LENGTH + ct.length);
    this.counters.sealed++;
    return out;
  }

  open(record: Uint8Array): Uint8Array {
    if (record.length < RECORD_OVERHEAD + 1) return this.reject('short', 'record too short');
    if (record[0] !== RECORD_MARKER) return this.reject('marker', 'not a record');
    const seq = readSeq(record);
    if (seq <= this.#recvLast) return this.reject('replay', 'record replayed or reordered');
    if (seq - this.#recvLast > MAX_SEQ_GAP) return this.reject('gap', 'record sequence jumped too far');
    // Keys of the record's epoch, without committing until the tag verifies.
    const epoch = Math.floor(seq / this.#rekeyInterval);
    let keys = this.#recv;
    for (let e = this.#recvEpoch; e < epoch; e++) keys = ratchet(keys);
    const bodyEnd = record.length - RECORD_TAG_LENGTH;
    const expected = hmacSm3(keys.mac, record.subarray(0, bodyEnd)).subarray(0, RECORD_TAG_LENGTH);
    if (!timingSafeEqual(expected, record.subarray(bodyEnd))) return this.reject('tag', 'record authentication failed');
    if (epoch > this.#recvEpoch) this.counters.rekeys += epoch - this.#recvEpoch;
    this.#recv = keys;
    this.#recvEpoch = epoch;
    this.counters.skipped += seq - this.#recvLast - 1;
    this.#recvLast = seq;
    const iv = new Uint8Array(16);
    iv.set(record.subarray(1, RECORD_HEADER_LENGTH), 0);
    this.counters.opened++;
    return sm4Ctr(keys.enc, iv, record.subarray(RECORD_HEADER_LENGTH, bodyEnd));
  }

  private reject(reason: RecordRejectReason, message: string): never {
    this.counters.rejected[reason]++;
    throw new SecureRecordError(reason, message);
  }
}
