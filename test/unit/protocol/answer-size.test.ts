// The worst-case answer of a command APDU (PROTOCOL.md 1.2 §6, D3) and the host's batch split by it.
import { describe, expect, it } from 'vitest';
import { splitBatchByAnswerSize, worstCaseAnswer, worstCaseBatchAnswer, worstCaseTransmitAnswer } from '../../../protocol/answer-size.ts';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('worstCaseAnswer: Ne + 2 by ISO 7816 case', () => {
  it.each([
    ['case 1', '00 A4 00 00', 2],
    ['case 2 short Le 08', '00 84 00 00 08', 10],
    ['case 2 short Le 00 = 256', '00 B0 00 00 00', 258],
    ['case 3 short', '00 A4 00 0C 02 3F 00', 2],
    ['case 4 short Le 00', '00 A4 00 00 02 3F 00 00', 258],
    ['case 4 short Le 10', '00 A4 00 00 02 3F 00 10', 18],
    ['case 2 extended Le 0000 = 65536', '00 B0 00 00 00 00 00', 65_538],
    ['case 2 extended Le 0102', '00 B0 00 00 00 01 02', 260],
    ['case 3 extended', '00 D6 00 00 00 00 02 AA BB', 2],
    ['case 4 extended Le 0000', '00 A4 00 00 00 00 02 3F 00 00 00', 65_538],
    ['malformed (Lc says 3, 2 follow)', '00 A4 00 00 03 3F 00', 2],
  ])('%s', (_name, apdu, worst) => expect(worstCaseAnswer(h(apdu))).toBe(worst));
});

describe('splitBatchByAnswerSize', () => {
  const read = { apdu: h('00 B0 00 00 00') }; // 258 + 5 per response
  it('keeps a batch that fits whole, splits one that does not, never leaves a part empty', () => {
    expect(splitBatchByAnswerSize([read, read, read], 64 + 3 * 263).map((p) => p.length)).toEqual([3]);
    expect(splitBatchByAnswerSize([read, read, read], 64 + 3 * 263 - 1).map((p) => p.length)).toEqual([2, 1]);
    expect(splitBatchByAnswerSize([read, read, read], 487).map((p) => p.length)).toEqual([1, 1, 1]);
    expect(splitBatchByAnswerSize([read], 10).map((p) => p.length)).toEqual([1]);
  });
});

describe('worst-case answer messages (what a device checks against the frame before running anything)', () => {
  const read = { apdu: h('00 B0 00 00 00') };
  it('a transmit: its rapdu in the result map; a batch: every response with its header', () => {
    expect(worstCaseTransmitAnswer(read.apdu)).toBe(64 + 258);
    expect(worstCaseBatchAnswer([read, read, read])).toBe(64 + 3 * 263);
    // The split and the device's check agree: a part that the split keeps whole fits the limit.
    for (const part of splitBatchByAnswerSize([read, read, read, read], 64 + 2 * 263)) expect(worstCaseBatchAnswer(part)).toBeLessThanOrEqual(64 + 2 * 263);
  });
});
