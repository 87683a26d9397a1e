// The in-process simulator: a whole desk reader (slots, SAM slots, QR scanner, timing, faults) that a
// test or `yikad --sim` drives directly and connects to over a ByteLink, a PTY, TCP or pcscd's vpcd.
//
//   const sim = createSimulator({ seed: 7 });
//   const session = await HostSession.open(sim.connectInProcess());
//   ...
//   await sim.close();
//
// By default slot 0x01 holds a health card generated from the seed and slot 0x11 a SAM with PIN
// 123456 that serves the card's province.
import { slotIdText } from '../protocol/slot-id.ts';
import type { ByteLink } from '../protocol/link.ts';
import type { DeviceSecureConfig } from '../protocol/secure/device-handshake.ts';
import { testDeviceIdentity } from '../protocol/secure/test-ca.ts';
import { generateProfile, type HealthCardProfile } from './cards/index.ts';
import { cardFromSpec, profileFrom, type CardDefaults } from './control/card-factory.ts';
import { checkCardSpec, type CardSpec } from './control/sim-commands.ts';
import { SimController } from './control/sim-controller.ts';
import { SimError } from './control/sim-errors.ts';
import { FaultInjector, type FaultSpec } from './faults/fault-injector.ts';
import { provinceOfProfile } from './personalisation/index.ts';
import { QrScanner, type ScanEnding, type ScanOptions } from './qr-scanner/qr-scanner.ts';
import { SimulatedReader, DEFAULT_MAX_FRAME, type ReaderOptions } from './reader/simulated-reader.ts';
import type { SimCard } from './sim-card.ts';
import type { ModelledTime, TimingOverrides } from './timing/timing-model.ts';
import { DeviceEndpoint } from './transports/device-endpoint.ts';
import { inProcessTransport, ptyTransport, tcpTransport, type HostTransport, type InProcessTransport, type PtyTransportOptions, type TcpTransport } from './transports/host-transports.ts';
import { startVpcdClient, type VpcdClient, type VpcdClientOptions } from './transports/vpcd-client.ts';

export { SimulatedReader, CONTACT_SLOT, CONTACTLESS_SLOT, SAM_SLOTS, DEFAULT_SLOTS, MAX_APDU, DEFAULT_MAX_FRAME } from './reader/simulated-reader.ts';
export type { ReaderOptions, ReaderFaultHooks, ApduFault } from './reader/simulated-reader.ts';
export { FaultInjector, checkFault, FAULT_NAMES, type FaultSpec, type FaultName } from './faults/fault-injector.ts';
export { QrScanner, MAX_SCAN_LENGTH, type ScanOptions, type ScanEnding } from './qr-scanner/qr-scanner.ts';
export { sampleScanText, SAMPLE_KINDS, type SampleKind } from './qr-scanner/sample-codes.ts';
export { timingConfig, DEFAULT_TIMING, DEFAULT_PROCESSING_US, type TimingConfig, type TimingOverrides, type ModelledTime, type HostLink } from './timing/timing-model.ts';
export { SimController, parseCommandLine, parseScenario, loadScenario, runScenario, startControlServer, COMMAND_HELP, CARD_KINDS, type SimCommand, type CardSpec, type CardKind, type Scenario, type ControlServer } from './control/index.ts';
export { SimError, SimErrorCode } from './control/sim-errors.ts';
export { type VpcdClient } from './transports/vpcd-client.ts';
export { VPCD_DEFAULT_PORT } from './transports/vpcd-codec.ts';
export type { HostTransport, TcpTransport, PtyTransportOptions } from './transports/host-transports.ts';

export const DEFAULT_SEED = 1;
export const DEFAULT_SAM_PIN = '123456';

