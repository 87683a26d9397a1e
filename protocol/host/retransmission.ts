// Loss recovery for requests in flight (PROTOCOL.md 9.1): a request without an answer or a `pending`
// notice within the retransmission timeout (RTO, adaptive from measured round trips, plus the
// request's time on the wire) is sent again with the same id — the device answers a repeat without
// executing it twice — up to maxRetransmits times with exponential backoff; then the window gives up
// on it (PROTOCOL_TIMEOUT). A pending notice is a sign of life: the count starts over.
import type { FrameChannel } from '../frame-channel.ts';
import type { WireOperation } from '../messages.ts';
import { DEFAULT_LINE_BYTES_PER_S, DEFAULT_MAX_RETRANSMITS, PENDING_NOTICE_MS, RTO_MAX_MS, RTO_MIN_MS } from '../timing.ts';
import type { PendingRequest } from './pending-request.ts';
import { RttEstimator } from './rtt-estimator.ts';
import type { SessionStats } from './session-stats.ts';

export interface RetransmissionOptions {
  maxRetransmits?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  lineBytesPerSecond?: number;
}

export interface RetransmissionHooks {
  /** The request still waits for its answer (in flight, session open). */
  isWaiting(p: PendingRequest): boolean;
  /** Every send went unanswered: fail the request after `attempts` sends. */
  giveUp(p: PendingRequest, attempts: number): void;
  /** A request was sent again (`attempt` ≥ 2). */
  retransmitted(info: { op: WireOperation; attempt: number }): void;
}

export class Retransmission {
  readonly rtt: RttEstimator;
  private readonly maxRetransmits: number;
  private readonly rtoMaxMs: number;

  constructor(
    private readonly channel: FrameChannel,
    private readonly options: RetransmissionOptions,
    private readonly stats: SessionStats,
    private readonly hooks: RetransmissionHooks,
  ) {
    this.maxRetransmits = options.maxRetransmits ?? DEFAULT_MAX_RETRANSMITS;
    this.rtoMaxMs = options.rtoMaxMs ?? RTO_MAX_MS;
    this.rtt = new RttEstimator(options.rtoMinMs ?? RTO_MIN_MS, this.rtoMaxMs);
  }

  /** The request has just gone out for the first time. */
  start(p: PendingRequest, bytes: Uint8Array): void {
    p.retries = 0;
    p.retryMs = this.rtt.rtoMs;
    this.arm(p, this.rtt.rtoMs + this.wireTimeMs(bytes.length));
  }

  /** The request is answered or failed: no more sends. */
  stop(p: PendingRequest): void {
    if (p.retryTimer) clearTimeout(p.retryTimer);
    p.retryTimer = undefined;
  }

  /** The device holds the request (a pending notice): the request arrived; wait for the answer. */
  onPending(p: PendingRequest): void {
    this.stats.pendingNotices++;
    p.noSample = true;
    p.retries = 0;
    p.retryMs = this.rtt.rtoMs;
    // The next notice is due PENDING_NOTICE_MS after this one; allow one of them to be lost.
    this.arm(p, 2 * PENDING_NOTICE_MS + this.rtt.rtoMs);
  }

  /** Time a frame of `n` payload bytes takes on the wire at the configured line rate (ms). */
  private wireTimeMs(n: number): number {
    return (n * 1000) / (this.options.lineBytesPerSecond ?? DEFAULT_LINE_BYTES_PER_S);
  }

  private arm(p: PendingRequest, ms: number): void {
    if (p.retryTimer) clearTimeout(p.retryTimer);
    if (this.maxRetransmits <= 0) return; // no retransmission: the operation timeout decides
    p.retryTimer = setTimeout(() => this.onTimer(p), ms);
    p.retryTimer.unref?.();
  }

  private onTimer(p: PendingRequest): void {
    p.retryTimer = undefined;
    if (!this.hooks.isWaiting(p)) return;
    const interval = p.retryMs ?? this.rtt.rtoMs;
    // A frame is arriving right now (a long answer on a slow line): give it time to finish.
    if (this.channel.receivingFrame && performance.now() - this.channel.lastRxAt < interval) {
      this.arm(p, interval);
      return;
    }
    if ((p.retries ?? 0) >= this.maxRetransmits) {
      this.hooks.giveUp(p, this.maxRetransmits + 1);
      return;
    }
    try {
      this.channel.send(p.bytes!);
    } catch {
      return; // the link closed: the close handler fails the request
    }
    p.retries = (p.retries ?? 0) + 1;
    p.noSample = true;
    this.stats.retransmits++;
    this.hooks.retransmitted({ op: p.op, attempt: p.retries + 1 });
    p.retryMs = Math.min(interval * 2, this.rtoMaxMs);
    this.arm(p, p.retryMs + this.wireTimeMs(p.bytes!.length));
  }
}
