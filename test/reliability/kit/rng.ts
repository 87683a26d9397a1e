// A small seeded PRNG (mulberry32): every fuzz and fault run records its seed so a failure replays.
export interface Rng {
  readonly seed: number;
  next(): number;
  int(n: number): number;
  bytes(n: number, zeroBias?: number): Uint8Array;
  pick<T>(items: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    bytes(n, zeroBias = 0) {
      const b = new Uint8Array(n);
      // Four bytes per draw: the fuzzers generate hundreds of megabytes.
      for (let i = 0; i < n; i += 4) {
        const v = (next() * 4294967296) >>> 0;
        b[i] = v;
        if (i + 1 < n) b[i + 1] = v >>> 8;
        if (i + 2 < n) b[i + 2] = v >>> 16;
        if (i + 3 < n) b[i + 3] = v >>> 24;
      }
      if (zeroBias) for (let i = 0; i < n; i++) if (next() < zeroBias) b[i] = 0;
      return b;
    },
    pick: (items) => items[int(items.length)],
  };
}

/** 1–3 random corruptions of a byte string: bit flips, drops, insertions, truncation, duplication. */
export function mutateBytes(r: Rng, input: Uint8Array): Uint8Array {
  let b = Array.from(input);
  for (let k = 1 + r.int(3); k > 0; k--) {
    const at = r.int(Math.max(1, b.length));
    switch (r.int(5)) {
      case 0: if (b.length) b[at] ^= 1 << r.int(8); break;
      case 1: b.splice(at, 1 + r.int(4)); break;
      case 2: b.splice(at, 0, ...r.bytes(1 + r.int(4))); break;
      case 3: b = b.slice(0, at); break;
      default: b = b.concat(b.slice(at, at + 1 + r.int(8))); break;
    }
  }
  return Uint8Array.from(b);
}
