// Frames: valid frames, corrupted frames and random bytes through protocol's FrameDecoder (fed in
// random chunk sizes), and every delivered payload through the message decoders. Wrong result = a
// payload that was never sent (corruption the CRC let through) or a sent intact frame lost;
// crash = anything thrown that is not a typed YikaError.
import { pack } from 'msgpackr';
import { FrameDecoder, FrameEncoder, MIN_MAX_FRAME } from '../../../protocol/framing.ts';
import { decodeDeviceMessage, decodeRequest, encodeRequest, encodeResult } from '../../../protocol/messages.ts';
import { mutateBytes, rng, type Rng } from '../kit/rng.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const ZERO = Uint8Array.of(0);
const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function payload(r: Rng, i: number): Uint8Array {
  switch (r.int(4)) {
    case 0: return encodeRequest(i + 1, 'transmit', [1, r.bytes(5 + r.int(60))]);
    case 1: return encodeResult(i + 1, 'transmit', r.bytes(2 + r.int(200)));
    case 2: return pack({ t: r.int(5), id: r.int(1 << 20), op: r.pick(['hello', 'transmit', 'powerOn', 'nope', '']), a: r.bytes(r.int(40)) });
    default: return r.bytes(1 + r.int(300), 0.05);
  }
}

function decodeMessages(payloadBytes: Uint8Array, t: Tally): void {
  for (const decode of [decodeDeviceMessage, decodeRequest]) {
    try {
      decode(payloadBytes);
      t.count('message decoded');
    } catch (e) {
      t.error(e, () => `message decoder on payload ${hex(payloadBytes).slice(0, 64)}`);
    }
  }
}

export async function fuzzFrames(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'frames (FrameDecoder + message decoders)', o.seed);
  const r = rng(o.seed);
  const total = scaled(o, 1_000_000, 200);
  const enc = new FrameEncoder(MIN_MAX_FRAME * 2);
  let inputs = 0;
  let delivered = 0;
  while (inputs < total) {
    // One stream: 1–40 inputs (intact, corrupted or random), fed to a fresh decoder in random chunks.
    const dec = new FrameDecoder(MIN_MAX_FRAME * 2);
    const sent: Uint8Array[] = [];
    const intact: Uint8Array[] = [];
    const parts: Uint8Array[] = [];
    const n = 1 + r.int(40);
    for (let k = 0; k < n; k++, inputs++) {
      const kind = r.int(10);
      if (kind < 4) {
        const p = payload(r, inputs);
        const f = enc.encode(p);
        sent.push(p);
        intact.push(p);
        parts.push(Uint8Array.from(f));
        t.count('intact frame');
      } else if (kind < 9) {
        const p = payload(r, inputs);
        sent.push(p);
        // The corruption keeps a delimiter at the end so the next frame starts clean.
        parts.push(mutateBytes(r, enc.encode(p)), ZERO);
        t.count('corrupted frame');
      } else {
        parts.push(r.bytes(1 + r.int(1200), 0.01), ZERO);
        t.count('random bytes');
      }
    }
    const stream = Buffer.concat(parts);
    const out: Uint8Array[] = [];
    try {
      for (let i = 0; i < stream.length; ) {
        const step = 1 + r.int(r.int(2) ? 64 : 2048);
        for (const p of dec.push(stream.subarray(i, i + step))) out.push(Uint8Array.from(p));
        i += step;
      }
    } catch (e) {
      t.crash(`FrameDecoder.push threw ${(e as Error).message}`, { name: `stream-${inputs}`, data: stream });
      continue;
    }
    delivered += out.length;
    // Every delivered payload was sent; every intact frame was delivered, in order.
    const sentHex = new Set(sent.map(hex));
    for (const p of out) if (!sentHex.has(hex(p))) t.wrong(`decoder delivered a payload that was never sent (${p.length} B)`, { name: `stream-${inputs}`, data: stream });
    let j = 0;
    for (const p of out) if (j < intact.length && eq(p, intact[j])) j++;
    if (j !== intact.length) t.wrong(`an intact frame was lost (${intact.length - j} of ${intact.length})`, { name: `lost-${inputs}`, data: stream });
    if (r.int(8) === 0) for (const p of out) decodeMessages(p, t);
  }
  // Random payloads straight into the message decoders.
  for (let i = 0, m = scaled(o, 100_000, 50); i < m; i++) decodeMessages(payload(r, i), t);
  t.note(`${inputs.toLocaleString('en-US')} frame inputs; ${delivered.toLocaleString('en-US')} payloads delivered`);
  return t.done();
}
