// Layer 2 of the reader protocol: messages. Every frame payload (outside the secure channel) is one
// plain MessagePack map with string keys; binary fields are msgpack bin, never str. Any msgpack
// library reads them (we write fixmap/map16, never msgpackr records).
//
//   host → device   request  { id, op, ...arguments }
//   device → host   result   { id, ok: true, ...result fields }
//                   error    { id, ok: false, code: <wire number>, message? }
//                   event    { ev: <type>, seq, ...event fields }      (unsolicited, seq increments)
//                   pending  { id, pending: true }                     (request id arrived, answer follows)
//
// Decoding validates every field we know (type and limits) and ignores keys we do not know, which is
// how later protocol versions add optional fields without breaking v1 peers.
import { Packr, Unpackr } from 'msgpackr';
import type {
  CardRate,
  BatchCommand,
  BatchResult,
  CardState,
  DeviceEvent,
  DeviceHello,
  DeviceInfo,
  HelloRequest,
  PowerOnResult,
  ProtocolParams,
  ReaderOperations,
  SlotInfo,
  SlotKind,
  SlotStatus,
} from './operations.ts';
import { DEVICE_ERRORS, type DeviceErrorName } from './operations.ts';
import { deviceErrorName } from './device-error.ts';
import { BadMessageError } from './protocol-errors.ts';

// ---- limits (PROTOCOL.md §Limits) -------------------------------------------------------------
export const LIMITS = {
  maxId: 0xffff_ffff,
  maxSlot: 0xff,
  /** Extended command APDU: 4 header + 3 Lc + 65535 data + 2 Le. */
  maxCommandApdu: 65_544,
  /** Extended response: 65536 data + SW1 SW2. */
  maxResponseApdu: 65_538,
  maxShortText: 64,
  maxMessageText: 256,
  maxQrText: 4096,
  maxVersions: 8,
  maxSlots: 16,
  maxBatch: 255,
  maxExpect: 8,
  maxCounters: 64,
  maxCounterName: 32,
  maxNotes: 16,
  maxInFlight: 16,
} as const;

// ---- operations ----------------------------------------------------------------------------------
/** The ReaderOperations methods, which are also the `op` strings on the wire. */
export const OPERATIONS = [
  'hello',
  'slotStatus',
  'powerOn',
  'powerOff',
  'resetCard',
  'setParams',
  'transmit',
  'transmitBatch',
  'ping',
  'deviceReset',
  'deviceInfo',
] as const satisfies ReadonlyArray<keyof ReaderOperations>;
export type OperationName = (typeof OPERATIONS)[number];

/** Secure-channel handshake operations (not part of ReaderOperations; the sessions run them). */
export const SECURE_OPERATIONS = ['scOpen', 'scFinish'] as const;
export type SecureOperationName = (typeof SECURE_OPERATIONS)[number];
/** Diagnostic operations the session itself executes (PROTOCOL.md 1.2 §6 diagHold; `diagnostics: true` in hello). */
export const DIAGNOSTIC_OPERATIONS = ['diagHold'] as const;
export type DiagnosticOperationName = (typeof DIAGNOSTIC_OPERATIONS)[number];
export type WireOperation = OperationName | SecureOperationName | DiagnosticOperationName;
/** Longest diagHold (ms). */
const MAX_DIAG_HOLD_MS = 10_000;

/** Secure-channel handshake, flow 1 (host → device). */
export interface ScOpenRequest {
  /** Cipher suites the host offers, preferred first; v1 defines 1 = SM2-KX + SM4-CTR + HMAC-SM3-128. */
  suites: number[];
  /** Host static SM2 public key, 04‖x‖y. */
  hostKey: Uint8Array;
  /** Host ephemeral SM2 public key R_A, 04‖x‖y. */
  ephemeral: Uint8Array;
}
/** Secure-channel handshake, flow 2 (device → host). */
export interface ScOpenResult {
  suite: number;
  /** The device certificate: { tbs: bin (msgpack map), sig: bin (64 raw r‖s) }. */
  cert: { tbs: Uint8Array; sig: Uint8Array };
  /** Device ephemeral SM2 public key R_B. */
  ephemeral: Uint8Array;
  /** S_B, the device's key-confirmation value (32 bytes). */
  confirm: Uint8Array;
}
/** Secure-channel handshake, flow 3 (host → device). */
export interface ScFinishRequest {
  /** S_A, the host's key-confirmation value (32 bytes). */
  confirm: Uint8Array;
}

