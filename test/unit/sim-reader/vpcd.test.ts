import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { handleVpcdMessage, startVpcdClient, type VpcdClient } from '../../../firmware-sim/transports/vpcd-client.ts';
import { VPCD_HANG_UP, VpcdMessageReader, answerVpcdMessage, encodeVpcdMessage, type VpcdCard } from '../../../firmware-sim/transports/vpcd-codec.ts';
import { createMuteCard } from '../../../firmware-sim/cards/mute-card.ts';
import { connectVpcdCard } from '../../support/pcscd.ts';
import { rng } from '../../reliability/kit/rng.ts';
import { EchoCard } from '../daemon/echo-card.ts';
import { MuteCard, ScriptedCard, hex, toHex } from './test-cards.ts';
import { until } from '../../support/until.ts';

/** A reply as text: bytes in hex, 'hang-up', or 'nothing'. */
const show = (a: Uint8Array | typeof VPCD_HANG_UP | undefined): string => (a === undefined ? 'nothing' : a === VPCD_HANG_UP ? a : toHex(a));

describe('vpcd framing', () => {
  it('encodes a 2-byte big-endian length and the payload', () => {
    expect(toHex(encodeVpcdMessage(Uint8Array.of(4)))).toBe('000104');
    expect(toHex(encodeVpcdMessage(new Uint8Array(0x0102)).subarray(0, 2))).toBe('0102');
    expect(toHex(encodeVpcdMessage(new Uint8Array(0)))).toBe('0000');
    expect(() => encodeVpcdMessage(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it('reassembles messages split and merged at any byte', () => {
    const stream = Buffer.concat([encodeVpcdMessage(Uint8Array.of(4)), encodeVpcdMessage(hex('00A4040000')), encodeVpcdMessage(Uint8Array.of(0))]);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new VpcdMessageReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map(toHex)).toEqual(['04', '00A4040000', '00']);
    }
  });

  it('fuzz: random messages cut into random chunks decode to the same messages, nothing held back', () => {
    const r = rng(0x7bcd);
    for (let run = 0; run < 300; run++) {
      const sent = Array.from({ length: 1 + r.int(8) }, () => r.bytes(r.int(4) === 0 ? r.int(3) : r.int(r.int(10) === 0 ? 70_000 : 300)).subarray(0, 0xffff));
      const stream = Buffer.concat(sent.map(encodeVpcdMessage));
      const reader = new VpcdMessageReader();
      const got: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + r.int(r.int(3) === 0 ? 4 : 2000);
        got.push(...reader.push(stream.subarray(at, at + n)));
        at += n;
      }
      expect(got.map(toHex)).toEqual(sent.map(toHex));
      expect(reader.pending).toBe(0);
    }
  });

  it('fuzz: random bytes never throw; what decodes re-encodes to the bytes consumed, the rest is one partial message', () => {
    const r = rng(0x5eed);
    for (let run = 0; run < 2000; run++) {
      const bytes = r.bytes(r.int(600), 0.3);
      const reader = new VpcdMessageReader();
      const got = reader.push(bytes);
      const consumed = got.reduce((n, m) => n + 2 + m.length, 0);
      expect(toHex(Buffer.concat(got.map(encodeVpcdMessage)))).toBe(toHex(bytes.subarray(0, consumed)));
      expect(reader.pending).toBe(bytes.length - consumed);
      if (reader.pending >= 2) expect(reader.pending).toBeLessThan(2 + ((bytes[consumed] << 8) | bytes[consumed + 1]));
    }
  });
});

describe('vpcd answers (the codec)', () => {
  const log: string[] = [];
  const card: VpcdCard = {
    powerOff: async () => void log.push('off'),
    powerOn: async () => void log.push('on'),
    reset: async () => void log.push('reset'),
    atr: async () => hex('3B021450'),
    apdu: async (c) => hex(toHex(c) + '9000'),
  };

  it('answers get-ATR and APDUs only; never power on/off/reset or an unknown control code', async () => {
    expect(await answerVpcdMessage(card, Uint8Array.of(0))).toBeUndefined();
    expect(await answerVpcdMessage(card, Uint8Array.of(1))).toBeUndefined();
    expect(await answerVpcdMessage(card, Uint8Array.of(2))).toBeUndefined();
    expect(await answerVpcdMessage(card, Uint8Array.of(3))).toBeUndefined();
    expect(log).toEqual(['off', 'on', 'reset']);
    expect(show(await answerVpcdMessage(card, Uint8Array.of(4)))).toBe('3B021450');
    expect(show(await answerVpcdMessage(card, hex('00B0000000')))).toBe('00B00000009000');
  });

  it('answers 6700 to an APDU shorter than a header, without asking the card', async () => {
    for (const m of ['', '00B0', '00B000']) expect(show(await answerVpcdMessage({ ...card, apdu: () => Promise.reject(new Error('asked')) }, hex(m)))).toBe('6700');
  });

  it('a card that gives no answer (mute) hangs up, to get-ATR and to an APDU (never an empty message or a status word)', async () => {
    const mute: VpcdCard = { ...card, atr: async () => undefined, apdu: async () => undefined };
    expect(show(await answerVpcdMessage(mute, Uint8Array.of(4)))).toBe('hang-up');
    expect(show(await answerVpcdMessage(mute, hex('00A4000000')))).toBe('hang-up');
  });
});

describe('vpcd message handling (the simulated reader)', () => {
  it('answers get-ATR with the ATR and APDUs with the response; nothing for power on/off/reset', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    expect(show(await handleVpcdMessage(reader, 1, Uint8Array.of(4)))).toMatch(/^3B8C8001/);
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(0))).toBeUndefined();
    expect((await reader.slotStatus(1))[0].card).toBe('present');
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(1))).toBeUndefined();
    expect((await reader.slotStatus(1))[0].card).toBe('powered');
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(2))).toBeUndefined();
    expect(show(await handleVpcdMessage(reader, 1, hex('00B2010400')))).toBe('01020304059000');
    // An APDU after power off powers the card on again (pcscd may skip the power-on).
    await handleVpcdMessage(reader, 1, Uint8Array.of(0));
    expect(show(await handleVpcdMessage(reader, 1, hex('00A4000000')))).toBe('9000');
  });

  it('a failing APDU (no card) hangs up', async () => {
    const reader = new SimulatedReader();
    expect(show(await handleVpcdMessage(reader, 1, hex('00A4000000')))).toBe('hang-up');
  });

  it('a mute card hangs up at get-ATR and at an APDU (no status word of its own)', async () => {
    const reader = new SimulatedReader({ speed: 0 });
    reader.insertCard(1, createMuteCard());
    expect(show(await handleVpcdMessage(reader, 1, Uint8Array.of(4)))).toBe('hang-up');
    expect(show(await handleVpcdMessage(reader, 1, hex('00A4000000')))).toBe('hang-up');
  });
});

