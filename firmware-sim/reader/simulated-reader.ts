// The simulated desk reader: the device side of ReaderOperations. It owns the slots (a contact slot,
// a contactless field, four SAM slots), moves cards in and out at any time, drives them through
// power-up, PPS and APDU exchanges, and charges every exchange its modelled physical time.
import { slotIdText } from '../../protocol/slot-id.ts';
import type {
  BatchCommand,
  BatchResult,
  DeviceEvent,
  DeviceHello,
  DeviceInfo,
  HelloRequest,
  PowerOnResult,
  ProtocolParams,
  ReaderOperations,
  SlotInfo,
  SlotStatus,
} from '../../protocol/operations.ts';
import { PROTOCOL_VERSION } from '../../protocol/operations.ts';
import type { SimCard } from '../sim-card.ts';
import { SimClock } from '../timing/sim-clock.ts';
import {
  addTime,
  atrUs,
  cardIoUs,
  contactlessIoUs,
  DI_TABLE,
  FI_TABLE,
  hostLinkUs,
  ppsUs,
  timingConfig,
  totalUs,
  workWaitingUs,
  zeroTime,
  type ModelledTime,
  type TimingConfig,
  type TimingOverrides,
} from '../timing/timing-model.ts';
import { parseAtrParameters, type AtrParameters } from './atr-parameters.ts';
import { deviceFailure } from './device-failure.ts';

export const CONTACT_SLOT = 0x01;
export const CONTACTLESS_SLOT = 0x02;
export const SAM_SLOTS: readonly number[] = [0x11, 0x12, 0x13, 0x14];

export const DEFAULT_SLOTS: readonly SlotInfo[] = [
  { id: CONTACT_SLOT, kind: 'contact' },
  { id: CONTACTLESS_SLOT, kind: 'contactless' },
  ...SAM_SLOTS.map((id): SlotInfo => ({ id, kind: 'sam' })),
];

/** Largest command APDU: extended case 4 = 4 header + 3 Lc + 65 535 data + 2 Le. */
export const MAX_APDU = 65_544;
/** Largest frame payload: one extended APDU or response plus generous room for the message envelope. */
export const DEFAULT_MAX_FRAME = 131_072;
const DEFAULT_MAX_BATCH = 64;

/** What the fault injector may do around an APDU (see firmware-sim/faults). */
export type ApduFault =
  /** The card leaves before the command reaches it: the command is not executed. */
  | 'remove-before'
  /** The card executes the command, then leaves before the response: the response is lost. */
  | 'remove-during'
  /** The card stops answering from this command on. */
  | 'mute';

export interface ReaderFaultHooks {
  /** Before the n-th APDU (1-based, counted per slot since the card was inserted). */
  beforeApdu?(slot: number, n: number): ApduFault | undefined;
  /** After the n-th APDU's response is delivered: 'remove' takes the card out right after. */
  afterApdu?(slot: number, n: number): 'remove' | undefined;
  /** Extra card processing time (a slow card), microseconds, per APDU. */
  extraDelayUs?(slot: number): number;
}

export interface ReaderOptions {
  serial?: string;
  firmware?: string;
  model?: string;
  slots?: readonly SlotInfo[];
  qrScanner?: boolean;
  secureChannel?: DeviceHello['secureChannel'];
  maxFrame?: number;
  maxBatch?: number;
  timing?: TimingOverrides;
  /** 0 = no real delays (default), 1 = real time. */
  speed?: number;
  /** Busy events bracket operations whose modelled time reaches this (µs). Default 100 ms. */
  busyThresholdUs?: number;
  faults?: ReaderFaultHooks;
}

interface Slot {
  info: SlotInfo;
  card?: SimCard;
  powered: boolean;
  /** The card went silent (fault or mute card) since insertion. */
  muted: boolean;
  atr?: Uint8Array;
  atrParams?: AtrParameters;
  protocol: 0 | 1;
  fi: number;
  di: number;
  apduCount: number;
  /** Aborted when the card leaves: interrupts exchanges in flight. */
  presence: AbortController;
  /** Serialises operations on the slot: one exchange at a time, like one card UART. */
  tail: Promise<unknown>;
}

export type ReaderOperationName = 'powerOn' | 'resetCard' | 'setParams' | 'transmit' | 'transmitBatch';

function swOf(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2] << 8) | response[response.length - 1] : 0;
}

