// The reader model: one logical reader (whatever backend it came from) with its slots and their card
// states, its secure-channel state and health, one named FIFO session lock, an APDU trace, and a
// CardChannel per slot for apdu/. A Reader outlives its device: when the device goes away the reader
// stays listed as offline under the same id, and comes back when the backend reconnects.
import { hexUpper } from '../../common/hex.ts';
import type { BatchCommand, BatchResult, CardChannel, TransmitOptions } from '../../apdu/card-channel.ts';
import type { CardRate, CardState, PowerOnResult, ProtocolParams, SlotKind, SlotStatus } from '../../protocol/operations.ts';
import { plaintextDowngrade, type DeviceCardEvent, type DeviceKind, type ReaderDevice } from '../devices/reader-device.ts';
import { offeredRate, parseAtr } from '../../apdu/atr.ts';
import { ApduTrace, type TraceSettings } from './apdu-trace.ts';
import { ReaderError } from './reader-errors.ts';
import { ReaderLeases, type LeaseInfo } from './reader-lease.ts';
import type { Reader as ApiReader, ReaderSlot } from '../api/schemas/readers.ts';
import { ReaderLock } from './reader-lock.ts';

// The reader and its slots as the API shows them (toJSON): the route schemas are their one definition
// (daemon/api/schemas/readers.ts); a model that does not fit the schema is a type error here.
export type SlotModel = ReaderSlot;
/** Fi/Di in effect; with the card clock, the bit rate (clockHz · di / fi). */
type SlotRate = NonNullable<ReaderSlot['rate']>;

/** The rate a reader reported, or undefined when it reported none. */
function slotRate(r: CardRate): SlotRate | undefined {
  if (r.fi === undefined || r.di === undefined || r.fi === 0 || r.di === 0) return undefined;
  const rate: SlotRate = { fi: r.fi, di: r.di };
  if (r.clockHz !== undefined) {
    rate.clockHz = r.clockHz;
    rate.bitRate = Math.round((r.clockHz * r.di) / r.fi);
  }
  return rate;
}

export type ReaderModel = ApiReader;
export type ReaderHealth = ApiReader['health'];

export interface ReaderOptions {
  lockTimeoutMs: number;
  trace?: Partial<TraceSettings>;
  /** Called for every device event after the model is updated (the registry publishes them). */
  onEvent?: (reader: Reader, event: DeviceCardEvent) => void;
  /** Counts APDUs and link round trips (metrics). */
  onExchange?: (reader: Reader, kind: 'apdu' | 'roundtrip', count: number) => void;
}

export interface ReaderStats {
  apdus: number;
  roundTrips: number;
}

/** The operations a caller may do while holding the reader's session lock. */
export interface ReaderSession {
  readonly reader: Reader;
  slot(slot: number): SlotModel;
  powerOn(slot: number): Promise<PowerOnResult>;
  powerOff(slot: number): Promise<void>;
  /** Powers the card on unless it is already powered; returns the ATR. */
  ensurePowered(slot: number): Promise<Uint8Array>;
  /**
   * A CardChannel to the card in `slot`. Its next transmit fails with CARD_CHANGED (before sending)
   * once the card of that slot was removed or replaced after the channel was made, so no operation
   * ever mixes data of two cards; a response that arrived is always returned.
   */
  channel(slot: number, options?: { batch?: boolean }): CardChannel;
}

export class Reader {
  readonly lock: ReaderLock;
  /** Leases: the lock held across requests by one client (raw APDU sessions of a HIS). */
  readonly leases: ReaderLeases;
  readonly trace: ApduTrace;
  readonly stats: ReaderStats = { apdus: 0, roundTrips: 0 };
  private device: ReaderDevice | undefined;
  private unsubscribe: (() => void) | undefined;
  private slots = new Map<number, SlotModel & { epoch: number; powerEpoch: number }>();
  private health: ReaderHealth = 'ok';
  private healthDetail: string | undefined;
  private info: Pick<ReaderModel, 'name' | 'vendor' | 'model' | 'firmware' | 'serial' | 'secureChannel' | 'batch'>;

  constructor(
    readonly id: string,
    readonly kind: DeviceKind,
    readonly key: string,
    device: ReaderDevice,
    private readonly options: ReaderOptions,
  ) {
    this.lock = new ReaderLock(id, options.lockTimeoutMs);
    this.leases = new ReaderLeases(id, this.lock);
    this.trace = new ApduTrace(options.trace);
    this.info = this.describe(device);
    this.attach(device);
  }