export interface SimulatorOptions {
  /** Seeds the default health card's synthetic cardholder and the fault PRNG. Default 1. */
  seed?: number;
  /** The default health card's profile: an object or a JSON/YAML file path (overrides `seed` for the card). */
  profile?: HealthCardProfile | string;
  /** 0 = no delays (default; fast tests), 1 = real time. */
  speed?: number;
  /** The PIN the default SAM is configured with (default 123456). A different one = "wrong SAM PIN". */
  samPin?: string;
  /** Province the default SAM serves (default: the default health card's). */
  samProvince?: string;
  /**
   * The SM secure channel: false/absent = none; 'supported' / 'required' = on, with a TEST-ONLY
   * device identity from protocol/secure/test-ca.ts; or a full DeviceSecureConfig.
   */
  secure?: false | 'supported' | 'required' | DeviceSecureConfig;
  /** Slot contents instead of the defaults: a card, a CardSpec, or null for an empty slot. */
  cards?: Partial<Record<number, SimCard | CardSpec | null>>;
  timing?: TimingOverrides;
  serial?: string;
  firmware?: string;
  maxBatch?: number;
  /** Line ending of the QR scanner (keyboard-wedge style); default none. */
  scannerEnding?: ScanEnding;
  /** Sees non-DeviceError failures inside the reader (bugs); no cardholder data is passed. */
  onInternalError?: (error: unknown) => void;
}

export interface SimulatorStatus {
  serial: string;
  speed: number;
  slots: Array<{ slot: number; kind: string; card: string; label?: string }>;
  hostAttached: boolean;
  transports: string[];
  modelledUs: number;
  faults: string[];
  counters: Record<string, number>;
}

export interface Simulator {
  readonly reader: SimulatedReader;
  readonly faults: FaultInjector;
  readonly scanner: QrScanner;
  readonly controller: SimController;
  readonly endpoint: DeviceEndpoint;
  readonly seed: number;
  /** The profile of the default health card (synthetic). */
  readonly profile: HealthCardProfile;
  /** A new host end of an in-process link served by the reader (any previous in-process link closes). */
  connectInProcess(): ByteLink;
  /** After an unplug/replug fault, the in-process transport hands the new host link here. */
  onReplug(listener: (link: ByteLink) => void): () => void;
  /** Serves the reader on one end of a PTY pair. */
  servePty(options: PtyTransportOptions): Promise<HostTransport>;
  /** Serves the reader on a TCP listener (port 0 = any free port; see `.port`). */
  serveTcp(host: string, port: number): Promise<TcpTransport>;
  /** Connects the card in a slot (default 0x01) to pcscd's vpcd as a PC/SC card. */
  serveVpcd(options?: Omit<VpcdClientOptions, 'reader'>): VpcdClient;
  /** Puts a card in a slot: a SimCard, a CardSpec ({kind: 'health', seed: 3}) or a health-card profile. */
  insertCard(slot: number, card: SimCard | CardSpec | HealthCardProfile): SimCard;
  removeCard(slot: number): boolean;
  /** The QR scanner reads `text` (qr.scanned event). */
  scan(text: string, options?: ScanOptions): Promise<void>;
  injectFault(spec: FaultSpec): Promise<void>;
  setSpeed(speed: number): void;
  /** Total modelled physical time so far, µs (see SIMULATOR.md "Timing"). */
  modelledTimeUs(): number;
  modelledTime(): ModelledTime;
  status(): Promise<SimulatorStatus>;
  close(): Promise<void>;
}

function isSimCard(value: unknown): value is SimCard {
  return !!value && typeof (value as SimCard).process === 'function' && typeof (value as SimCard).powerOn === 'function';
}

function isCardSpec(value: unknown): value is CardSpec {
  return !!value && typeof (value as CardSpec).kind === 'string';
}

function secureConfig(option: SimulatorOptions['secure'], serial: string): DeviceSecureConfig | undefined {
  if (!option) return undefined;
  if (option === 'supported' || option === 'required') return { identity: testDeviceIdentity(serial), require: option === 'required' };
  return option;
}

/** What createSimulator builds once; the helpers below work on it. */
interface SimParts {
  seed: number;
  profile: HealthCardProfile;
  serial: string;
  defaults: CardDefaults;
  reader: SimulatedReader;
  faults: FaultInjector;
  scanner: QrScanner;
  endpoint: DeviceEndpoint;
  inProcess: InProcessTransport;
  transports: Set<{ description: string; unplug(): Promise<void>; replug(): Promise<void>; close(): Promise<void> }>;
}

