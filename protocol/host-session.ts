// The host side of the reader protocol: ReaderOperations over a ByteLink. One HostSession per
// connected reader; this file is its public face and wires its parts together (protocol/host/):
//   request-window.ts   ids, the bounded queue, requests in flight within the device's window,
//                       timeouts, cancellation; retransmission.ts and rtt-estimator.ts: loss recovery
//   secure-setup.ts     hello and the SM secure channel, and the channel's rules once open
//   event-sequencer.ts  events in order, lost events reported as `eventGap`
//   keepalive.ts        pings an idle, silent link; a ping unanswered closes the session
// When the link drops, every pending request fails with LINK_CLOSED: nothing ever hangs.
import { EventEmitter } from 'node:events';
import type { YikaError } from '../common/yika-error.ts';
import { splitBatchByAnswerSize } from './answer-size.ts';
import { DeviceError } from './device-error.ts';
import { FrameChannel, type FrameChannelCounters } from './frame-channel.ts';
import { EventSequencer, type EventGap } from './host/event-sequencer.ts';
import { Keepalive } from './host/keepalive.ts';
import type { WireCapture } from './host/pending-request.ts';
import { RequestWindow } from './host/request-window.ts';
import { SecureSetup } from './host/secure-setup.ts';
import { createSessionStats } from './host/session-stats.ts';
import type { ByteLink, LinkCloseReason } from './link.ts';
import { decodeDeviceMessage, pingNextEvent, type DeviceToHostMessage, type ErrorMessage, type OperationArgs, type OperationResults, type ResultMessage, type WireOperation } from './messages.ts';
import type { BatchCommand, BatchResult, DeviceEvent, DeviceHello, DeviceInfo, HelloRequest, PowerOnResult, ProtocolParams, ReaderOperations, SlotStatus } from './operations.ts';
import { LinkClosedError, ProtocolError } from './protocol-errors.ts';
import type { HostSecureConfig, SecureChannelInfo, SecurePolicy } from './secure/host-handshake.ts';
import { DEFAULT_HOST_MAX_FRAME, DEFAULT_KEEPALIVE_MS, DEFAULT_MAX_QUEUE, DEFAULT_PING_TIMEOUT_MS, DEFAULT_TIMEOUTS_MS } from './timing.ts';

