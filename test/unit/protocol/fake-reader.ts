// A small in-memory reader for protocol tests: one contact slot with a card, one empty contactless
// slot, one SAM slot. It answers APDUs with their data echoed and 9000, and lets a test delay,
// hang or remove the card during a transmit. Not the simulator: just enough firmware to test sessions.
// A card on T=0 (a SAM slot) answers a command carrying data with 61xx and gives the echo to the GET
// RESPONSE that follows at once (any other command discards it), as T=0 cards do.
import { DeviceError } from '../../../protocol/device-error.ts';
import type {
  BatchCommand,
  BatchResult,
  DeviceHello,
  DeviceInfo,
  HelloRequest,
  PowerOnResult,
  ProtocolParams,
  ReaderOperations,
  SlotStatus,
} from '../../../protocol/operations.ts';

export const FAKE_ATR = Uint8Array.from([0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f, 0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6a]);

interface FakeSlot {
  kind: 'contact' | 'contactless' | 'sam';
  card: boolean;
  powered: boolean;
  protocol: 0 | 1;
  /** T=0: the data a 61xx answer announced, until the next command. */
  pending?: Uint8Array;
}

export class FakeReader implements ReaderOperations {
  readonly slots = new Map<number, FakeSlot>([
    [0x01, { kind: 'contact', card: true, powered: false, protocol: 1 }],
    [0x02, { kind: 'contactless', card: false, powered: false, protocol: 1 }],
    [0x11, { kind: 'sam', card: true, powered: false, protocol: 0 }],
  ]);
  /** Delay of every transmit in ms. */
  transmitDelayMs = 0;
  /** A transmit never answers (the card hangs). */
  hangTransmit = false;
  /** Remove the card of this slot during the next transmit (→ CARD_REMOVED). */
  removeDuringTransmit: number | undefined;
  /** ping never answers (dead-peer tests). */
  hangPing = false;
  serial = 'FAKE-0001';
  calls: string[] = [];
  private readonly started = Date.now();

  async hello(_request: HelloRequest): Promise<DeviceHello> {
    this.calls.push('hello');
    return {
      version: 1,
      vendor: 'Yika',
      model: 'FAKE-1',
      serial: this.serial,
      firmware: '0.0.1',
      slots: [...this.slots].map(([id, s]) => ({ id, kind: s.kind })),
      qrScanner: true,
      maxFrame: 66_560,
      secureChannel: 'none',
      batch: true,
      maxBatch: 16,
    };
  }

  private slot(id: number): FakeSlot {
    const s = this.slots.get(id);
    if (!s) throw new DeviceError('BAD_SLOT', `no slot ${id}`);
    return s;
  }

  private powered(id: number): FakeSlot {
    const s = this.slot(id);
    if (!s.card) throw new DeviceError('NO_CARD');
    if (!s.powered) throw new DeviceError('CARD_NOT_POWERED');
    return s;
  }

  async slotStatus(slot?: number): Promise<SlotStatus[]> {
    const ids = slot === undefined ? [...this.slots.keys()] : [slot];
    return ids.map((id) => {
      const s = this.slot(id);
      const st: SlotStatus = { slot: id, card: !s.card ? 'absent' : s.powered ? 'powered' : 'present' };
      if (s.powered) {
        st.atr = FAKE_ATR;
        st.protocol = s.protocol;
      }
      return st;
    });
  }

  async powerOn(slot: number): Promise<PowerOnResult> {
    const s = this.slot(slot);
    if (!s.card) throw new DeviceError('NO_CARD');
    s.powered = true;
    s.pending = undefined;
    return { atr: FAKE_ATR, protocol: s.protocol };
  }

  async powerOff(slot: number): Promise<void> {
    this.slot(slot).powered = false;
  }

  async resetCard(slot: number): Promise<PowerOnResult> {
    const s = this.powered(slot);
    return { atr: FAKE_ATR, protocol: s.protocol };
  }