function buildParts(options: SimulatorOptions): SimParts {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new SimError('SIM_BAD_OPTION', 'seed must be an integer from 0 to 4294967295');
  if (options.samPin !== undefined && !/^\d{4,12}$/.test(options.samPin)) throw new SimError('SIM_BAD_OPTION', 'samPin must be 4–12 digits');
  const profile = options.profile !== undefined ? profileFrom(options.profile) : generateProfile(seed);
  const serial = options.serial ?? `YSIM-${String(seed).padStart(6, '0')}`;
  const secure = secureConfig(options.secure, serial);
  const defaults: CardDefaults = {
    seed,
    samPin: options.samPin ?? DEFAULT_SAM_PIN,
    samProvince: options.samProvince ?? provinceOfProfile(profile),
  };

  const readerOptions: ReaderOptions = {
    serial,
    firmware: options.firmware,
    speed: options.speed ?? 0,
    timing: options.timing,
    maxBatch: options.maxBatch,
    secureChannel: secure ? (secure.require ? 'required' : 'supported') : 'none',
  };
  let reader: SimulatedReader;
  try {
    reader = new SimulatedReader(readerOptions);
  } catch (e) {
    throw new SimError('SIM_BAD_OPTION', (e as Error).message);
  }
  const faults = new FaultInjector(seed);
  const scanner = new QrScanner((event) => reader.emit(event), { ending: options.scannerEnding });
  const endpoint = new DeviceEndpoint(reader, faults, { secure, maxFrame: DEFAULT_MAX_FRAME, onInternalError: options.onInternalError });
  const inProcess = inProcessTransport(endpoint);
  return { seed, profile, serial, defaults, reader, faults, scanner, endpoint, inProcess, transports: new Set([inProcess]) };
}

function insertInto(parts: SimParts, slot: number, card: SimCard | CardSpec | HealthCardProfile): SimCard {
  let c: SimCard;
  if (isSimCard(card)) c = card;
  else if (isCardSpec(card)) c = cardFromSpec(checkCardSpec(card), parts.defaults);
  else c = cardFromSpec({ kind: 'health', profile: card as unknown as Record<string, unknown> }, parts.defaults);
  parts.reader.insertCard(slot, c);
  return c;
}

/** Default slot contents (the profile's health card in 0x01, a SAM in 0x11), then the caller's overrides. */
function insertInitialCards(parts: SimParts, cards: SimulatorOptions['cards']): void {
  const initial = new Map<number, SimCard | CardSpec | null>([
    [0x01, cardFromSpec({ kind: 'health', profile: parts.profile as unknown as Record<string, unknown> }, parts.defaults)],
    [0x11, { kind: 'sam' }],
  ]);
  for (const [slot, card] of Object.entries(cards ?? {})) initial.set(Number(slot), card ?? null);
  for (const [slot, card] of initial) if (card) insertInto(parts, slot, card);
}

function serveVpcdOn(parts: SimParts, vpcdOptions: Omit<VpcdClientOptions, 'reader'>): VpcdClient {
  const client = startVpcdClient({ ...vpcdOptions, reader: parts.reader });
  parts.transports.add({ description: `vpcd ${vpcdOptions.host ?? '127.0.0.1'}:${vpcdOptions.port ?? 35963} slot ${slotIdText(vpcdOptions.slot ?? 1)}`, unplug: () => client.unplug(), replug: () => client.replug(), close: () => client.close() });
  parts.reader.addCounterSource(() => client.counters());
  return client;
}

async function statusOf(parts: SimParts, inProcessUsed: boolean): Promise<SimulatorStatus> {
  const { reader } = parts;
  const slots = await reader.slotStatus();
  const info = await reader.deviceInfo();
  const slotInfo = reader.slotInfo();
  return {
    serial: parts.serial,
    speed: reader.clock.speed,
    slots: slots.map((s) => ({
      slot: s.slot,
      kind: slotInfo.find((h) => h.id === s.slot)?.kind ?? 'unknown',
      card: s.card,
      ...(reader.cardIn(s.slot) ? { label: reader.cardIn(s.slot)!.label } : {}),
    })),
    hostAttached: parts.endpoint.attached,
    transports: [...parts.transports].filter((t) => t !== parts.inProcess || inProcessUsed).map((t) => t.description),
    modelledUs: Math.round(reader.modelledTimeUs()),
    faults: [...parts.faults.log],
    counters: info.counters,
  };
}

