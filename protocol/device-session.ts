// The device side of the reader protocol: serves a ReaderOperations implementation (the firmware)
// over a ByteLink. It decodes requests, enforces the connection rules (hello first, secure channel
// when required, frame limits, a bounded request queue), calls the handler one request at a time,
// and encodes results, errors and unsolicited events.
//
// Exactly once (PROTOCOL.md §Loss and retransmission): the host repeats a request whose answer it
// did not get, with the same id. The session keeps a window of the last maxInFlight request ids; a
// repeat of an id it still holds gets a `pending` notice at once, a repeat of an answered id gets the
// same answer again from the window, and an id older than the window is ignored — nothing executes
// twice. A request held longer than PENDING_NOTICE_MS gets a `pending` notice at that interval.
//
//   const session = new DeviceSession(link, reader, { secure: { identity } });
//   session.emit({ type: 'card.inserted', slot: 1 });
import { isYikaError } from '../common/yika-error.ts';
import { DeviceError, isDeviceErrorName } from './device-error.ts';
import { FrameChannel, type FrameChannelCounters } from './frame-channel.ts';
import { MAX_MAX_FRAME, MIN_MAX_FRAME } from './framing.ts';
import type { ByteLink, LinkCloseReason } from './link.ts';
import {
  decodeRequest,
  encodeError,
  encodeEvent,
  encodePending,
  encodePingResult,
  encodeResult,
  LIMITS,
  UnknownOperationError,
  type RequestMessage,
  type WireOperation,
} from './messages.ts';
import { PROTOCOL_VERSION, type DeviceErrorName, type DeviceEvent, type DeviceHello, type ReaderOperations } from './operations.ts';
import { BadMessageError } from './protocol-errors.ts';
import { DeviceHandshake, type DeviceSecureConfig } from './secure/device-handshake.ts';
import { worstCaseBatchAnswer, worstCaseTransmitAnswer } from './answer-size.ts';
import { RECORD_OVERHEAD, type SecureRecordLayer } from './secure/record-layer.ts';
import { DEFAULT_HOST_MAX_FRAME, PENDING_NOTICE_MS } from './timing.ts';

export interface DeviceSessionOptions {
  /** Largest frame payload this device accepts (default 66,560; at least 512). */
  maxFrame?: number;
  /** Requests accepted while one executes (queued, answered in order); more → BUSY. Default 4. */
  maxInFlight?: number;
  /** Protocol versions this device speaks (default [1]). */
  versions?: number[];
  /** The SM secure channel: device identity, whether it is required, paired host keys. */
  secure?: DeviceSecureConfig;
  /** Sees handler errors that were not DeviceError (they go out as INTERNAL without their message). */
  onInternalError?: (error: unknown, op: WireOperation) => void;
  /** Interval of `pending` notices for requests held unanswered (default 200 ms; 0 = none, a broken device: tests only). */
  pendingNoticeMs?: number;
  /**
   * 'execute' executes a repeated request id again instead of answering it from the window — a
   * broken device, for testing the conformance suite only. Default 'answer' (PROTOCOL.md).
   */
  repeats?: 'answer' | 'execute';
  /** Announce and execute the diagnostic `diagHold` operation (PROTOCOL.md 1.2 §6). Default false. */
  diagnostics?: boolean;
  /**
   * Broken-device switches for testing the conformance suite only (each breaks one 1.2 rule):
   * 'hello-id-in-window' keeps the hello's id as the newest id (D1), 'answer-plaintext-inside' answers
   * a plaintext request inside the channel with NOT_READY (D8), 'batch-then-too-large' runs a batch
   * and then refuses its oversize answer (D3).
   */
  quirks?: ReadonlyArray<'hello-id-in-window' | 'answer-plaintext-inside' | 'batch-then-too-large'>;
}