/** Arguments of each wire operation, as a tuple (the ReaderOperations parameters). */
export interface OperationArgs {
  hello: [request: HelloRequest];
  slotStatus: [slot?: number];
  powerOn: [slot: number];
  powerOff: [slot: number];
  resetCard: [slot: number];
  setParams: [slot: number, params: ProtocolParams];
  transmit: [slot: number, apdu: Uint8Array];
  transmitBatch: [slot: number, commands: ReadonlyArray<BatchCommand>];
  ping: [];
  deviceReset: [];
  deviceInfo: [];
  scOpen: [request: ScOpenRequest];
  scFinish: [request: ScFinishRequest];
  diagHold: [ms: number];
}
/** Result of each wire operation. */
export interface OperationResults {
  hello: DeviceHello;
  slotStatus: SlotStatus[];
  powerOn: PowerOnResult;
  powerOff: void;
  resetCard: PowerOnResult;
  setParams: ProtocolParams;
  transmit: Uint8Array;
  transmitBatch: BatchResult;
  ping: void;
  deviceReset: void;
  deviceInfo: DeviceInfo;
  scOpen: ScOpenResult;
  scFinish: void;
  diagHold: { heldMs: number };
}

// ---- decoded message shapes ----------------------------------------------------------------------
export type WireMap = Record<string, unknown>;

export type RequestMessage = {
  [K in WireOperation]: { kind: 'request'; id: number; op: K; args: OperationArgs[K] };
}[WireOperation];
export interface ResultMessage {
  kind: 'result';
  id: number;
  /** The raw map; parse it with decodeResult(op, fields) once the op is known from the id. */
  fields: WireMap;
}
export interface ErrorMessage {
  kind: 'error';
  id: number;
  /** Wire number (DEVICE_ERRORS[name].wire); `name` is undefined for a number this version does not know. */
  wire: number;
  name: DeviceErrorName | undefined;
  message: string | undefined;
}
export interface EventMessage {
  kind: 'event';
  seq: number;
  event: DeviceEvent;
}
/** The device has request `id` (queued or executing); its answer will follow (PROTOCOL.md §Loss and retransmission). */
export interface PendingMessage {
  kind: 'pending';
  id: number;
}
export type DeviceToHostMessage = ResultMessage | ErrorMessage | EventMessage | PendingMessage;

// ---- msgpack -------------------------------------------------------------------------------------
// variableMapSize: fixmap for small maps (what C libraries write), records off (plain MessagePack).
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function packMap(map: WireMap): Uint8Array {
  return packr.pack(map);
}

