// Fuzzing the protocol's parsers: frames, messages, records. Default ≈ 20k inputs (npm test);
// `YIKA_FUZZ_N=1000000 npx vitest run test/unit/protocol/fuzz.test.ts` runs the long mode
// (YIKA_FUZZ_SEED picks another seed). Properties: no crash (only our typed errors), no hang, and
// no wrong accept (a corrupted frame or record never yields a different valid payload).
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameEncoder, MIN_MAX_FRAME } from '../../../protocol/framing.ts';
import { decodeDeviceMessage, decodeRequest, decodeResult, encodeRequest, encodeResult, OPERATIONS, SECURE_OPERATIONS } from '../../../protocol/messages.ts';
import { BadMessageError } from '../../../protocol/protocol-errors.ts';
import { SecureRecordError, SecureRecordLayer } from '../../../protocol/secure/record-layer.ts';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { createLinkPair } from '../../../protocol/link.ts';
import { FakeReader } from './fake-reader.ts';
import { until } from '../../support/until.ts';
import { rng } from '../../reliability/kit/rng.ts';

const N = Number(process.env.YIKA_FUZZ_N ?? 20_000);
const SEED = Number(process.env.YIKA_FUZZ_SEED ?? 0x5eed);
const LONG = N > 100_000;
const share = (fraction: number) => Math.max(1, Math.floor(N * fraction));

const { next: rand, int } = rng(SEED);
function bytes(n: number, zeroBias = 0.02): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand() < zeroBias ? 0 : int(256);
  return b;
}
const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/** Applies 1–3 random corruptions: bit flips, byte drops, insertions, truncation, duplication. */
function corrupt(frame: Uint8Array): Uint8Array {
  let f = Array.from(frame);
  const body = f.length - 1; // keep the delimiter for most corruptions
  for (let k = 1 + int(3); k > 0; k--) {
    switch (int(5)) {
      case 0: {
        const i = int(body);
        f[i] ^= 1 << int(8);
        break;
      }
      case 1:
        f.splice(int(body), 1 + int(4));
        break;
      case 2:
        f.splice(int(body), 0, ...bytes(1 + int(4), 0.1));
        break;
      case 3:
        f = f.slice(0, int(body)).concat([0]); // truncated, then a delimiter
        break;
      default: {
        const i = int(body);
        f[i] = int(256);
        break;
      }
    }
  }
  // The frame's own delimiter survives (losing it necessarily merges two frames into one bad one).
  if (f[f.length - 1] !== 0) f.push(0);
  return Uint8Array.from(f);
}

function randomValue(depth = 0): unknown {
  switch (int(depth > 3 ? 8 : 11)) {
    case 0: return int(2 ** 32) * (rand() < 0.2 ? -1 : 1);
    case 1: return rand() * 1e6;
    case 2: return rand() < 0.5;
    case 3: return null;
    case 4: return Buffer.from(bytes(int(80)));
    case 5: return 'x'.repeat(int(100));
    case 6: return ['transmit', 'hello', 'ping', 'card.inserted', 'contact', 'sam', '__proto__', 'constructor'][int(8)];
    case 7: return 2 ** 53 + int(1000);
    case 8: return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    default: {
      const keys = ['id', 'op', 'slot', 'apdu', 'ok', 'code', 'ev', 'seq', 'versions', 'maxFrame', 'commands', 'expect', 'sw', 'mask', 'slots', 'atr', 'protocol', 'rapdu', 'responses', '__proto__', 'text', 'busy', 'cert', 'tbs'];
      const o: Record<string, unknown> = {};
      // defineProperty: a key named __proto__ becomes a real map key, not a prototype change.
      for (let i = int(7); i > 0; i--) Object.defineProperty(o, keys[int(keys.length)], { value: randomValue(depth + 1), enumerable: true, writable: true, configurable: true });
      if (rand() < 0.5) o.id = int(10);
      if (rand() < 0.5) o.op = [...OPERATIONS, ...SECURE_OPERATIONS][int(13)];
      return o;
    }
  }
}

function onlyTyped(fn: () => void, types: Array<new (...a: never[]) => Error>): void {
  try {
    fn();
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw new Error(`untyped failure (seed ${SEED}): ${(e as Error)?.stack ?? e}`);
  }
}

