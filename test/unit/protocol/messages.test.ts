import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../../protocol/device-error.ts';
import {
  decodeDeviceMessage,
  decodeRequest,
  decodeResult,
  encodeError,
  encodeEvent,
  encodeRequest,
  encodeResult,
  OPERATIONS,
  UnknownOperationError,
  type OperationArgs,
  type OperationResults,
  type WireOperation,
} from '../../../protocol/messages.ts';
import { DEVICE_ERRORS, type DeviceErrorName, type DeviceEvent } from '../../../protocol/operations.ts';
import { BadMessageError } from '../../../protocol/protocol-errors.ts';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const apdu = Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x02, 0x3f, 0x00]);

const SAMPLES: { [K in WireOperation]: { args: OperationArgs[K]; result: OperationResults[K] } } = {
  hello: {
    args: [{ versions: [1], maxFrame: 66560, host: 'yikad 0.1' }],
    result: {
      version: 1, vendor: 'Yika', model: 'SIM-1', serial: 'S1', firmware: '1.0.0',
      slots: [{ id: 1, kind: 'contact' }, { id: 2, kind: 'contactless' }, { id: 0x11, kind: 'sam' }],
      qrScanner: true, maxFrame: 66560, secureChannel: 'supported', batch: true, maxBatch: 32, maxInFlight: 4,
    },
  },
  slotStatus: { args: [1], result: [{ slot: 1, card: 'powered', atr: Uint8Array.of(0x3b, 0x00), protocol: 1 }, { slot: 2, card: 'absent' }] },
  powerOn: { args: [1], result: { atr: Uint8Array.of(0x3b, 0x8f, 0x80), protocol: 0 } },
  powerOff: { args: [1], result: undefined },
  resetCard: { args: [0x11], result: { atr: Uint8Array.of(0x3b, 0x02), protocol: 1 } },
  setParams: { args: [1, { protocol: 1, fi: 512, di: 8 }], result: { protocol: 1, fi: 512, di: 8 } },
  transmit: { args: [1, apdu], result: Uint8Array.of(0x90, 0x00) },
  transmitBatch: {
    args: [1, [{ apdu }, { apdu, expect: [{ sw: 0x6100, mask: 0xff00 }, { sw: 0x9000, mask: 0xffff }] }]],
    result: { responses: [Uint8Array.of(0x90, 0x00), Uint8Array.of(0x6a, 0x82)], stoppedAt: 1 },
  },
  ping: { args: [], result: undefined },
  deviceReset: { args: [], result: undefined },
  deviceInfo: { args: [], result: { uptimeMs: 12345, counters: { framesIn: 3, crcErrors: 0 }, notes: ['ok'] } },
  scOpen: {
    args: [{ suites: [1], hostKey: new Uint8Array(65).fill(4), ephemeral: new Uint8Array(65).fill(5) }],
    result: { suite: 1, cert: { tbs: Uint8Array.of(0x80), sig: new Uint8Array(64).fill(1) }, ephemeral: new Uint8Array(65).fill(6), confirm: new Uint8Array(32).fill(7) },
  },
  scFinish: { args: [{ confirm: new Uint8Array(32).fill(8) }], result: undefined },
  diagHold: { args: [250], result: { heldMs: 251 } },
};

function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  // Compare binary as hex so Buffer vs Uint8Array does not matter.
  return JSON.parse(JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && x.type === 'Buffer' ? Buffer.from(x.data).toString('hex') : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x)));
}

describe('messages: known answers', () => {
  it('encodes ping as a fixmap with two entries', () => {
    expect(toHex(encodeRequest(1, 'ping', []))).toBe('82a2696401a26f70a470696e67');
  });
  it('encodes a transmit request with the APDU as bin 8', () => {
    // {id: 7, op: "transmit", slot: 1, apdu: bin(7)}
    expect(toHex(encodeRequest(7, 'transmit', [1, apdu]))).toBe('84a2696407a26f70a87472616e736d6974a4736c6f7401a461706475c40700a404000' + '23f00');
  });
  it('encodes an error and an event', () => {
    expect(toHex(encodeError(7, 'CARD_REMOVED'))).toBe('83a2696407a26f6bc2a4636f64650d');
    expect(toHex(encodeEvent(0, { type: 'card.inserted', slot: 1 }))).toBe('83a26576ad636172642e696e736572746564a373657100a4736c6f7401');
  });
});

describe('messages: every operation round-trips', () => {
  for (const op of Object.keys(SAMPLES) as WireOperation[]) {
    it(op, () => {
      const s = SAMPLES[op];
      const req = decodeRequest(encodeRequest(42, op, s.args as never));
      expect(req.id).toBe(42);
      expect(req.op).toBe(op);
      expect(plain(req.args)).toEqual(plain(s.args));
      const msg = decodeDeviceMessage(encodeResult(42, op, s.result as never));
      expect(msg.kind).toBe('result');
      if (msg.kind !== 'result') return;
      expect(plain(decodeResult(op, msg.fields))).toEqual(plain(s.result));
    });
  }
  it('covers every ReaderOperations method', () => {
    expect(OPERATIONS.every((op) => op in SAMPLES)).toBe(true);
  });
  it('is readable by a generic msgpack decoder', () => {
    const m = unpack(Buffer.from(encodeRequest(3, 'transmit', [1, apdu]))) as Record<string, unknown>;
    expect(m.op).toBe('transmit');
    expect(toHex(m.apdu as Uint8Array)).toBe(toHex(apdu));
  });
});