/**
 * PROTOCOL.md transmitBatch: go on only if `(SW & mask) == sw` for an entry of `expect` (absent = 9000),
 * and never after SW1 = 61 or 6C whatever `expect` says: on T=0 the card keeps 61xx data only until
 * the next command (which must be the host's GET RESPONSE), and a 6Cxx command must be resent with
 * Le = SW2 in the same card state. The host repairs and resumes with a new batch.
 */
function batchContinues(sw: number, command: BatchCommand): boolean {
  const sw1 = sw >> 8;
  if (sw1 === 0x61 || sw1 === 0x6c) return false;
  const expect = command.expect ?? [{ sw: 0x9000, mask: 0xffff }];
  return expect.some((e) => (sw & e.mask) === e.sw);
}

export class SimulatedReader implements ReaderOperations {
  readonly vendor = 'Yika';
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly timing: TimingConfig;
  readonly clock: SimClock;
  faults: ReaderFaultHooks;

  #slots = new Map<number, Slot>();
  #listeners = new Set<(event: DeviceEvent) => void>();
  #resetListeners = new Set<() => void>();
  #counterSources = new Set<() => Record<string, number>>();
  #counters: Record<string, number> = {};
  #startedAt = Date.now();
  #modelled = zeroTime();
  #modelledByOp = new Map<ReaderOperationName, ModelledTime>();
  #last?: { operation: ReaderOperationName; time: ModelledTime };
  readonly #options: Required<Pick<ReaderOptions, 'qrScanner' | 'secureChannel' | 'maxFrame' | 'maxBatch' | 'busyThresholdUs'>>;

