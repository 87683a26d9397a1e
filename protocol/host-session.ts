// The host side of the reader protocol: ReaderOperations over a ByteLink. One HostSession per
// connected reader. It owns request ids, per-operation timeouts, cancellation, a bounded number of
// requests in flight (the rest wait in a bounded queue), in-order event delivery, keepalive with
// dead-peer detection, and the host side of the SM secure channel. When the link drops, every pending
// request fails with LINK_CLOSED: nothing ever hangs.
//
// Loss (PROTOCOL.md §Loss and retransmission): a request without an answer or a `pending` notice
// within the retransmission timeout (RTO, adaptive from measured round trips) is sent again with the
// same id — the device answers a repeat without executing it twice — up to maxRetransmits times, with
// exponential backoff; then it fails with PROTOCOL_TIMEOUT. The operation timeout stays the hard limit.
// Events carry a sequence number; a gap (or a ping result whose nextEvent is ahead) is reported as an
// `eventGap` so that the owner can re-read the slot states.
import { EventEmitter } from 'node:events';
import type { YikaError } from '../common/yika-error.ts';
import { DeviceError } from './device-error.ts';
import { FrameChannel, type FrameChannelCounters } from './frame-channel.ts';
import { MIN_MAX_FRAME } from './framing.ts';
import type { ByteLink, LinkCloseReason } from './link.ts';
import {
  decodeDeviceMessage,
  decodeResult,
  encodeRequest,
  LIMITS,
  pingNextEvent,
  type DeviceToHostMessage,
  type OperationArgs,
  type OperationResults,
  type WireOperation,
} from './messages.ts';
import {
  PROTOCOL_VERSION,
  type BatchCommand,
  type BatchResult,
  type DeviceEvent,
  type DeviceHello,
  type DeviceInfo,
  type HelloRequest,
  type PowerOnResult,
  type ProtocolParams,
  type ReaderOperations,
  type SlotStatus,
} from './operations.ts';
import { BadMessageError, LinkClosedError, ProtocolError } from './protocol-errors.ts';
import { runHostHandshake, type HostSecureConfig, type SecureChannelInfo, type SecurePolicy } from './secure/host-handshake.ts';
import { SecureRecordLayer } from './secure/record-layer.ts';
import { splitBatchByAnswerSize } from './answer-size.ts';
import {
  DEFAULT_HOST_MAX_FRAME,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_LINE_BYTES_PER_S,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAX_RETRANSMITS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_TIMEOUTS_MS,
  PENDING_NOTICE_MS,
  RTO_INITIAL_MS,
  RTO_MAX_MS,
  RTO_MIN_MS,
} from './timing.ts';

export interface HostSessionOptions {
  /** Names the host software in hello (diagnostics on the device). */
  host?: string;
  /** Largest frame payload this host accepts (default 66,560: extended APDUs). */
  maxFrame?: number;
  /** Per-operation timeouts in ms (defaults: timing.ts). */
  timeouts?: Partial<Record<WireOperation, number>>;
  /** Requests outstanding at once (default 4; capped by the device's maxInFlight). */
  maxInFlight?: number;
  /** Requests waiting for a slot before calls fail with PROTOCOL_QUEUE_FULL (default 64). */
  maxQueue?: number;
  /** Ping after this much silence while idle (default 2000 ms; 0 = no keepalive). */
  keepaliveMs?: number;
  /** A ping unanswered this long closes the session with PROTOCOL_PEER_DEAD (default 1000 ms). */
  pingTimeoutMs?: number;
  /** Secure-channel policy (default 'preferred': used when the device supports it and `trust` is set). */
  secure?: SecurePolicy;
  /** Host key and trusted vendor CAs; needed for any secure channel. */
  trust?: HostSecureConfig;
  /** Aborts open(). */
  signal?: AbortSignal;
  /** Retransmissions of an unanswered request before it fails with PROTOCOL_TIMEOUT (default 4; 0 = none). */
  maxRetransmits?: number;
  /** Bounds of the adaptive retransmission timeout in ms (default 50 … 1000). */
  rtoMinMs?: number;
  rtoMaxMs?: number;
  /** Line rate in bytes/s, to allow for the time a long frame takes on the wire (default 11,520: 115200 bd 8N1). */
  lineBytesPerSecond?: number;
  /** Sees every message the device sends, also repeats and pending notices (diagnostics, conformance). */
  observe?: (message: DeviceToHostMessage) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides the operation's timeout for this call. */
  timeoutMs?: number;
  /**
   * Conformance testing: send the request a second time (same id), as a retransmission would — at
   * once ('at-once': it meets the request still held) or right after its answer arrived ('after-answer':
   * the device must answer it again from its window). The second answer is seen by `observe`.
   */
  repeat?: 'at-once' | 'after-answer';
}

