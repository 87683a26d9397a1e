// A lease: the reader's session lock held across requests, for HIS code that drives raw APDUs (a
// SELECT in one request, the READ BINARY that depends on it in the next). The holder gets a random
// token; requests that carry it run one after another on the held lock, everybody else queues on
// the lock as usual (and gets READER_BUSY after their wait). A lease ends when its holder releases
// it, or when no request used it for `idleMs` (the holder crashed or forgot): then the lock passes on.
import { randomBytes } from 'node:crypto';
import { ReaderError } from './reader-errors.ts';
import type { ReaderLock } from './reader-lock.ts';

const LEASE_IDLE_DEFAULT_MS = 10_000;
const LEASE_IDLE_MAX_MS = 120_000;

export interface LeaseInfo {
  lease: string;
  readerId: string;
  idleMs: number;
  /** When the lease ends if no request uses it before (ISO time). */
  expiresAt: string;
}

interface Held {
  token: string;
  idleMs: number;
  expiresAtMs: number;
  timer?: NodeJS.Timeout;
  running: number;
  tail: Promise<unknown>;
  release: () => void;
}

export class ReaderLeases {
  private held: Held | undefined;
  /** Leases that ended by idle timeout (for the error message and the metrics). */
  expired = 0;

  constructor(
    private readonly readerId: string,
    private readonly lock: ReaderLock,
    private readonly onExpire?: (info: { readerId: string; idleMs: number }) => void,
  ) {}

  get active(): boolean {
    return this.held !== undefined;
  }

  /** Waits for the lock (FIFO, up to waitMs: READER_BUSY) and holds it until release or idle expiry. */
  async acquire(options: { waitMs?: number; idleMs?: number; check?: () => void } = {}): Promise<LeaseInfo> {
    const idleMs = Math.min(Math.max(options.idleMs ?? LEASE_IDLE_DEFAULT_MS, 100), LEASE_IDLE_MAX_MS);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let granted!: () => void;
    const grant = new Promise<void>((r) => (granted = r));
    const holding = this.lock.run(
      'lease',
      async () => {
        granted();
        await released;
      },
      options.waitMs,
    );
    await Promise.race([grant, holding]); // holding rejects only when the wait timed out (READER_BUSY)
    try {
      options.check?.();
    } catch (e) {
      release();
      throw e;
    }
    const held: Held = { token: randomBytes(16).toString('hex'), idleMs, expiresAtMs: 0, running: 0, tail: Promise.resolve(), release };
    this.held = held;
    this.arm(held);
    return this.info(held);
  }

  /** Runs fn under the lease (requests of one lease run one at a time, in arrival order). */
  run<T>(token: string, fn: () => Promise<T>): Promise<T> {
    const held = this.find(token);
    held.running++;
    clearTimeout(held.timer);
    const result = held.tail.then(fn);
    held.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      held.running--;
      if (this.held === held && held.running === 0) this.arm(held);
    });
  }

  /** Ends the lease (after the requests already under it); the next waiter gets the reader. */
  release(token: string): void {
    this.end(this.find(token));
  }

  /** The lease's info, renewing its idle timer. */
  renew(token: string): LeaseInfo {
    const held = this.find(token);
    if (held.running === 0) this.arm(held);
    return this.info(held);
  }

  private find(token: string): Held {
    const held = this.held;
    if (!held || typeof token !== 'string' || token !== held.token) {
      throw new ReaderError('LEASE_NOT_FOUND', `No active lease with this token on reader ${this.readerId}: it was released or expired after its idle time. Acquire a new lease and start again (the card state may have changed).`, {
        readerId: this.readerId,
      });
    }
    return held;
  }

  private arm(held: Held): void {
    clearTimeout(held.timer);
    held.expiresAtMs = Date.now() + held.idleMs;
    held.timer = setTimeout(() => {
      this.expired++;
      this.onExpire?.({ readerId: this.readerId, idleMs: held.idleMs });
      this.end(held);
    }, held.idleMs);
    held.timer.unref();
  }

  private end(held: Held): void {
    clearTimeout(held.timer);
    if (this.held === held) this.held = undefined;
    void held.tail.then(() => held.release());
  }

  private info(held: Held): LeaseInfo {
    return { lease: held.token, readerId: this.readerId, idleMs: held.idleMs, expiresAt: new Date(held.expiresAtMs).toISOString() };
  }
}