/** Decodes one msgpack map; anything else (another type, trailing bytes, bad data) → PROTOCOL_BAD_MESSAGE. */
export function unpackMap(bytes: Uint8Array): WireMap {
  const first = bytes[0];
  // Only a map may start a message: fixmap 0x80–0x8f, map16 0xde, map32 0xdf.
  if (bytes.length === 0 || !((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf)) {
    throw new BadMessageError('message is not a MessagePack map', { field: '(root)' });
  }
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch {
    // Never forward the library's message: it may quote the data.
    throw new BadMessageError('message is not valid MessagePack', { field: '(root)' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
    throw new BadMessageError('message is not a MessagePack map', { field: '(root)' });
  }
  return value as WireMap;
}

// ---- field validation ----------------------------------------------------------------------------
function has(m: WireMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key) && m[key] !== undefined && m[key] !== null;
}

function bad(field: string, why: string): never {
  throw new BadMessageError(`field ${field} ${why}`, { field });
}

function uint(m: WireMap, key: string, max: number, path = key): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(path, `must be an integer in 0..${max}`);
  return v;
}
function optUint(m: WireMap, key: string, max: number, path = key): number | undefined {
  return has(m, key) ? uint(m, key, max, path) : undefined;
}
function bool(m: WireMap, key: string, path = key): boolean {
  const v = m[key];
  if (typeof v !== 'boolean') bad(path, 'must be a boolean');
  return v;
}
function str(m: WireMap, key: string, maxBytes: number, path = key): string {
  const v = m[key];
  if (typeof v !== 'string') bad(path, 'must be a string');
  if (Buffer.byteLength(v, 'utf8') > maxBytes) bad(path, `must be at most ${maxBytes} UTF-8 bytes`);
  return v;
}
function optStr(m: WireMap, key: string, maxBytes: number, path = key): string | undefined {
  return has(m, key) ? str(m, key, maxBytes, path) : undefined;
}
function bin(m: WireMap, key: string, minLen: number, maxLen: number, path = key): Uint8Array {
  const v = m[key];
  if (!(v instanceof Uint8Array)) bad(path, 'must be bin');
  if (v.length < minLen || v.length > maxLen) bad(path, `must be ${minLen}..${maxLen} bytes`);
  return v;
}
function arr(m: WireMap, key: string, maxLen: number, path = key): unknown[] {
  const v = m[key];
  if (!Array.isArray(v)) bad(path, 'must be an array');
  if (v.length > maxLen) bad(path, `must have at most ${maxLen} entries`);
  return v;
}
function map(v: unknown, path: string): WireMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) bad(path, 'must be a map');
  return v as WireMap;
}
function oneOf<T extends string>(m: WireMap, key: string, values: readonly T[], path = key): T {
  const v = m[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) bad(path, `must be one of ${values.join(', ')}`);
  return v as T;
}
function slotArg(m: WireMap): number {
  return uint(m, 'slot', LIMITS.maxSlot);
}
function protocolField(m: WireMap, key: string, path = key): 0 | 1 {
  const v = m[key];
  if (v !== 0 && v !== 1) bad(path, 'must be 0 (T=0) or 1 (T=1)');
  return v;
}

// ---- per-operation codecs ------------------------------------------------------------------------
interface OpCodec<K extends WireOperation> {
  encodeArgs(args: OperationArgs[K]): WireMap;
  decodeArgs(m: WireMap): OperationArgs[K];
  encodeResult(result: OperationResults[K]): WireMap;
  decodeResult(m: WireMap): OperationResults[K];
}

const SLOT_KINDS: readonly SlotKind[] = ['contact', 'contactless', 'sam'];
const CARD_STATES: readonly CardState[] = ['absent', 'present', 'powered', 'mute'];
const SECURE_MODES = ['none', 'supported', 'required'] as const;
const EMPTY: WireMap = {};

/** The optional card rate fields of revision 1.2 (PROTOCOL.md 6.1): fi, di, clockHz. */
function rateFields(r: CardRate, out: WireMap): WireMap {
  if (r.fi !== undefined) out.fi = r.fi;
  if (r.di !== undefined) out.di = r.di;
  if (r.clockHz !== undefined) out.clockHz = r.clockHz;
  return out;
}
/** fi and di alone: what setParams asks for (clockHz is a result field only). */
function decodeFiDi<T extends CardRate>(m: WireMap, into: T, path = ''): T {
  const fi = optUint(m, 'fi', 0xffff, `${path}fi`);
  const di = optUint(m, 'di', 0xff, `${path}di`);
  if (fi !== undefined) into.fi = fi;
  if (di !== undefined) into.di = di;
  return into;
}
function decodeRate<T extends CardRate>(m: WireMap, into: T, path = ''): T {
  decodeFiDi(m, into, path);
  const clockHz = optUint(m, 'clockHz', 100_000_000, `${path}clockHz`);
  if (clockHz !== undefined) into.clockHz = clockHz;
  return into;
}
function atrResult(r: PowerOnResult): WireMap {
  return rateFields(r, { atr: r.atr, protocol: r.protocol });
}
function decodeAtrResult(m: WireMap): PowerOnResult {
  return decodeRate<PowerOnResult>(m, { atr: bin(m, 'atr', 2, 33), protocol: protocolField(m, 'protocol') });
}
function slotOnly(): Pick<OpCodec<'powerOn'>, 'encodeArgs' | 'decodeArgs'> {
  return { encodeArgs: ([slot]) => ({ slot }), decodeArgs: (m) => [slotArg(m)] };
}
function paramsFields(p: ProtocolParams): WireMap {
  return rateFields(p, { protocol: p.protocol });
}
function paramsProtocol(m: WireMap): ProtocolParams {
  return { protocol: protocolField(m, 'protocol') };
}
const noArgs = { encodeArgs: () => EMPTY, decodeArgs: () => [] as [] };
const noResult = { encodeResult: () => EMPTY, decodeResult: () => undefined };

