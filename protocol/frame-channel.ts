// Frames on a ByteLink, with the secure channel's record layer switched in once it is open. Both the
// host and the device session send and receive message bytes through one FrameChannel.
//
// A record payload starts with 0xC1, the one byte MessagePack never uses, so a record can never be
// mistaken for a plain message (which starts with a map byte) and the other way round.
import { FrameDecoder, FrameEncoder, MIN_MAX_FRAME, type FrameDecoderCounters } from './framing.ts';
import type { ByteLink } from './link.ts';

export const RECORD_MARKER = 0xc1;

/** Seals and opens records; throws (a YikaError) on any record that fails its checks. */
export interface RecordProtector {
  seal(plain: Uint8Array): Uint8Array;
  open(record: Uint8Array): Uint8Array;
  /** Bytes a sealed record adds to the message. */
  readonly overhead: number;
}

export interface FrameChannelCounters extends FrameDecoderCounters {
  framesOut: number;
  bytesOut: number;
  recordsIn: number;
  recordsOut: number;
  recordErrors: number;
}

export interface FrameChannelHandlers {
  /** A plain message (outside the channel) or the opened content of a record. `sealed` says which. */
  onMessage(bytes: Uint8Array, sealed: boolean): void;
  /** A record failed its check (tampered, replayed …) or arrived when no channel is open. */
  onRecordError(error: unknown): void;
}

export class FrameChannel {
  readonly decoder: FrameDecoder;
  readonly encoder: FrameEncoder;
  private recordLayer: RecordProtector | null = null;
  /** 'receive': records are opened but messages still go out in plaintext (the host between scFinish and its answer). */
  private recordMode: 'both' | 'receive' = 'both';
  /** performance.now() of the last bytes received (for the retransmission timer: an answer may be arriving). */
  lastRxAt = 0;
  private out = { framesOut: 0, bytesOut: 0, recordsIn: 0, recordsOut: 0, recordErrors: 0 };
  private readonly unsubscribe: () => void;

  constructor(
    readonly link: ByteLink,
    maxFrame: number,
    private readonly handlers: FrameChannelHandlers,
  ) {
    this.decoder = new FrameDecoder(maxFrame);
    // Until hello has told us the peer's limit, send nothing larger than every peer must accept.
    this.encoder = new FrameEncoder(Math.min(maxFrame, MIN_MAX_FRAME));
    this.unsubscribe = link.onData((bytes) => this.receive(bytes));
  }

  get records(): RecordProtector | null {
    return this.recordLayer;
  }

  /** Records both ways (the channel is open). */
  get secure(): boolean {
    return this.recordLayer !== null && this.recordMode === 'both';
  }

  /**
   * Switch records on (after the handshake) or off (a reset). `receive`: open incoming records with
   * the layer but keep sending plaintext — the host after sending scFinish, whose answer may be lost
   * while the device already sends records.
   */
  setRecordLayer(layer: RecordProtector | null, mode: 'both' | 'receive' = 'both'): void {
    this.recordLayer = layer;
    this.recordMode = mode;
  }

  /** A frame is being received (bytes since the last delimiter). */
  get receivingFrame(): boolean {
    return this.decoder.pending > 0;
  }

  get counters(): FrameChannelCounters {
    return { ...this.decoder.counters, ...this.out };
  }

  /** Largest message that fits a frame to the peer, after record overhead. */
  get maxMessage(): number {
    return this.encoder.maxFrame - (this.secure ? this.recordLayer!.overhead : 0);
  }

  /** Sends one message (sealed if the channel is open). Throws if the link is closed or it is too big. */
  send(message: Uint8Array): void {
    const sealed = this.secure;
    const payload = sealed ? this.recordLayer!.seal(message) : message;
    if (sealed) this.out.recordsOut++;
    this.write(payload);
  }

  /** Sends one message in plaintext even while the channel is open (a repeated scFinish answer). */
  sendPlain(message: Uint8Array): void {
    this.write(message);
  }

  private write(payload: Uint8Array): void {
    const frame = this.encoder.encode(payload);
    this.link.write(frame);
    this.out.framesOut++;
    this.out.bytesOut += frame.length;
  }

  detach(): void {
    this.unsubscribe();
  }

  private receive(bytes: Uint8Array): void {
    this.lastRxAt = performance.now();
    for (const payload of this.decoder.push(bytes)) {
      if (payload[0] === RECORD_MARKER) {
        if (!this.recordLayer) {
          this.out.recordErrors++;
          this.handlers.onRecordError(undefined);
          continue;
        }
        let plain: Uint8Array;
        try {
          plain = this.recordLayer.open(payload);
        } catch (e) {
          this.out.recordErrors++;
          this.handlers.onRecordError(e);
          continue;
        }
        this.out.recordsIn++;
        this.handlers.onMessage(plain, true);
      } else {
        this.handlers.onMessage(payload, false);
      }
      if (this.link.closed) return;
    }
  }
}
