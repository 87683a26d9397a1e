// Turns modelled physical time into real waiting: speed 0 never waits (fast tests), speed 1 waits
// the modelled time (real time), speed 0.1 ten times faster. Waits below a millisecond are carried
// over and paid together, because timers cannot sleep for less. A timer that fires late (they all do,
// by a millisecond or more on a busy machine) has made the device slower than the hardware it models:
// the lateness is credited to the next waits of the same burst, so a 24-APDU read lasts its modelled
// time instead of its modelled time plus 24 timer overshoots. Credit never survives an idle gap.

/** A pause longer than this between waits is idle time, not lateness: the credit is dropped. */
const IDLE_GAP_MS = 20;
/** Never owe back more than this. */
const MAX_CREDIT_US = 50_000;

export class SimClock {
  #speed: number;
  #debtUs = 0;
  /** Real time already waited beyond what was asked (timer lateness), owed back to the next waits. */
  #creditUs = 0;
  #lastWaitEnd = 0;

  constructor(speed = 0) {
    this.#speed = SimClock.checkSpeed(speed);
  }

  static checkSpeed(speed: number): number {
    if (!Number.isFinite(speed) || speed < 0 || speed > 1000) throw new RangeError('speed must be a number from 0 to 1000');
    return speed;
  }

  get speed(): number {
    return this.#speed;
  }

  set speed(value: number) {
    this.#speed = SimClock.checkSpeed(value);
  }

  /** Starts a new burst: lateness of earlier waits is no longer owed (a new reader operation). */
  settle(): void {
    this.#creditUs = 0;
  }

  /**
   * Waits for `modelledUs` scaled by the speed factor. Resolves early (with false) when `signal` aborts,
   * so a removed card interrupts a long exchange at once, like a card-detect switch.
   */
  async wait(modelledUs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#speed === 0 || modelledUs <= 0) return !signal?.aborted;
    const now = performance.now();
    if (now - this.#lastWaitEnd > IDLE_GAP_MS) this.#creditUs = 0;
    let us = modelledUs * this.#speed;
    const credit = Math.min(this.#creditUs, us);
    this.#creditUs -= credit;
    us -= credit;
    this.#debtUs += us;
    if (this.#debtUs < 1000) {
      this.#lastWaitEnd = now;
      return !signal?.aborted;
    }
    const ms = Math.floor(this.#debtUs / 1000);
    this.#debtUs -= ms * 1000;
    if (signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        const end = performance.now();
        this.#creditUs = Math.min(this.#creditUs + Math.max(0, end - now - ms) * 1000, MAX_CREDIT_US);
        this.#lastWaitEnd = end;
        resolve(true);
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
