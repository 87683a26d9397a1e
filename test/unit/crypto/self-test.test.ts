import { afterEach, describe, expect, it } from 'vitest';
import { lastSelfTestResult, runSelfTest, setSm2Backend, sm2Backend } from '../../../crypto/index.ts';

describe('runSelfTest', () => {
  afterEach(() => setSm2Backend('native'));

  it('passes on this Node/OpenSSL and keeps native SM2', () => {
    const result = runSelfTest();
    expect(result).toEqual({ ok: true, nativeSm2: true, failures: [] });
    expect(sm2Backend()).toBe('native');
    expect(lastSelfTestResult()).toBe(result);
  });

  it('re-selects native SM2 after a manual pin to JS (the check decides, not the pin)', () => {
    setSm2Backend('js');
    expect(sm2Backend()).toBe('js');
    expect(runSelfTest().nativeSm2).toBe(true);
    expect(sm2Backend()).toBe('native');
  });
});
