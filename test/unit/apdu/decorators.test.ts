import { describe, expect, it } from 'vitest';
import { withGetResponse } from '../../../apdu/get-response.ts';
import { withLeRetry } from '../../../apdu/le-retry.ts';
import { withChaining } from '../../../apdu/chaining.ts';
import { withTrace } from '../../../apdu/trace.ts';
import { ReplayChannel } from '../../../apdu/replay-channel.ts';
import { transmitBatch } from '../../../apdu/batch.ts';
import { ChannelError } from '../../../apdu/apdu-errors.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { ScriptedChannel, h, hx } from './scripted-channel.ts';

async function code(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { if (isYikaError(e)) return e.code; throw e; }
  return 'no error';
}

describe('withGetResponse', () => {
  it('fetches 61xx data with 00 C0 and concatenates it', async () => {
    const inner = new ScriptedChannel([['80FA0000100102', '6104'], ['00C0000004', 'AABB6102'], ['00C0000002', 'CCDD9000']]);
    const r = await withGetResponse(inner).transmit(h('80FA0000100102'));
    expect(hx(r)).toBe('AABBCCDD9000');
    expect(inner.sent).toEqual(['80FA0000100102', '00C0000004', '00C0000002']);
  });
  it('maps 6100 to Le 00 and keeps a final error SW', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6100'], ['00C0000000', '6A82']]);
    expect(hx(await withGetResponse(inner).transmit(h('00B0000000')))).toBe('6A82');
  });
  it('is bounded', async () => {
    const script: Array<[string, string]> = [['*', '6101']];
    for (let i = 0; i < 40; i++) script.push(['00C0000001', '006101']);
    const inner = new ScriptedChannel(script);
    expect(await code(withGetResponse(inner, { maxRounds: 32 }).transmit(h('00840000')))).toBe('GET_RESPONSE_LIMIT');
    expect(inner.sent.length).toBe(33);
  });
  it('honours the per-command opt-out', async () => {
    const inner = new ScriptedChannel([['00840000', '6108']]);
    expect(hx(await withGetResponse(inner).transmit(h('00840000'), { iso: { getResponse: false } }))).toBe('6108');
  });
  it('repairs a batch that stopped on 61xx and resumes it', async () => {
    const inner = new ScriptedChannel([['00A4000002DF01', '9000'], ['00B2010400', '6102'], ['00C0000002', '01029000'], ['00B2020400', '03049000']], true);
    const r = await withGetResponse(inner).transmitBatch!([{ apdu: h('00A4000002DF01') }, { apdu: h('00B2010400') }, { apdu: h('00B2020400') }]);
    expect(r.stoppedAt).toBeUndefined();
    expect(r.responses.map(hx)).toEqual(['9000', '01029000', '03049000']);
    expect(inner.batches).toBe(2);
  });
});

describe('withLeRetry', () => {
  it('resends with Le = xx after 6Cxx (short)', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6C0E'], ['00B000000E', '0102030405060708090A0B0C0D0E9000']]);
    expect(hx(await withLeRetry(inner).transmit(h('00B0000000')))).toHaveLength(32);
    expect(inner.sent[1]).toBe('00B000000E');
  });
  it('keeps the extended form', async () => {
    const inner = new ScriptedChannel([['00B00000000200', '6C10'], ['00B00000000010', '9000']]);
    await withLeRetry(inner).transmit(h('00B00000000200'));
    expect(inner.sent[1]).toBe('00B00000000010');
  });
  it('retries once only and honours the opt-out', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6C05'], ['00B0000005', '6C04']]);
    expect(hx(await withLeRetry(inner).transmit(h('00B0000000')))).toBe('6C04');
    const inner2 = new ScriptedChannel([['00B0000000', '6C05']]);
    expect(hx(await withLeRetry(inner2).transmit(h('00B0000000'), { iso: { leRetry: false } }))).toBe('6C05');
  });
});

describe('withChaining', () => {
  it('splits long data with CLA bit 0x10 on all parts but the last', async () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const inner = new ScriptedChannel([['*', '9000'], ['*', '9000']]);
    const r = await withChaining(inner).transmit(Uint8Array.from([0x00, 0xd6, 0x00, 0x00, 0x00, 0x01, 0x2c, ...data]));
    expect(hx(r)).toBe('9000');
    expect(inner.sent[0].slice(0, 10)).toBe('10D60000FF');
    expect(inner.sent[0].length).toBe(2 * (5 + 255));
    expect(inner.sent[1].slice(0, 10)).toBe('00D600002D');
  });
  it('stops on a refused part; leaves proprietary classes and opted-out commands alone', async () => {
    const inner2 = new ScriptedChannel([['*', '6A80']]);
    expect(hx(await withChaining(inner2, { maxData: 4 }).transmit(h('00DA0000080102030405060708')))).toBe('6A80');
    expect(inner2.sent).toEqual(['10DA00000401020304']);
    const inner3 = new ScriptedChannel([['80FA0000080102030405060708', '9000']]);
    await withChaining(inner3, { maxData: 4 }).transmit(h('80FA0000080102030405060708'));
    const inner4 = new ScriptedChannel([['00DA0000080102030405060708', '9000']]);
    await withChaining(inner4, { maxData: 4 }).transmit(h('00DA0000080102030405060708'), { iso: { chaining: false } });
  });
});

