import { describe, expect, it } from 'vitest';
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

  it('bounces: the same text again after the interval', async () => {
    const times: number[] = [];
    const texts: string[] = [];
    const s = new QrScanner((e) => {
      if (e.type === 'qr.scanned') {
        texts.push(e.text);
        times.push(Date.now());
      }
    });
    await s.scan('X', { bounce: 2, bounceIntervalMs: 15 });
    expect(texts).toEqual(['X', 'X', 'X']);
    expect(times[2] - times[0]).toBeGreaterThanOrEqual(25);
  });

  it('refuses empty, oversized text and bad options with a typed error', () => {
    const s = new QrScanner(() => {});
    expect(() => s.scan('')).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x'.repeat(5000))).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x', { bounce: -1 })).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    expect(() => s.scan('x', { ending: 'tab' as never })).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
  });
});
