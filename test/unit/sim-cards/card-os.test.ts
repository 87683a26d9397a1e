import { describe, expect, it } from 'vitest';
import {
  CardOs, DedicatedFile, RecordFile, TransparentFile, ALWAYS, afterKey, isoCommands, parseCommandApdu, commandTable,
} from '../../../firmware-sim/card-os/index.ts';
import { HOST_CONSTANT, hex, reference, toHex, tx } from './apdu-test-kit.ts';

const DF_NAME = hex('A000000001020304');
const KEY = hex('00112233445566778899AABBCCDDEEFF');

function testCard(): CardOs {
  const mf = new DedicatedFile(0x3f00, undefined, hex('6F03840100'));
  const df = mf.add(new DedicatedFile(0x1000, DF_NAME, hex('6F0A8408A000000001020304')));
  df.addKey(0x01, KEY);
  const bin = df.add(new TransparentFile(0x0101, 300, { read: ALWAYS, update: afterKey(0x01) }));
  bin.data.forEach((_, i) => (bin.data[i] = i & 0xff));
  const lin = df.add(new RecordFile(0x0102, 'linear', [3, 5, 4], { read: afterKey(0x01), update: ALWAYS }));
  lin.records[0].set([0x0b, 0x01, 0xaa]);
  lin.records[1].set([0x0c, 0x03, 1, 2, 3]);
  lin.records[2].set([0x0b, 0x02, 7, 7]);
  df.add(new RecordFile(0x0103, 'cyclic', [4, 4, 4], { read: ALWAYS, update: ALWAYS }));
  mf.add(new DedicatedFile(0x2000, hex('A000000009'), hex('6F078405A000000009')));
  const card = new CardOs({ label: 'test', atr: hex('3B00'), protocols: [0, 1], mf, commands: isoCommands(), random: () => hex('0102030405060708') });
  card.powerOn();
  return card;
}

function authenticate(card: CardOs, ref = 0x01, key = KEY): string {
  const r = hex(tx(card, '0084000008').data);
  const cryptogram = reference.cryptogram(reference.sessionKeys(key, r).enc, HOST_CONSTANT);
  return tx(card, `008200${ref.toString(16).padStart(2, '0')}11${toHex(cryptogram)}${toHex(HOST_CONSTANT)}01`).sw;
}

describe('command APDU parsing (ISO 7816-3 cases)', () => {
  it('recognises the four cases, short and extended', () => {
    expect(parseCommandApdu(hex('00A40000'))).toMatchObject({ isoCase: 1, extended: false });
    expect(parseCommandApdu(hex('00A40000'))?.le).toBeUndefined();
    expect(parseCommandApdu(hex('00B0000000'))).toMatchObject({ isoCase: 2, le: 256 });
    expect(parseCommandApdu(hex('00A40000023F00'))).toMatchObject({ isoCase: 3, data: hex('3F00') });
    expect(parseCommandApdu(hex('00A40000023F00'))?.le).toBeUndefined();
    expect(parseCommandApdu(hex('00A40000023F0000'))).toMatchObject({ isoCase: 4, le: 256 });
    expect(parseCommandApdu(hex('00B0000000000A'))).toMatchObject({ isoCase: 2, le: 10, extended: true });
    expect(parseCommandApdu(hex('00B00000000000'))).toMatchObject({ isoCase: 2, le: 65536, extended: true });
    expect(parseCommandApdu(hex('00D60000000002AABB'))).toMatchObject({ isoCase: 3, extended: true });
    expect(parseCommandApdu(hex('00D60000000002AABB0100'))).toMatchObject({ isoCase: 4, le: 256, extended: true });
  });
  it('rejects malformed lengths', () => {
    for (const bad of ['', '00', '00A400', '00A4000003AABB', '00A400000000', '00A40000000000AA', '00A4000002AABBCCDD']) {
      expect(parseCommandApdu(hex(bad)), bad).toBeUndefined();
    }
  });
});

