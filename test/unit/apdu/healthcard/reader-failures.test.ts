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
