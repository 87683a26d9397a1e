// Batches and T=0 (PROTOCOL.md transmitBatch): a 61xx answer keeps data for a GET RESPONSE that must be
// the very next command, a 6Cxx answer asks for the same command again with Le = SW2 in the same card
// state. A batch therefore stops at either, whatever `expect` says; the host repairs and resumes. The
// host fallback (runBatchSequentially) and the simulated reader's transmitBatch behave the same, and
// the ISO transmission engine (withIsoTransmission) repairs at the stop point before resuming.
import { describe, expect, it } from 'vitest';
import type { BatchCommand, BatchResult, CardChannel } from '../../../apdu/card-channel.ts';
import { batchStops, runBatchSequentially, swExpected } from '../../../apdu/batch.ts';
import { withIsoTransmission } from '../../../apdu/iso-transmit.ts';
import { command } from '../../../apdu/command-apdu.ts';
import { statusWord } from '../../../apdu/response-apdu.ts';
import { KEYS } from '../../../apdu/healthcard/file-map.ts';
import { HOST_CONSTANT } from '../../../apdu/healthcard/sam-authorizer.ts';
import { createSam } from '../../../firmware-sim/cards/index.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { ScriptedChannel, h, hx } from './scripted-channel.ts';

const SAM_SLOT = 0x11;
const ANY = [{ sw: 0x0000, mask: 0x0000 }];
/** What a careless caller writes: "9000, and 61xx/6Cxx are fine too". */
const BROAD = [{ sw: 0x9000, mask: 0xffff }, { sw: 0x6100, mask: 0xff00 }, { sw: 0x6c00, mask: 0xff00 }];

/** A card channel straight onto a simulated card on T=0, recording what the card saw. */
function t0Channel(card: SimCard): CardChannel & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    transmit: async (c) => {
      const r = card.process(c, 0).response;
      seen.push(`${hx(c)} → ${hx(r)}`);
      return r;
    },
  };
}

