import { describe, expect, it } from 'vitest';
import { ApduTrace, isSecretCommand } from '../../../daemon/readers/apdu-trace.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function exchange(trace: ApduTrace, command: string, response: string, options?: { sensitive?: 'command' | 'response' | 'both' }) {
  trace.command(1, hex(command), options)(hex(response));
}

describe('APDU trace', () => {
  it('knows the secret commands: VERIFY, CHANGE PIN, authentication, SAM crypto, secure messaging', () => {
    for (const c of ['0020000003123456', '805E000007123456FF654321', '0082000411' + '00'.repeat(17), '80DE472F18' + '00'.repeat(24), '80FA000010' + '00'.repeat(16), '04DC010424' + '00'.repeat(36)]) {
      expect(isSecretCommand(hex(c)), c).toBe(true);
    }
    for (const c of ['00A4000002EF05', '00B2010400', '0084000008', '84D2050401 00']) expect(isSecretCommand(hex(c)), c).toBe(false);
  });

  it('always masks secrets (also the GET RESPONSE that follows a SAM cipher), keeping lengths and status words', () => {
    const t = new ApduTrace({ enabled: true, maskData: false });
    exchange(t, '0020000003123456', '9000');
    exchange(t, '80FA000010' + '11'.repeat(16), '6110');
    exchange(t, '00C0000010', '22'.repeat(16) + '9000');
    exchange(t, '00B2010405', '0103313233' + '9000');
    expect(t.text().split('\n')).toEqual([
      '[01] A>> 00 20 00 00 03 ** ** **',
      '[01] A<< 90 00',
      `[01] A>> 80 FA 00 00 10 ${'** '.repeat(16).trim()}`,
      '[01] A<< 61 10',
      '[01] A>> 00 C0 00 00 10',
      `[01] A<< ${'** '.repeat(16)}90 00`,
      '[01] A>> 00 B2 01 04 05',
      '[01] A<< 01 03 31 32 33 90 00',
    ]);
  });

  it('masks card data and written data when maskData is on, never the SELECT FCI or the challenge', () => {
    const t = new ApduTrace({ enabled: true });
    exchange(t, '00A4000002DF01', '6F08840691560001320 0'.replace(' ', '') + '9000');
    exchange(t, '0084000008', '0102030405060708' + '9000');
    exchange(t, '00B2010405', '0103313233' + '9000');
    exchange(t, '00D6000003AABBCC', '9000');
    expect(t.text().split('\n')).toEqual([
      '[01] A>> 00 A4 00 00 02 DF 01',
      '[01] A<< 6F 08 84 06 91 56 00 01 32 00 90 00',
      '[01] A>> 00 84 00 00 08',
      '[01] A<< 01 02 03 04 05 06 07 08 90 00',
      '[01] A>> 00 B2 01 04 05',
      '[01] A<< ** ** ** ** ** 90 00',
      '[01] A>> 00 D6 00 00 03 ** ** **',
      '[01] A<< 90 00',
    ]);
  });

  it('honours per-command sensitivity, records failures by code, and stays bounded', () => {
    const t = new ApduTrace({ enabled: true, maskData: false }, 10);
    exchange(t, '00B0000002', 'ABCD9000', { sensitive: 'response' });
    t.command(1, hex('00B0000002'))(Object.assign(new Error('gone'), { code: 'CARD_REMOVED' }));
    expect(t.text().split('\n').slice(0, 4)).toEqual(['[01] A>> 00 B0 00 00 02', '[01] A<< ** ** 90 00', '[01] A>> 00 B0 00 00 02', '[01] A<< # error CARD_REMOVED']);
    for (let i = 0; i < 20; i++) exchange(t, '00B0000001', '009000');
    expect(t.list()).toHaveLength(10);
    expect(t.list()[0].seq).toBe(35);
  });
});
