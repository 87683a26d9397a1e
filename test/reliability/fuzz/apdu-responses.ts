// APDU responses: random and mutated response APDUs through apdu's parser, every status word through
// describeStatusWord/CardStatusError, and a random card behind the ISO transmission engine (61xx GET
// RESPONSE, 6Cxx retry) that must end in a response or a typed error within their bounds. Wrong
// result = a parse that does not match the bytes, a status word called success that is not 9000, or
// an engine that sends more commands than its bound.
import { withIsoTransmission } from '../../../apdu/iso-transmit.ts';
import { encodeResponse, parseResponse } from '../../../apdu/response-apdu.ts';
import { CardStatusError, describeStatusWord, isSuccess } from '../../../apdu/status-words.ts';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { mutateBytes, rng } from '../kit/rng.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function fuzzApduResponses(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'APDU responses (parser, status words, ISO decorators)', o.seed);
  const r = rng(o.seed);
  // Every status word once.
  for (let sw = 0; sw <= 0xffff; sw++) {
    try {
      const info = describeStatusWord(sw);
      if (typeof info.message !== 'string' || !info.code) t.wrong(`status word ${sw.toString(16)} has no code/message`);
      else if (isSuccess(sw) !== (sw === 0x9000)) t.wrong(`isSuccess(${sw.toString(16)}) = ${isSuccess(sw)}`);
      else if (sw !== 0x9000 && !/^SW_[A-Z0-9_]+$/.test(new CardStatusError(sw, 'READ BINARY').code)) t.wrong(`CardStatusError(${sw.toString(16)}) has code ${new CardStatusError(sw).code}`);
      else t.count('status word described');
    } catch (e) {
      t.error(e, () => `status word ${sw.toString(16)}`);
    }
  }
  // Random and mutated responses through the parser.
  for (let i = 0, n = scaled(o, 200_000, 200); i < n; i++) {
    const bytes = r.int(2) ? r.bytes(r.int(300)) : mutateBytes(r, encodeResponse(r.bytes(r.int(258)), r.pick([0x9000, 0x6a82, 0x6100 | r.int(256), 0x6c00 | r.int(256)])));
    try {
      const p = parseResponse(bytes);
      if (hex(p.data) !== hex(bytes.subarray(0, bytes.length - 2)) || p.sw !== ((bytes[bytes.length - 2] << 8) | bytes[bytes.length - 1])) t.wrong('parseResponse disagrees with the bytes', { name: `parse-${i}`, data: bytes });
      else t.count('response parsed');
    } catch (e) {
      if (bytes.length >= 2) t.wrong('parseResponse refused a response of ≥ 2 bytes', { name: `parse-${i}`, data: bytes });
      else t.error(e, () => `parseResponse(${hex(bytes)})`);
    }
  }
  // A random card behind GET RESPONSE + Le retry: bounded, typed.
  for (let i = 0, n = scaled(o, 20_000, 50); i < n; i++) {
    let sent = 0;
    const card: CardChannel = {
      async transmit() {
        sent++;
        const kind = r.int(6);
        const sw = kind < 3 ? 0x6100 | r.int(256) : kind === 3 ? 0x6c00 | r.int(256) : r.pick([0x9000, 0x6a82, 0x6982, r.int(0x10000)]);
        return r.int(20) === 0 ? r.bytes(r.int(2)) : encodeResponse(r.bytes(r.int(40)), sw);
      },
    };
    const channel = withIsoTransmission(card);
    try {
      const res = await channel.transmit(Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x00));
      if (sent > 34 * 2) t.wrong(`the ISO engine sent ${sent} commands for one`);
      else t.count(res.length >= 2 ? 'ended with a response' : 'short response passed through');
    } catch (e) {
      if (sent > 34 * 2) t.wrong(`the ISO engine sent ${sent} commands for one`);
      else t.error(e, () => `ISO engine run ${i}`);
    }
  }
  return t.done();
}