describe('messages: errors and events', () => {
  it('maps every DEVICE_ERRORS name to its wire number and back', () => {
    for (const name of Object.keys(DEVICE_ERRORS) as DeviceErrorName[]) {
      const msg = decodeDeviceMessage(encodeError(9, name, 'm'));
      expect(msg).toMatchObject({ kind: 'error', id: 9, wire: DEVICE_ERRORS[name].wire, name, message: 'm' });
      const err = DeviceError.fromWire(DEVICE_ERRORS[name].wire, undefined);
      expect(err.code).toBe(name);
      expect(err.wire).toBe(DEVICE_ERRORS[name].wire);
    }
  });
  it('maps an unknown wire code to INTERNAL with the number kept', () => {
    const err = DeviceError.fromWire(777, 'x');
    expect(err.code).toBe('INTERNAL');
    expect(err.details?.wire).toBe(777);
  });
  it('round-trips every event type with its sequence number', () => {
    const events: DeviceEvent[] = [
      { type: 'card.inserted', slot: 1 },
      { type: 'card.removed', slot: 2 },
      { type: 'qr.scanned', text: 'EHC1:xyz' },
      { type: 'error', code: 'CARD_MUTE', message: 'no ATR' },
      { type: 'busy', busy: true },
    ];
    events.forEach((e, i) => expect(decodeDeviceMessage(encodeEvent(i, e))).toEqual({ kind: 'event', seq: i, event: e }));
  });
});

describe('messages: strict validation', () => {
  const bad = (m: unknown) => () => decodeRequest(pack(m));
  it('rejects a root that is not a map, bad msgpack and trailing bytes', () => {
    expect(() => decodeRequest(pack([1, 2]))).toThrow(BadMessageError);
    expect(() => decodeRequest(Uint8Array.of(0x81, 0xa2))).toThrow(BadMessageError);
    expect(() => decodeRequest(new Uint8Array([...encodeRequest(1, 'ping', []), 0x00]))).toThrow(BadMessageError);
  });
  it('rejects a missing, zero or out-of-range id', () => {
    expect(bad({ op: 'ping' })).toThrowError(expect.objectContaining({ code: 'PROTOCOL_BAD_MESSAGE', details: { field: 'id' } }));
    expect(bad({ id: 0, op: 'ping' })).toThrow(BadMessageError);
    expect(bad({ id: 2 ** 32, op: 'ping' })).toThrow(BadMessageError);
    expect(bad({ id: -1, op: 'ping' })).toThrow(BadMessageError);
    expect(bad({ id: 1.5, op: 'ping' })).toThrow(BadMessageError);
  });
  it('reports an unknown operation with its id', () => {
    try {
      decodeRequest(pack({ id: 5, op: 'selfDestruct' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownOperationError);
      expect((e as BadMessageError).details?.id).toBe(5);
    }
  });
  it('rejects wrongly typed fields and keeps the id for the answer', () => {
    const cases: Array<[unknown, string]> = [
      [{ id: 3, op: 'transmit', slot: 1, apdu: '00a40400' }, 'apdu'],
      [{ id: 3, op: 'transmit', slot: 256, apdu: Buffer.from(apdu) }, 'slot'],
      [{ id: 3, op: 'transmit', slot: 1, apdu: Buffer.alloc(3) }, 'apdu'],
      [{ id: 3, op: 'transmit', slot: 1, apdu: Buffer.alloc(65_545) }, 'apdu'],
      [{ id: 3, op: 'powerOn' }, 'slot'],
      [{ id: 3, op: 'setParams', slot: 1, protocol: 2 }, 'protocol'],
      [{ id: 3, op: 'transmitBatch', slot: 1, commands: [] }, 'commands'],
      [{ id: 3, op: 'transmitBatch', slot: 1, commands: [{ apdu: Buffer.from(apdu), expect: [{ sw: 0x9000 }] }] }, 'commands[0].expect[0].mask'],
      [{ id: 3, op: 'hello', versions: [], maxFrame: 512 }, 'versions'],
      [{ id: 3, op: 'hello', versions: [1], maxFrame: 512, host: 'x'.repeat(65) }, 'host'],
    ];
    for (const [m, field] of cases) {
      expect(bad(m), field).toThrowError(expect.objectContaining({ code: 'PROTOCOL_BAD_MESSAGE', details: expect.objectContaining({ field, id: 3 }) }));
    }
  });
  it('ignores keys it does not know (forward compatibility)', () => {
    const r = decodeRequest(pack({ id: 4, op: 'powerOn', slot: 1, future: { x: 1 } }));
    expect(r).toEqual({ kind: 'request', id: 4, op: 'powerOn', args: [1] });
  });
  it('validates results: wrong types are refused', () => {
    const m = (fields: Record<string, unknown>) => {
      const msg = decodeDeviceMessage(pack({ id: 1, ok: true, ...fields }));
      if (msg.kind !== 'result') throw new Error('not a result');
      return msg.fields;
    };
    expect(() => decodeResult('transmit', m({ rapdu: 'nope' }))).toThrow(BadMessageError);
    expect(() => decodeResult('powerOn', m({ atr: Buffer.alloc(40), protocol: 1 }))).toThrow(BadMessageError);
    expect(() => decodeResult('hello', m({ version: 1 }))).toThrow(BadMessageError);
    expect(() => decodeDeviceMessage(pack({ id: 1 }))).toThrow(BadMessageError);
    expect(() => decodeDeviceMessage(pack({ ev: 'card.exploded', seq: 1 }))).toThrow(BadMessageError);
  });
  it('never quotes message content in an error', () => {
    try {
      decodeRequest(new Uint8Array([...pack({ id: 1, op: 'transmit', slot: 1, apdu: Buffer.from('SECRET-PIN') }), 0x01]));
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('SECRET');
    }
  });
});
