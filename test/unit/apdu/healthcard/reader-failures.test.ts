// The reader never returns half-read or malformed data: scripted card answers that fail midway or
// carry the wrong TLV raise typed errors naming the file.
import { describe, expect, it } from 'vitest';
import { HealthCardReader } from '../../../../apdu/healthcard/health-card-reader.ts';
import { ScriptedChannel } from '../scripted-channel.ts';

const ok = '9000';
const identify: Array<[string, string]> = [
  ['00A40000023F00', ok],
  ['00A4000002DDF1', '6F10840C' + Buffer.from('WS.SYS.DDF01').toString('hex').toUpperCase() + 'A500' + ok],
];
function ef05(records: Array<[string, string]> = []): Array<[string, string]> {
  const good: Record<number, string> = {
    1: '010131', 2: '020430303032', 3: '031E' + '00'.repeat(30), 4: '040B' + 'F'.repeat(22), 5: '05B4' + 'FF'.repeat(180),
    6: '060420200101', 7: '0812' + '30'.repeat(18), 8: '0903303030', 9: '0A0A' + '30'.repeat(10), 10: '3903110101',
  };
  const lengths = [3, 6, 32, 13, 182, 6, 20, 5, 12, 5];
  const out: Array<[string, string]> = [['00A4000002EF05', ok]];
  for (let i = 1; i <= 10; i++) {
    const over = records.find(([n]) => Number(n) === i);
    out.push([`00B2${i.toString(16).padStart(2, '0').toUpperCase()}04${lengths[i - 1].toString(16).padStart(2, '0').toUpperCase()}`, over ? over[1] : good[i] + ok]);
  }
  return out;
}

describe('HealthCardReader failure handling', () => {
  it('decodes DDF1/EF05 from scripted answers', async () => {
    const r = await new HealthCardReader(new ScriptedChannel([...identify, ...ef05()])).readFiles(['DDF1/EF05']);
    const f = r.files['DDF1/EF05'];
    expect(f?.kind === 'tlv' && f.fields).toMatchObject({ cardType: '1', specVersion: '0002', issuerName: '', issuerCode: null, issuerCertificate: null, cityCode: '110101' });
    expect(r.stats.roundTrips).toBe(13);
  });
  it('names the file when a command fails midway', async () => {
    const channel = new ScriptedChannel([...identify, ...ef05([['7', '6A83']])]);
    await expect(new HealthCardReader(channel).readFiles(['DDF1/EF05'])).rejects.toMatchObject({ code: 'CARD_READ_FAILED', details: { file: 'DDF1/EF05', sw: '6A83' } });
  });
  it('rejects a record holding another tag or a bad length', async () => {
    await expect(new HealthCardReader(new ScriptedChannel([...identify, ...ef05([['2', '030430303032' + ok]])])).readFiles(['DDF1/EF05']))
      .rejects.toMatchObject({ code: 'CARD_DATA_MALFORMED', details: { file: 'DDF1/EF05', record: 2 } });
    await expect(new HealthCardReader(new ScriptedChannel([...identify, ...ef05([['2', '0203303030' + ok]])])).readFiles(['DDF1/EF05']))
      .rejects.toMatchObject({ code: 'CARD_DATA_MALFORMED' });
  });
  it('rejects bad BCD in a cn item', async () => {
    await expect(new HealthCardReader(new ScriptedChannel([...identify, ...ef05([['10', '39031A0101' + ok]])])).readFiles(['DDF1/EF05']))
      .rejects.toMatchObject({ code: 'CARD_DATA_MALFORMED', details: { itemNo: 57 } });
  });
  it('wraps transport failures, naming the file and the cause code', async () => {
    const channel = new ScriptedChannel([...identify, ['00A4000002EF05', ok]]);
    await expect(new HealthCardReader(channel).readFiles(['DDF1/EF05'])).rejects.toMatchObject({ code: 'CARD_READ_FAILED', details: { file: 'DDF1/EF05', causeCode: 'ERROR' } });
  });
  it('says NOT_A_HEALTH_CARD for a DDF1 with another name or none', async () => {
    await expect(new HealthCardReader(new ScriptedChannel([['00A40000023F00', ok], ['00A4000002DDF1', '6A82']])).identify()).rejects.toMatchObject({ code: 'NOT_A_HEALTH_CARD' });
    const transit = '6F12840E' + Buffer.from('1PAY.SYS.DDF01').toString('hex') + 'A500' + ok;
    await expect(new HealthCardReader(new ScriptedChannel([['00A40000023F00', ok], ['00A4000002DDF1', transit]])).identify()).rejects.toMatchObject({ code: 'NOT_A_HEALTH_CARD' });
  });
  it('refuses unknown files and items', async () => {
    const reader = new HealthCardReader(new ScriptedChannel([]));
    await expect(reader.readFiles(['DF09/EF01' as never])).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
    await expect(reader.readItems([0])).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
    await expect(reader.readItems([58], { record: 4 })).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
  });
});

import { SamAuthorizer } from '../../../../apdu/healthcard/sam-authorizer.ts';
import { HealthCardWriter } from '../../../../apdu/healthcard/health-card-writer.ts';
import { isYikaError } from '../../../../common/yika-error.ts';
import type { CardChannel } from '../../../../apdu/card-channel.ts';

describe('fuzz: random card and SAM answers', () => {
  it('only ever produce typed errors (or a result), never a crash or a hang', async () => {
    let seed = 99;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) & 0xff;
    // Mostly plausible answers (9000 / 61xx / 6Cxx / data ‖ 9000) so the reader gets deep, sometimes garbage.
    const answer = (c: Uint8Array): Uint8Array => {
      const k = rnd() % 8;
      if (k === 0) return Uint8Array.of(0x61, rnd());
      if (k === 1) return Uint8Array.of(0x6c, rnd());
      if (k === 2) return Uint8Array.from({ length: rnd() % 4 }, rnd);
      if (k === 3 && c[1] === 0xa4 && c[5] === 0xdd) return Uint8Array.from(Buffer.from('6F10840C57532E5359532E4444463031A5009000', 'hex'));
      const n = c[1] === 0xb2 || c[1] === 0xb0 ? (c[4] || 256) : rnd() % 20;
      return Uint8Array.from([...Array.from({ length: n }, rnd), 0x90, 0x00]);
    };
    const channel: CardChannel = { transmit: async (c) => answer(c) };
    const atr = Uint8Array.from(Buffer.from('3B8C800101020304050607085753313000', 'hex'));
    let results = 0;
    const codes = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const authorizer = new SamAuthorizer(channel, { pin: '123456' });
      const ops = [
        () => new HealthCardReader(channel, { atr, authorizer }).readAll(),
        () => new HealthCardReader(channel, { atr, authorizer }).readItems([11, 58, 100, 300], { join: true }),
        () => new HealthCardWriter(channel, { atr, authorizer }).write({ items: { 0x10: '13800000000' }, addAllergies: [{ 58: 'x', 59: 'y' }] }),
      ];
      try { await ops[i % 3](); results++; } catch (e) { expect(isYikaError(e), String(e)).toBe(true); codes.add((e as { code: string }).code); }
    }
    expect(results).toBeLessThan(300);
    // The fuzz reaches past identification into reads, decoding and authorisation.
    expect(codes).toContain('NOT_A_HEALTH_CARD');
    expect([...codes].some((c) => c === 'CARD_READ_FAILED' || c === 'CARD_DATA_MALFORMED')).toBe(true);
    expect(codes.size).toBeGreaterThanOrEqual(4);
  });
});