/** Events lost on the line: the next event (or a ping's nextEvent) was `lost` ahead of the expected seq. */
export interface EventGap {
  expected: number;
  received: number;
  lost: number;
}

export interface HostSessionCounters extends FrameChannelCounters {
  requests: number;
  responses: number;
  deviceErrors: number;
  timeouts: number;
  cancelled: number;
  /** Answers that arrived after their request timed out or was cancelled. */
  lateResponses: number;
  /** Answers with an id nobody asked for (including id 0 error reports from the device). */
  unexpectedResponses: number;
  badMessages: number;
  events: number;
  /** Events whose seq was not the previous one + 1 (lost frames), also found by a ping's nextEvent. */
  eventGaps: number;
  /** Events known lost (sum of the gaps). */
  eventsLost: number;
  pings: number;
  /** Sum and count of round-trip times of answered requests, in ms (mean = sum / responses). */
  roundTripMsTotal: number;
  /** Requests sent again (same id) because neither an answer nor a pending notice came within the RTO. */
  retransmits: number;
  /** Requests that failed because every retransmission went unanswered. */
  retransmitFailures: number;
  /** Answers that arrived again for a request already answered (the answer to a retransmission). */
  duplicateAnswers: number;
  /** Pending notices received (the device holds a request that takes a while). */
  pendingNotices: number;
  /** Records that arrived before this session ever opened a channel: leftovers of an earlier connection, ignored. */
  strayRecords: number;
  /** The current retransmission timeout, ms. */
  rtoMs: number;
}

interface Pending {
  op: WireOperation;
  args: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timeoutMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  id?: number;
  timer?: ReturnType<typeof setTimeout>;
  sentAt?: number;
  capture?: WireCapture;
  /** Part of hello/handshake: the only requests sent while the session is (re-)establishing. */
  setup?: boolean;
  /** The encoded request (sent again, same id, by a retransmission). */
  bytes?: Uint8Array;
  /** Retransmission timer, current backoff interval, retransmissions since the last sign of life. */
  retryTimer?: ReturnType<typeof setTimeout>;
  retryMs?: number;
  retries?: number;
  /** Sent more than once, or a pending notice came: its round trip is no RTT sample (Karn). */
  noSample?: boolean;
  /** Send a second time (conformance). */
  repeat?: 'at-once' | 'after-answer';
}

/** Receives the exact bytes of one exchange (the secure-channel transcript binds hello's bytes). */
interface WireCapture {
  sent?: Uint8Array;
  received?: Uint8Array;
}

export interface HostSessionEvents {
  event: [DeviceEvent];
  /** Events were lost on the line: re-read what they would have told (slot states). */
  eventGap: [EventGap];
  /** A request was sent again (`attempt` ≥ 2), or given up after its last retransmission (`gaveUp`). */
  retransmit: [{ op: WireOperation; attempt: number; gaveUp?: boolean }];
  close: [YikaError];
}

