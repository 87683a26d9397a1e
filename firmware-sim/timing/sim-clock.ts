// Turns modelled physical time into real waiting: speed 0 never waits (fast tests), speed 1 waits
// the modelled time (real time), speed 0.1 ten times faster. Waits below a millisecond are carried
// over and paid together, because timers cannot sleep for less.

export class SimClock {
  #speed: number;
  #debtUs = 0;

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

  /**
   * Waits for `modelledUs` scaled by the speed factor. Resolves early (with false) when `signal` aborts,
   * so a removed card interrupts a long exchange at once, like a card-detect switch.
   */
  async wait(modelledUs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#speed === 0 || modelledUs <= 0) return !signal?.aborted;
    this.#debtUs += modelledUs * this.#speed;
    if (this.#debtUs < 1000) return !signal?.aborted;
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
        resolve(true);
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