const CODECS: { [K in WireOperation]: OpCodec<K> } = {
  hello: {
    encodeArgs: ([r]) => {
      const out: WireMap = { versions: r.versions, maxFrame: r.maxFrame };
      if (r.host !== undefined) out.host = r.host;
      return out;
    },
    decodeArgs: (m) => {
      const versions = arr(m, 'versions', LIMITS.maxVersions).map((v, i) => uint({ v }, 'v', 0xff, `versions[${i}]`));
      if (versions.length === 0) bad('versions', 'must not be empty');
      const r: HelloRequest = { versions, maxFrame: uint(m, 'maxFrame', 0xffff_ffff) };
      const host = optStr(m, 'host', LIMITS.maxShortText);
      if (host !== undefined) r.host = host;
      return [r];
    },
    encodeResult: (h) => {
      const out: WireMap = {
        version: h.version,
        vendor: h.vendor,
        model: h.model,
        serial: h.serial,
        firmware: h.firmware,
        slots: h.slots.map((s) => ({ id: s.id, kind: s.kind })),
        qrScanner: h.qrScanner,
        maxFrame: h.maxFrame,
        secureChannel: h.secureChannel,
        batch: h.batch,
        maxBatch: h.maxBatch,
      };
      if (h.maxInFlight !== undefined) out.maxInFlight = h.maxInFlight;
      if (h.diagnostics) out.diagnostics = true;
      return out;
    },
    decodeResult: (m) => {
      const slots: SlotInfo[] = arr(m, 'slots', LIMITS.maxSlots).map((v, i) => {
        const s = map(v, `slots[${i}]`);
        return { id: uint(s, 'id', LIMITS.maxSlot, `slots[${i}].id`), kind: oneOf(s, 'kind', SLOT_KINDS, `slots[${i}].kind`) };
      });
      const h: DeviceHello = {
        version: uint(m, 'version', 0xff),
        vendor: str(m, 'vendor', LIMITS.maxShortText),
        model: str(m, 'model', LIMITS.maxShortText),
        serial: str(m, 'serial', LIMITS.maxShortText),
        firmware: str(m, 'firmware', LIMITS.maxShortText),
        slots,
        qrScanner: bool(m, 'qrScanner'),
        maxFrame: uint(m, 'maxFrame', 0xffff_ffff),
        secureChannel: oneOf(m, 'secureChannel', SECURE_MODES),
        batch: bool(m, 'batch'),
        maxBatch: uint(m, 'maxBatch', LIMITS.maxBatch),
      };
      const maxInFlight = optUint(m, 'maxInFlight', LIMITS.maxInFlight);
      if (maxInFlight !== undefined) h.maxInFlight = maxInFlight;
      if (has(m, 'diagnostics') && bool(m, 'diagnostics')) h.diagnostics = true;
      return h;
    },
  },
  slotStatus: {
    encodeArgs: ([slot]) => (slot === undefined ? EMPTY : { slot }),
    decodeArgs: (m) => [optUint(m, 'slot', LIMITS.maxSlot)],
    encodeResult: (list) => ({
      slots: list.map((s) => {
        const out: WireMap = { slot: s.slot, card: s.card };
        if (s.atr !== undefined) out.atr = s.atr;
        if (s.protocol !== undefined) out.protocol = s.protocol;
        return rateFields(s, out);
      }),
    }),
    decodeResult: (m) =>
      arr(m, 'slots', LIMITS.maxSlots).map((v, i) => {
        const s = map(v, `slots[${i}]`);
        const st: SlotStatus = { slot: uint(s, 'slot', LIMITS.maxSlot, `slots[${i}].slot`), card: oneOf(s, 'card', CARD_STATES, `slots[${i}].card`) };
        if (has(s, 'atr')) st.atr = bin(s, 'atr', 2, 33, `slots[${i}].atr`);
        if (has(s, 'protocol')) st.protocol = protocolField(s, 'protocol', `slots[${i}].protocol`);
        return decodeRate(s, st, `slots[${i}].`);
      }),
  },
  powerOn: { ...slotOnly(), encodeResult: atrResult, decodeResult: decodeAtrResult },
  powerOff: { ...slotOnly(), ...noResult },
  resetCard: { ...slotOnly(), encodeResult: atrResult, decodeResult: decodeAtrResult },
  setParams: {
    encodeArgs: ([slot, p]) => ({ slot, ...paramsFields(p) }),
    decodeArgs: (m) => [slotArg(m), decodeFiDi(m, paramsProtocol(m))],
    encodeResult: paramsFields,
    decodeResult: (m) => decodeRate(m, paramsProtocol(m)),
  },
  transmit: {
    encodeArgs: ([slot, apdu]) => ({ slot, apdu }),
    decodeArgs: (m) => [slotArg(m), bin(m, 'apdu', 4, LIMITS.maxCommandApdu)],
    encodeResult: (rapdu) => ({ rapdu }),
    decodeResult: (m) => bin(m, 'rapdu', 2, LIMITS.maxResponseApdu),
  },
  transmitBatch: {
    encodeArgs: ([slot, commands]) => ({
      slot,
      commands: commands.map((c) => (c.expect ? { apdu: c.apdu, expect: c.expect.map((e) => ({ sw: e.sw, mask: e.mask })) } : { apdu: c.apdu })),
    }),
    decodeArgs: (m) => {
      const list = arr(m, 'commands', LIMITS.maxBatch);
      if (list.length === 0) bad('commands', 'must not be empty');
      const commands: BatchCommand[] = list.map((v, i) => {
        const c = map(v, `commands[${i}]`);
        const cmd: BatchCommand = { apdu: bin(c, 'apdu', 4, LIMITS.maxCommandApdu, `commands[${i}].apdu`) };
        if (has(c, 'expect')) {
          cmd.expect = arr(c, 'expect', LIMITS.maxExpect, `commands[${i}].expect`).map((ev, j) => {
            const e = map(ev, `commands[${i}].expect[${j}]`);
            return { sw: uint(e, 'sw', 0xffff, `commands[${i}].expect[${j}].sw`), mask: uint(e, 'mask', 0xffff, `commands[${i}].expect[${j}].mask`) };
          });
        }
        return cmd;
      });
      return [slotArg(m), commands];
    },
    encodeResult: (r) => (r.stoppedAt === undefined ? { responses: r.responses } : { responses: r.responses, stoppedAt: r.stoppedAt }),
    decodeResult: (m) => {
      const responses = arr(m, 'responses', LIMITS.maxBatch).map((_, i) => bin(m.responses as WireMap, String(i), 2, LIMITS.maxResponseApdu, `responses[${i}]`));
      const r: BatchResult = { responses };
      const stoppedAt = optUint(m, 'stoppedAt', LIMITS.maxBatch - 1);
      if (stoppedAt !== undefined) r.stoppedAt = stoppedAt;
      return r;
    },
  },
  ping: { ...noArgs, ...noResult },
  deviceReset: { ...noArgs, ...noResult },
  deviceInfo: {
    ...noArgs,
    encodeResult: (d) => (d.notes === undefined ? { uptimeMs: d.uptimeMs, counters: d.counters } : { uptimeMs: d.uptimeMs, counters: d.counters, notes: d.notes }),
    decodeResult: (m) => {
      const counterMap = map(m.counters, 'counters');
      const names = Object.keys(counterMap);
      if (names.length > LIMITS.maxCounters) bad('counters', `must have at most ${LIMITS.maxCounters} entries`);
      const counters: Record<string, number> = {};
      for (const name of names) {
        if (Buffer.byteLength(name, 'utf8') > LIMITS.maxCounterName) bad('counters', `names must be at most ${LIMITS.maxCounterName} bytes`);
        counters[name] = uint(counterMap, name, Number.MAX_SAFE_INTEGER, `counters.${name}`);
      }
      const info: DeviceInfo = { uptimeMs: uint(m, 'uptimeMs', Number.MAX_SAFE_INTEGER), counters };
      if (has(m, 'notes')) info.notes = arr(m, 'notes', LIMITS.maxNotes).map((_, i) => str(m.notes as WireMap, String(i), LIMITS.maxMessageText, `notes[${i}]`));
      return info;
    },
  },
  scOpen: {
    encodeArgs: ([r]) => ({ suites: r.suites, hostKey: r.hostKey, ephemeral: r.ephemeral }),
    decodeArgs: (m) => {
      const suites = arr(m, 'suites', 8).map((_, i) => uint(m.suites as WireMap, String(i), 0xff, `suites[${i}]`));
      if (suites.length === 0) bad('suites', 'must not be empty');
      return [{ suites, hostKey: bin(m, 'hostKey', 65, 65), ephemeral: bin(m, 'ephemeral', 65, 65) }];
    },
    encodeResult: (r) => ({ suite: r.suite, cert: { tbs: r.cert.tbs, sig: r.cert.sig }, ephemeral: r.ephemeral, confirm: r.confirm }),
    decodeResult: (m) => {
      const cert = map(m.cert, 'cert');
      return {
        suite: uint(m, 'suite', 0xff),
        cert: { tbs: bin(cert, 'tbs', 1, 1024, 'cert.tbs'), sig: bin(cert, 'sig', 64, 64, 'cert.sig') },
        ephemeral: bin(m, 'ephemeral', 65, 65),
        confirm: bin(m, 'confirm', 32, 32),
      };
    },
  },
  scFinish: {
    encodeArgs: ([r]) => ({ confirm: r.confirm }),
    decodeArgs: (m) => [{ confirm: bin(m, 'confirm', 32, 32) }],
    ...noResult,
  },
  diagHold: {
    encodeArgs: ([ms]) => ({ ms }),
    decodeArgs: (m) => {
      const ms = uint(m, 'ms', MAX_DIAG_HOLD_MS);
      if (ms < 1) bad('ms', `must be an integer in 1..${MAX_DIAG_HOLD_MS}`);
      return [ms];
    },
    encodeResult: (r) => ({ heldMs: r.heldMs }),
    decodeResult: (m) => ({ heldMs: uint(m, 'heldMs', 0xffff_ffff) }),
  },
};

