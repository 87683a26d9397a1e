// The ISO transmission engine (apdu/iso-transmit.ts) on known exchanges: what it sends after 61xx and
// 6Cxx, in which order when both happen, its bound, and the per-command opt-outs.
import { describe, expect, it } from 'vitest';
import { withIsoTransmission } from '../../../apdu/iso-transmit.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { ScriptedChannel, h, hx } from './scripted-channel.ts';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isYikaError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('GET RESPONSE after 61xx', () => {
  it('fetches 61xx data with 00 C0 and concatenates it', async () => {
    const inner = new ScriptedChannel([['80FA0000100102', '6104'], ['00C0000004', 'AABB6102'], ['00C0000002', 'CCDD9000']]);
    const r = await withIsoTransmission(inner).transmit(h('80FA0000100102'));
    expect(hx(r)).toBe('AABBCCDD9000');
    expect(inner.sent).toEqual(['80FA0000100102', '00C0000004', '00C0000002']);
  });

  it('maps 6100 to Le 00 and keeps a final error SW', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6100'], ['00C0000000', '6A82']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00B0000000')))).toBe('6A82');
  });

  it('is bounded: 32 rounds by default, then GET_RESPONSE_LIMIT', async () => {
    const script = (): Array<[string, string]> => [['*', '6101'], ...Array.from({ length: 40 }, (): [string, string] => ['00C0000001', '006101'])];
    const inner = new ScriptedChannel(script());
    expect(await code(withIsoTransmission(inner).transmit(h('00840000')))).toBe('GET_RESPONSE_LIMIT');
    expect(inner.sent.length).toBe(33);
    const inner2 = new ScriptedChannel(script());
    expect(await code(withIsoTransmission(inner2, { maxGetResponseRounds: 3 }).transmit(h('00840000')))).toBe('GET_RESPONSE_LIMIT');
    expect(inner2.sent.length).toBe(4);
  });

  it('honours the per-command opt-out', async () => {
    const inner = new ScriptedChannel([['00840000', '6108']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00840000'), { iso: { getResponse: false } }))).toBe('6108');
  });

  it('repairs a batch that stopped on 61xx and resumes it', async () => {
    const inner = new ScriptedChannel([['00A4000002DF01', '9000'], ['00B2010400', '6102'], ['00C0000002', '01029000'], ['00B2020400', '03049000']], true);
    const r = await withIsoTransmission(inner).transmitBatch!([{ apdu: h('00A4000002DF01') }, { apdu: h('00B2010400') }, { apdu: h('00B2020400') }]);
    expect(r.stoppedAt).toBeUndefined();
    expect(r.responses.map(hx)).toEqual(['9000', '01029000', '03049000']);
    expect(inner.batches).toBe(2);
  });

  it('has no transmitBatch when the link has none', () => {
    expect(withIsoTransmission(new ScriptedChannel([])).transmitBatch).toBeUndefined();
  });
});

describe('Le retry after 6Cxx', () => {
  it('resends with Le = xx after 6Cxx (short)', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6C0E'], ['00B000000E', '0102030405060708090A0B0C0D0E9000']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00B0000000')))).toBe('0102030405060708090A0B0C0D0E9000');
    expect(inner.sent).toEqual(['00B0000000', '00B000000E']);
  });

  it('keeps the extended form', async () => {
    const inner = new ScriptedChannel([['00B00000000200', '6C10'], ['00B00000000010', '9000']]);
    await withIsoTransmission(inner).transmit(h('00B00000000200'));
    expect(inner.sent[1]).toBe('00B00000000010');
  });

  it('6C00 means Le 256 (short 00)', async () => {
    const inner = new ScriptedChannel([['00B0000010', '6C00'], ['00B0000000', '9000']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00B0000010')))).toBe('9000');
  });

  it('retries once only and honours the opt-out', async () => {
    const inner = new ScriptedChannel([['00B0000000', '6C05'], ['00B0000005', '6C04']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00B0000000')))).toBe('6C04');
    const inner2 = new ScriptedChannel([['00B0000000', '6C05']]);
    expect(hx(await withIsoTransmission(inner2).transmit(h('00B0000000'), { iso: { leRetry: false } }))).toBe('6C05');
  });

  it('leaves a 6Cxx to a command it cannot parse (no Le to rebuild)', async () => {
    const inner = new ScriptedChannel([['00B0', '6C05']]);
    expect(hx(await withIsoTransmission(inner).transmit(h('00B0')))).toBe('6C05');
    expect(inner.sent).toEqual(['00B0']);
  });
});

describe('the order of the two rules', () => {
  it('6Cxx first, then 61xx: the resent command answers 61xx and its data is fetched', async () => {
    const inner = new ScriptedChannel([['00A4000002DF0100', '6C12'], ['00A4000002DF0112', '6112'], ['00C0000012', '6F10' + '11'.repeat(16) + '9000']]);
    const r = await withIsoTransmission(inner).transmit(h('00A4000002DF0100'));
    expect(hx(r)).toBe('6F10' + '11'.repeat(16) + '9000');
    expect(inner.sent).toEqual(['00A4000002DF0100', '00A4000002DF0112', '00C0000012']);
  });

  it('61xx, then a GET RESPONSE answered 6Cxx: the GET RESPONSE is resent with the right Le', async () => {
    const inner = new ScriptedChannel([['80FA000002AABB', '6110'], ['00C0000010', '6C08'], ['00C0000008', '0102030405060708' + '9000']]);
    const r = await withIsoTransmission(inner).transmit(h('80FA000002AABB'));
    expect(hx(r)).toBe('01020304050607089000');
    expect(inner.sent).toEqual(['80FA000002AABB', '00C0000010', '00C0000008']);
  });

  it('opting out of Le retry still fetches 61xx; opting out of GET RESPONSE still resends after 6Cxx', async () => {
    const a = new ScriptedChannel([['00B0000000', '6C02']]);
    expect(hx(await withIsoTransmission(a).transmit(h('00B0000000'), { iso: { leRetry: false } }))).toBe('6C02');
    const b = new ScriptedChannel([['00B0000000', '6C02'], ['00B0000002', '6102']]);
    expect(hx(await withIsoTransmission(b).transmit(h('00B0000000'), { iso: { getResponse: false } }))).toBe('6102');
    expect(b.sent).toEqual(['00B0000000', '00B0000002']);
  });

  it('in a batch: a 6Cxx resend that answers 61xx is fetched before the batch goes on', async () => {
    const inner = new ScriptedChannel([
      ['00B0000000', '6C10'], ['00B0000010', '6110'], ['00C0000010', '00112233445566778899AABBCCDDEEFF9000'], ['00B2010400', '01029000'],
    ], true);
    const broad = [{ sw: 0x9000, mask: 0xffff }, { sw: 0x6100, mask: 0xff00 }, { sw: 0x6c00, mask: 0xff00 }];
    const r = await withIsoTransmission(inner).transmitBatch!([{ apdu: h('00B0000000'), expect: broad }, { apdu: h('00B2010400') }]);
    expect(r.responses.map(hx)).toEqual(['00112233445566778899AABBCCDDEEFF9000', '01029000']);
    expect(r.stoppedAt).toBeUndefined();
    expect(inner.sent).toEqual(['00B0000000', '00B0000010', '00C0000010', '00B2010400']);
  });
});