export interface DeviceSessionCounters extends FrameChannelCounters {
  requests: number;
  errorsSent: number;
  badRequests: number;
  busy: number;
  eventsSent: number;
  eventsDropped: number;
  secureTeardowns: number;
  /** Repeats of an answered request, answered again from the window (not executed). */
  repeatsAnswered: number;
  /** Repeats of a request still queued or executing (answered with a pending notice). */
  repeatsPending: number;
  /** Repeats of an id older than the window (ignored). */
  repeatsStale: number;
  pendingNotices: number;
}

/** One request id of the window: held (queued/executing) until `answer` is set. */
interface WindowEntry {
  answer?: Uint8Array;
  timer?: ReturnType<typeof setInterval>;
}

/** Operations allowed before the secure channel is open on a device that requires it. */
const ALLOWED_WITHOUT_CHANNEL = new Set<WireOperation>(['hello', 'ping', 'scOpen', 'scFinish']);

export class DeviceSession {
  private readonly channel: FrameChannel;
  private readonly maxInFlight: number;
  private readonly versions: number[];
  private readonly queue: Array<{ req: RequestMessage; raw: Uint8Array }> = [];
  private executing = false;
  private ready = false;
  private helloBytes: { request: Uint8Array; result: Uint8Array } | undefined;
  private handshake: DeviceHandshake | undefined;
  private eventSeq = 0;
  /** Request ids of this connection: the newest, and the window of the last maxInFlight ids. */
  private newestId: number | undefined;
  private readonly window = new Map<number, WindowEntry>();
  /** The plaintext scFinish answer, repeated for a repeated scFinish until the host's first record. */
  private scFinishAnswer: { id: number; bytes: Uint8Array } | undefined;
  private readonly closeListeners: Array<(reason: LinkCloseReason) => void> = [];
  private readonly stats = {
    requests: 0,
    errorsSent: 0,
    badRequests: 0,
    busy: 0,
    eventsSent: 0,
    eventsDropped: 0,
    secureTeardowns: 0,
    repeatsAnswered: 0,
    repeatsPending: 0,
    repeatsStale: 0,
    pendingNotices: 0,
  };

  constructor(
    readonly link: ByteLink,
    private readonly handler: ReaderOperations,
    private readonly options: DeviceSessionOptions = {},
  ) {
    const maxFrame = options.maxFrame ?? DEFAULT_HOST_MAX_FRAME;
    if (maxFrame < MIN_MAX_FRAME || maxFrame > MAX_MAX_FRAME) throw new RangeError(`maxFrame must be ${MIN_MAX_FRAME}..${MAX_MAX_FRAME}`);
    this.maxInFlight = Math.max(1, Math.min(options.maxInFlight ?? 4, LIMITS.maxInFlight));
    this.versions = options.versions ?? [PROTOCOL_VERSION];
    this.channel = new FrameChannel(link, maxFrame, {
      onMessage: (bytes, sealed) => this.onMessage(bytes, sealed),
      onRecordError: () => this.tearDownChannel(),
    });
    // An oversize frame has no readable id: say so once for id 0, so the host can tell why it got no answer.
    this.channel.decoder.onError = (kind) => {
      if (kind === 'oversize') this.sendError(0, 'FRAME_TOO_LARGE', `frames are limited to ${this.channel.decoder.maxFrame} bytes`);
    };
    link.onClose((reason) => {
      this.ready = false;
      this.queue.length = 0;
      this.resetWindow();
      for (const l of this.closeListeners) l(reason);
    });
  }

  /** Starts serving (same as the constructor; reads well at call sites). */
  static serve(link: ByteLink, handler: ReaderOperations, options?: DeviceSessionOptions): DeviceSession {
    return new DeviceSession(link, handler, options);
  }

  /** hello has completed (and the link is open). */
  get isReady(): boolean {
    return this.ready && !this.link.closed;
  }

  get secure(): boolean {
    return this.channel.secure;
  }

  get counters(): DeviceSessionCounters {
    return { ...this.channel.counters, ...this.stats };
  }

