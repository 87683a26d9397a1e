// A small deterministic PRNG (sfc32 seeded through SM3) for card challenges and the synthetic
// cardholder generator: the same seed gives the same bytes on every machine, so traces replay.
import { sm3 } from '../../crypto/index.ts';

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string | number | Uint8Array) {
    const bytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : typeof seed === 'number' ? new TextEncoder().encode(`n:${seed}`) : seed;
    const h = sm3(bytes);
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    this.a = view.getUint32(0);
    this.b = view.getUint32(4);
    this.c = view.getUint32(8);
    this.d = view.getUint32(12) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Next uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** A byte source for card challenges. */
export function seededRandom(seed: string | number | Uint8Array): (length: number) => Uint8Array {
  const r = new SeededRandom(seed);
  return (length) => r.bytes(length);
}