const OPERATION_SET = new Set<string>([...OPERATIONS, ...SECURE_OPERATIONS, ...DIAGNOSTIC_OPERATIONS]);

function isWireOperation(op: unknown): op is WireOperation {
  return typeof op === 'string' && OPERATION_SET.has(op);
}

// ---- host side: encode requests, decode device messages ----------------------------------------------
export function encodeRequest<K extends WireOperation>(id: number, op: K, args: OperationArgs[K]): Uint8Array {
  if (!Number.isInteger(id) || id < 1 || id > LIMITS.maxId) throw new BadMessageError('request id must be 1..2^32-1', { field: 'id' });
  const fields = (CODECS[op] as OpCodec<K>).encodeArgs(args);
  return packMap({ id, op, ...fields });
}

/** Decodes a message from a device: a result, an error or an event. */
export function decodeDeviceMessage(bytes: Uint8Array): DeviceToHostMessage {
  const m = unpackMap(bytes);
  if (has(m, 'ev')) return { kind: 'event', seq: uint(m, 'seq', 0xffff_ffff), event: decodeEventFields(m) };
  const id = uint(m, 'id', LIMITS.maxId);
  if (!has(m, 'ok') && has(m, 'pending')) {
    if (m.pending !== true) bad('pending', 'must be true');
    return { kind: 'pending', id };
  }
  const ok = bool(m, 'ok');
  if (ok) return { kind: 'result', id, fields: m };
  const wire = uint(m, 'code', 0xffff);
  return { kind: 'error', id, wire, name: deviceErrorName(wire), message: optStr(m, 'message', LIMITS.maxMessageText) };
}