  /** The secure-channel record layer while open (counters for diagnostics). */
  get records(): SecureRecordLayer | undefined {
    return (this.channel.records as SecureRecordLayer | null) ?? undefined;
  }

  /**
   * Sends an unsolicited event. Returns false (and drops it) before hello, while a required secure
   * channel is not open, or after close: the host would not know what to make of it.
   */
  emit(event: DeviceEvent): boolean {
    if (!this.isReady || (this.options.secure?.require && !this.channel.secure)) {
      this.stats.eventsDropped++;
      return false;
    }
    const seq = this.eventSeq;
    this.eventSeq = (seq + 1) >>> 0;
    try {
      this.channel.send(encodeEvent(seq, event));
    } catch {
      this.stats.eventsDropped++;
      return false;
    }
    this.stats.eventsSent++;
    return true;
  }

  onClose(listener: (reason: LinkCloseReason) => void): void {
    this.closeListeners.push(listener);
  }

  close(reason = 'device session closed'): void {
    this.link.close(reason);
  }

  // ---- receiving --------------------------------------------------------------------------------------

  private onMessage(bytes: Uint8Array, sealed: boolean): void {
    let request: RequestMessage;
    try {
      request = decodeRequest(bytes);
    } catch (e) {
      if (this.channel.secure && !sealed) {
        // Plaintext inside the channel: the teardown's id-0 error is the only answer (PROTOCOL.md 10.3, D8).
        this.tearDownChannel();
        return;
      }
      this.stats.badRequests++;
      const id = e instanceof BadMessageError && typeof e.details?.id === 'number' ? e.details.id : 0;
      this.sendError(id, e instanceof UnknownOperationError ? 'UNKNOWN_OPERATION' : 'BAD_REQUEST', e instanceof BadMessageError ? e.message : undefined);
      return;
    }
    if (this.channel.secure) {
      if (sealed) {
        this.scFinishAnswer = undefined; // the host has switched: it got the scFinish answer
      } else if (request.op === 'scFinish' && this.scFinishAnswer?.id === request.id) {
        // The host repeats scFinish: our plaintext answer was lost. Repeat it; the channel stays.
        this.stats.repeatsAnswered++;
        this.safeSend(this.scFinishAnswer.bytes, true);
        return;
      } else if (request.op === 'hello') {
        // A restarted host: the channel is gone and the hello is handled as usual.
        this.tearDownChannel(false);
      } else {
        // A plaintext request inside the channel: torn down, not executed, and no answer of its own —
        // the teardown's id-0 error is the only one (PROTOCOL.md 10.3, D8).
        this.tearDownChannel(true);
        if (!this.options.quirks?.includes('answer-plaintext-inside')) return;
      }
    }
    // An operation this device does not implement is a decode error: it comes before every state error (4.1).
    if (((request.op === 'scOpen' || request.op === 'scFinish') && !this.options.secure) || (request.op === 'diagHold' && !this.options.diagnostics)) {
      this.stats.badRequests++;
      this.sendError(request.id, 'UNKNOWN_OPERATION', `${request.op}: not implemented by this device`);
      return;
    }
    this.stats.requests++;
    // Exactly once: a repeated id is never executed again (hello excepted: it restarts the connection).
    if (this.ready && request.op !== 'hello' && this.isRepeat(request.id)) return;
    if (request.op === 'ping' && this.ready) {
      // Answered at once, even while another request executes: keepalive must not wait for a slow card.
      this.hold(request.id);
      void this.execute(request, bytes);
      return;
    }
    if (this.queue.length + (this.executing ? 1 : 0) >= this.maxInFlight) {
      this.stats.busy++;
      this.sendError(request.id, 'BUSY');
      return;
    }
    if (this.ready && request.op !== 'hello') this.hold(request.id);
    this.queue.push({ req: request, raw: bytes });
    if (!this.executing) void this.drain();
  }

  // ---- exactly once: the window of request ids ---------------------------------------------------------

