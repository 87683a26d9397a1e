import { describe, expect, it } from 'vitest';
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