export class HostSession extends EventEmitter<HostSessionEvents> implements ReaderOperations {
  private readonly channel: FrameChannel;
  private readonly timeouts: Record<WireOperation, number>;
  private readonly maxQueue: number;
  private maxInFlight: number;
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  /** Ids whose caller gave up (timeout, cancel): their late answers are dropped quietly. */
  private readonly abandoned = new Set<number>();
  private nextId = 1;
  /** The seq the next event should carry (undefined until hello has been answered). */
  private nextEventSeq: number | undefined;
  /** Ids answered after a retransmission: a second answer to them is a duplicate, not a stray. */
  private readonly answeredRepeats = new Set<number>();
  /** Id of the answered scFinish: its plaintext answer may arrive again after the switch to records. */
  private scFinishId: number | undefined;
  /** The device's maxInFlight: every id in flight lies within this many consecutive ids (its window). */
  private idWindow = 1;
  /** RTT estimator (RFC 6298): smoothed round trip and its variation, ms. */
  private srtt: number | undefined;
  private rttvar = 0;
  private rto = RTO_INITIAL_MS;
  private lastRx = Date.now();
  private keepaliveTimer?: ReturnType<typeof setInterval>;
  private pinging = false;
  private establishing = false;
  private closeError: YikaError | undefined;
  private eventBuffer: DeviceEvent[] | null = [];
  private peerHello: DeviceHello | undefined;
  private secureInfo: SecureChannelInfo = { state: 'off' };
  private readonly stats = {
    requests: 0,
    responses: 0,
    deviceErrors: 0,
    timeouts: 0,
    cancelled: 0,
    lateResponses: 0,
    unexpectedResponses: 0,
    badMessages: 0,
    events: 0,
    eventGaps: 0,
    eventsLost: 0,
    pings: 0,
    roundTripMsTotal: 0,
    retransmits: 0,
    retransmitFailures: 0,
    duplicateAnswers: 0,
    pendingNotices: 0,
    strayRecords: 0,
  };
  /** This session has switched records on at least once (a record before that is a stray). */
  private recordsEverUsed = false;

  private constructor(
    readonly link: ByteLink,
    private readonly options: HostSessionOptions,
  ) {
    super();
    const maxFrame = options.maxFrame ?? DEFAULT_HOST_MAX_FRAME;
    this.timeouts = { ...DEFAULT_TIMEOUTS_MS, ...options.timeouts };
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.maxInFlight = 1; // until hello tells us what the device queues
    this.rto = Math.min(options.rtoMaxMs ?? RTO_MAX_MS, Math.max(options.rtoMinMs ?? RTO_MIN_MS, RTO_INITIAL_MS));
    this.channel = new FrameChannel(link, maxFrame, {
      onMessage: (bytes, sealed) => this.onMessage(bytes, sealed),
      onRecordError: (e) => {
        // A record before this session ever opened a channel is a leftover of an earlier connection on
        // the same line (a late repeat of its last answer): the device drops that channel at our hello.
        if (e === undefined && !this.recordsEverUsed) {
          this.stats.strayRecords++;
          return;
        }
        this.shutdown(
          e instanceof ProtocolError ? e : new ProtocolError('SECURE_CHANNEL_REJECTED', 'a record arrived but no secure channel is open'),
          'secure channel record rejected',
        );
      },
    });
    link.onClose((reason) => this.onLinkClosed(reason));
  }

  /**
   * Says hello, negotiates version, frame size and in-flight limit, runs the secure channel according
   * to the policy, and starts the keepalive. On any failure the link is closed and the error thrown.
   */
  static async open(link: ByteLink, options: HostSessionOptions = {}): Promise<HostSession> {
    const session = new HostSession(link, options);
    try {
      await session.establish(options.signal);
    } catch (e) {
      session.shutdown(e instanceof ProtocolError || e instanceof DeviceError ? e : new LinkClosedError('session setup failed'), 'session setup failed');
      throw e;
    }
    session.startKeepalive();
    // Events that arrived during open go out after the caller had a chance to subscribe.
    setImmediate(() => session.flushEventBuffer());
    return session;
  }

  /** The device's hello (after open). */
  get deviceHello(): DeviceHello {
    if (!this.peerHello) throw new ProtocolError('PROTOCOL_INCOMPATIBLE', 'hello has not completed');
    return this.peerHello;
  }