/** Validates and converts the fields of a result for the operation that was requested. */
export function decodeResult<K extends WireOperation>(op: K, fields: WireMap): OperationResults[K] {
  return (CODECS[op] as OpCodec<K>).decodeResult(fields);
}

// ---- device side: decode requests, encode results, errors and events --------------------------------
/**
 * Decodes a request. Throws BadMessageError; its details.id is set (a number) when the id itself was
 * readable, so that the device can answer BAD_REQUEST / UNKNOWN_OPERATION to the right request.
 */
export function decodeRequest(bytes: Uint8Array): RequestMessage {
  const m = unpackMap(bytes);
  const id = uint(m, 'id', LIMITS.maxId);
  if (id === 0) bad('id', 'must not be 0');
  try {
    const op = m.op;
    if (typeof op !== 'string') bad('op', 'must be a string');
    if (!isWireOperation(op)) throw new UnknownOperationError(id, op);
    return { kind: 'request', id, op, args: CODECS[op].decodeArgs(m) } as RequestMessage;
  } catch (e) {
    if (e instanceof BadMessageError && e.details && !(e instanceof UnknownOperationError)) {
      throw new BadMessageError(e.message, { ...e.details, id });
    }
    throw e;
  }
}

/** A well-formed request naming an operation this version does not know (→ UNKNOWN_OPERATION). */
export class UnknownOperationError extends BadMessageError {
  constructor(id: number, op: string) {
    super('unknown operation', { field: 'op', id, op: op.slice(0, 32) });
  }
}

