import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable } from '../../../protocol/crc32.ts';
import { FrameDecoder, FrameEncoder, maxEncodedLength, MIN_MAX_FRAME } from '../../../protocol/framing.ts';
import { ProtocolError } from '../../../protocol/protocol-errors.ts';
import { rng } from '../../reliability/kit/rng.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function randomBytes(rand: () => number, n: number, zeroBias = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand() < zeroBias ? 0 : Math.floor(rand() * 256);
  return b;
}

describe('crc32 (CRC-32/ISO-HDLC)', () => {
  it.each([['codec (zlib)', crc32], ['portable (slicing-by-8)', crc32Portable]] as const)('%s has the catalogue check value', (_name, f) => {
    expect(f(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(f(new Uint8Array(0))).toBe(0);
    expect(f(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });
  it('portable agrees with zlib for every length 0..300 and for a continued CRC', () => {
    const rand = rng(1).next;
    for (let n = 0; n <= 300; n++) {
      const b = randomBytes(rand, n);
      expect(crc32Portable(b)).toBe(zlibCrc32(b));
    }
    const b = randomBytes(rand, 1000);
    expect(crc32Portable(b, 400, 1000, crc32Portable(b, 0, 400))).toBe(zlibCrc32(b));
    expect(crc32(b, 400, 1000, crc32(b, 0, 400))).toBe(zlibCrc32(b));
  });
});

describe('FrameEncoder known answers (hand-checked)', () => {
  const enc = new FrameEncoder();
  it('encodes a one-byte payload', () => {
    // body 01 ‖ CRC 1bdf05a5 (crc32(01) = 0xA505DF1B, little-endian) has no zero: one block of 5 → code 06
    expect(toHex(enc.encode(hex('01')))).toBe('06011bdf05a500');
  });
  it('stuffs a zero in the payload', () => {
    // body 11 22 | 00 | 33 7e 1c f8 4d → 03 11 22 | 06 33 7e 1c f8 4d | 00
    expect(toHex(enc.encode(hex('11220033')))).toBe('03112206337e1cf84d00');
  });
  it('appends the check-value CRC little-endian', () => {
    expect(toHex(enc.encode(Buffer.from('123456789')))).toBe('0e3132333435363738392639f4cb00');
  });
  it('encodes the ping request of PROTOCOL.md', () => {
    expect(toHex(enc.encode(hex('82a2696401a26f70a470696e67')))).toBe('1282a2696401a26f70a470696e6726eee3a000');
  });
  it('splits runs of 254 non-zero bytes into 0xFF blocks', () => {
    const p = new Uint8Array(300).fill(0x55);
    const f = enc.encode(p);
    expect(f[0]).toBe(0xff);
    expect(f.indexOf(0)).toBe(f.length - 1);
    expect(f.length).toBeLessThanOrEqual(maxEncodedLength(300) + 1);
    expect(new FrameDecoder(300).push(f)).toEqual([p]);
  });
  it('refuses an empty or oversize payload with a typed error', () => {
    expect(() => enc.encode(new Uint8Array(0))).toThrow(ProtocolError);
    const small = new FrameEncoder(16);
    expect(() => small.encode(new Uint8Array(17))).toThrowError(expect.objectContaining({ code: 'PROTOCOL_BAD_FRAME' }));
  });
});

/** COBS exactly as the spec words it, one byte at a time: the reference the fast encoder must match. */
function referenceFrame(payload: Uint8Array): Uint8Array {
  const c = crc32Portable(payload);
  const body = [...payload, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24];
  const out: number[] = [0];
  let codeIdx = 0;
  let code = 1;
  for (const b of body) {
    if (b === 0) {
      out[codeIdx] = code;
      codeIdx = out.push(0) - 1;
      code = 1;
    } else {
      out.push(b);
      if (++code === 0xff) {
        out[codeIdx] = code;
        codeIdx = out.push(0) - 1;
        code = 1;
      }
    }
  }
  out[codeIdx] = code;
  out.push(0);
  return Uint8Array.from(out);
}

describe('FrameEncoder against the byte-by-byte reference', () => {
  it('is byte-identical for random payloads of every zero density, across 254-byte block limits', () => {
    const rand = rng(7).next;
    const enc = new FrameEncoder();
    for (const bias of [0, 0.002, 0.01, 0.05, 0.3, 0.9, 1]) {
      for (const n of [1, 2, 15, 16, 17, 250, 253, 254, 255, 256, 507, 508, 509, 600, 1024, 4099]) {
        const p = randomBytes(rand, n, bias);
        expect(toHex(enc.encode(p))).toBe(toHex(referenceFrame(p)));
      }
    }
    // Zero-free runs of exact block sizes, and zeros at the block edges.
    for (const n of [253, 254, 255, 508, 762]) {
      const p = new Uint8Array(n).fill(0x5a);
      expect(toHex(enc.encode(p))).toBe(toHex(referenceFrame(p)));
      p[253 % n] = 0;
      p[n - 1] = 0;
      expect(toHex(enc.encode(p))).toBe(toHex(referenceFrame(p)));
    }
  });
});

describe('FrameDecoder', () => {
  const enc = new FrameEncoder();
  it('round-trips payloads of every length up to 600 with many zeros and every chunking', () => {
    const rand = rng(2).next;
    const dec = new FrameDecoder(600);
    for (let n = 1; n <= 600; n++) {
      const p = randomBytes(rand, n, 0.3);
      const f = enc.encode(p);
      expect(f.subarray(0, -1).includes(0)).toBe(false);
      const chunk = 1 + (n % 7);
      const got: Uint8Array[] = [];
      for (let i = 0; i < f.length; i += chunk) got.push(...dec.push(f.subarray(i, i + chunk)));
      expect(got).toEqual([p]);
    }
    expect(dec.errors).toBe(0);
    expect(dec.counters.frames).toBe(600);
  });

  it('delivers several frames from one chunk, in order', () => {
    const dec = new FrameDecoder(64);
    const a = enc.encode(hex('0102'));
    const b = enc.encode(hex('00'));
    const c = enc.encode(hex('ffff00ff'));
    const all = new Uint8Array([...a, ...b, ...c]);
    expect(dec.push(all).map(toHex)).toEqual(['0102', '00', 'ffff00ff']);
  });

  it('resyncs after leading garbage without losing the next frame', () => {
    const dec = new FrameDecoder(64);
    const good = enc.encode(hex('a1b2c3'));
    const out = dec.push(new Uint8Array([0x13, 0x37, 0x42, 0x99, 0x00, ...good]));
    expect(out.map(toHex)).toEqual(['a1b2c3']);
    expect(dec.errors).toBe(1);
  });

  it('resyncs after garbage glued to the front of a frame (one bad frame, next is good)', () => {
    const dec = new FrameDecoder(64);
    const good = enc.encode(hex('a1b2c3'));
    const out = dec.push(new Uint8Array([0x05, 0x66, ...good, ...good]));
    expect(out.map(toHex)).toEqual(['a1b2c3']);
    expect(dec.errors).toBe(1);
  });

  it('counts a truncated frame (bytes lost) and keeps the next frame', () => {
    const dec = new FrameDecoder(64);
    const f = enc.encode(hex('0102030405060708'));
    const truncated = new Uint8Array([...f.subarray(0, 4), ...f.subarray(7)]); // middle bytes lost, delimiter kept
    const out = dec.push(new Uint8Array([...truncated, ...enc.encode(hex('99'))]));
    expect(out.map(toHex)).toEqual(['99']);
    expect(dec.counters.crcErrors + dec.counters.cobsErrors + dec.counters.shortFrames).toBe(1);
  });

  it('rejects a bad CRC and counts it as such', () => {
    const dec = new FrameDecoder(64);
    const f = enc.encode(hex('0102030405'));
    f[2] ^= 0x01;
    expect(dec.push(f)).toEqual([]);
    expect(dec.counters.crcErrors).toBe(1);
    expect(dec.push(enc.encode(hex('07'))).map(toHex)).toEqual(['07']);
  });

  it('rejects a COBS block that runs past the delimiter', () => {
    const dec = new FrameDecoder(64);
    expect(dec.push(hex('09 0102 00'))).toEqual([]);
    expect(dec.counters.cobsErrors).toBe(1);
  });

  it('rejects frames too short to hold a payload and a CRC', () => {
    const dec = new FrameDecoder(64);
    expect(dec.push(hex('05 01020304 00'))).toEqual([]); // 4 bytes: a CRC and no payload
    expect(dec.counters.shortFrames).toBe(1);
  });

  it('ignores empty frames (consecutive delimiters)', () => {
    const dec = new FrameDecoder(64);
    expect(dec.push(hex('000000')).length).toBe(0);
    expect(dec.counters.emptyFrames).toBe(3);
    expect(dec.errors).toBe(0);
  });

  it('skips an oversize frame without buffering it and keeps the next good frame', () => {
    const dec = new FrameDecoder(MIN_MAX_FRAME);
    const big = new FrameEncoder().encode(new Uint8Array(5000).fill(7));
    const good = enc.encode(hex('0a0b'));
    // Delivered in pieces, as a serial port would.
    const stream = new Uint8Array([...big, ...good]);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 100) out.push(...dec.push(stream.subarray(i, i + 100)));
    expect(out.map(toHex)).toEqual(['0a0b']);
    expect(dec.counters.oversizeFrames).toBe(1);
    expect(dec.pending).toBe(0);
  });

  it('rejects a payload over maxFrame that still fits the COBS buffer (zero-rich data)', () => {
    const dec = new FrameDecoder(300);
    const f = new FrameEncoder().encode(new Uint8Array(301)); // all zeros: no 0xFF blocks, 301+4+1 bytes
    expect(f.length - 1).toBeLessThanOrEqual(maxEncodedLength(300));
    expect(dec.push(f)).toEqual([]);
    expect(dec.counters.oversizeFrames).toBe(1);
  });

  it('returns payload copies that later pushes do not overwrite', () => {
    const dec = new FrameDecoder(64);
    const [a] = dec.push(enc.encode(hex('aaaa')));
    dec.push(enc.encode(hex('bbbb')));
    expect(toHex(a)).toBe('aaaa');
  });
});