  /** The device this reader is attached to now (undefined while offline). */
  get currentDevice(): ReaderDevice | undefined {
    return this.device;
  }

  get online(): boolean {
    return this.device !== undefined;
  }

  get currentHealth(): ReaderHealth {
    return this.health;
  }

  /** The device in use (tests and diagnostics). */
  get attachedDevice(): ReaderDevice | undefined {
    return this.device;
  }

  attach(device: ReaderDevice): void {
    this.unsubscribe?.();
    this.device = device;
    this.info = this.describe(device);
    const previous = this.slots;
    this.slots = new Map();
    for (const s of device.slots) {
      const old = previous.get(s.id);
      this.slots.set(s.id, {
        slot: s.id,
        kind: s.kind,
        label: s.label ?? slotLabel(s.id, s.kind),
        card: 'absent',
        epoch: (old?.epoch ?? 0) + 1,
        powerEpoch: (old?.powerEpoch ?? 0) + 1,
      });
    }
    // A plaintext link under 'preferred' is a downgrade: degraded, with the reason, while it lasts.
    const downgrade = plaintextDowngrade(device);
    this.health = downgrade ? 'degraded' : 'ok';
    this.healthDetail = downgrade;
    this.unsubscribe = device.onEvent((e) => this.onDeviceEvent(e));
  }

  /** Reads the card states once after attach (the backend calls it). */
  /** Returns the slots where it found a card that the model had as absent (the registry announces them). */
  async refreshStatus(): Promise<number[]> {
    const device = this.device;
    if (!device) return [];
    const statuses = await (device.initialStatus?.() ?? device.ops.slotStatus());
    if (this.device !== device) return [];
    const found: number[] = [];
    for (const st of statuses) {
      if (this.slots.get(st.slot)?.card === 'absent' && st.card !== 'absent') found.push(st.slot);
      this.applyStatus(st);
    }
    return found;
  }