export function encodeResult<K extends WireOperation>(id: number, op: K, result: OperationResults[K]): Uint8Array {
  const fields = (CODECS[op] as OpCodec<K>).encodeResult(result);
  return packMap({ id, ok: true, ...fields });
}

/**
 * The ping result with the seq the device's next event will carry (`nextEvent`): a host that expected
 * another number lost events (a frame lost on the line) and re-reads the slot states.
 */
export function encodePingResult(id: number, nextEvent: number): Uint8Array {
  return packMap({ id, ok: true, nextEvent });
}

/** Reads `nextEvent` of a ping result (undefined when absent or not a uint32). */
export function pingNextEvent(fields: WireMap): number | undefined {
  const v = fields.nextEvent;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff ? v : undefined;
}

/** A pending notice: request `id` arrived and is queued or executing; its answer will follow. */
export function encodePending(id: number): Uint8Array {
  return packMap({ id, pending: true });
}

export function encodeError(id: number, name: DeviceErrorName, message?: string): Uint8Array {
  const out: WireMap = { id, ok: false, code: DEVICE_ERRORS[name].wire };
  if (message) out.message = truncateUtf8(message, LIMITS.maxMessageText);
  return packMap(out);
}

export function encodeEvent(seq: number, event: DeviceEvent): Uint8Array {
  return packMap({ ev: event.type, seq, ...eventFields(event) });
}

function eventFields(e: DeviceEvent): WireMap {
  switch (e.type) {
    case 'card.inserted':
    case 'card.removed':
      return { slot: e.slot };
    case 'qr.scanned':
      return { text: e.text };
    case 'error':
      return { code: DEVICE_ERRORS[e.code].wire, message: truncateUtf8(e.message, LIMITS.maxMessageText) };
    case 'busy':
      return { busy: e.busy };
  }
}

const EVENT_TYPES = ['card.inserted', 'card.removed', 'qr.scanned', 'error', 'busy'] as const;

function decodeEventFields(m: WireMap): DeviceEvent {
  const type = oneOf(m, 'ev', EVENT_TYPES);
  switch (type) {
    case 'card.inserted':
    case 'card.removed':
      return { type, slot: uint(m, 'slot', LIMITS.maxSlot) };
    case 'qr.scanned':
      return { type, text: str(m, 'text', LIMITS.maxQrText) };
    case 'error': {
      const wire = uint(m, 'code', 0xffff);
      return { type, code: deviceErrorName(wire) ?? 'INTERNAL', message: optStr(m, 'message', LIMITS.maxMessageText) ?? '' };
    }
    case 'busy':
      return { type, busy: bool(m, 'busy') };
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut, 'utf8') > maxBytes) cut = cut.slice(0, -1);
  return cut;
}