  /** Secure-channel state for the reader list: open or off, suite, authenticated device identity. */
  get secureChannel(): SecureChannelInfo {
    return this.secureInfo;
  }

  get closed(): boolean {
    return this.closeError !== undefined;
  }

  /** Why the session closed (undefined while open). */
  get closeReason(): YikaError | undefined {
    return this.closeError;
  }

  get counters(): HostSessionCounters {
    return { ...this.channel.counters, ...this.stats, rtoMs: Math.round(this.rto) };
  }

  get pendingRequests(): number {
    return this.inFlight.size + this.queue.length;
  }

  // ---- ReaderOperations ---------------------------------------------------------------------------

  hello(request: HelloRequest, opts?: RequestOptions): Promise<DeviceHello> {
    return this.request('hello', [request], opts);
  }
  slotStatus(slot?: number, opts?: RequestOptions): Promise<SlotStatus[]> {
    return this.request('slotStatus', [slot], opts);
  }
  powerOn(slot: number, opts?: RequestOptions): Promise<PowerOnResult> {
    return this.request('powerOn', [slot], opts);
  }
  powerOff(slot: number, opts?: RequestOptions): Promise<void> {
    return this.request('powerOff', [slot], opts);
  }
  resetCard(slot: number, opts?: RequestOptions): Promise<PowerOnResult> {
    return this.request('resetCard', [slot], opts);
  }
  setParams(slot: number, params: ProtocolParams, opts?: RequestOptions): Promise<ProtocolParams> {
    return this.request('setParams', [slot, params], opts);
  }
  transmit(slot: number, apdu: Uint8Array, opts?: RequestOptions): Promise<Uint8Array> {
    return this.request('transmit', [slot, apdu], opts);
  }
  /**
   * A batch whose worst-case answer would not fit the negotiated frame is sent as consecutive smaller
   * batches (the device would refuse it whole with FRAME_TOO_LARGE: PROTOCOL.md 1.2 §6); the results
   * are joined, and a stop in one part ends the whole batch there, as one batch would.
   */
  async transmitBatch(slot: number, commands: ReadonlyArray<BatchCommand>, opts?: RequestOptions): Promise<BatchResult> {
    const parts = splitBatchByAnswerSize(commands, this.channel.maxMessage);
    if (parts.length === 1) return this.request('transmitBatch', [slot, commands], opts);
    const responses: Uint8Array[] = [];
    let offset = 0;
    for (const part of parts) {
      const r = await this.request('transmitBatch', [slot, part], opts);
      responses.push(...r.responses);
      if (r.stoppedAt !== undefined) return { responses, stoppedAt: offset + r.stoppedAt };
      if (r.responses.length < part.length) return { responses };
      offset += part.length;
    }
    return { responses };
  }
  ping(opts?: RequestOptions): Promise<void> {
    return this.request('ping', [], opts);
  }
  deviceInfo(opts?: RequestOptions): Promise<DeviceInfo> {
    return this.request('deviceInfo', [], opts);
  }
  /**
   * Resets the device, then says hello (and re-opens the secure channel) again before resolving.
   * Requests made meanwhile wait and go out once the session is re-established.
   */
  async deviceReset(opts?: RequestOptions): Promise<void> {
    this.establishing = true;
    try {
      await this.request('deviceReset', [], { ...opts, setup: true }).catch((e: unknown) => {
        // Our retransmission reached a device that had already reset (its answer was lost): done.
        if (!(e instanceof DeviceError && e.code === 'NOT_READY')) throw e;
      });
      // The device answered, then forgot the connection: plaintext and not ready until hello.
      this.channel.setRecordLayer(null);
      this.secureInfo = { state: 'off' };
      const deadline = Date.now() + (opts?.timeoutMs ?? this.timeouts.deviceReset);
      // The device may take a moment to come back: retry hello until the deviceReset budget is spent.
      for (;;) {
        try {
          await this.establishSteps(opts?.signal);
          return;
        } catch (e) {
          if (!(e instanceof ProtocolError && e.code === 'PROTOCOL_TIMEOUT') || Date.now() >= deadline) throw e;
        }
      }
    } finally {
      this.establishing = false;
      this.pump();
    }
  }