  detach(reason: string): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.device = undefined;
    this.health = 'offline';
    this.healthDetail = reason;
    for (const s of this.slots.values()) {
      s.card = 'absent';
      s.atr = undefined;
      s.protocol = undefined;
      s.rate = undefined;
      s.epoch++;
      s.powerEpoch++;
    }
  }

  degrade(detail: string): void {
    if (this.device) {
      this.health = 'degraded';
      this.healthDetail = detail;
    }
  }

  toJSON(): ReaderModel {
    return {
      id: this.id,
      kind: this.kind,
      ...this.info,
      slots: [...this.slots.values()].map(({ epoch: _e, powerEpoch: _p, ...s }) => ({ ...s })),
      health: this.health,
      ...(this.healthDetail ? { healthDetail: this.healthDetail } : {}),
      session: { heldBy: this.lock.heldBy ?? null, waiting: this.lock.waiting },
    };
  }

  hasSlot(slot: number): boolean {
    return this.slots.has(slot);
  }

  slotsOfKind(kind: SlotKind): number[] {
    return [...this.slots.values()].filter((s) => s.kind === kind).map((s) => s.slot);
  }

  /** Incremented whenever the slot's card is powered on or replaced: a SAM PIN is verified once per value. */
  powerEpoch(slot: number): number {
    return this.slotState(slot).powerEpoch;
  }

  /** Runs `fn` holding the reader's session lock (FIFO, READER_BUSY after the timeout). */
  session<T>(name: string, fn: (session: ReaderSession) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.lock.run(
      name,
      () => {
        this.ops(); // READER_OFFLINE before anything else: an offline reader has no card state to report
        return fn(this.makeSession());
      },
      options.timeoutMs,
    );
  }

  /** Acquires a lease (reader-lease.ts); READER_OFFLINE once granted if the reader is offline, as for a session. */
  acquireLease(options: { waitMs?: number; idleMs?: number }): Promise<LeaseInfo> {
    return this.leases.acquire({ ...options, check: () => void this.ops() });
  }

  /**
   * Runs `fn` under the lease `lease` when given (LEASE_NOT_FOUND if it is not the reader's active
   * lease), else holding the session lock like `session`.
   */
  sessionOrLease<T>(lease: string | undefined, name: string, fn: (session: ReaderSession) => Promise<T>): Promise<T> {
    if (lease === undefined) return this.session(name, fn);
    return this.leases.run(lease, async () => {
      this.ops();
      return fn(this.makeSession());
    });
  }

  private makeSession(): ReaderSession {
    return {
      reader: this,
      slot: (slot) => {
        const { epoch: _e, powerEpoch: _p, ...s } = this.slotState(slot);
        return { ...s };
      },
      powerOn: (slot) => this.powerOn(slot),
      powerOff: (slot) => this.powerOff(slot),
      ensurePowered: async (slot) => {
        const s = this.slotState(slot);
        if (s.card === 'powered' && s.atr) return Uint8Array.from(Buffer.from(s.atr, 'hex'));
        return (await this.powerOn(slot)).atr;
      },
      channel: (slot, options) => this.channel(slot, options?.batch ?? true),
    };
  }

  private ops() {
    if (!this.device) {
      throw new ReaderError('READER_OFFLINE', `Reader ${this.id} is offline${this.healthDetail ? `: ${this.healthDetail}` : ''}`, { readerId: this.id });
    }
    return this.device.ops;
  }

  private slotState(slot: number) {
    const s = this.slots.get(slot);
    if (!s) {
      throw new ReaderError('SLOT_NOT_FOUND', `Reader ${this.id} has no slot ${slot}`, { readerId: this.id, slot, slots: [...this.slots.keys()] });
    }
    return s;
  }

  private async powerOn(slot: number): Promise<PowerOnResult> {
    const s = this.slotState(slot);
    const ops = this.ops();
    this.count('roundtrip', 1);
    let result = await ops.powerOn(slot);
    result = await this.negotiate(slot, result);
    s.card = 'powered';
    s.atr = hexUpper(result.atr);
    s.protocol = result.protocol;
    s.rate = slotRate(result);
    s.powerEpoch++;
    return result;
  }

  /**
   * PPS after the ATR, as a CCID reader does on its own: the fastest Fi/Di the card offers in TA1
   * (reads at the card's speed: at TA1 = 95 a byte takes 88 µs instead of 1 ms), and T=1 when the card
   * offers it (T=1 carries whole responses, so a batch does not stop at every 61xx for a GET RESPONSE).
   * Correctness does not depend on either: if the device refuses the faster rate, the host asks for the
   * protocol alone; if that is refused too, the card stays as the ATR left it. A reader that already
   * did PPS itself reports the rate in its powerOn result (PROTOCOL.md 6.1) and nothing is sent.
   */
  private async negotiate(slot: number, result: PowerOnResult): Promise<PowerOnResult> {
    const ops = this.device?.ops;
    if (!ops?.setParams) return result;
    let protocol = result.protocol;
    let offered: { fi: number; di: number } | undefined;
    try {
      if (parseAtr(result.atr).protocols.includes(1)) protocol = 1;
      offered = offeredRate(result.atr);
    } catch {
      return result; // an ATR we cannot parse: keep what the reader chose
    }
    const current = (result.fi ?? 372) / (result.di ?? 1);
    const faster = offered && offered.fi / offered.di < current ? offered : undefined;
    if (protocol === result.protocol && !faster) return result;
    const attempts: ProtocolParams[] = faster ? [{ protocol, ...faster }, { protocol }] : [{ protocol }];
    for (const params of attempts) {
      try {
        this.count('roundtrip', 1);
        const p = await ops.setParams(slot, params);
        return { ...result, protocol: p.protocol, fi: p.fi ?? params.fi ?? 372, di: p.di ?? params.di ?? 1, clockHz: p.clockHz ?? result.clockHz };
      } catch {
        // PPS refused: try the next, slower choice
      }
    }
    return result;
  }

  private async powerOff(slot: number): Promise<void> {
    const s = this.slotState(slot);
    const ops = this.ops();
    this.count('roundtrip', 1);
    await ops.powerOff(slot);
    this.markUnpowered(s);
  }

  /** The card stays in but needs a new power-on: a new power epoch re-powers it and re-verifies the SAM. */
  private markUnpowered(s: SlotModel & { powerEpoch: number }): void {
    if (s.card === 'powered') s.card = 'present';
    s.atr = undefined;
    s.protocol = undefined;
    s.rate = undefined;
    s.powerEpoch++;
  }

  /**
   * The slot's CardChannel. Every transmit first checks that the card of this channel is still the
   * one in the slot (CARD_CHANGED otherwise, before anything is sent), so no operation ever mixes two
   * cards. A response the card gave is always returned, even when the card-removed event overtook it
   * on its way back: the card executed that command (an UPDATE it acknowledged is written), and the
   * removal is reported by the next transmit. A split batch returns the parts that ran, with
   * `interrupted`, when the card left between two parts.
   */
  private channel(slot: number, batch: boolean): CardChannel {
    const state = this.slotState(slot);
    const epoch = state.epoch;
    const check = (): void => {
      if (state.epoch !== epoch || this.slots.get(slot) !== state) {
        throw new ReaderError('CARD_CHANGED', `The card in slot ${slot} of reader ${this.id} was removed or replaced during the operation`, { readerId: this.id, slot });
      }
    };
    const channel: CardChannel = {
      transmit: async (command: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> => {
        check();
        const ops = this.ops();
        const done = this.trace.command(slot, command, options);
        this.count('roundtrip', 1);
        this.count('apdu', 1);
        try {
          const response = await ops.transmit(slot, command);
          done(response);
          return response;
        } catch (e) {
          done(e as Error);
          throw e;
        }
      },
    };
    const device = this.device;
    if (batch && device && device.maxBatch > 1 && device.ops.transmitBatch) {
      channel.transmitBatch = async (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult> => {
        const responses: Uint8Array[] = [];
        for (let from = 0; from < commands.length; from += device.maxBatch) {
          let ops: ReturnType<Reader['ops']>;
          try {
            check();
            ops = this.ops();
            if (!ops.transmitBatch) throw new ReaderError('READER_OFFLINE', `Reader ${this.id} changed while batching`, { readerId: this.id });
          } catch (e) {
            // Nothing of this part was sent; the parts before it ran and their answers stand.
            if (responses.length > 0) return { responses, interrupted: e as Error };
            throw e;
          }
          const chunk = commands.slice(from, from + device.maxBatch);
          const dones = chunk.map((c, i) => this.trace.command(slot, c.apdu, options, `batch ${from + i + 1}/${commands.length}`));
          this.count('roundtrip', 1);
          let result: BatchResult;
          try {
            result = await ops.transmitBatch!(slot, chunk);
          } catch (e) {
            dones.forEach((d) => d(e as Error));
            throw e;
          }
          this.count('apdu', result.responses.length);
          result.responses.forEach((r, i) => dones[i](r));
          responses.push(...result.responses);
          if (result.stoppedAt !== undefined) return { responses, stoppedAt: from + result.stoppedAt };
        }
        return { responses };
      };
    }
    return channel;
  }

  private count(kind: 'apdu' | 'roundtrip', n: number): void {
    if (kind === 'apdu') this.stats.apdus += n;
    else this.stats.roundTrips += n;
    this.options.onExchange?.(this, kind, n);
  }

  private applyStatus(st: SlotStatus): void {
    const s = this.slots.get(st.slot);
    if (!s) return;
    s.card = st.card;
    s.atr = st.atr ? hexUpper(st.atr) : undefined;
    s.protocol = st.protocol;
    s.rate = st.card === 'powered' ? slotRate(st) : undefined;
  }

  private onDeviceEvent(e: DeviceCardEvent): void {
    if (e.type === 'card.unpowered') {
      // Same card, new power-on needed: a new power epoch makes the next operation power it on
      // again and re-verify the SAM PIN (the card's security state is gone too).
      const s = this.slots.get(e.slot);
      if (s) this.markUnpowered(s);
      return;
    }
    if (e.type === 'card.inserted' || e.type === 'card.removed') {
      const s = this.slots.get(e.slot);
      if (s) {
        s.epoch++;
        s.powerEpoch++;
        s.card = e.type === 'card.inserted' ? 'present' : 'absent';
        s.atr = undefined;
        s.protocol = undefined;
        s.rate = undefined;
      }
    }
    this.options.onEvent?.(this, e);
  }

  private describe(device: ReaderDevice) {
    return {
      name: device.name,
      vendor: device.vendor,
      model: device.model,
      firmware: device.firmware,
      ...(device.serial ? { serial: device.serial } : {}),
      secureChannel: { ...device.secure },
      batch: { supported: device.maxBatch > 1 && !!device.ops.transmitBatch, max: device.maxBatch },
    };
  }
}

function slotLabel(slot: number, kind: SlotKind): string {
  if (kind === 'sam') return `SAM${slot >= 0x11 && slot <= 0x14 ? slot - 0x10 : slot}`;
  if (kind === 'contactless') return 'contactless';
  return 'user card';
}