  /**
   * Handles a repeat of an id of this connection: the answer again, a pending notice, or nothing (an
   * id older than the window). False for a new id. Ids are compared as serial numbers modulo 2^32.
   */
  private isRepeat(id: number): boolean {
    if (this.newestId === undefined || this.options.repeats === 'execute') return false;
    const ahead = (id - this.newestId) >>> 0;
    if (ahead !== 0 && ahead < 0x8000_0000) return false; // newer than every id so far
    const entry = this.window.get(id);
    if (entry?.answer) {
      this.stats.repeatsAnswered++;
      this.safeSend(entry.answer);
      return true;
    }
    if (entry) {
      this.stats.repeatsPending++;
      this.sendPending(id);
      return true;
    }
    if (((this.newestId - id) >>> 0) < this.maxInFlight) return false; // in the window, never seen (its first frame was lost)
    this.stats.repeatsStale++;
    return true;
  }

  /** Records a new request id as held (queued or executing) and slides the window. */
  private hold(id: number): void {
    const entry: WindowEntry = {};
    const every = this.options.pendingNoticeMs ?? PENDING_NOTICE_MS;
    if (every > 0) {
      entry.timer = setInterval(() => this.sendPending(id), every);
      entry.timer.unref?.();
    }
    this.window.set(id, entry);
    if (this.newestId === undefined || ((id - this.newestId) >>> 0) < 0x8000_0000) this.newestId = id;
    for (const [old, e] of this.window) {
      if (((this.newestId - old) >>> 0) >= this.maxInFlight) {
        clearInterval(e.timer);
        this.window.delete(old);
      }
    }
  }

  /** The answer to a held id goes out: keep it for repeats (BUSY: the request was not taken; forget it). */
  private answered(id: number, bytes: Uint8Array, busy: boolean): void {
    const entry = this.window.get(id);
    if (!entry) return;
    clearInterval(entry.timer);
    entry.timer = undefined;
    if (busy) this.window.delete(id);
    else entry.answer = bytes;
  }

  private sendPending(id: number): void {
    if (!this.ready || this.link.closed) return;
    this.stats.pendingNotices++;
    this.safeSend(encodePending(id));
  }

  /** A new connection (hello, reset, teardown, link closed): the ids of the old one are forgotten. */
  private resetWindow(newest?: number): void {
    for (const e of this.window.values()) clearInterval(e.timer);
    this.window.clear();
    this.newestId = newest;
  }

  private async drain(): Promise<void> {
    this.executing = true;
    while (this.queue.length > 0 && !this.link.closed) {
      const next = this.queue.shift()!;
      await this.execute(next.req, next.raw);
    }
    this.executing = false;
  }

