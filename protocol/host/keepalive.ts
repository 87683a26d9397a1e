// Keepalive with dead-peer detection (PROTOCOL.md 9): an idle link that has been silent for
// keepaliveMs is pinged; a ping unanswered within pingTimeoutMs means the reader is gone.
import { ProtocolError } from '../protocol-errors.ts';

export interface KeepaliveHooks {
  /** No request in flight or waiting, session open (a request in flight has its own timeout). */
  idle(): boolean;
  /** Sends one ping with this timeout. */
  ping(timeoutMs: number): Promise<void>;
  /** The reader did not answer a ping: close the session with this error. */
  dead(error: ProtocolError): void;
}

export class Keepalive {
  private lastRx = Date.now();
  private timer?: ReturnType<typeof setInterval>;
  private pinging = false;

  constructor(
    private readonly everyMs: number,
    private readonly pingTimeoutMs: number,
    private readonly hooks: KeepaliveHooks,
  ) {}

  /** Something arrived from the reader. */
  heard(): void {
    this.lastRx = Date.now();
  }

  start(): void {
    if (this.everyMs <= 0) return;
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.floor(this.everyMs / 4)));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    if (this.pinging || !this.hooks.idle()) return;
    if (Date.now() - this.lastRx < this.everyMs) return;
    this.pinging = true;
    this.hooks.ping(this.pingTimeoutMs).then(
      () => {
        this.pinging = false;
      },
      (e: unknown) => {
        this.pinging = false;
        if (e instanceof ProtocolError && e.code === 'PROTOCOL_TIMEOUT') {
          this.hooks.dead(new ProtocolError('PROTOCOL_PEER_DEAD', `the reader did not answer a keepalive ping within ${this.pingTimeoutMs} ms`));
        }
      },
    );
  }
}
