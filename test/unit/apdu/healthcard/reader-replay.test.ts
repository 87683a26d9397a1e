// A recorded full read (test/fixtures/apdu/healthcard-full-read.trace, made by record-full-read.ts
// against the simulator) replayed through the reader: the same commands must be sent and the decoded
// result must equal the recorded one. Masked bytes (cryptograms, SAM data) match as wildcards.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ReplayChannel } from '../../../../apdu/replay-channel.ts';
import { HealthCardReader } from '../../../../apdu/healthcard/health-card-reader.ts';
import { SamAuthorizer } from '../../../../apdu/healthcard/sam-authorizer.ts';
import { h } from '../scripted-channel.ts';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../fixtures/apdu/${name}`, import.meta.url)), 'utf8');
const trace = fixture('healthcard-full-read.trace');
const expected = JSON.parse(fixture('healthcard-full-read.expected.json'));
const atr = h(/^# ATR ([0-9A-F]+)$/m.exec(trace)![1]);

function replayReader(batch: boolean) {
  const card = new ReplayChannel(trace, { prefix: 'A', batch });
  const sam = new ReplayChannel(trace, { prefix: 'S' });
  const reader = new HealthCardReader(card, { atr, authorizer: new SamAuthorizer(sam, { pin: '123456' }) });
  return { card, sam, reader };
}

describe('full read replayed from a recorded transcript', () => {
  it('sends exactly the recorded commands and decodes the recorded result', async () => {
    const { card, sam, reader } = replayReader(false);
    const read = await reader.readAll();
    expect(JSON.parse(JSON.stringify({ atr: expected.atr, card: read.card, files: read.files }))).toEqual(expected);
    expect(card.remaining).toBe(0);
    expect(sam.remaining).toBe(0);
    expect(read.stats.roundTrips).toBe(read.stats.cardCommands);
    expect(read.stats.samCommands).toBeGreaterThan(0);
  });

  it('with a batching channel: same commands, far fewer round trips', async () => {
    const { card, reader } = replayReader(true);
    const read = await reader.readAll();
    expect(card.remaining).toBe(0);
    expect(read.stats.roundTrips).toBeLessThan(read.stats.cardCommands / 4);
    expect(read.stats.roundTrips).toBe(card.batches + card.transmits);
  });

  it('decodes into the documented shape', () => {
    const f = expected.files;
    expect(f['DDF1/EF06'].kind).toBe('tlv');
    expect(Object.keys(f['DDF1/EF06'].fields)).toEqual(['name', 'sex', 'ethnicity', 'birthDate', 'idNumber']);
    expect(f['DDF1/EF06'].items[0]).toMatchObject({ itemNo: 11, field: 'name', nameZh: '姓名' });
    expect(f['DDF1/EF07']).toMatchObject({ kind: 'photo' });
    expect(f['DF03/EF05'].kind).toBe('index');
    expect(f['DF02/EF08'].kind).toBe('records');
  });

  it('keeps secrets out of the transcript', () => {
    expect(trace).not.toMatch(/S>> 0020000003123456/);
    expect(trace).toMatch(/S>> 0020000003\*{6}/);
    for (const line of trace.split('\n').filter((l) => l.startsWith('A>> 0082'))) expect(line).toMatch(/^A>> 008200[0-9A-F]{2}11\*{34}$/);
  });

  it('a diverging reader fails with a typed mismatch', async () => {
    const { reader } = replayReader(false);
    await expect(reader.readFiles(['DF01/EF05'])).rejects.toMatchObject({ code: 'CARD_READ_FAILED', details: { causeCode: 'REPLAY_MISMATCH' } });
  });
});
