// The host's requests on the line (PROTOCOL.md 9, 9.1): request ids, a bounded queue, a bounded number
// in flight, every id in flight within the device's window of maxInFlight ids, per-operation
// timeouts, cancellation, retransmission (retransmission.ts), and the matching of answers to requests.
import { DeviceError } from '../device-error.ts';
import type { FrameChannel } from '../frame-channel.ts';
import { decodeResult, encodeRequest, LIMITS, type ErrorMessage, type PendingMessage, type ResultMessage, type WireOperation } from '../messages.ts';
import { BadMessageError, ProtocolError } from '../protocol-errors.ts';
import type { PendingRequest, WireCapture } from './pending-request.ts';
import { Retransmission, type RetransmissionOptions } from './retransmission.ts';
import type { SessionStats } from './session-stats.ts';

export interface RequestWindowHooks {
  /** The session is closed: nothing more goes out. */
  isClosed(): boolean;
  /** A request was sent again (`attempt` ≥ 2), or given up after its last retransmission (`gaveUp`). */
  retransmit(info: { op: WireOperation; attempt: number; gaveUp?: boolean }): void;
  /** An answer matched a request: before its caller hears of it (hello, scFinish and ping matter to the session). */
  answered(op: WireOperation, msg: ResultMessage | ErrorMessage): void;
}

export interface EnqueueOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  repeat?: 'at-once' | 'after-answer';
  capture?: WireCapture;
  setup?: boolean;
}

export class RequestWindow {
  /** Requests outstanding at once: 1 until hello tells what the device queues. */
  maxInFlight = 1;
  /** The device's maxInFlight: every id in flight lies within this many consecutive ids (its window). */
  idWindow = 1;
  readonly retransmission: Retransmission;
  private readonly queue: PendingRequest[] = [];
  private readonly inFlight = new Map<number, PendingRequest>();
  /** Ids whose caller gave up (timeout, cancel): their late answers are dropped quietly. */
  private readonly abandoned = new Set<number>();
  /** Ids answered after a retransmission: a second answer to them is a duplicate, not a stray. */
  private readonly answeredRepeats = new Set<number>();
  private nextId = 1;
  /** Hello and handshake run: only their own requests (`setup`) go out. */
  private setupOnly = false;

  constructor(
    private readonly channel: FrameChannel,
    private readonly timeouts: Readonly<Record<WireOperation, number>>,
    private readonly maxQueue: number,
    options: RetransmissionOptions,
    private readonly stats: SessionStats,
    private readonly hooks: RequestWindowHooks,
  ) {
    this.retransmission = new Retransmission(channel, options, stats, {
      isWaiting: (p) => p.id !== undefined && this.inFlight.get(p.id) === p && !hooks.isClosed(),
      giveUp: (p, attempts) => this.giveUp(p, attempts),
      retransmitted: (info) => hooks.retransmit(info),
    });
  }

  /** Requests in flight or waiting for a slot. */
  get size(): number {
    return this.inFlight.size + this.queue.length;
  }

  /** Queues a request; it goes out as soon as the window allows. */
  enqueue(op: WireOperation, args: unknown, opts: EnqueueOptions, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    if (opts.signal?.aborted) {
      this.stats.cancelled++;
      return reject(new ProtocolError('PROTOCOL_CANCELLED', `${op} was cancelled`, { op }));
    }
    if (this.queue.length >= this.maxQueue) {
      return reject(new ProtocolError('PROTOCOL_QUEUE_FULL', `too many requests waiting for this reader (${this.maxQueue})`, { op }));
    }
    const p: PendingRequest = {
      op,
      args,
      resolve,
      reject,
      timeoutMs: opts.timeoutMs ?? this.timeouts[op],
      signal: opts.signal,
      capture: opts.capture,
      setup: opts.setup,
      repeat: opts.repeat,
    };
    if (p.signal) {
      p.onAbort = () => this.cancel(p);
      p.signal.addEventListener('abort', p.onAbort, { once: true });
    }
    this.queue.push(p);
    this.pump();
  }

  /**
   * Runs hello and the handshake alone: a caller's request must not slip between scFinish and the
   * switch to records, nor reach a device that has not said hello yet. Queued requests go out after.
   */
  async exclusive<T>(run: () => Promise<T>): Promise<T> {
    this.setupOnly = true;
    try {
      return await run();
    } finally {
      this.setupOnly = false;
      this.pump();
    }
  }