  private async execute(req: RequestMessage, raw: Uint8Array): Promise<void> {
    try {
      // During the handshake only scFinish, ping and hello are allowed; anything else abandons it (10.2, D4).
      if (this.handshake?.inProgress && req.op !== 'scFinish' && req.op !== 'ping' && req.op !== 'hello') {
        this.handshake.abandon();
        throw new DeviceError('SECURE_CHANNEL_FAILED', `${req.op} during the handshake: the handshake is abandoned`);
      }
      switch (req.op) {
        case 'hello':
          return await this.onHello(req.id, req.args[0], raw);
        case 'scOpen': {
          const hs = this.requireHandshake(req.op);
          if (!this.helloBytes) throw new DeviceError('NOT_READY', 'send hello first');
          const result = hs.open(req.args[0], this.helloBytes.request, this.helloBytes.result);
          return this.sendResult(req.id, 'scOpen', result);
        }
        case 'scFinish': {
          const layer = this.requireHandshake(req.op).finish(req.args[0]);
          this.sendResult(req.id, 'scFinish', undefined);
          // Everything after this answer travels in records. Until the host's first record, a repeated
          // scFinish (the answer was lost) gets this plaintext answer again.
          this.scFinishAnswer = { id: req.id, bytes: encodeResult(req.id, 'scFinish', undefined) };
          this.channel.setRecordLayer(layer);
          return;
        }
        default:
          break;
      }
      if (!this.ready) throw new DeviceError('NOT_READY', 'send hello first');
      if (this.options.secure?.require && !this.channel.secure && !ALLOWED_WITHOUT_CHANNEL.has(req.op)) {
        throw new DeviceError('SECURE_CHANNEL_REQUIRED');
      }
      const h = this.handler;
      switch (req.op) {
        case 'slotStatus':
          return this.sendResult(req.id, req.op, await h.slotStatus(...req.args));
        case 'powerOn':
          return this.sendResult(req.id, req.op, await h.powerOn(...req.args));
        case 'powerOff':
          return this.sendResult(req.id, req.op, await h.powerOff(...req.args));
        case 'resetCard':
          return this.sendResult(req.id, req.op, await h.resetCard(...req.args));
        case 'setParams':
          return this.sendResult(req.id, req.op, await h.setParams(...req.args));
        case 'transmit':
          this.checkAnswerFits(worstCaseTransmitAnswer(req.args[1]));
          return this.sendResult(req.id, req.op, await h.transmit(...req.args));
        case 'transmitBatch': {
          // The worst-case answer must fit before anything runs: no card state changes for an answer
          // the host could not receive (PROTOCOL.md 1.2 §6, D3). BATCH_TOO_LONG comes first (the handler).
          const commands = req.args[1];
          if (!this.options.quirks?.includes('batch-then-too-large') && (this.hello?.maxBatch ?? Infinity) >= commands.length) this.checkAnswerFits(worstCaseBatchAnswer(commands));
          return this.sendResult(req.id, req.op, await h.transmitBatch(...req.args));
        }
        case 'diagHold': {
          const started = performance.now();
          await new Promise((r) => setTimeout(r, req.args[0]));
          return this.sendResult(req.id, req.op, { heldMs: Math.round(performance.now() - started) });
        }
        case 'ping':
          await h.ping();
          // nextEvent lets the host notice events lost at the end of a burst (no later event shows the gap).
          return this.safeSend(encodePingResult(req.id, this.eventSeq), false, req.id);
        case 'deviceInfo':
          return this.sendResult(req.id, req.op, await h.deviceInfo());
        case 'deviceReset':
          await h.deviceReset();
          this.sendResult(req.id, req.op, undefined);
          // A reset device forgets the connection: the host says hello again.
          this.ready = false;
          this.helloBytes = undefined;
          this.scFinishAnswer = undefined;
          this.channel.setRecordLayer(null);
          this.resetWindow();
          return;
      }
    } catch (e) {
      this.sendHandlerError(req.id, req.op, e);
    }
  }

  private async onHello(id: number, request: { versions: number[]; maxFrame: number; host?: string }, raw: Uint8Array): Promise<void> {
    // A new hello restarts the connection: channel off, not ready until this answer is out.
    this.ready = false;
    this.channel.setRecordLayer(null);
    this.handshake = undefined;
    this.scFinishAnswer = undefined;
    this.reportedTeardown = false;
    // A new connection: the window is empty and the hello's own id is not part of it, so the next
    // request is new whatever its id (PROTOCOL.md 1.2, D1); events count from 0 again.
    this.resetWindow(this.options.quirks?.includes('hello-id-in-window') ? id : undefined);
    const version = request.versions.find((v) => this.versions.includes(v));
    if (version === undefined) throw new DeviceError('UNSUPPORTED_VERSION', `this device speaks protocol version ${this.versions.join(', ')}`);
    if (request.maxFrame < MIN_MAX_FRAME) throw new DeviceError('BAD_REQUEST', `maxFrame must be at least ${MIN_MAX_FRAME}`);
    const base = await this.handler.hello(request);
    const secure = this.options.secure;
    const hello: DeviceHello = {
      ...base,
      version,
      maxFrame: this.channel.decoder.maxFrame,
      secureChannel: secure ? (secure.require ? 'required' : 'supported') : 'none',
      maxInFlight: this.maxInFlight,
    };
    if (this.options.diagnostics) hello.diagnostics = true;
    this.hello = hello;
    const bytes = encodeResult(id, 'hello', hello);
    this.channel.encoder.maxFrame = Math.min(request.maxFrame, MAX_MAX_FRAME);
    this.channel.send(bytes);
    this.helloBytes = { request: raw, result: bytes };
    if (secure) this.handshake = new DeviceHandshake(secure);
    this.eventSeq = 0;
    this.ready = true;
  }

