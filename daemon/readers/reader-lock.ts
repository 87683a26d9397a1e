// One named, fair (FIFO) lock per reader. Every multi-APDU operation (a card read, an authorization,
// a write) runs inside it, so the APDUs of two clients never interleave on one card. A waiter that
// cannot get the lock within its timeout fails with READER_BUSY and leaves the queue.
import { ReaderError } from './reader-errors.ts';

interface Waiter {
  name: string;
  grant: () => void;
  timer?: NodeJS.Timeout;
}

export class ReaderLock {
  private holder: string | undefined;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly readerId: string,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Name of the operation holding the lock, if any. */
  get heldBy(): string | undefined {
    return this.holder;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(name: string, fn: () => Promise<T>, timeoutMs = this.defaultTimeoutMs): Promise<T> {
    await this.acquire(name, timeoutMs);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(name: string, timeoutMs: number): Promise<void> {
    if (this.holder === undefined && this.queue.length === 0) {
      this.holder = name;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { name, grant: () => resolve() };
      waiter.timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(
          new ReaderError('READER_BUSY', `Reader ${this.readerId} is busy (${this.holder ?? 'another operation'}); waited ${timeoutMs} ms`, {
            readerId: this.readerId,
            heldBy: this.holder ?? null,
            waitedMs: timeoutMs,
          }),
        );
      }, timeoutMs);
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.holder = undefined;
      return;
    }
    clearTimeout(next.timer);
    this.holder = next.name;
    next.grant();
  }
}
