// Line noise on the host link, applied to the raw bytes of one direction: corrupted bytes (a bit flip
// at a given rate per byte) and dropped frames (a whole frame, up to and including its 0x00
// delimiter, vanishes at a given rate per frame). The frame layer's CRC and COBS resync must cope.
import { FaultRandom } from './fault-random.ts';

export interface LinkNoiseSettings {
  /** Probability per byte that one of its bits flips. */
  corruptRate: number;
  /** Probability per frame that the frame is lost. */
  dropRate: number;
}

export class LinkNoise {
  settings: LinkNoiseSettings = { corruptRate: 0, dropRate: 0 };
  corrupted = 0;
  dropped = 0;
  #random: FaultRandom;
  /** True while the current frame (since the last delimiter) is being dropped. */
  #dropping: boolean | undefined;

  constructor(seed: number) {
    this.#random = new FaultRandom(seed);
  }

  get active(): boolean {
    return this.settings.corruptRate > 0 || this.settings.dropRate > 0;
  }

  /** Returns the bytes as they arrive at the other end (possibly shorter, possibly altered). */
  apply(chunk: Uint8Array): Uint8Array {
    if (!this.active) return chunk;
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.#dropping === undefined) {
        this.#dropping = this.settings.dropRate > 0 && this.#random.next() < this.settings.dropRate;
        if (this.#dropping) this.dropped++;
      }
      const isDelimiter = byte === 0x00;
      if (!this.#dropping) {
        // The delimiter itself is never corrupted, so a corrupted frame stays one frame (CRC catches it).
        if (!isDelimiter && this.settings.corruptRate > 0 && this.#random.next() < this.settings.corruptRate) {
          let flipped = byte ^ (1 << this.#random.int(0, 7));
          if (flipped === 0x00) flipped = byte ^ 0x80 ^ 0x01;
          out.push(flipped === 0 ? 0x01 : flipped);
          this.corrupted++;
        } else {
          out.push(byte);
        }
      }
      if (isDelimiter) this.#dropping = undefined;
    }
    return Uint8Array.from(out);
  }
}
