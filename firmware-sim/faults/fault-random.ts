// A seedable PRNG for fault injection (mulberry32): the same seed replays the same corrupted bytes,
// dropped frames and random removal points, so a failing CI run can be reproduced exactly.
export class FaultRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}