describe('vpcd client over TCP (a fake vpcd)', () => {
  let server: Server | undefined;
  let client: VpcdClient | undefined;
  afterEach(async () => {
    await client?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('connects when a card is in the slot, follows removal and insertion', async () => {
    const conns: Socket[] = [];
    const answers: string[] = [];
    server = createServer((s) => {
      conns.push(s);
      const r = new VpcdMessageReader();
      s.on('data', (d) => r.push(d).forEach((m) => answers.push(toHex(m))));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    client = startVpcdClient({ reader, port, retryMs: 20 });
    await until('conns.length === 1 && client!.connected', () => conns.length === 1 && client!.connected, 2000, 10);
    conns[0].write(Buffer.concat([encodeVpcdMessage(Uint8Array.of(1)), encodeVpcdMessage(Uint8Array.of(4)), encodeVpcdMessage(hex('00A4000000'))]));
    await until('answers.length === 2', () => answers.length === 2, 2000, 10);
    expect(answers[0]).toMatch(/^3B8C/);
    expect(answers[1]).toBe('9000');
    reader.removeCard(1);
    await until('conns[0].destroyed || conns[0].readableEnded', () => conns[0].destroyed || conns[0].readableEnded, 2000, 10);
    reader.insertCard(1, new ScriptedCard());
    await until('conns.length === 2', () => conns.length === 2, 2000, 10);
    await client.unplug();
    await until('!client!.connected', () => !client!.connected, 2000, 10);
    await client.replug();
    await until('conns.length === 3', () => conns.length === 3, 2000, 10);
  });
});

describe("the tests' in-process vpcd card (test/support/pcscd.ts) speaks the same codec", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A fake vpcd: sends `questions` to the card that connects; its answers, then 'hang-up' if it closed. */
  async function ask(card: EchoCard | MuteCard, questions: Uint8Array[]): Promise<string[]> {
    const answers: string[] = [];
    let conn: Socket | undefined;
    let closed = false;
    server = createServer((s) => {
      conn = s;
      const r = new VpcdMessageReader();
      s.on('data', (d) => r.push(d).forEach((m) => answers.push(toHex(m))));
      s.on('error', () => undefined);
      s.on('close', () => (closed = true));
      s.write(Buffer.concat(questions.map(encodeVpcdMessage)));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const vpcd = await connectVpcdCard(card, (server.address() as { port: number }).port);
    const expected = questions.filter((q) => q.length !== 1 || q[0] === 4).length;
    try {
      await until('every answer, or the card hanging up', () => answers.length === expected || closed, 5000, 10);
    } finally {
      await vpcd.remove();
      conn?.destroy();
    }
    return closed && answers.length < expected ? [...answers, 'hang-up'] : answers;
  }

  it('answers the ATR and APDUs of a live card; nothing for power on/off/reset', async () => {
    const answers = await ask(new EchoCard(), [Uint8Array.of(1), Uint8Array.of(4), Uint8Array.of(2), hex('00B0123400'), Uint8Array.of(0)]);
    expect(answers).toEqual(['3B021450', '00B012349000']); // EchoCard echoes the header
  });

  it('a mute card hangs up at the first question (no empty message, no status word)', async () => {
    expect(await ask(new MuteCard(), [Uint8Array.of(4), hex('00A4000000')])).toEqual(['hang-up']);
  });
});
