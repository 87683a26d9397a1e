// Setting up a connection (PROTOCOL.md 5, 10): hello with version, frame size and in-flight limit,
// then the SM secure channel according to the host policy; and the secure channel's rules once it
// is open: a plaintext message inside it tears it down, except the device's scFinish answer again
// (10.2 step 5); a record before this session ever opened a channel is a stray of an earlier one.
import type { YikaError } from '../../common/yika-error.ts';
import type { FrameChannel } from '../frame-channel.ts';
import { MIN_MAX_FRAME } from '../framing.ts';
import { decodeDeviceMessage, LIMITS, type DeviceToHostMessage, type OperationArgs, type OperationResults, type WireOperation } from '../messages.ts';
import { PROTOCOL_VERSION, type DeviceHello, type HelloRequest } from '../operations.ts';
import { ProtocolError } from '../protocol-errors.ts';
import { runHostHandshake, type HostSecureConfig, type SecureChannelInfo, type SecurePolicy } from '../secure/host-handshake.ts';
import { SecureRecordLayer } from '../secure/record-layer.ts';
import { DEFAULT_MAX_IN_FLIGHT } from '../timing.ts';
import type { WireCapture } from './pending-request.ts';
import type { SessionStats } from './session-stats.ts';

export interface SecureSetupOptions {
  host?: string;
  maxInFlight?: number;
  secure?: SecurePolicy;
  trust?: HostSecureConfig;
}

export interface SecureSetupHooks {
  /** Sends a set-up request (it goes out while other requests wait). */
  request<K extends WireOperation>(op: K, args: OperationArgs[K], opts: { signal?: AbortSignal; capture?: WireCapture }): Promise<OperationResults[K]>;
  /** What the device's hello allows: requests at once (the host's limit applied) and its window of ids. */
  limitInFlight(maxInFlight: number, idWindow: number): void;
  /** A new connection starts: no event seq is known until hello is answered. */
  newConnection(): void;
  /** The channel was broken: close the session. */
  shutdown(error: YikaError, why: string): void;
}

export class SecureSetup {
  private peerHello: DeviceHello | undefined;
  private secureInfo: SecureChannelInfo = { state: 'off' };
  /** Id of the answered scFinish: its plaintext answer may arrive again after the switch to records. */
  private scFinishId: number | undefined;
  /** This session has switched records on at least once (a record before that is a stray). */
  private recordsEverUsed = false;

  constructor(
    private readonly channel: FrameChannel,
    private readonly options: SecureSetupOptions,
    private readonly stats: SessionStats,
    private readonly hooks: SecureSetupHooks,
  ) {}

  /** The device's hello (after open). */
  get hello(): DeviceHello {
    if (!this.peerHello) throw new ProtocolError('PROTOCOL_INCOMPATIBLE', 'hello has not completed');
    return this.peerHello;
  }

  get info(): SecureChannelInfo {
    return this.secureInfo;
  }

  /** hello, then the secure channel. */
  async run(signal?: AbortSignal): Promise<void> {
    this.hooks.newConnection();
    this.scFinishId = undefined;
    const capture: WireCapture = {};
    const hello = await this.sayHello(signal, capture);
    this.secureInfo = await runHostHandshake({
      policy: this.options.secure ?? 'preferred',
      trust: this.options.trust,
      hello,
      helloRequestBytes: capture.sent ?? new Uint8Array(),
      helloResultBytes: capture.received ?? new Uint8Array(),
      request: (op, args) => this.hooks.request(op, args, { signal }),
      // From scFinish on the device may already send records (its plaintext answer may be lost).
      prepareRecords: (layer) => {
        this.recordsEverUsed = true;
        this.channel.setRecordLayer(layer, 'receive');
      },
      enableRecords: (layer) => this.channel.setRecordLayer(layer),
    });
  }

  /** Says hello and applies what the device answered: version, frame size, requests in flight. */
  private async sayHello(signal: AbortSignal | undefined, capture: WireCapture): Promise<DeviceHello> {
    this.hooks.limitInFlight(1, 1);
    const helloReq: HelloRequest = { versions: [PROTOCOL_VERSION], maxFrame: this.channel.decoder.maxFrame };
    if (this.options.host) helloReq.host = this.options.host.slice(0, LIMITS.maxShortText);
    const hello = await this.hooks.request('hello', [helloReq], { signal, capture });
    if (hello.version !== PROTOCOL_VERSION) {
      throw new ProtocolError('PROTOCOL_INCOMPATIBLE', `the reader chose protocol version ${hello.version}; this host speaks ${PROTOCOL_VERSION}`, { version: hello.version });
    }
    if (hello.maxFrame < MIN_MAX_FRAME) {
      throw new ProtocolError('PROTOCOL_INCOMPATIBLE', `the reader's maxFrame ${hello.maxFrame} is below the v1 minimum ${MIN_MAX_FRAME}`, { maxFrame: hello.maxFrame });
    }
    this.peerHello = hello;
    this.channel.encoder.maxFrame = Math.min(hello.maxFrame, this.channel.decoder.maxFrame, 262_144);
    this.hooks.limitInFlight(Math.max(1, Math.min(this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, hello.maxInFlight ?? 1)), hello.maxInFlight ?? 1);
    return hello;
  }

  /** The device answered scFinish with this id. */
  finished(id: number): void {
    this.scFinishId = id;
  }

  /** The device was reset: it forgot the connection (plaintext, not ready until hello). */
  forgetChannel(): void {
    this.channel.setRecordLayer(null);
    this.secureInfo = { state: 'off' };
  }

  /** The session closed. */
  close(): void {
    this.channel.setRecordLayer(null);
    if (this.secureInfo.state === 'open') this.secureInfo = { ...this.secureInfo, state: 'closed' };
  }

  /**
   * A plaintext message inside the channel. The one allowed: the device's scFinish answer again (its
   * first copy was delayed or our scFinish was repeated). Anything else is an attack or a broken device.
   */
  onPlaintextInside(bytes: Uint8Array): void {
    let msg: DeviceToHostMessage | undefined;
    try {
      msg = decodeDeviceMessage(bytes);
    } catch {
      msg = undefined;
    }
    if (msg?.kind === 'result' && msg.id === this.scFinishId) {
      this.stats.duplicateAnswers++;
      return;
    }
    this.hooks.shutdown(new ProtocolError('SECURE_CHANNEL_REJECTED', 'a plaintext message arrived inside the secure channel'), 'plaintext inside the secure channel');
  }

  /** A record failed its check, or arrived when no channel is open (`error` undefined). */
  onRecordError(error: unknown): void {
    // A record before this session ever opened a channel is a leftover of an earlier connection on
    // the same line (a late repeat of its last answer): the device drops that channel at our hello.
    if (error === undefined && !this.recordsEverUsed) {
      this.stats.strayRecords++;
      return;
    }
    this.hooks.shutdown(
      error instanceof ProtocolError ? error : new ProtocolError('SECURE_CHANNEL_REJECTED', 'a record arrived but no secure channel is open'),
      'secure channel record rejected',
    );
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
}