describe('withTrace', () => {
  it('writes one diffable line per command and response', async () => {
    const lines: string[] = [];
    const inner = new ScriptedChannel([['00A4000002DF01', '6F0884069156000132009000']]);
    await withTrace(inner, (l) => lines.push(l)).transmit(h('00A4000002DF01'));
    expect(lines).toEqual(['A>> 00A4000002DF01', 'A<< 6F088406915600013200' + '9000']);
  });
  it('masks secrets but keeps their length', async () => {
    const lines: string[] = [];
    const inner = new ScriptedChannel([
      ['*', '9000'], ['*', '63C2'], ['*', '9000'], ['*', '6110'], ['00C0000010', '00112233445566778899AABBCCDDEEFF9000'], ['*', '9000'], ['*', '11229000'],
    ]);
    const t = withTrace(inner, (l) => lines.push(l), { prefix: 'S' });
    await t.transmit(h('0020000003123456'));
    await t.transmit(h('0082000411' + '00'.repeat(17)));
    await t.transmit(h('80DE4731180102030405060708' + '3131303030303030' + 'AABBCCDDEEFF0011'));
    await t.transmit(h('80FA000010' + '59494B41484F5354' + '0000000000000000'));
    await t.transmit(h('00C0000010'));
    await t.transmit(h('04DC0104' + '14' + '00'.repeat(20)));
    await t.transmit(h('00B0000002'), { sensitive: 'response' });
    expect(lines).toEqual([
      'S>> 0020000003******', 'S<< 9000',
      `S>> 0082000411${'**'.repeat(17)}`, 'S<< 63C2',
      `S>> 80DE473118${'**'.repeat(24)}`, 'S<< 9000',
      `S>> 80FA000010${'**'.repeat(16)}`, 'S<< 6110',
      'S>> 00C0000010', `S<< ${'**'.repeat(16)}9000`,
      `S>> 04DC010414${'**'.repeat(20)}`, 'S<< 9000',
      'S>> 00B0000002', 'S<< ****9000',
    ]);
    expect(lines.join('\n')).not.toContain('123456');
  });
});

describe('ReplayChannel', () => {
  const transcript = [
    '# a recorded read',
    'A>> 00A4000002DDF1', 'A<< 6F10840C57532E5359532E4444463031A5009000',
    'S>> 0020000003******', 'S<< 9000',
    'A>> 0082000411**********************************', 'A<< 9000',
    'A>> 00B2010400', 'A<< 010131' + '9000',
  ].join('\n');
  it('plays back, matching masked bytes as wildcards and skipping other prefixes', async () => {
    const r = new ReplayChannel(transcript);
    expect(hx(await r.transmit(h('00A4000002DDF1')))).toBe('6F10840C57532E5359532E4444463031A5009000');
    expect(hx(await r.transmit(h('0082000411' + '11'.repeat(17))))).toBe('9000');
    expect(hx(await r.transmit(h('00B2010400')))).toBe('0101319000');
    expect(r.remaining).toBe(0);
    expect(await code(r.transmit(h('00B2010400')))).toBe('REPLAY_EXHAUSTED');
  });
  it('raises a typed mismatch naming the exchange, not the data', async () => {
    const r = new ReplayChannel(transcript);
    const e = await r.transmit(h('00A4000002DF01')).catch((x) => x);
    expect(e.code).toBe('REPLAY_MISMATCH');
    expect(e.details).toMatchObject({ exchange: 1, line: 2 });
  });
  it('replays what withTrace recorded (round trip), also through batches', async () => {
    const lines: string[] = [];
    const inner = new ScriptedChannel([['00A4000002EF05', '9000'], ['00B2010400', '0101319000']], true);
    const traced = withTrace(inner, (l) => lines.push(l));
    await transmitBatch(traced, [{ apdu: h('00A4000002EF05') }, { apdu: h('00B2010400') }]);
    const replay = new ReplayChannel(lines, { batch: true });
    const r = await transmitBatch(replay, [{ apdu: h('00A4000002EF05') }, { apdu: h('00B2010400') }]);
    expect(r.responses.map(hx)).toEqual(['9000', '0101319000']);
    expect(replay.batches).toBe(1);
  });
  it('replays a recorded transport failure (A!! CODE) as a typed error', async () => {
    const lines: string[] = [];
    const failing = withTrace({ transmit: async () => { throw new ChannelError('REPLAY_EXHAUSTED', 'x'); } }, (l) => lines.push(l));
    await failing.transmit(h('00B0000010')).catch(() => undefined);
    expect(lines).toEqual(['A>> 00B0000010', 'A!! REPLAY_EXHAUSTED']);
    const r = new ReplayChannel([...lines, 'A>> 00840000', 'A<< 9000']);
    await expect(r.transmit(h('00B0000010'))).rejects.toMatchObject({ code: 'REPLAY_EXHAUSTED', details: { line: 1 } });
    expect(hx(await r.transmit(h('00840000')))).toBe('9000');
  });

  it('rejects malformed traces', () => {
    expect(() => new ReplayChannel('A>> 00ZZ')).toThrow(expect.objectContaining({ code: 'TRACE_MALFORMED' }));
    expect(() => new ReplayChannel('A<< 9000')).toThrow(expect.objectContaining({ code: 'TRACE_MALFORMED' }));
    expect(() => new ReplayChannel('hello')).toThrow(expect.objectContaining({ code: 'TRACE_MALFORMED' }));
  });
});
