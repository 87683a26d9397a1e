// Code classification (qr/code-kind.ts): each public format with known answers, the boundaries of
// each rule (one digit too many or too few, a prefix just outside), and masking.
import { describe, expect, it } from 'vitest';
import { classifyCode, idCheckCharacter, isResidentIdNumber, maskCode } from '../../../qr/code-kind.ts';

const kind = (t: string): string => {
  const c = classifyCode(t);
  return c.scheme ? `${c.kind}/${c.scheme}` : c.kind;
};

describe('classifyCode', () => {
  it('EHC1 and other EHC versions, any prefix case', () => {
    expect(kind('EHC1:0123')).toBe('ehc1');
    expect(kind('ehc1:0123\r\n')).toBe('ehc1');
    expect(kind('EHC2:0123')).toBe('ehc1');
  });

  it('national opaque codes: exactly <64 hex>:1 or <64 hex>:0:<32 hex>', () => {
    expect(kind('ab'.repeat(32) + ':1')).toBe('ehc-online');
    expect(kind('AB'.repeat(32) + ':0:' + 'cd'.repeat(16))).toBe('ehc-online');
    expect(kind('ab'.repeat(32) + ':2')).toBe('unknown');
    expect(kind('ab'.repeat(31) + 'a:1')).toBe('unknown');
    expect(kind('ab'.repeat(32) + ':0:' + 'cd'.repeat(15))).toBe('unknown');
  });

  it('medical-insurance voucher: 424 + 19 digits + a province + 4 digits (28 in all)', () => {
    expect(kind('4243669509084040896099330000')).toBe('insurance'); // the rule's published example
    expect(kind('4243669509084040896099990000')).toBe('unknown'); // 99 is not a province
    expect(kind('424366950908404089609933000')).toBe('unknown'); // 27 digits
    expect(kind('4253669509084040896099330000')).toBe('unknown'); // not 424
  });

  it('payment codes by documented prefix and length', () => {
    expect(kind('134567890123456789')).toBe('payment/wechat');
    expect(kind('104567890123456789')).toBe('payment/wechat');
    expect(kind('164567890123456789')).toBe('unknown'); // 16 is not a WeChat prefix
    expect(kind('13456789012345678')).toBe('unknown'); // 17 digits
    expect(kind('2845678901234567')).toBe('payment/alipay'); // 16 digits
    expect(kind('304567890123456789012345')).toBe('payment/alipay'); // 24 digits
    expect(kind('3045678901234567890123456')).toBe('unknown'); // 25 digits
    expect(kind('24' + '1'.repeat(16))).toBe('unknown'); // 24 is not Alipay
    expect(kind('6212345678901234567')).toBe('payment/unionpay');
    expect(kind('621234567890123456')).toBe('unknown'); // 18 digits starting 62
  });

  it('resident ID numbers: region, birth date and GB 11643 check character', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X'); // the standard's example 11010519491231002X
    expect(kind('11010519491231002X')).toBe('id-number');
    expect(kind('11010519491231002x')).toBe('id-number');
    expect(kind('110105194912310021')).toBe('payment/wechat'); // wrong check digit: then it is WeChat's shape
    expect(isResidentIdNumber('11010519490230' + '002' + idCheckCharacter('11010519490230002'))).toBe(false);
    expect(isResidentIdNumber('99010519491231002X')).toBe(false);
    const future = '110105' + '20991231' + '002';
    expect(isResidentIdNumber(future + idCheckCharacter(future))).toBe(false);
  });

  it('never by length alone: digits of a payment length without a documented prefix are unknown', () => {
    expect(kind('9'.repeat(18))).toBe('unknown');
    expect(kind('0'.repeat(19))).toBe('unknown');
    expect(kind('hello world')).toBe('unknown');
    expect(kind('')).toBe('unknown');
  });

  it('masks all but two characters at each end', () => {
    expect(maskCode('134567890123456789')).toBe('13**************89');
    expect(maskCode(' 134567890123456789\r\n')).toBe('13**************89');
    expect(maskCode('12345')).toBe('*****');
  });
});