async function closeParts(parts: SimParts): Promise<void> {
  parts.scanner.stop();
  parts.faults.dispose();
  for (const t of parts.transports) await t.close().catch(() => undefined);
  parts.endpoint.close();
  for (const slot of parts.reader.slotIds()) {
    const card = parts.reader.cardIn(slot);
    if (card) {
      try {
        card.powerOff();
      } catch {
        // closing anyway
      }
    }
  }
}

function controllerOf(parts: SimParts, simulator: Simulator): SimController {
  const { reader, scanner, faults } = parts;
  return new SimController({
    insertCard: async (slot, spec) => void insertInto(parts, slot, spec),
    removeCard: (slot) => reader.removeCard(slot),
    scan: (text, o) => scanner.scan(text, o),
    injectFault: (spec) => faults.inject(spec),
    setSpeed: (s) => simulator.setSpeed(s),
    status: () => simulator.status(),
    modelledTime: () => ({ totalUs: Math.round(reader.modelledTimeUs()), ...reader.modelledTime(), last: reader.lastOperationTime() }),
    onEvent: (listener) => reader.on((e) => listener(e as { type: string; slot?: number })),
    transmit: async (slot, apdu) => {
      const s = (await reader.slotStatus()).find((x) => x.slot === slot);
      if (s?.card === 'present') await reader.powerOn(slot);
      return reader.transmit(slot, apdu);
    },
  });
}

function attachFaults(parts: SimParts): void {
  const { reader, endpoint, transports } = parts;
  parts.faults.attach({
    reader,
    resetReader: async () => {
      await reader.deviceReset();
      endpoint.restartSession();
    },
    unplug: async () => {
      // A USB reader loses power when unplugged: every card is powered down.
      await reader.deviceReset();
      for (const t of transports) await t.unplug();
    },
    replug: async () => {
      for (const t of transports) await t.replug();
    },
    insertSamWithPin: (slot, pin) => {
      insertInto(parts, slot, { kind: 'sam', pin });
    },
  });
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const parts = buildParts(options);
  const { reader, faults, scanner, endpoint, inProcess } = parts;
  insertInitialCards(parts, options.cards);

  let closed = false;
  let inProcessUsed = false;
  const simulator: Simulator = {
    reader,
    faults,
    scanner,
    controller: undefined as unknown as SimController,
    endpoint,
    seed: parts.seed,
    profile: parts.profile,
    connectInProcess: () => {
      inProcessUsed = true;
      return inProcess.connect();
    },
    onReplug: (listener) => inProcess.onReplug(listener),
    async servePty(ptyOptions) {
      const t = await ptyTransport(endpoint, ptyOptions);
      parts.transports.add(t);
      return t;
    },
    async serveTcp(host, port) {
      const t = await tcpTransport(endpoint, host, port);
      parts.transports.add(t);
      return t;
    },
    serveVpcd: (vpcdOptions = {}) => serveVpcdOn(parts, vpcdOptions),
    insertCard: (slot, card) => insertInto(parts, slot, card),
    removeCard: (slot) => reader.removeCard(slot),
    scan: (text, scanOptions) => scanner.scan(text, scanOptions),
    injectFault: (spec) => faults.inject(spec),
    setSpeed: (speed) => {
      try {
        reader.clock.speed = speed;
      } catch (e) {
        throw new SimError('SIM_BAD_OPTION', (e as Error).message);
      }
    },
    modelledTimeUs: () => reader.modelledTimeUs(),
    modelledTime: () => reader.modelledTime(),
    status: () => statusOf(parts, inProcessUsed),
    async close() {
      if (closed) return;
      closed = true;
      simulator.controller.close();
      await closeParts(parts);
    },
  };

  (simulator as { controller: SimController }).controller = controllerOf(parts, simulator);
  attachFaults(parts);
  return simulator;
}
