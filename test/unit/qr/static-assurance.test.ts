// Static codes are printed or screenshotted: a valid one says so (assurance "static") and carries the
// desk's second check (qr.staticCheck); dynamic codes and failures carry none.
import { describe, expect, it } from 'vitest';
import { buildDemoTrustBundle, demoAnchorPublicKey, issueDemoCode } from '../../../qr/demo-trust.ts';
import { TrustStore } from '../../../qr/trust-store.ts';
import { Verifier, type StaticCheck } from '../../../qr/verifier.ts';

async function verifier(staticCheck?: StaticCheck) {
  const now = Math.floor(Date.now() / 1000);
  const trust = new TrustStore({ anchors: [demoAnchorPublicKey()], now: () => now });
  await trust.install(buildDemoTrustBundle(now));
  return { v: new Verifier({ trust, nowMs: () => now * 1000, staticCheck }), now };
}

describe('static-code assurance', () => {
  it('a valid static code: assurance static, the default check (ID card) and a message that asks for it', async () => {
    const { v, now } = await verifier();
    const r = await v.verify(issueDemoCode({ type: 'static', iat: now }).text);
    expect(r).toMatchObject({ ok: true, code: 'VALID', assurance: 'static', staticCheck: 'id-card' });
    expect(r.message).toMatch(/static code: confirm the patient with their ID card/);
  });

  it('the configured check is what the result carries; none asks for nothing', async () => {
    for (const check of ['password', 'sms', 'none'] as const) {
      const { v, now } = await verifier(check);
      const r = await v.verify(issueDemoCode({ type: 'static', iat: now }).text);
      expect([r.assurance, r.staticCheck]).toEqual(['static', check]);
      if (check === 'none') expect(r.message).toBe('Valid static health code.');
    }
  });

  it('dynamic codes stay as they are; a refused static code carries no assurance', async () => {
    const { v, now } = await verifier();
    const d = await v.verify(issueDemoCode({ iat: now }).text);
    expect([d.ok, d.assurance, d.staticCheck, d.message]).toEqual([true, 'dynamic', null, 'Valid dynamic health code.']);
    const expired = await v.verify(issueDemoCode({ type: 'static', iat: now - 400 * 86400, ttl: 86400 }).text);
    expect([expired.ok, expired.assurance, expired.staticCheck]).toEqual([false, null, null]);
  });
});
