// What the SAM remembers: its PIN and retry counter (non-volatile), its province keys, and — until the
// next power-off — whether the PIN was verified and the session keys of the last 80 DE.
import type { SessionKeys } from '../../card-os/session-keys.ts';

export interface SamKeyEntry {
  p1: number;
  p2: number;
  /** Province-level key (two-level indexes) or the master key (one-level). */
  key: Uint8Array;
  twoLevel: boolean;
}

export class SamState {
  pin: Uint8Array;
  pinTriesLeft: number;
  pinVerified = false;
  session: SessionKeys | undefined;

  constructor(
    pin: Uint8Array,
    readonly pinMaxTries: number,
    readonly keys: ReadonlyMap<number, SamKeyEntry>,
  ) {
    this.pin = pin;
    this.pinTriesLeft = pinMaxTries;
  }

  clearVolatile(): void {
    this.pinVerified = false;
    this.session = undefined;
  }

  key(p1: number, p2: number): SamKeyEntry | undefined {
    return this.keys.get((p1 << 8) | p2);
  }
}

export function isBcdPin(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes.length > 6) return false;
  return bytes.every((b, i) => {
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9) return false;
    return lo <= 9 || (lo === 0x0f && i === bytes.length - 1);
  });
}