  /** Sends what the window allows. */
  pump(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0 && !this.hooks.isClosed()) {
      const next = this.setupOnly ? this.queue.findIndex((q) => q.setup) : 0;
      if (next < 0) break;
      // The device keeps the answers of its last maxInFlight ids only: while an older request is
      // still unanswered (its answer may be lost), a new id must not push it out of that window.
      if (!this.withinWindow(this.nextId)) break;
      const [p] = this.queue.splice(next, 1);
      this.send(p, this.allocateId());
    }
  }

  private send(p: PendingRequest, id: number): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest(id, p.op, p.args as never);
      if (bytes.length > this.channel.maxMessage) {
        throw new ProtocolError('PROTOCOL_BAD_FRAME', `the ${p.op} request (${bytes.length} bytes) exceeds the negotiated frame size (${this.channel.maxMessage})`, { op: p.op });
      }
      this.channel.send(bytes);
      if (p.repeat === 'at-once') this.channel.send(bytes);
    } catch (e) {
      this.finish(p);
      p.reject(e);
      return;
    }
    p.id = id;
    p.bytes = bytes;
    p.sentAt = performance.now();
    p.noSample = p.repeat !== undefined;
    if (p.capture) p.capture.sent = bytes;
    this.inFlight.set(id, p);
    this.stats.requests++;
    p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
    this.retransmission.start(p, bytes);
  }

  /** Every id in flight (the oldest first: Map order) lies within the device's window of `id`. */
  private withinWindow(id: number): boolean {
    for (const oldest of this.inFlight.keys()) return ((id - oldest) >>> 0) < this.idWindow;
    return true;
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= LIMITS.maxId ? 1 : id + 1;
      if (!this.inFlight.has(id) && !this.abandoned.has(id)) return id;
    }
  }

  private finish(p: PendingRequest): void {
    if (p.timer) clearTimeout(p.timer);
    this.retransmission.stop(p);
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    if (p.id !== undefined) this.inFlight.delete(p.id);
  }

  private abandon(p: PendingRequest): void {
    if (p.id !== undefined) {
      this.abandoned.add(p.id);
      // Bounded: forget the oldest abandoned ids.
      if (this.abandoned.size > 1024) this.abandoned.delete(this.abandoned.values().next().value as number);
    }
  }

  private onTimeout(p: PendingRequest): void {
    this.finish(p);
    this.abandon(p);
    this.stats.timeouts++;
    p.reject(new ProtocolError('PROTOCOL_TIMEOUT', `the reader did not answer ${p.op} within ${p.timeoutMs} ms`, { op: p.op, timeoutMs: p.timeoutMs }));
    this.pump();
  }

  private giveUp(p: PendingRequest, attempts: number): void {
    this.finish(p);
    this.abandon(p);
    this.stats.timeouts++;
    this.stats.retransmitFailures++;
    this.hooks.retransmit({ op: p.op, attempt: attempts, gaveUp: true });
    p.reject(
      new ProtocolError('PROTOCOL_TIMEOUT', `the reader did not answer ${p.op} (sent ${attempts} times, no answer and no pending notice)`, {
        op: p.op,
        attempts,
        timeoutMs: p.timeoutMs,
      }),
    );
    this.pump();
  }

  private cancel(p: PendingRequest): void {
    const queued = this.queue.indexOf(p);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (p.id === undefined || !this.inFlight.has(p.id)) return;
    this.finish(p);
    this.abandon(p);
    this.stats.cancelled++;
    p.reject(new ProtocolError('PROTOCOL_CANCELLED', `${p.op} was cancelled`, { op: p.op }));
    this.pump();
  }

  /** A pending notice, a result or an error from the device (`bytes`: the message as received). */
  onAnswer(msg: ResultMessage | ErrorMessage | PendingMessage, bytes: Uint8Array): void {
    const p = this.inFlight.get(msg.id);
    if (msg.kind === 'pending') {
      if (p) this.retransmission.onPending(p);
      else this.stats.pendingNotices++;
      return;
    }
    if (!p) {
      if (this.answeredRepeats.has(msg.id)) this.stats.duplicateAnswers++;
      else if (this.abandoned.delete(msg.id)) this.stats.lateResponses++;
      else this.stats.unexpectedResponses++;
      return;
    }
    this.finish(p);
    this.stats.responses++;
    const rtt = performance.now() - (p.sentAt ?? 0);
    this.stats.roundTripMsTotal += rtt;
    if (p.repeat === 'after-answer' && p.bytes) {
      try {
        this.channel.send(p.bytes);
      } catch {
        // the link closed; nothing to test any more
      }
    }
    if (p.noSample) {
      // Sent more than once: a second answer may still come.
      this.answeredRepeats.add(msg.id);
      if (this.answeredRepeats.size > 256) this.answeredRepeats.delete(this.answeredRepeats.values().next().value as number);
    } else {
      this.retransmission.rtt.sample(rtt);
    }
    this.hooks.answered(p.op, msg);
    this.settle(p, msg, bytes);
    this.pump();
  }

  private settle(p: PendingRequest, msg: ResultMessage | ErrorMessage, bytes: Uint8Array): void {
    if (msg.kind === 'error') {
      this.stats.deviceErrors++;
      p.reject(DeviceError.fromWire(msg.wire, msg.message, { op: p.op }));
      return;
    }
    try {
      const result = decodeResult(p.op, msg.fields);
      if (p.capture) p.capture.received = bytes;
      p.resolve(result);
    } catch (e) {
      this.stats.badMessages++;
      p.reject(e instanceof BadMessageError ? new BadMessageError(`invalid ${p.op} answer: ${e.message}`, { ...e.details, op: p.op }) : e);
    }
  }

  /** The session closed: every request, in flight or queued, fails with `error`. */
  failAll(error: unknown): void {
    const pending = [...this.inFlight.values(), ...this.queue];
    this.inFlight.clear();
    this.queue.length = 0;
    for (const p of pending) {
      this.finish(p);
      p.reject(error);
    }
  }
}