  /**
   * Conformance tests only: the next record to the device skips `count` seqs (as if lost on the line);
   * returns the seq it will carry. Throws unless the secure channel is open.
   */
  skipRecordSeq(count: number): number {
    const layer = this.channel.secure ? this.channel.records : null;
    if (!(layer instanceof SecureRecordLayer)) throw new ProtocolError('SECURE_CHANNEL_UNSUPPORTED', 'no secure channel is open');
    layer.skipSendSeq(count);
    return layer.nextSendSeq;
  }

  /** Closes the session and the link; pending requests fail with LINK_CLOSED. */
  async close(): Promise<void> {
    this.shutdown(new LinkClosedError('the session was closed by the host'), 'session closed by host');
  }

  /**
   * Sends any wire operation (also the handshake operations). Resolves with the validated result or
   * rejects with DeviceError (the device's answer) or ProtocolError (timeout, cancel, link closed …).
   */
  request<K extends WireOperation>(op: K, args: OperationArgs[K], opts: RequestOptions & { capture?: WireCapture; setup?: boolean } = {}): Promise<OperationResults[K]> {
    return new Promise((resolve, reject) => {
      if (this.closeError) return reject(this.closeError);
      if (opts.signal?.aborted) {
        this.stats.cancelled++;
        return reject(new ProtocolError('PROTOCOL_CANCELLED', `${op} was cancelled`, { op }));
      }
      if (this.queue.length >= this.maxQueue) {
        return reject(new ProtocolError('PROTOCOL_QUEUE_FULL', `too many requests waiting for this reader (${this.maxQueue})`, { op }));
      }
      const p: Pending = {
        op,
        args,
        resolve: resolve as (v: unknown) => void,
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
    });
  }

  // ---- internals ------------------------------------------------------------------------------------

  /**
   * hello + secure channel. While it runs only its own requests go out: a caller's request must not
   * slip between scFinish and the switch to records, nor reach a device that has not said hello yet.
   */
  private async establish(signal?: AbortSignal): Promise<void> {
    this.establishing = true;
    try {
      await this.establishSteps(signal);
    } finally {
      this.establishing = false;
      this.pump();
    }
  }

  private async establishSteps(signal?: AbortSignal): Promise<void> {
    this.nextEventSeq = undefined;
    this.scFinishId = undefined;
    this.idWindow = 1;
    const hostMax = this.channel.decoder.maxFrame;
    const helloReq: HelloRequest = { versions: [PROTOCOL_VERSION], maxFrame: hostMax };
    if (this.options.host) helloReq.host = this.options.host.slice(0, LIMITS.maxShortText);
    this.maxInFlight = 1;
    const exchange = await this.requestRaw('hello', [helloReq], { signal, setup: true });
    const hello = exchange.result as DeviceHello;
    if (hello.version !== PROTOCOL_VERSION) {
      throw new ProtocolError('PROTOCOL_INCOMPATIBLE', `the reader chose protocol version ${hello.version}; this host speaks ${PROTOCOL_VERSION}`, { version: hello.version });
    }
    if (hello.maxFrame < MIN_MAX_FRAME) {
      throw new ProtocolError('PROTOCOL_INCOMPATIBLE', `the reader's maxFrame ${hello.maxFrame} is below the v1 minimum ${MIN_MAX_FRAME}`, { maxFrame: hello.maxFrame });
    }
    this.peerHello = hello;
    this.channel.encoder.maxFrame = Math.min(hello.maxFrame, this.channel.decoder.maxFrame, 262_144);
    this.maxInFlight = Math.max(1, Math.min(this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, hello.maxInFlight ?? 1));
    this.idWindow = hello.maxInFlight ?? 1;
    this.secureInfo = await runHostHandshake({
      policy: this.options.secure ?? 'preferred',
      trust: this.options.trust,
      hello,
      helloRequestBytes: exchange.sent,
      helloResultBytes: exchange.received,
      request: (op, args) => this.request(op, args, { signal, setup: true }),
      // From scFinish on the device may already send records (its plaintext answer may be lost).
      prepareRecords: (layer) => {
        this.recordsEverUsed = true;
        this.channel.setRecordLayer(layer, 'receive');
      },
      enableRecords: (layer) => this.channel.setRecordLayer(layer),
    });
  }

  /** A request whose exact wire bytes (sent and received) are returned with the result. */
  private async requestRaw<K extends WireOperation>(op: K, args: OperationArgs[K], opts: RequestOptions & { setup?: boolean }): Promise<{ result: OperationResults[K]; sent: Uint8Array; received: Uint8Array }> {
    const capture: WireCapture = {};
    const result = await this.request(op, args, { ...opts, capture });
    return { result, sent: capture.sent ?? new Uint8Array(), received: capture.received ?? new Uint8Array() };
  }

  private pump(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0 && !this.closeError) {
      const next = this.establishing ? this.queue.findIndex((q) => q.setup) : 0;
      if (next < 0) break;
      // The device keeps the answers of its last maxInFlight ids only: while an older request is
      // still unanswered (its answer may be lost), a new id must not push it out of that window.
      if (!this.withinWindow(this.nextId)) break;
      const [p] = this.queue.splice(next, 1);
      const id = this.allocateId();
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
        continue;
      }
      p.id = id;
      p.bytes = bytes;
      p.sentAt = performance.now();
      p.noSample = p.repeat !== undefined;
      if (p.capture) p.capture.sent = bytes;
      this.inFlight.set(id, p);
      this.stats.requests++;
      p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
      p.retries = 0;
      p.retryMs = this.rto;
      this.armRetry(p, this.rto + this.wireTimeMs(bytes.length));
    }
  }

  /** Every id in flight (the oldest first: Map order) lies within the device's window of `id`. */
  private withinWindow(id: number): boolean {
    for (const oldest of this.inFlight.keys()) return ((id - oldest) >>> 0) < this.idWindow;
    return true;
  }

  // ---- retransmission -------------------------------------------------------------------------------

  /** Time a frame of `n` payload bytes takes on the wire at the configured line rate (ms). */
  private wireTimeMs(n: number): number {
    return (n * 1000) / (this.options.lineBytesPerSecond ?? DEFAULT_LINE_BYTES_PER_S);
  }

  private armRetry(p: Pending, ms: number): void {
    if (p.retryTimer) clearTimeout(p.retryTimer);
    if ((this.options.maxRetransmits ?? DEFAULT_MAX_RETRANSMITS) <= 0) return; // no retransmission: the operation timeout decides
    p.retryTimer = setTimeout(() => this.onRetryTimer(p), ms);
    p.retryTimer.unref?.();
  }

  private onRetryTimer(p: Pending): void {
    p.retryTimer = undefined;
    if (p.id === undefined || this.inFlight.get(p.id) !== p || this.closeError) return;
    const interval = p.retryMs ?? this.rto;
    // A frame is arriving right now (a long answer on a slow line): give it time to finish.
    if (this.channel.receivingFrame && performance.now() - this.channel.lastRxAt < interval) {
      this.armRetry(p, interval);
      return;
    }
    const max = this.options.maxRetransmits ?? DEFAULT_MAX_RETRANSMITS;
    if ((p.retries ?? 0) >= max) {
      this.finish(p);
      this.abandon(p);
      this.stats.timeouts++;
      this.stats.retransmitFailures++;
      this.emit('retransmit', { op: p.op, attempt: max + 1, gaveUp: true });
      p.reject(
        new ProtocolError('PROTOCOL_TIMEOUT', `the reader did not answer ${p.op} (sent ${max + 1} times, no answer and no pending notice)`, {
          op: p.op,
          attempts: max + 1,
          timeoutMs: p.timeoutMs,
        }),
      );
      this.pump();
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
    this.emit('retransmit', { op: p.op, attempt: p.retries + 1 });
    p.retryMs = Math.min(interval * 2, this.options.rtoMaxMs ?? RTO_MAX_MS);
    this.armRetry(p, p.retryMs + this.wireTimeMs(p.bytes!.length));
  }

  /** The device holds the request (a pending notice): the request arrived; wait for the answer. */
  private onPending(p: Pending): void {
    this.stats.pendingNotices++;
    p.noSample = true;
    p.retries = 0;
    p.retryMs = this.rto;
    // The next notice is due PENDING_NOTICE_MS after this one; allow one of them to be lost.
    this.armRetry(p, 2 * PENDING_NOTICE_MS + this.rto);
  }

  /** RFC 6298 estimator; the RTO stays within rtoMinMs … rtoMaxMs. */
  private sampleRtt(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
    const min = this.options.rtoMinMs ?? RTO_MIN_MS;
    const max = this.options.rtoMaxMs ?? RTO_MAX_MS;
    this.rto = Math.min(max, Math.max(min, this.srtt + Math.max(10, 4 * this.rttvar)));
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= LIMITS.maxId ? 1 : id + 1;
      if (!this.inFlight.has(id) && !this.abandoned.has(id)) return id;
    }
  }

  private finish(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.retryTimer) clearTimeout(p.retryTimer);
    p.retryTimer = undefined;
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    if (p.id !== undefined) this.inFlight.delete(p.id);
  }

  private abandon(p: Pending): void {
    if (p.id !== undefined) {
      this.abandoned.add(p.id);
      // Bounded: forget the oldest abandoned ids.
      if (this.abandoned.size > 1024) this.abandoned.delete(this.abandoned.values().next().value as number);
    }
  }

  private onTimeout(p: Pending): void {
    this.finish(p);
    this.abandon(p);
    this.stats.timeouts++;
    p.reject(new ProtocolError('PROTOCOL_TIMEOUT', `the reader did not answer ${p.op} within ${p.timeoutMs} ms`, { op: p.op, timeoutMs: p.timeoutMs }));
    this.pump();
  }

  private cancel(p: Pending): void {
    const queued = this.queue.indexOf(p);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (p.id === undefined || !this.inFlight.has(p.id)) return;
    this.finish(p);
    this.abandon(p);
    this.stats.cancelled++;
    p.reject(new ProtocolError('PROTOCOL_CANCELLED', `${p.op} was cancelled`, { op: p.op }));
    this.pump();
  }

  private onMessage(bytes: Uint8Array, sealed: boolean): void {
    this.lastRx = Date.now();
    let msg: DeviceToHostMessage | undefined;
    if (this.channel.secure && !sealed) {
      // The one plaintext message allowed in the channel: the device's scFinish answer again (its first
      // copy was delayed or our scFinish was repeated). Anything else is an attack or a broken device.
      try {
        msg = decodeDeviceMessage(bytes);
      } catch {
        msg = undefined;
      }
      if (msg?.kind === 'result' && msg.id === this.scFinishId) {
        this.stats.duplicateAnswers++;
        return;
      }
      this.shutdown(new ProtocolError('SECURE_CHANNEL_REJECTED', 'a plaintext message arrived inside the secure channel'), 'plaintext inside the secure channel');
      return;
    }
    try {
      msg = decodeDeviceMessage(bytes);
    } catch {
      this.stats.badMessages++;
      return;
    }
    this.options.observe?.(msg);
    if (msg.kind === 'event') {
      this.stats.events++;
      this.checkEventSeq(msg.seq, true);
      if (this.eventBuffer) this.eventBuffer.push(msg.event);
      else this.emit('event', msg.event);
      return;
    }
    const p = this.inFlight.get(msg.id);
    if (msg.kind === 'pending') {
      if (p) this.onPending(p);
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
      this.sampleRtt(rtt);
    }
    if (p.op === 'hello' && msg.kind === 'result') this.nextEventSeq = 0; // events of this connection count from 0
    if (p.op === 'scFinish' && msg.kind === 'result') this.scFinishId = msg.id;
    if (p.op === 'ping' && msg.kind === 'result') {
      const next = pingNextEvent(msg.fields);
      if (next !== undefined) this.checkEventSeq(next, false);
    }
    if (msg.kind === 'error') {
      this.stats.deviceErrors++;
      p.reject(DeviceError.fromWire(msg.wire, msg.message, { op: p.op }));
    } else {
      try {
        const result = decodeResult(p.op, msg.fields);
        if (p.capture) p.capture.received = bytes;
        p.resolve(result);
      } catch (e) {
        this.stats.badMessages++;
        p.reject(e instanceof BadMessageError ? new BadMessageError(`invalid ${p.op} answer: ${e.message}`, { ...e.details, op: p.op }) : e);
      }
    }
    this.pump();
  }

  /**
   * Compares an event's seq (or a ping's nextEvent) with the seq expected next. Ahead = events lost on
   * the line: counted and reported (`eventGap`). Behind = an old ping answer repeated: ignored.
   */
  private checkEventSeq(seq: number, isEvent: boolean): void {
    const expected = this.nextEventSeq;
    if (expected !== undefined) {
      const ahead = (seq - expected) >>> 0;
      if (ahead !== 0 && ahead < 0x8000_0000) {
        this.stats.eventGaps++;
        this.stats.eventsLost += ahead;
        if (!this.eventBuffer) this.emit('eventGap', { expected, received: seq, lost: ahead });
      } else if (ahead !== 0 && !isEvent) {
        return; // a stale nextEvent
      }
    }
    this.nextEventSeq = isEvent ? (seq + 1) >>> 0 : seq;
  }

  private flushEventBuffer(): void {
    const buffered = this.eventBuffer ?? [];
    this.eventBuffer = null;
    for (const e of buffered) if (!this.closeError) this.emit('event', e);
  }

  private startKeepalive(): void {
    const every = this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    if (every <= 0) return;
    const pingTimeout = this.options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.keepaliveTimer = setInterval(() => {
      // Only an idle, silent link is pinged: a request in flight has its own timeout.
      if (this.pinging || this.closeError || this.inFlight.size > 0 || this.queue.length > 0) return;
      if (Date.now() - this.lastRx < every) return;
      this.pinging = true;
      this.stats.pings++;
      this.request('ping', [], { timeoutMs: pingTimeout }).then(
        () => {
          this.pinging = false;
        },
        (e: unknown) => {
          this.pinging = false;
          if (e instanceof ProtocolError && e.code === 'PROTOCOL_TIMEOUT') {
            this.shutdown(new ProtocolError('PROTOCOL_PEER_DEAD', `the reader did not answer a keepalive ping within ${pingTimeout} ms`), 'peer dead');
          }
        },
      );
    }, Math.max(10, Math.floor(every / 4)));
    this.keepaliveTimer.unref?.();
  }

  private onLinkClosed(reason: LinkCloseReason): void {
    const error =
      reason.by === 'local'
        ? new LinkClosedError(`the link was closed (${reason.message})`, { link: this.link.name, by: reason.by })
        : new LinkClosedError(`the link to the reader closed: ${reason.message}`, { link: this.link.name, by: reason.by });
    this.shutdown(error, reason.message);
  }

  /** Fails everything pending with `error`, closes the link, emits 'close' once. */
  private shutdown(error: YikaError, why: string): void {
    if (this.closeError) return;
    this.closeError = error;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.channel.setRecordLayer(null);
    if (this.secureInfo.state === 'open') this.secureInfo = { ...this.secureInfo, state: 'closed' };
    const pending = [...this.inFlight.values(), ...this.queue];
    this.inFlight.clear();
    this.queue.length = 0;
    for (const p of pending) {
      this.finish(p);
      p.reject(error);
    }
    this.channel.detach();
    if (!this.link.closed) this.link.close(why);
    this.eventBuffer = null;
    this.emit('close', error);
  }
}