  async setParams(slot: number, params: ProtocolParams): Promise<ProtocolParams> {
    const s = this.powered(slot);
    // FAKE_ATR has no TA1: only the default rate (PROTOCOL.md 6.1).
    if ((params.fi ?? 372) !== 372 || (params.di ?? 1) !== 1) throw new DeviceError('CARD_PROTOCOL_ERROR', 'the card offers no TA1: PPS refused');
    s.protocol = params.protocol;
    return { protocol: params.protocol, fi: 372, di: 1 };
  }

  async transmit(slot: number, apdu: Uint8Array): Promise<Uint8Array> {
    this.calls.push('transmit');
    const s = this.powered(slot);
    if (apdu.length > 65_544) throw new DeviceError('APDU_TOO_LONG');
    if (this.hangTransmit) return new Promise(() => {});
    if (this.removeDuringTransmit === slot) {
      this.removeDuringTransmit = undefined;
      await new Promise((r) => setTimeout(r, 5));
      s.card = false;
      s.powered = false;
      throw new DeviceError('CARD_REMOVED');
    }
    if (this.transmitDelayMs) await new Promise((r) => setTimeout(r, this.transmitDelayMs));
    if (s.protocol === 0 && s.kind === 'sam') return t0Answer(s, apdu);
    const out = new Uint8Array(Math.max(0, apdu.length - 5) + 2);
    out.set(apdu.subarray(5, 5 + out.length - 2));
    out[out.length - 2] = 0x90;
    out[out.length - 1] = 0x00;
    return out;
  }

  async transmitBatch(slot: number, commands: ReadonlyArray<BatchCommand>): Promise<BatchResult> {
    if (commands.length > 16) throw new DeviceError('BATCH_TOO_LONG');
    const responses: Uint8Array[] = [];
    for (let i = 0; i < commands.length; i++) {
      // INS 0xB0 with P1 0xFF answers 6A82 (file not found) so tests can exercise stop-on-SW.
      const c = commands[i];
      const r = c.apdu[1] === 0xb0 && c.apdu[2] === 0xff ? Uint8Array.of(0x6a, 0x82) : await this.transmit(slot, c.apdu);
      responses.push(r);
      const sw = (r[r.length - 2] << 8) | r[r.length - 1];
      const expect = c.expect ?? [{ sw: 0x9000, mask: 0xffff }];
      // PROTOCOL.md transmitBatch: 61xx / 6Cxx always stop, else an unexpected SW.
      if (sw >> 8 === 0x61 || sw >> 8 === 0x6c || !expect.some((e) => (sw & e.mask) === e.sw)) return { responses, stoppedAt: i };
    }
    return { responses };
  }

  async ping(): Promise<void> {
    if (this.hangPing) return new Promise(() => {});
  }

  async deviceReset(): Promise<void> {
    for (const s of this.slots.values()) s.powered = false;
  }

  async deviceInfo(): Promise<DeviceInfo> {
    return { uptimeMs: Date.now() - this.started, counters: { transmits: this.calls.filter((c) => c === 'transmit').length }, notes: ['fake reader'] };
  }
}

/** T=0 echo card: data in → 61xx, then 00 C0 with the exact Le gets it (6Cxx for another Le). */
function t0Answer(s: FakeSlot, apdu: Uint8Array): Uint8Array {
  const pending = s.pending;
  s.pending = undefined;
  if (apdu[0] === 0x00 && apdu[1] === 0xc0 && apdu.length === 5) {
    if (!pending) return Uint8Array.of(0x69, 0x85);
    const le = apdu[4] === 0 ? 256 : apdu[4];
    if (le !== pending.length) {
      s.pending = pending;
      return Uint8Array.of(0x6c, pending.length & 0xff);
    }
    return Uint8Array.of(...pending, 0x90, 0x00);
  }
  if (apdu.length > 5) {
    s.pending = apdu.slice(5, 5 + apdu[4]);
    return Uint8Array.of(0x61, s.pending.length & 0xff);
  }
  return Uint8Array.of(0x90, 0x00);
}
