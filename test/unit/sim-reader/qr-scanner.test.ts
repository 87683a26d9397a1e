import { describe, expect, it, vi } from 'vitest';
import type { DeviceEvent } from '../../../protocol/operations.ts';
import { QrScanner } from '../../../firmware-sim/qr-scanner/qr-scanner.ts';

describe('QrScanner', () => {
  it('emits one qr.scanned per scan with the keyboard-wedge ending', async () => {
    const events: DeviceEvent[] = [];
    const s = new QrScanner((e) => events.push(e), { ending: 'crlf' });
    await s.scan('EHC1:ABC');
    await s.scan('EHC1:DEF', { ending: 'cr' });
    await s.scan('plain', { ending: 'none' });
    expect(events).toEqual([
      { type: 'qr.scanned', text: 'EHC1:ABC\r\n' },
      { type: 'qr.scanned', text: 'EHC1:DEF\r' },
      { type: 'qr.scanned', text: 'plain' },
    ]);
    expect(s.scans).toBe(3);
  });

  it('bounces: the same text again after the interval (timer-driven, checked on a fake clock)', async () => {
    vi.useFakeTimers();
    try {
      const texts: string[] = [];
      const s = new QrScanner((e) => {
        if (e.type === 'qr.scanned') texts.push(e.text);
      });
      const done = s.scan('X', { bounce: 2, bounceIntervalMs: 15 });
      await vi.advanceTimersByTimeAsync(0);
      expect(texts).toEqual(['X']);
      await vi.advanceTimersByTimeAsync(14);
      expect(texts).toEqual(['X']); // not before the interval
      await vi.advanceTimersByTimeAsync(1);
      expect(texts).toEqual(['X', 'X']);
      await vi.advanceTimersByTimeAsync(15);
      await done;
      expect(texts).toEqual(['X', 'X', 'X']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses empty, oversized text and bad options with a typed error', () => {
    const s = new QrScanner(() => {});
    expect(() => s.scan('')).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x'.repeat(5000))).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x', { bounce: -1 })).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x', { ending: 'tab' as never })).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
  });
});

describe('sample scan texts (TEST-ONLY demo issuer)', async () => {
  const { sampleScanText } = await import('../../../firmware-sim/qr-scanner/sample-codes.ts');
  const { buildDemoTrustBundle, demoAnchorPublicKey } = await import('../../../qr/demo-trust.ts');
  const { TrustStore } = await import('../../../qr/trust-store.ts');
  const { Verifier } = await import('../../../qr/verifier.ts');

  it('a verifier trusting the demo bundle accepts ehc1 and rejects expired, revoked and tampered codes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const trust = new TrustStore({ anchors: [demoAnchorPublicKey()], now: () => now });
    await trust.install(buildDemoTrustBundle(now));
    const v = new Verifier({ trust, nowMs: () => now * 1000 });
    const verdict = async (kind: Parameters<typeof sampleScanText>[0]) => v.verify(sampleScanText(kind, now), { terminal: kind });
    expect((await verdict('ehc1')).ok).toBe(true);
    expect((await verdict('ehc1-static')).ok).toBe(true);
    const bad = await Promise.all((['ehc1-expired', 'ehc1-revoked', 'ehc1-tampered', 'legacy', 'garbage'] as const).map(verdict));
    for (const r of bad) expect(r.ok).toBe(false);
    expect(new Set(bad.slice(0, 3).map((r) => r.code)).size).toBe(3);
  });

  it('covers every code kind: each sample gets its own code, kind and scheme (legacy is LEGACY_ONLINE_ONLY)', async () => {
    const { SAMPLE_KINDS } = await import('../../../firmware-sim/qr-scanner/sample-codes.ts');
    const now = Math.floor(Date.now() / 1000);
    const trust = new TrustStore({ anchors: [demoAnchorPublicKey()], now: () => now });
    await trust.install(buildDemoTrustBundle(now));
    const v = new Verifier({ trust, nowMs: () => now * 1000 });
    const seen: Record<string, [string, string, string | null]> = {};
    for (const k of SAMPLE_KINDS) {
      const r = await v.verify(sampleScanText(k, now));
      seen[k] = [r.code, r.kind, r.scheme];
    }
    expect(seen).toEqual({
      ehc1: ['VALID', 'ehc1', null],
      'ehc1-static': ['VALID', 'ehc1', null],
      'ehc1-expired': ['EXPIRED', 'ehc1', null],
      'ehc1-revoked': ['CARD_REVOKED', 'ehc1', null],
      'ehc1-tampered': ['BAD_SIGNATURE', 'ehc1', null],
      legacy: ['LEGACY_ONLINE_ONLY', 'ehc-online', null],
      'legacy-dynamic': ['LEGACY_ONLINE_ONLY', 'ehc-online', null],
      insurance: ['NOT_EHC1', 'insurance', null],
      wechat: ['NOT_EHC1', 'payment', 'wechat'],
      alipay: ['NOT_EHC1', 'payment', 'alipay'],
      unionpay: ['NOT_EHC1', 'payment', 'unionpay'],
      'id-number': ['NOT_EHC1', 'id-number', null],
      garbage: ['NOT_EHC1', 'unknown', null],
    });
  });

  it('the sample command scans without echoing the payload', async () => {
    const { createSimulator } = await import('../../../firmware-sim/index.ts');
    const { parseCommandLine } = await import('../../../firmware-sim/control/sim-commands.ts');
    const sim = createSimulator();
    const texts: string[] = [];
    sim.reader.on((e) => e.type === 'qr.scanned' && texts.push(e.text));
    const r = await sim.controller.run(parseCommandLine('sample ehc1 ending=lf')!);
    expect(r).toEqual({ ok: true, result: { kind: 'ehc1' } });
    expect(texts[0]).toMatch(/^EHC1.*\n$/s);
    expect(() => parseCommandLine('sample nope')).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    await sim.close();
  });
});
