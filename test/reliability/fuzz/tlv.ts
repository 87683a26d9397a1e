// TLV: random bytes and mutations of valid SIMPLE-TLV and BER-TLV through apdu/tlv.ts. Only
// TLV_MALFORMED may be thrown; a parse that succeeds must rebuild to exactly its input (a wrong result
// otherwise); generated valid structures must parse back to what was built.
import { buildBerTlv, buildSimpleTlv, parseBerTlv, parseSimpleTlv, type BerTlv } from '../../../apdu/tlv.ts';
import { mutateBytes, rng, type Rng } from '../kit/rng.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function simple(r: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let k = r.int(5); k >= 0; k--) parts.push(buildSimpleTlv(1 + r.int(0xfe), r.bytes(r.int(2) ? r.int(30) : r.int(400))));
  return Buffer.concat(parts);
}

function berTag(r: Rng, constructed: boolean): number {
  const c = constructed ? 0x20 : 0;
  // A first tag byte 00 or FF is padding in ISO 7816-4 (the parser skips it): never generated.
  switch (r.int(3)) {
    case 0: { const t = r.int(0x1e) | c | (r.int(4) << 6); return t === 0 ? 1 : t; }
    case 1: return ((0x1f | c | (r.int(3) << 6)) << 8) | (0x1f + r.int(0x60));
    default: return ((0x1f | c | (r.int(3) << 6)) << 16) | ((0x81 + r.int(0x7e)) << 8) | r.int(0x80);
  }
}

function ber(r: Rng, depth = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let k = r.int(3); k >= 0; k--) {
    if (depth < 4 && r.int(3) === 0) parts.push(buildBerTlv(berTag(r, true), ber(r, depth + 1)));
    else parts.push(buildBerTlv(berTag(r, false), r.bytes(r.int(2) ? r.int(40) : r.int(300))));
  }
  return Buffer.concat(parts);
}

const rebuildSimple = (nodes: ReturnType<typeof parseSimpleTlv>) => Buffer.concat(nodes.map((n) => buildSimpleTlv(n.tag, n.value)));
const rebuildBer = (nodes: BerTlv[]): Uint8Array => Buffer.concat(nodes.map((n) => buildBerTlv(n.tag, n.value)));

export async function fuzzTlv(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'TLV (SIMPLE-TLV, BER-TLV)', o.seed);
  const r = rng(o.seed);
  for (let i = 0, n = scaled(o, 150_000, 200); i < n; i++) {
    const kind = r.int(3);
    const generator = r.int(2) ? 'simple' : 'ber';
    const valid = generator === 'simple' ? simple(r) : ber(r);
    const input = kind === 0 ? valid : kind === 1 ? mutateBytes(r, valid) : r.bytes(r.int(200));
    for (const [name, parse, rebuild] of [['simple', parseSimpleTlv, rebuildSimple], ['ber', parseBerTlv, rebuildBer]] as const) {
      let nodes: unknown;
      try {
        nodes = parse(input);
      } catch (e) {
        t.error(e, () => `${name} parse`);
        continue;
      }
      try {
        // BER allows non-minimal lengths, so only a minimal encoding must round-trip byte for byte.
        const again = (rebuild as (n: unknown) => Uint8Array)(nodes);
        if (hex(again) !== hex(input) && (name === 'simple' || (kind === 0 && generator === 'ber'))) t.wrong(`${name} parse did not rebuild to its input`, { name: `${name}-${i}`, data: input });
        else t.count(`${name} parsed`);
      } catch (e) {
        t.error(e, () => `${name} rebuild`);
      }
    }
  }
  return t.done();
}