describe(`protocol fuzz (N=${N}, seed=${SEED})`, () => {
  const timeout = LONG ? 1_800_000 : 60_000;

  it('frame decoder: corrupted frames never decode as another payload, the next good frame always survives', () => {
    const enc = new FrameEncoder();
    const dec = new FrameDecoder(1024);
    const sentinel = Uint8Array.of(0x53, 0x00, 0x4e);
    const sentinelFrame = enc.encode(sentinel);
    let wrongAccepts = 0;
    let exactAccepts = 0;
    for (let i = 0, n = share(0.3); i < n; i++) {
      const payload = bytes(1 + int(i % 10 === 0 ? 1000 : 80), 0.05);
      const bad = corrupt(enc.encode(payload));
      const out = dec.push(new Uint8Array([...bad, ...sentinelFrame]));
      expect(out.length).toBeGreaterThanOrEqual(1);
      expect(eq(out[out.length - 1], sentinel)).toBe(true);
      for (const p of out.slice(0, -1)) {
        if (eq(p, payload)) exactAccepts++; // a corruption that cancelled out (e.g. a dropped empty frame)
        else wrongAccepts++;
      }
    }
    // CRC-32 lets through 1 in 2^32 random corruptions: at N ≤ 10^7 the expected count is ≪ 1.
    expect(wrongAccepts).toBe(0);
    expect(exactAccepts).toBeLessThan(share(0.3));
  }, timeout);

  it('frame decoder: random byte streams in random chunks never throw and never hold more than its buffer', () => {
    const dec = new FrameDecoder(MIN_MAX_FRAME);
    for (let i = 0, n = share(0.2); i < n; i++) {
      const chunk = bytes(1 + int(300), rand() < 0.5 ? 0.01 : 0.2);
      for (const p of dec.push(chunk)) expect(p.length).toBeLessThanOrEqual(MIN_MAX_FRAME);
      expect(dec.pending).toBeLessThanOrEqual(MIN_MAX_FRAME + 8);
    }
    const good = Uint8Array.of(1, 2, 3);
    const out = dec.push(new Uint8Array([0, ...new FrameEncoder().encode(good)]));
    expect(eq(out[out.length - 1], good)).toBe(true);
  }, timeout);

  it('frame decoder: oversize frames are skipped, the next frame survives', () => {
    const enc = new FrameEncoder();
    const dec = new FrameDecoder(600);
    for (let i = 0, n = share(0.05); i < n; i++) {
      const big = enc.encode(bytes(601 + int(3000)));
      const small = bytes(1 + int(50));
      const out = dec.push(new Uint8Array([...big, ...enc.encode(small)]));
      expect(out.length).toBe(1);
      expect(eq(out[0], small)).toBe(true);
    }
    expect(dec.counters.oversizeFrames).toBe(share(0.05));
  }, timeout);

  it('messages: random msgpack and mutated requests only ever fail with PROTOCOL_BAD_MESSAGE', () => {
    const valid = [
      encodeRequest(1, 'transmit', [1, bytes(261)]),
      encodeRequest(2, 'hello', [{ versions: [1], maxFrame: 4096, host: 'h' }]),
      encodeRequest(3, 'transmitBatch', [1, [{ apdu: bytes(8), expect: [{ sw: 0x9000, mask: 0xffff }] }]]),
      encodeResult(4, 'hello', { version: 1, vendor: 'v', model: 'm', serial: 's', firmware: 'f', slots: [{ id: 1, kind: 'contact' }], qrScanner: false, maxFrame: 512, secureChannel: 'none', batch: false, maxBatch: 0 }),
      encodeResult(5, 'deviceInfo', { uptimeMs: 1, counters: { a: 1 } }),
    ];
    const ops = [...OPERATIONS, ...SECURE_OPERATIONS];
    for (let i = 0, n = share(0.35); i < n; i++) {
      let input: Uint8Array;
      const mode = int(3);
      if (mode === 0) input = pack(randomValue());
      else if (mode === 1) input = corrupt(Uint8Array.from([...valid[int(valid.length)], 0])).subarray(0, -1);
      else input = bytes(int(64), 0.1);
      onlyTyped(() => decodeRequest(input), [BadMessageError]);
      onlyTyped(() => {
        const m = decodeDeviceMessage(input);
        if (m.kind === 'result') decodeResult(ops[int(ops.length)], m.fields);
      }, [BadMessageError]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, timeout);

  it('device session: random requests and frames never crash it; it still answers afterwards', async () => {
    const [host, device] = createLinkPair();
    const internal: unknown[] = [];
    new DeviceSession(device, new FakeReader(), { onInternalError: (e) => internal.push(e) });
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const answers: unknown[] = [];
    host.onData((b) => dec.push(b).forEach((p) => answers.push(decodeDeviceMessage(p))));
    host.write(enc.encode(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 66560 }])));
    host.write(enc.encode(encodeRequest(2, 'powerOn', [1])));
    const n = Math.min(share(0.05), 50_000);
    for (let i = 0; i < n; i++) {
      const v = randomValue();
      const m = v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? { ...(v as object), id: 10 + i } : v;
      host.write(rand() < 0.9 ? enc.encode(pack(m)) : bytes(1 + int(40), 0.2));
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    // No answer to the random input can carry id 3 (its ids are 0 or ≥ 10): what follows is the ping's.
    const before = answers.length;
    // Random input may have contained a valid deviceReset or hello, and may still be executing (BUSY is
    // a fair answer meanwhile): say hello again and ping, again each try, until a ping is answered.
    const pinged = () => answers.slice(before).some((a) => (a as { kind?: string }).kind === 'result' && (a as { id?: number }).id === 3);
    await until(
      'a ping answered after the fuzz',
      () => {
        if (pinged()) return true;
        host.write(enc.encode(encodeRequest(4, 'hello', [{ versions: [1], maxFrame: 66560 }])));
        host.write(enc.encode(encodeRequest(3, 'ping', [])));
        return false;
      },
      10_000,
      100,
    ).catch(() => undefined); // the expect below says what is missing
    expect(answers.slice(before)).toContainEqual(expect.objectContaining({ kind: 'result', id: 3 }));
    // A handler bug would surface as INTERNAL; random input must only ever produce protocol errors.
    expect(internal).toEqual([]);
    host.close();
  }, timeout);

  it('records: any corruption is rejected with SECURE_CHANNEL_REJECTED, never opened as other plaintext', () => {
    const k = { enc: bytes(16), mac: bytes(16) };
    for (let i = 0, n = share(0.1); i < n; i++) {
      const tx = new SecureRecordLayer({ send: k, receive: k });
      const rx = new SecureRecordLayer({ send: k, receive: k });
      const plain = bytes(1 + int(300));
      const record = tx.seal(plain);
      const bad = corrupt(Uint8Array.from([...record, 0])).subarray(0, -1);
      let opened: Uint8Array | undefined;
      onlyTyped(() => {
        opened = rx.open(bad);
      }, [SecureRecordError]);
      if (opened) expect(eq(bad, record)).toBe(true); // only an unchanged record opens
    }
  }, timeout);
});