  constructor(options: ReaderOptions = {}) {
    this.model = options.model ?? 'SIM-1';
    this.serial = options.serial ?? 'YSIM-000001';
    this.firmware = options.firmware ?? '1.0.0-sim';
    this.timing = timingConfig(options.timing);
    this.clock = new SimClock(options.speed ?? 0);
    this.faults = options.faults ?? {};
    this.#options = {
      qrScanner: options.qrScanner ?? true,
      secureChannel: options.secureChannel ?? 'none',
      maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
      maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH,
      busyThresholdUs: options.busyThresholdUs ?? 100_000,
    };
    for (const info of options.slots ?? DEFAULT_SLOTS) {
      this.#slots.set(info.id, {
        info: { ...info },
        powered: false,
        muted: false,
        protocol: 0,
        fi: 372,
        di: 1,
        apduCount: 0,
        presence: new AbortController(),
        tail: Promise.resolve(),
      });
    }
  }

  // ---- events and hooks -------------------------------------------------------------------------

  /** Subscribes to device events (card inserted/removed, busy, qr.scanned …); returns the unsubscribe. */
  on(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called when the device resets itself (deviceReset or a fault): the session must forget the host. */
  onDeviceReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** Adds counters from another layer (frames, CRC errors …) to deviceInfo. */
  addCounterSource(source: () => Record<string, number>): () => void {
    this.#counterSources.add(source);
    return () => this.#counterSources.delete(source);
  }

  emit(event: DeviceEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break the reader.
      }
    }
  }

  #count(name: string, by = 1): void {
    this.#counters[name] = (this.#counters[name] ?? 0) + by;
  }

  // ---- the physical side: cards in and out ------------------------------------------------------

  slotIds(): number[] {
    return [...this.#slots.keys()];
  }

  /** The slots as hello announces them. */
  slotInfo(): SlotInfo[] {
    return [...this.#slots.values()].map((s) => ({ ...s.info }));
  }

  cardIn(slot: number): SimCard | undefined {
    return this.#slots.get(slot)?.card;
  }

  /** Puts a card in a slot (taking out any card already there first) and emits card.inserted. */
  insertCard(slot: number, card: SimCard): void {
    const s = this.#slot(slot);
    if (s.card) this.removeCard(slot);
    s.card = card;
    s.powered = false;
    s.muted = false;
    s.apduCount = 0;
    s.presence = new AbortController();
    this.#count('cardsInserted');
    this.emit({ type: 'card.inserted', slot });
  }

  /** Takes the card out: an exchange in flight fails with CARD_REMOVED; emits card.removed. No-op when empty. */
  removeCard(slot: number): boolean {
    const s = this.#slot(slot);
    if (!s.card) return false;
    const card = s.card;
    s.card = undefined;
    s.powered = false;
    s.atr = undefined;
    s.atrParams = undefined;
    s.presence.abort();
    try {
      card.powerOff();
    } catch {
      // The card is gone either way.
    }
    this.#count('cardsRemoved');
    this.emit({ type: 'card.removed', slot });
    return true;
  }

  /** Makes the card in the slot stop answering (a fault); cleared by inserting a card again. */
  setMute(slot: number, mute: boolean): void {
    this.#slot(slot).muted = mute;
  }

  // ---- ReaderOperations ---------------------------------------------------------------------------

  async hello(request: HelloRequest): Promise<DeviceHello> {
    if (!request || !Array.isArray(request.versions)) throw deviceFailure('BAD_REQUEST', 'hello needs a list of versions');
    if (!request.versions.includes(PROTOCOL_VERSION)) {
      throw deviceFailure('UNSUPPORTED_VERSION', `the device speaks protocol version ${PROTOCOL_VERSION} only`);
    }
    this.#count('hellos');
    return {
      version: PROTOCOL_VERSION,
      vendor: this.vendor,
      model: this.model,
      serial: this.serial,
      firmware: this.firmware,
      slots: this.slotInfo(),
      qrScanner: this.#options.qrScanner,
      maxFrame: this.#options.maxFrame,
      secureChannel: this.#options.secureChannel,
      batch: true,
      maxBatch: this.#options.maxBatch,
    };
  }

  async slotStatus(slot?: number): Promise<SlotStatus[]> {
    const slots = slot === undefined ? [...this.#slots.values()] : [this.#slot(slot)];
    return slots.map((s): SlotStatus => {
      if (!s.card) return { slot: s.info.id, card: 'absent' };
      if (s.muted || s.card.mute) return { slot: s.info.id, card: s.powered ? 'mute' : 'present' };
      if (s.powered && s.atr) return { slot: s.info.id, card: 'powered', atr: s.atr.slice(), protocol: s.protocol, ...this.#rate(s) };
      return { slot: s.info.id, card: 'present' };
    });
  }

  async powerOn(slot: number): Promise<PowerOnResult> {
    const s = this.#slot(slot);
    return this.#exclusive(s, async () => {
      const card = this.#needCard(s);
      const signal = s.presence.signal;
      if (card.mute || s.muted) {
        // No ATR within 40 000 clock cycles after RST goes high.
        const time = { ...zeroTime(), extraUs: this.timing.activationUs + (40_000 / this.timing.clockHz) * 1e6 };
        this.#account('powerOn', time);
        await this.clock.wait(totalUs(time), signal);
        s.powered = false;
        s.muted = true;
        this.#count('cardMute');
        throw deviceFailure('CARD_MUTE', `no ATR from the card in slot ${slotIdText(slot)}`);
      }
      const atr = card.powerOn();
      const result = this.#afterReset(s, card, atr);
      const time = { ...zeroTime(), cardIoUs: atrUs(atr.length, this.timing), hostLinkUs: hostLinkUs(8, this.timing) + hostLinkUs(atr.length + 8, this.timing) };
      this.#account('powerOn', time);
      if (!(await this.clock.wait(totalUs(time), signal))) throw this.#removed(slot);
      this.#count('powerOns');
      return result;
    });
  }

  async powerOff(slot: number): Promise<void> {
    const s = this.#slot(slot);
    await this.#exclusive(s, async () => {
      if (!s.card) return;
      s.card.powerOff();
      s.powered = false;
      s.atr = undefined;
      this.#count('powerOffs');
    });
  }

  async resetCard(slot: number): Promise<PowerOnResult> {
    const s = this.#slot(slot);
    return this.#exclusive(s, async () => {
      const card = this.#needPowered(s);
      if (card.mute || s.muted) {
        await this.#muteTimeout(s, 'resetCard');
      }
      const atr = card.reset();
      const result = this.#afterReset(s, card, atr);
      const time = { ...zeroTime(), cardIoUs: atrUs(atr.length, this.timing) - this.timing.activationUs, hostLinkUs: hostLinkUs(8, this.timing) + hostLinkUs(atr.length + 8, this.timing) };
      this.#account('resetCard', time);
      if (!(await this.clock.wait(totalUs(time), s.presence.signal))) throw this.#removed(slot);
      this.#count('warmResets');
      return result;
    });
  }

  async setParams(slot: number, params: ProtocolParams): Promise<ProtocolParams> {
    const s = this.#slot(slot);
    if (!params || (params.protocol !== 0 && params.protocol !== 1)) throw deviceFailure('BAD_REQUEST', 'protocol must be 0 or 1');
    const fi = params.fi ?? 372;
    const di = params.di ?? 1;
    if (!FI_TABLE.includes(fi) || fi === 0 || !DI_TABLE.includes(di) || di === 0) {
      throw deviceFailure('BAD_REQUEST', 'Fi/Di must be values of ISO 7816-3 tables 7 and 8');
    }
    return this.#exclusive(s, async () => {
      const card = this.#needPowered(s);
      const offered = s.atrParams?.protocols ?? [...card.protocols];
      if (!offered.includes(params.protocol) || !card.protocols.includes(params.protocol)) {
        this.#count('ppsRefused');
        throw deviceFailure('CARD_PROTOCOL_ERROR', `the card does not offer T=${params.protocol}; PPS refused`);
      }
      const maxFi = s.atrParams?.fi ?? 372;
      const maxDi = s.atrParams?.di ?? 1;
      if ((fi !== 372 || di !== 1) && (fi > maxFi || di > maxDi)) {
        this.#count('ppsRefused');
        throw deviceFailure('CARD_PROTOCOL_ERROR', `the card offers at most Fi=${maxFi} Di=${maxDi}; PPS refused`);
      }
      const time = { ...zeroTime(), cardIoUs: ppsUs(this.timing), hostLinkUs: 2 * hostLinkUs(8, this.timing) };
      this.#account('setParams', time);
      if (!(await this.clock.wait(totalUs(time), s.presence.signal))) throw this.#removed(slot);
      s.protocol = params.protocol;
      s.fi = fi;
      s.di = di;
      this.#count('pps');
      return { protocol: params.protocol, fi, di, ...this.#rate(s) };
    });
  }

  async transmit(slot: number, apdu: Uint8Array): Promise<Uint8Array> {
    const s = this.#slot(slot);
    checkApdu(apdu);
    return this.#exclusive(s, async () => {
      this.#needPowered(s);
      const time = { ...zeroTime(), hostLinkUs: hostLinkUs(apdu.length, this.timing) };
      const response = await this.#exchange(s, apdu, time, 'transmit');
      time.hostLinkUs += hostLinkUs(response.length, this.timing);
      this.#account('transmit', time);
      this.#after(s);
      return response;
    });
  }

  async transmitBatch(slot: number, commands: ReadonlyArray<BatchCommand>): Promise<BatchResult> {
    const s = this.#slot(slot);
    if (!Array.isArray(commands)) throw deviceFailure('BAD_REQUEST', 'a batch is a list of commands');
    if (commands.length > this.#options.maxBatch) {
      throw deviceFailure('BATCH_TOO_LONG', `a batch holds at most ${this.#options.maxBatch} commands`);
    }
    for (const c of commands) checkApdu(c?.apdu);
    return this.#exclusive(s, async () => {
      this.#needPowered(s);
      this.#count('batches');
      const requestBytes = commands.reduce((n, c) => n + c.apdu.length + 4, 0);
      const time = { ...zeroTime(), hostLinkUs: hostLinkUs(requestBytes, this.timing) };
      const responses: Uint8Array[] = [];
      let stoppedAt: number | undefined;
      for (let i = 0; i < commands.length; i++) {
        const response = await this.#exchange(s, commands[i].apdu, time, 'transmitBatch');
        responses.push(response);
        // A removal requested after this APDU happens at once inside a batch: the next command sees no card.
        const more = i + 1 < commands.length;
        if (this.#after(s, more) && more) throw this.#removed(slot);
        if (!batchContinues(swOf(response), commands[i])) {
          stoppedAt = i;
          break;
        }
      }
      time.hostLinkUs += hostLinkUs(
        responses.reduce((n, r) => n + r.length + 2, 0),
        this.timing,
      );
      this.#account('transmitBatch', time);
      if (stoppedAt !== undefined) this.#count('batchesStopped');
      return stoppedAt === undefined ? { responses } : { responses, stoppedAt };
    });
  }

  async ping(): Promise<void> {
    this.#count('pings');
  }

  /** The reader reboots: every card is powered down (cards stay in), counters stay, uptime restarts. */
  async deviceReset(): Promise<void> {
    for (const s of this.#slots.values()) {
      if (s.card && s.powered) {
        try {
          s.card.powerOff();
        } catch {
          // ignore
        }
      }
      s.powered = false;
      s.atr = undefined;
      s.protocol = 0;
      s.fi = 372;
      s.di = 1;
    }
    this.#startedAt = Date.now();
    this.#count('deviceResets');
    for (const listener of [...this.#resetListeners]) listener();
  }

  async deviceInfo(): Promise<DeviceInfo> {
    const counters: Record<string, number> = { ...this.#counters };
    for (const source of this.#counterSources) Object.assign(counters, source());
    counters.modelledUs = Math.round(totalUs(this.#modelled));
    for (const [op, t] of this.#modelledByOp) counters[`modelledUs.${op}`] = Math.round(totalUs(t));
    const notes = [...this.#slots.values()].map((s) => {
      const state = !s.card ? 'empty' : s.powered ? `powered T=${s.protocol} Fi=${s.fi} Di=${s.di}` : 'present';
      return `slot ${slotIdText(s.info.id)} ${s.info.kind}: ${s.card ? `${s.card.label}, ` : ''}${state}`;
    });
    notes.push(`speed ${this.clock.speed}, clock ${this.timing.clockHz} Hz, host link ${this.timing.hostLink.kind === 'uart' ? `UART ${this.timing.hostLink.baud} Bd` : 'USB full speed'}`);
    return { uptimeMs: Date.now() - this.#startedAt, counters, notes };
  }

  // ---- modelled time ----------------------------------------------------------------------------

  /** Total modelled physical time of every operation so far, microseconds. */
  modelledTimeUs(): number {
    return totalUs(this.#modelled);
  }

  /** The breakdown of the total modelled time. */
  modelledTime(): ModelledTime {
    return { ...this.#modelled };
  }

  /** Modelled time of the last card operation (powerOn, transmit, batch …). */
  lastOperationTime(): { operation: ReaderOperationName; time: ModelledTime; totalUs: number } | undefined {
    return this.#last ? { ...this.#last, totalUs: totalUs(this.#last.time) } : undefined;
  }

  resetModelledTime(): void {
    this.#modelled = zeroTime();
    this.#modelledByOp.clear();
    this.#last = undefined;
  }

  // ---- internals --------------------------------------------------------------------------------

  #slot(slot: number): Slot {
    const s = typeof slot === 'number' ? this.#slots.get(slot) : undefined;
    if (!s) throw deviceFailure('BAD_SLOT', `no slot ${typeof slot === 'number' ? slotIdText(slot) : '(not a number)'} on this reader`);
    return s;
  }

  #needCard(s: Slot): SimCard {
    if (!s.card) throw deviceFailure('NO_CARD', `no card in slot ${slotIdText(s.info.id)}`);
    return s.card;
  }

  #needPowered(s: Slot): SimCard {
    const card = this.#needCard(s);
    if (!s.powered) throw deviceFailure('CARD_NOT_POWERED', `the card in slot ${slotIdText(s.info.id)} is not powered`);
    return card;
  }

  #removed(slot: number): Error {
    this.#count('cardRemovedInFlight');
    return deviceFailure('CARD_REMOVED', `the card left slot ${slotIdText(slot)} during the operation`);
  }

  #afterReset(s: Slot, card: SimCard, atr: Uint8Array): PowerOnResult {
    const params = parseAtrParameters(atr);
    // A card in the contactless field speaks ISO 14443-4 blocks: T=1 semantics (no 61xx/6Cxx) when it can.
    const preferred = s.info.kind === 'contactless' && card.protocols.includes(1) ? 1 : undefined;
    const protocol = preferred ?? params.protocols.find((p) => card.protocols.includes(p)) ?? card.protocols[0] ?? 0;
    s.powered = true;
    s.atr = atr.slice();
    s.atrParams = params;
    s.protocol = protocol;
    s.fi = 372;
    s.di = 1;
    return { atr: atr.slice(), protocol, ...this.#rate(s) };
  }

  /** The rate in effect (PROTOCOL.md 6.1): contact slots only, the contactless field runs ISO 14443 rates. */
  #rate(s: Slot): { fi?: number; di?: number; clockHz?: number } {
    return s.info.kind === 'contactless' ? {} : { fi: s.fi, di: s.di, clockHz: this.timing.clockHz };
  }

  async #muteTimeout(s: Slot, operation: ReaderOperationName, time: ModelledTime = zeroTime()): Promise<never> {
    const wait = workWaitingUs(s.fi, this.timing);
    time.extraUs += wait;
    this.#account(operation, time);
    await this.clock.wait(wait, s.presence.signal);
    if (!s.card) throw this.#removed(s.info.id);
    this.#count('cardMute');
    throw deviceFailure('CARD_MUTE', `the card in slot ${slotIdText(s.info.id)} did not answer within ${Math.round(wait / 1000)} ms`);
  }

  /** One command/response on the card interface, with faults; adds its card-side time to `time`. */
  async #exchange(s: Slot, apdu: Uint8Array, time: ModelledTime, operation: ReaderOperationName): Promise<Uint8Array> {
    const card = this.#needPowered(s);
    const slot = s.info.id;
    const n = ++s.apduCount;
    this.#count('apdus');
    const fault = this.faults.beforeApdu?.(slot, n);
    if (fault === 'remove-before') {
      this.removeCard(slot);
      this.#account(operation, time);
      throw this.#removed(slot);
    }
    if (fault === 'mute') s.muted = true;
    if (card.mute || s.muted) await this.#muteTimeout(s, operation, time);

    let answer;
    try {
      answer = card.process(apdu, s.protocol);
    } catch {
      this.#count('cardFailures');
      throw deviceFailure('INTERNAL', `the simulated card in slot ${slotIdText(slot)} failed`);
    }
    const response = answer.response;
    const step = {
      ...zeroTime(),
      cardIoUs:
        s.info.kind === 'contactless'
          ? contactlessIoUs(apdu, response)
          : cardIoUs(apdu, response, s.protocol, s.fi, s.di, { ...this.timing, ifsc: s.atrParams?.ifsc ?? this.timing.ifsc }),
      processingUs: this.timing.processingUs[answer.kind] ?? this.timing.processingUs.other,
      extraUs: this.faults.extraDelayUs?.(slot) ?? 0,
    };
    const stepUs = totalUs(step);
    Object.assign(time, addTime(time, step));
    this.#count('bytesToCard', apdu.length);
    this.#count('bytesFromCard', response.length);

    const busy = stepUs >= this.#options.busyThresholdUs;
    if (busy) this.emit({ type: 'busy', busy: true });
    const completed = await this.clock.wait(stepUs, s.presence.signal);
    if (busy) this.emit({ type: 'busy', busy: false });
    if (!completed || s.card !== card) {
      this.#account(operation, time);
      throw this.#removed(slot);
    }
    if (fault === 'remove-during') {
      this.removeCard(slot);
      this.#account(operation, time);
      throw this.#removed(slot);
    }
    return response;
  }

  /** Applies an "after the n-th APDU" fault. Inside a batch the removal is immediate; else it follows the response. */
  #after(s: Slot, immediate = false): boolean {
    const card = s.card;
    if (!card) return false;
    if (this.faults.afterApdu?.(s.info.id, s.apduCount) !== 'remove') return false;
    if (immediate) {
      this.removeCard(s.info.id);
    } else {
      // Let the response leave first, as on a real reader the card-detect interrupt comes after.
      setImmediate(() => {
        if (s.card === card) this.removeCard(s.info.id);
      });
    }
    return true;
  }

  #account(operation: ReaderOperationName, time: ModelledTime): void {
    this.#modelled = addTime(this.#modelled, time);
    this.#modelledByOp.set(operation, addTime(this.#modelledByOp.get(operation) ?? zeroTime(), time));
    this.#last = { operation, time: { ...time } };
  }

  #exclusive<T>(s: Slot, fn: () => Promise<T>): Promise<T> {
    // Each operation keeps its own schedule: timer lateness of an earlier one is not paid back here.
    const start = (): Promise<T> => {
      this.clock.settle();
      return fn();
    };
    const run = s.tail.then(start, start);
    s.tail = run.catch(() => undefined);
    return run;
  }
}

function checkApdu(apdu: unknown): asserts apdu is Uint8Array {
  if (!(apdu instanceof Uint8Array) || apdu.length < 4) throw deviceFailure('BAD_REQUEST', 'an APDU is at least 4 bytes');
  if (apdu.length > MAX_APDU) throw deviceFailure('APDU_TOO_LONG', `an APDU is at most ${MAX_APDU} bytes`);
}