describe('card OS status words', () => {
  it('answers 6700 to a malformed APDU, 6E00 to an unknown CLA, 6D00 to an unknown INS', () => {
    const card = testCard();
    expect(tx(card, '00A4').sw).toBe('6700');
    expect(tx(card, '00A4000003AABB').sw).toBe('6700');
    expect(tx(card, 'FFCA000000').sw).toBe('6E00');
    expect(tx(card, '80A40000023F00').sw).toBe('6E00'); // CLA known to the card, not for SELECT
    expect(tx(card, '00CA000000').sw).toBe('6D00');
    expect(tx(card, '0044000000').sw).toBe('6D00');
    expect(tx(card, '01A40000023F00').sw).toBe('6881'); // logical channel 1
  });

  it('selects by FID and by DF name with the FCI, EFs with a bare 9000', () => {
    const card = testCard();
    expect(tx(card, '00A40000021000')).toMatchObject({ data: '6F0A8408A000000001020304', sw: '9000', kind: 'select' });
    expect(tx(card, '00A40000020101')).toEqual({ data: '', sw: '9000', kind: 'select' });
    expect(tx(card, '00A40000023F00').data).toBe('6F03840100');
    expect(tx(card, '00A4040008A000000001020304').data).toBe('6F0A8408A000000001020304');
    expect(tx(card, '00A40C0008A000000001020304').sw).toBe('6A86');
    expect(tx(card, '00A4040C08A000000001020304')).toMatchObject({ data: '', sw: '9000' });
    expect(tx(card, '00A4040005A000000001').sw).toBe('6A82');
    expect(tx(card, '00A40000021234').sw).toBe('6A82');
    expect(tx(card, '00A4000003101000').sw).toBe('6700');
    expect(tx(card, '00A4000001A0').sw).toBe('6700');
    expect(tx(card, '00A4050002AABB').sw).toBe('6A86');
    expect(tx(card, '00A4000102AABB').sw).toBe('6A86');
  });

  it('selects children (P1 01/02), the parent (P1 03) and siblings', () => {
    const card = testCard();
    expect(tx(card, '00A40100021000').sw).toBe('9000');
    expect(tx(card, '00A40100020101').sw).toBe('6A82'); // an EF is not a DF
    expect(tx(card, '00A40200020101').sw).toBe('9000');
    expect(tx(card, '00A40200021000').sw).toBe('6A82');
    expect(tx(card, '00A4000002' + '2000').sw).toBe('9000'); // sibling DF of 1000
    expect(tx(card, '00A40300').data).toBe('6F03840100');
    expect(tx(card, '00A40300').sw).toBe('6A82'); // the MF has no parent
  });

  it('READ BINARY: offsets, Le 00, bounds, end of file, file type, no current EF', () => {
    const card = testCard();
    expect(tx(card, '00B0000004').sw).toBe('6986');
    tx(card, '00A40000021000');
    tx(card, '00A40000020101');
    expect(tx(card, '00B0000004')).toMatchObject({ data: '00010203', sw: '9000', kind: 'read' });
    expect(tx(card, '00B0010002').data).toBe('0001'); // offset 256
    expect(tx(card, '00B0000000').data.length).toBe(512); // Le 00 → 256 bytes
    expect(tx(card, '00B0012C01').sw).toBe('6B00'); // offset 300 = size
    expect(tx(card, '00B07FFF01').sw).toBe('6B00');
    expect(tx(card, '00B0012810')).toMatchObject({ data: '28292A2B', sw: '6282' }); // only 4 left
    expect(tx(card, '00B0012810', 0).sw).toBe('6C04');
    expect(tx(card, '00B0012804', 0)).toMatchObject({ data: '28292A2B', sw: '9000' });
    expect(tx(card, '00B0012800').data).toBe('28292A2B'); // Le 00 = "up to 256"
    expect(tx(card, '00B00000000000').data.length).toBe(600); // extended Le 0000 → all 300 bytes
    expect(tx(card, '00B0000004AA').sw).toBe('6700'); // READ BINARY with data
    expect(tx(card, '00B00000').sw).toBe('6700'); // no Le
    tx(card, '00A40000020102');
    expect(tx(card, '00B0000004').sw).toBe('6981');
    expect(tx(card, '00B0810004').data).toBe('00010203'); // SFI 1 = EF 0101
    expect(tx(card, '00B0850004').sw).toBe('6A82');
  });

  it('UPDATE BINARY needs the key, stays in bounds, and reads back', () => {
    const card = testCard();
    tx(card, '00A40000021000');
    tx(card, '00A40000020101');
    expect(tx(card, '00D6000002AABB').sw).toBe('6982');
    expect(authenticate(card)).toBe('9000');
    expect(tx(card, '00D6000002AABB')).toMatchObject({ sw: '9000', kind: 'write' });
    expect(tx(card, '00B0000003').data).toBe('AABB02');
    expect(tx(card, '00D6012B02AABB').sw).toBe('6700'); // 299 + 2 > 300
    expect(tx(card, '00D6012C01AA').sw).toBe('6B00');
    expect(tx(card, '00D60000').sw).toBe('6700');
  });

  it('READ RECORD by number and by identifier; UPDATE RECORD keeps the record length', () => {
    const card = testCard();
    tx(card, '00A40000021000');
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('6982');
    expect(authenticate(card)).toBe('9000');
    expect(tx(card, '00B2010400')).toMatchObject({ data: '0B01AA', sw: '9000', kind: 'read' });
    expect(tx(card, '00B2020400').data).toBe('0C03010203');
    expect(tx(card, '00B2040400').sw).toBe('6A83');
    expect(tx(card, '00B2000400').sw).toBe('6A86');
    expect(tx(card, '00B20B0000').data).toBe('0B01AA'); // first record with tag 0B
    expect(tx(card, '00B20C0000').data).toBe('0C03010203');
    expect(tx(card, '00B2990000').sw).toBe('6A83');
    expect(tx(card, '00B2010500').sw).toBe('6A86');
    expect(tx(card, '00B2010300').sw).toBe('6A86');
    expect(tx(card, '00B2011400').data).toBe('0B01AA'); // SFI 2 = EF 0102
    expect(tx(card, '00B2010402').sw).toBe('6C03'); // T=1, Le too short
    expect(tx(card, '00B2010400', 0).sw).toBe('6C03'); // T=0, Le 00 = 256 ≠ 3
    expect(tx(card, '00B2010403', 0)).toMatchObject({ data: '0B01AA', sw: '9000' });
    expect(tx(card, '00DC010403CCDDEE').sw).toBe('9000');
    expect(tx(card, '00B2010400').data).toBe('CCDDEE');
    expect(tx(card, '00DC010402CCDD').sw).toBe('6700');
    expect(tx(card, '00DC000304AABBCCDD').sw).toBe('6A86'); // append only on a cyclic file
  });

  it('cyclic files: the newest record becomes record 1, the oldest drops out', () => {
    const card = testCard();
    tx(card, '00A40000021000');
    tx(card, '00A40000020103');
    for (const v of ['11111111', '22222222', '33333333', '44444444']) expect(tx(card, `00DC000304${v}`).sw).toBe('9000');
    expect(tx(card, '00B2010404').data).toBe('44444444');
    expect(tx(card, '00B2020404').data).toBe('33333333');
    expect(tx(card, '00B2030404').data).toBe('22222222');
    expect(tx(card, '00B2040404').sw).toBe('6A83');
    expect(tx(card, '00DC000303AABBCC').sw).toBe('6700');
    expect(tx(card, '00DC010303AABBCC').sw).toBe('6A86');
  });

  it('GET CHALLENGE returns 8 bytes; wrong P1P2 or Le is refused', () => {
    const card = testCard();
    expect(tx(card, '0084000008')).toMatchObject({ data: '0102030405060708', sw: '9000', kind: 'crypto' });
    expect(tx(card, '0084000004', 0).sw).toBe('6C08');
    expect(tx(card, '0084010008').sw).toBe('6A86');
    expect(tx(card, '00840000').sw).toBe('6700');
  });

  it('EXTERNAL AUTHENTICATE: 6985 without challenge, 6A88, 6A80, 63Cx countdown from 15, 6983 blocked, success resets', () => {
    const card = testCard();
    tx(card, '00A40000021000');
    const bad = `0082000111${'00'.repeat(8)}${toHex(HOST_CONSTANT)}01`;
    expect(tx(card, bad).sw).toBe('6985');
    tx(card, '0084000008');
    expect(tx(card, bad.replace(/^00820001/, '00820002')).sw).toBe('6A88');
    expect(tx(card, bad.replace(/^00820001/, '00820101')).sw).toBe('6A86');
    expect(tx(card, '008200011000').sw).toBe('6700');
    expect(tx(card, bad.slice(0, -2) + '02').sw).toBe('6A80');
    tx(card, '0084000008');
    expect(tx(card, bad).sw).toBe('63CE');
    expect(tx(card, bad).sw).toBe('6985'); // the challenge was consumed
    tx(card, '0084000008');
    expect(tx(card, bad).sw).toBe('63CD');
    expect(authenticate(card)).toBe('9000'); // success resets the counter to 15
    for (let left = 14; left >= 0; left--) {
      tx(card, '0084000008');
      expect(tx(card, bad).sw).toBe(`63C${left.toString(16).toUpperCase()}`);
    }
    expect(authenticate(card)).toBe('6983');
    card.powerOff();
    card.powerOn();
    tx(card, '00A40000021000');
    expect(authenticate(card)).toBe('6983'); // retry counters are non-volatile
  });

  it('security state holds inside the DF and is lost on DF change, reset and power-off', () => {
    const card = testCard();
    tx(card, '00A40000021000');
    expect(authenticate(card)).toBe('9000');
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('9000');
    tx(card, '00A40000020101'); // another EF in the same DF keeps it
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('9000');
    tx(card, '00A40000022000');
    tx(card, '00A40000021000');
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('6982');
    expect(authenticate(card)).toBe('9000');
    card.reset();
    tx(card, '00A40000021000');
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('6982');
    expect(authenticate(card)).toBe('9000');
    card.powerOff();
    card.powerOn();
    tx(card, '00A40000021000');
    tx(card, '00A40000020102');
    expect(tx(card, '00B2010400').sw).toBe('6982');
  });

  it('T=0: a command with data answers 61xx, GET RESPONSE serves it in pieces; wrong Le → 6Cxx; T=1 answers at once', () => {
    const card = testCard();
    expect(tx(card, '00A40000021000', 0)).toMatchObject({ data: '', sw: '610C' });
    expect(tx(card, '00C0000004', 0)).toMatchObject({ data: '6F0A8408', sw: '6108' });
    expect(tx(card, '00C0000010', 0).sw).toBe('6C08'); // too long: the data is kept
    expect(tx(card, '00C0000008', 0)).toMatchObject({ data: 'A000000001020304', sw: '9000', kind: 'other' });
    expect(tx(card, '00C0000008', 0).sw).toBe('6985'); // nothing left
    expect(tx(card, '00A40000021000', 0).sw).toBe('610C');
    tx(card, '00A40000020101', 0); // any other command drops the pending data
    expect(tx(card, '00C000000C', 0).sw).toBe('6985');
    expect(tx(card, '00A40000021000', 1)).toMatchObject({ data: '6F0A8408A000000001020304', sw: '9000' });
    expect(tx(card, '00C0000000', 0).sw).toBe('6985');
    expect(tx(card, '00C0010000', 0).sw).toBe('6A86');
  });

  it('a handler that throws is answered 6F00, never an exception', () => {
    const mf = new DedicatedFile(0x3f00, undefined, new Uint8Array(0));
    const broken = commandTable(isoCommands(), new Map([[0xca, { kind: 'read' as const, classes: [0x00], run: () => { throw new TypeError('bug'); } }]]));
    const card = new CardOs({ label: 'broken', atr: hex('3B00'), protocols: [1], mf, commands: broken });
    expect(tx(card, '00CA000000')).toMatchObject({ sw: '6F00', kind: 'read' });
  });

  it('extended APDUs can be refused per card', () => {
    const mf = new DedicatedFile(0x3f00, undefined, new Uint8Array(0));
    const card = new CardOs({ label: 'short', atr: hex('3B00'), protocols: [0], mf, commands: isoCommands(), extendedLength: false });
    expect(tx(card, '00B00000000010').sw).toBe('6700');
  });
});
