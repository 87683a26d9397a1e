// Raw protocol access for conformance checks: write any bytes or any msgpack map as a frame, and wait
// for the device's plaintext answer to a given id. Used for what a well-behaved HostSession never
// sends: requests before hello, unknown operations, malformed fields, broken frames.
import { FrameDecoder, FrameEncoder, MAX_MAX_FRAME } from '../../protocol/framing.ts';
import type { ByteLink } from '../../protocol/link.ts';
import { decodeDeviceMessage, packMap, type DeviceToHostMessage, type WireMap } from '../../protocol/messages.ts';

export class RawClient {
  readonly encoder = new FrameEncoder(MAX_MAX_FRAME);
  private readonly decoder = new FrameDecoder(MAX_MAX_FRAME);
  /** Every decodable plaintext message received, in order. */
  readonly received: DeviceToHostMessage[] = [];
  /** Frames that were records (0xC1) or not valid messages. */
  undecodable = 0;
  private waiters: Array<{ id: number; resolve: (m: DeviceToHostMessage | undefined) => void; timer: ReturnType<typeof setTimeout> }> = [];
  private nextId = 0x7000_0000;
  private readonly unsubscribe: () => void;

  constructor(readonly link: ByteLink) {
    this.unsubscribe = link.onData((bytes) => {
      for (const p of this.decoder.push(bytes)) {
        let m: DeviceToHostMessage;
        try {
          m = decodeDeviceMessage(p);
        } catch {
          this.undecodable++;
          continue;
        }
        this.received.push(m);
        // Events and pending notices are not answers.
        if (m.kind === 'event' || m.kind === 'pending') continue;
        const i = this.waiters.findIndex((w) => w.id === m.id);
        if (i >= 0) {
          const [w] = this.waiters.splice(i, 1);
          clearTimeout(w.timer);
          w.resolve(m);
        }
      }
    });
  }

  id(): number {
    return this.nextId++;
  }

  writeBytes(bytes: Uint8Array): void {
    this.link.write(bytes);
  }

  writePayload(payload: Uint8Array): void {
    this.link.write(this.encoder.encode(payload));
  }

  /** Sends a map as one frame and waits for the answer with its id (undefined on timeout). */
  request(map: WireMap & { id: number }, timeoutMs: number): Promise<DeviceToHostMessage | undefined> {
    const answer = this.waitFor(map.id, timeoutMs);
    this.writePayload(packMap(map));
    return answer;
  }

  waitFor(id: number, timeoutMs: number): Promise<DeviceToHostMessage | undefined> {
    const seen = this.received.find((m) => (m.kind === 'result' || m.kind === 'error') && m.id === id);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push({ id, resolve, timer });
    });
  }

  close(): void {
    this.unsubscribe();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters = [];
  }
}
