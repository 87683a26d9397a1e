import { describe, expect, it, vi } from 'vitest';
import { atrUs, cardCharacters, cardIoUs, etuUs, hostLinkUs, ppsUs, timingConfig, workWaitingUs } from '../../../firmware-sim/timing/timing-model.ts';
import { SimClock } from '../../../firmware-sim/timing/sim-clock.ts';
import { parseAtrParameters } from '../../../firmware-sim/reader/atr-parameters.ts';
import { hex } from './test-cards.ts';

describe('timing model arithmetic', () => {
  const cfg = timingConfig();

  it('etu = Fi / (Di · f): 93 µs at 372/1 and 4 MHz, 23.25 µs at Di=4', () => {
    expect(etuUs(372, 1, 4_000_000)).toBeCloseTo(93, 9);
    expect(etuUs(372, 4, 4_000_000)).toBeCloseTo(23.25, 9);
    expect(etuUs(512, 8, 5_000_000)).toBeCloseTo(12.8, 9);
  });

  it('T=0 characters: header, INS procedure byte, data, procedure byte, SW', () => {
    // SELECT 00A4000002DF01 → 9000: 5 + (1 + 2) + 2
    expect(cardCharacters(hex('00A4000002DF01'), hex('9000'), 0, 32)).toBe(10);
    // READ BINARY Le=16 → 16 data + SW: 5 + (1 + 16) + 2
    expect(cardCharacters(hex('00B0000010'), new Uint8Array(18), 0, 32)).toBe(24);
    // Case 1 → 9000: 5 + 2
    expect(cardCharacters(hex('0044000000'), hex('9000'), 0, 32)).toBe(7);
  });

  it('T=1 characters: blocks of IFSC with 4 overhead bytes and R-block acks when chained', () => {
    // 7-byte command in one block (7 + 4), 2-byte response in one block (2 + 4)
    expect(cardCharacters(hex('00A4000002DF01'), hex('9000'), 1, 32)).toBe(17);
    // 70-byte command with IFSC 32: 3 I-blocks (70 + 12) + 2 R-blocks (8); response 2 + 4
    expect(cardCharacters(new Uint8Array(70), hex('9000'), 1, 32)).toBe(70 + 12 + 8 + 6);
  });

  it('card I/O time = characters · etu per character · etu', () => {
    // T=0 SELECT: 10 chars · 12 etu · 93 µs
    expect(cardIoUs(hex('00A4000002DF01'), hex('9000'), 0, 372, 1, cfg)).toBeCloseTo(11_160, 6);
    // T=1 same exchange: 17 chars · 11 etu · 93 µs
    expect(cardIoUs(hex('00A4000002DF01'), hex('9000'), 1, 372, 1, cfg)).toBeCloseTo(17_391, 6);
  });

  it('ATR, PPS and the work waiting time', () => {
    expect(atrUs(17, cfg)).toBeCloseTo(5_000 + 17 * 12 * 93, 6);
    expect(ppsUs(cfg)).toBeCloseTo(8 * 12 * 93, 6);
    expect(workWaitingUs(372, cfg)).toBeCloseTo(892_800, 6);
  });

  it('host link: UART 10 bits per byte; USB full speed by 64-byte packets per 1 ms frame', () => {
    const uart = timingConfig({ hostLink: { kind: 'uart', baud: 115_200 }, hostFrameOverhead: 0 });
    expect(hostLinkUs(1152, uart)).toBeCloseTo(100_000, 6);
    const usb = timingConfig({ hostLink: { kind: 'usb-fs' }, hostFrameOverhead: 0 });
    expect(hostLinkUs(64, usb)).toBeCloseTo(500 + 1000 / 19, 6);
    expect(hostLinkUs(19 * 64, usb)).toBeCloseTo(1500, 6);
  });

  it('configurable processing table keeps the other defaults', () => {
    const c = timingConfig({ processingUs: { crypto: 1 } });
    expect(c.processingUs.crypto).toBe(1);
    expect(c.processingUs.select).toBe(3000);
  });
});

describe('ATR parameters', () => {
  it('reads the protocols and TA1 of the health card ATR and of a fast T=0 card', () => {
    expect(parseAtrParameters(hex('3B8C800101020304050607085753313000'))).toEqual({ protocols: [0, 1], fi: 372, di: 1 });
    expect(parseAtrParameters(hex('3B901300'))).toMatchObject({ protocols: [0], fi: 372, di: 4 });
    // 3B F? : TA1=96 (Fi 512, Di 32), TD1=81 (T=1, TD2 follows), TD2=31 (TA3, TB3 for T=1), TA3=FE (IFSC 254), TB3=45
    expect(parseAtrParameters(hex('3B9096813 1FE45'.replace(' ', '')))).toMatchObject({ protocols: [1], fi: 512, di: 32, ifsc: 254 });
  });

  it('falls back to T=0 on a truncated ATR', () => {
    expect(parseAtrParameters(hex('3B'))).toEqual({ protocols: [0], fi: 372, di: 1 });
  });
});

describe('SimClock', () => {
  it('speed 0 never waits; bad speeds are refused', async () => {
    const c = new SimClock(0);
    vi.useFakeTimers();
    try {
      // Behaviour, not wall time: a wait at speed 0 schedules no timer at all.
      const waits = Array.from({ length: 100 }, () => c.wait(1_000_000));
      expect(vi.getTimerCount()).toBe(0);
      expect(await Promise.all(waits)).toEqual(Array(100).fill(true));
    } finally {
      vi.useRealTimers();
    }
    expect(() => new SimClock(-1)).toThrow(RangeError);
    expect(() => new SimClock(Number.NaN)).toThrow(RangeError);
  });

  it('an abort ends a wait early with false', async () => {
    const c = new SimClock(1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    expect(await c.wait(10_000_000, ac.signal)).toBe(false);
  });
});