  /** Refuses (FRAME_TOO_LARGE) an operation whose worst-case answer would not fit the negotiated frame. */
  private checkAnswerFits(worst: number): void {
    const limit = this.channel.encoder.maxFrame - (this.options.secure && this.channel.secure ? RECORD_OVERHEAD : 0);
    if (worst > limit) throw new DeviceError('FRAME_TOO_LARGE', `the worst-case answer (${worst} bytes) does not fit the negotiated frame (${limit} bytes)`);
  }
  private hello: DeviceHello | undefined;

  private requireHandshake(op: WireOperation): DeviceHandshake {
    if (!this.options.secure) throw new DeviceError('UNKNOWN_OPERATION', `${op}: this device has no secure channel`);
    if (!this.ready || !this.handshake) throw new DeviceError('NOT_READY', 'send hello first');
    return this.handshake;
  }

  /**
   * Drops the channel after a bad record (or a plaintext request inside it): not ready until a new
   * hello. The host is told once, with a plaintext error for id 0, not once per stray record.
   */
  private tearDownChannel(report = true): void {
    const wasSecure = this.channel.secure;
    this.channel.setRecordLayer(null);
    if (wasSecure) {
      this.stats.secureTeardowns++;
      this.ready = false;
      this.helloBytes = undefined;
      this.scFinishAnswer = undefined;
      this.reportedTeardown = false;
      this.resetWindow();
    }
    if (report && !this.reportedTeardown) {
      this.reportedTeardown = true;
      this.sendError(0, 'SECURE_CHANNEL_FAILED', 'the secure channel was torn down; send hello again');
    }
  }
  private reportedTeardown = false;

  // ---- sending ----------------------------------------------------------------------------------------

  private sendResult<K extends WireOperation>(id: number, op: K, result: Parameters<typeof encodeResult<K>>[2]): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeResult(id, op, result);
    } catch (e) {
      this.options.onInternalError?.(e, op);
      this.sendError(id, 'INTERNAL', 'the device produced an invalid result');
      return;
    }
    if (bytes.length > this.channel.maxMessage) {
      this.sendError(id, 'FRAME_TOO_LARGE', `the ${op} result does not fit the negotiated frame size`);
      return;
    }
    this.safeSend(bytes, false, id);
  }

  private sendHandlerError(id: number, op: WireOperation, e: unknown): void {
    if (e instanceof DeviceError) return this.sendError(id, e.code, e.message);
    if (isYikaError(e) && isDeviceErrorName(e.code)) return this.sendError(id, e.code, e.message);
    this.options.onInternalError?.(e, op);
    this.sendError(id, 'INTERNAL', 'internal device error');
  }

  private sendError(id: number, name: DeviceErrorName, message?: string): void {
    this.stats.errorsSent++;
    const bytes = encodeError(id, name, message);
    if (id !== 0) this.answered(id, bytes, name === 'BUSY');
    this.safeSend(bytes);
  }

  /** Sends a message; `answerTo`: it answers that request id (kept in the window for repeats). */
  private safeSend(bytes: Uint8Array, plain = false, answerTo?: number): void {
    if (answerTo !== undefined) this.answered(answerTo, bytes, false);
    if (this.link.closed) return;
    try {
      if (plain) this.channel.sendPlain(bytes);
      else this.channel.send(bytes);
    } catch {
      // The link went away between the check and the write; the close handler cleans up.
    }
  }
}