/** A device of the old rule: continues whenever `expect` matches, even past 61xx/6Cxx. */
function legacyBatch(ch: CardChannel) {
  return async (commands: ReadonlyArray<BatchCommand>): Promise<BatchResult> => {
    const responses: Uint8Array[] = [];
    for (let i = 0; i < commands.length; i++) {
      const r = await ch.transmit(commands[i].apdu);
      responses.push(r);
      if (!swExpected(statusWord(r), commands[i].expect)) return { responses, stoppedAt: i };
    }
    return { responses };
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { if (isYikaError(e)) return e.code; throw e; }
  return 'no error';
}

const SELECT_MF = command(0x00, 0xa4, 0x00, 0x00, [0x3f, 0x00]);
const SELECT_0015 = command(0x00, 0xa4, 0x00, 0x00, [0x00, 0x15]);
const READ_BINARY_LE_256 = command(0x00, 0xb0, 0x00, 0x00, [], 256);
const VERIFY_PIN = command(0x00, 0x20, 0x00, 0x00, [0x12, 0x34, 0x56]);
const CARD8 = h('0102030405060708');
const CITY8 = new TextEncoder().encode('11000000');
const CHALLENGE = h('A1A2A3A4A5A6A7A8');
const [P1, P2] = KEYS.RK_DF01.sam;
const SESSION = command(0x80, 0xde, P1, P2, [...CARD8, ...CITY8, ...CHALLENGE]);
const CIPHER = command(0x80, 0xfa, 0x00, 0x00, [...HOST_CONSTANT, ...new Uint8Array(8)]);
const MAC = command(0x80, 0xfa, 0x05, 0x00, [0x04, 0xdc, 0x01, 0x04, 0x14, ...new Uint8Array(16)]);

/** The SAM dialogue of an authorization (and a 6Cxx read), as one batch of a caller with broad expects. */
const SAM_FLOW: BatchCommand[] = [SELECT_MF, SELECT_0015, READ_BINARY_LE_256, VERIFY_PIN, SESSION, CIPHER, MAC].map((apdu) => ({ apdu, expect: BROAD }));

/** The reference: the same commands one by one through the ISO engine, on a twin SAM. */
async function samFlowOneByOne(): Promise<string[]> {
  const sam = createSam();
  sam.powerOn();
  const ch = withIsoTransmission(t0Channel(sam));
  const out: string[] = [];
  for (const c of SAM_FLOW) out.push(hx(await ch.transmit(c.apdu)));
  return out;
}

describe('the batch stop rule at 61xx / 6Cxx', () => {
  it('batchStops: SW1 61 and 6C stop whatever expect says; other SWs follow expect', () => {
    expect(batchStops(0x6110, ANY)).toBe(true);
    expect(batchStops(0x6c05, BROAD)).toBe(true);
    expect(batchStops(0x6200, [{ sw: 0x6200, mask: 0xff00 }])).toBe(false);
    expect(batchStops(0x9000, undefined)).toBe(false);
    expect(batchStops(0x6a82, undefined)).toBe(true);
  });

  it('runBatchSequentially stops at 61xx although expected, and the FCI is still there for GET RESPONSE', async () => {
    const sam = createSam();
    sam.powerOn();
    const ch = t0Channel(sam);
    const r = await runBatchSequentially(ch, [{ apdu: SELECT_MF, expect: ANY }, { apdu: SELECT_0015, expect: ANY }]);
    expect(r.stoppedAt).toBe(0);
    expect(r.responses.map(hx)).toEqual(['610C']);
    const fci = await ch.transmit(command(0x00, 0xc0, 0x00, 0x00, [], 0x0c));
    expect(hx(fci)).toMatch(/^6F0A8408.*9000$/);
  });

  it('runBatchSequentially stops at 6Cxx although expected (the resend must see the same card state)', async () => {
    const sam = createSam();
    sam.powerOn();
    const ch = t0Channel(sam);
    const r = await runBatchSequentially(ch, [{ apdu: SELECT_MF, expect: [{ sw: 0x6100, mask: 0xff00 }] }]);
    expect(r.stoppedAt).toBe(0);
    await ch.transmit(SELECT_0015);
    const r2 = await runBatchSequentially(ch, [{ apdu: READ_BINARY_LE_256, expect: BROAD }, { apdu: SELECT_MF, expect: ANY }]);
    expect(r2).toEqual({ responses: [h('6C0E')], stoppedAt: 0 });
  });
});

describe('SAM flows (80DE / 80FA + GET RESPONSE) inside batches', () => {
  const transports: Array<[string, () => Promise<{ channel: CardChannel; seen: () => string[] }>]> = [
    ['the host fallback (runBatchSequentially)', async () => {
      const sam = createSam();
      sam.powerOn();
      const ch = t0Channel(sam);
      const channel: CardChannel = { transmit: ch.transmit, transmitBatch: (c, o) => runBatchSequentially({ transmit: ch.transmit }, c, o) };
      return { channel, seen: () => ch.seen };
    }],
    ['the simulated reader (firmware transmitBatch)', async () => {
      const reader = new SimulatedReader();
      const seen: string[] = [];
      const sam = createSam();
      const process = sam.process.bind(sam);
      sam.process = (c, p) => {
        const a = process(c, p);
        seen.push(`${hx(c)} → ${hx(a.response)}`);
        return a;
      };
      reader.insertCard(SAM_SLOT, sam);
      expect((await reader.powerOn(SAM_SLOT)).protocol).toBe(0);
      const channel: CardChannel = {
        transmit: (c) => reader.transmit(SAM_SLOT, c),
        transmitBatch: (c) => reader.transmitBatch(SAM_SLOT, c),
      };
      return { channel, seen: () => seen };
    }],
  ];

  it.each(transports)('over %s: one batch with broad expects gives what single commands give', async (_name, make) => {
    const { channel, seen } = await make();
    const r = await withIsoTransmission(channel).transmitBatch!(SAM_FLOW);
    expect(r.stoppedAt).toBeUndefined();
    const reference = await samFlowOneByOne();
    expect(r.responses.map(hx)).toEqual(reference);
    expect(reference[5]).toMatch(/^[0-9A-F]{32}9000$/); // 80FA00: 16 bytes of cryptogram
    expect(reference[6]).toMatch(/^[0-9A-F]{8}9000$/); // 80FA05: a 4-byte MAC
    // Every 61xx is followed at once by its GET RESPONSE, every 6Cxx by the resend.
    const log = seen();
    log.forEach((line, i) => {
      if (/→ 61..$/.test(line)) expect(log[i + 1], `after ${line}`).toMatch(/^00C00000/);
      if (/→ 6C..$/.test(line)) expect(log[i + 1], `after ${line}`).toMatch(/^00B00000/);
    });
    expect(log.filter((l) => /→ 61..$/.test(l)).length).toBe(3); // SELECT MF, 80FA00, 80FA05
  });

  it('a batch without the ISO engine stops at the first 61xx; the raw caller fetches and resumes', async () => {
    const [, make] = transports[1];
    const { channel } = await make();
    const r = await channel.transmitBatch!([{ apdu: VERIFY_PIN, expect: ANY }, { apdu: SESSION, expect: ANY }, { apdu: CIPHER, expect: ANY }, { apdu: MAC, expect: ANY }]);
    expect(r.stoppedAt).toBe(2);
    expect(r.responses.map(hx)).toEqual(['9000', '9000', '6110']);
    const data = await channel.transmit(command(0x00, 0xc0, 0x00, 0x00, [], 0x10));
    expect(hx(data)).toBe((await samFlowOneByOne())[5]);
  });
});

describe('batchWithRepair (withIsoTransmission)', () => {
  it('repairs at the stop point, then resumes: GET RESPONSE comes right after the 61xx', async () => {
    const inner = new ScriptedChannel([
      ['00A4000002DF01', '6104'], ['00C0000004', '6F029000'], ['00B2010400', '01029000'],
    ], true);
    const r = await withIsoTransmission(inner).transmitBatch!([{ apdu: h('00A4000002DF01'), expect: ANY }, { apdu: h('00B2010400') }]);
    expect(r).toEqual({ responses: [h('6F029000'), h('01029000')] });
    expect(inner.batches).toBe(2);
  });

  it('a 6Cxx resend that answers 61xx is fetched before the batch goes on', async () => {
    const inner = new ScriptedChannel([
      ['00B0000000', '6C10'], ['00B0000010', '6110'], ['00C0000010', '00112233445566778899AABBCCDDEEFF9000'], ['00B2010400', '01029000'],
    ], true);
    const r = await withIsoTransmission(inner).transmitBatch!([{ apdu: h('00B0000000'), expect: BROAD }, { apdu: h('00B2010400') }]);
    expect(r.responses.map(hx)).toEqual(['00112233445566778899AABBCCDDEEFF9000', '01029000']);
    expect(r.stoppedAt).toBeUndefined();
  });

  it('keeps a stop at 61xx when the caller opted out of GET RESPONSE (the next command would lose the data)', async () => {
    const inner = new ScriptedChannel([['00A4000002DF01', '6104']], true);
    const r = await withIsoTransmission(inner).transmitBatch!([{ apdu: h('00A4000002DF01'), expect: ANY }, { apdu: h('00B2010400') }], { iso: { getResponse: false } });
    expect(r).toEqual({ responses: [h('6104')], stoppedAt: 0 });
  });

  it('refuses the result of a device that ran on past a 61xx (its data is gone) instead of mislabelling data', async () => {
    const sam = createSam();
    sam.powerOn();
    const ch = t0Channel(sam);
    const legacy: CardChannel = { transmit: ch.transmit, transmitBatch: legacyBatch(ch) };
    const batch = [SELECT_MF, command(0x00, 0xa4, 0x00, 0x00, [0xdf, 0x01])].map((apdu) => ({ apdu, expect: BROAD }));
    expect(await code(withIsoTransmission(legacy).transmitBatch!(batch))).toBe('BATCH_RESPONSE_LOST');
  });

  it('repairs a final 61xx that an old device did not mark with stoppedAt (nothing came after it)', async () => {
    const inner = new ScriptedChannel([['00A4000002DF01', '9000'], ['00A4000002EF05', '6102'], ['00C0000002', 'ABCD9000']]);
    const channel: CardChannel = {
      transmit: (c) => inner.transmit(c),
      transmitBatch: async (c) => ({ responses: await Promise.all([inner.transmit(c[0].apdu)]).then(async (a) => [...a, await inner.transmit(c[1].apdu)]) }),
    };
    const r = await withIsoTransmission(channel).transmitBatch!([{ apdu: h('00A4000002DF01') }, { apdu: h('00A4000002EF05'), expect: BROAD }]);
    expect(r).toEqual({ responses: [h('9000'), h('ABCD9000')] });
  });
});