export type { EventGap } from './host/event-sequencer.ts';

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
  private readonly stats = createSessionStats();
  private readonly window: RequestWindow;
  private readonly setup: SecureSetup;
  private readonly sequencer: EventSequencer;
  private readonly keepalive: Keepalive;
  private closeError: YikaError | undefined;

  private constructor(
    readonly link: ByteLink,
    private readonly options: HostSessionOptions,
  ) {
    super();
    this.timeouts = { ...DEFAULT_TIMEOUTS_MS, ...options.timeouts };
    this.channel = new FrameChannel(link, options.maxFrame ?? DEFAULT_HOST_MAX_FRAME, {
      onMessage: (bytes, sealed) => this.onMessage(bytes, sealed),
      onRecordError: (e) => this.setup.onRecordError(e),
    });
    this.window = new RequestWindow(this.channel, this.timeouts, options.maxQueue ?? DEFAULT_MAX_QUEUE, options, this.stats, {
      isClosed: () => this.closed,
      retransmit: (info) => this.emit('retransmit', info),
      answered: (op, msg) => this.onAnswered(op, msg),
    });
    this.setup = new SecureSetup(this.channel, options, this.stats, {
      request: (op, args, opts) => this.request(op, args, { ...opts, setup: true }),
      limitInFlight: (maxInFlight, idWindow) => {
        this.window.maxInFlight = maxInFlight;
        this.window.idWindow = idWindow;
      },
      newConnection: () => this.sequencer.forget(),
      shutdown: (error, why) => this.shutdown(error, why),
    });
    this.sequencer = new EventSequencer(this.stats, {
      event: (e) => this.emit('event', e),
      gap: (g) => this.emit('eventGap', g),
      isClosed: () => this.closed,
    });
    this.keepalive = new Keepalive(options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS, options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS, {
      idle: () => !this.closed && this.window.size === 0,
      ping: (timeoutMs) => {
        this.stats.pings++;
        return this.request('ping', [], { timeoutMs });
      },
      dead: (error) => this.shutdown(error, 'peer dead'),
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
      await session.window.exclusive(() => session.setup.run(options.signal));
    } catch (e) {
      session.shutdown(e instanceof ProtocolError || e instanceof DeviceError ? e : new LinkClosedError('session setup failed'), 'session setup failed');
      throw e;
    }
    session.keepalive.start();
    // Events that arrived during open go out after the caller had a chance to subscribe.
    setImmediate(() => session.sequencer.flush());
    return session;
  }

  /** The device's hello (after open). */
  get deviceHello(): DeviceHello {
    return this.setup.hello;
  }

  /** Secure-channel state for the reader list: open or off, suite, authenticated device identity. */
  get secureChannel(): SecureChannelInfo {
    return this.setup.info;
  }

  get closed(): boolean {
    return this.closeError !== undefined;
  }

  /** Why the session closed (undefined while open). */
  get closeReason(): YikaError | undefined {
    return this.closeError;
  }

  get counters(): HostSessionCounters {
    return { ...this.channel.counters, ...this.stats, rtoMs: Math.round(this.window.retransmission.rtt.rtoMs) };
  }

  get pendingRequests(): number {
    return this.window.size;
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
  deviceReset(opts?: RequestOptions): Promise<void> {
    return this.window.exclusive(async () => {
      await this.request('deviceReset', [], { ...opts, setup: true }).catch((e: unknown) => {
        // Our retransmission reached a device that had already reset (its answer was lost): done.
        if (!(e instanceof DeviceError && e.code === 'NOT_READY')) throw e;
      });
      // The device answered, then forgot the connection: plaintext and not ready until hello.
      this.setup.forgetChannel();
      const deadline = Date.now() + (opts?.timeoutMs ?? this.timeouts.deviceReset);
      // The device may take a moment to come back: retry hello until the deviceReset budget is spent.
      for (;;) {
        try {
          await this.setup.run(opts?.signal);
          return;
        } catch (e) {
          if (!(e instanceof ProtocolError && e.code === 'PROTOCOL_TIMEOUT') || Date.now() >= deadline) throw e;
        }
      }
    });
  }

  /**
   * Conformance tests only: the next record to the device skips `count` seqs (as if lost on the line);
   * returns the seq it will carry. Throws unless the secure channel is open.
   */
  skipRecordSeq(count: number): number {
    return this.setup.skipRecordSeq(count);
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
      this.window.enqueue(op, args, opts, resolve as (v: unknown) => void, reject);
    });
  }

  // ---- internals ------------------------------------------------------------------------------------

  private onMessage(bytes: Uint8Array, sealed: boolean): void {
    this.keepalive.heard();
    if (this.channel.secure && !sealed) return this.setup.onPlaintextInside(bytes);
    let msg: DeviceToHostMessage;
    try {
      msg = decodeDeviceMessage(bytes);
    } catch {
      this.stats.badMessages++;
      return;
    }
    this.options.observe?.(msg);
    if (msg.kind === 'event') this.sequencer.onEvent(msg.seq, msg.event);
    else this.window.onAnswer(msg, bytes);
  }

  /** An answer matched its request: what hello, scFinish and ping tell the session. */
  private onAnswered(op: WireOperation, msg: ResultMessage | ErrorMessage): void {
    if (msg.kind !== 'result') return;
    if (op === 'hello') this.sequencer.restart();
    if (op === 'scFinish') this.setup.finished(msg.id);
    if (op === 'ping') {
      const next = pingNextEvent(msg.fields);
      if (next !== undefined) this.sequencer.onNextEvent(next);
    }
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
    this.keepalive.stop();
    this.setup.close();
    this.window.failAll(error);
    this.channel.detach();
    if (!this.link.closed) this.link.close(why);
    this.sequencer.stop();
    this.emit('close', error);
  }
}
