import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { VpcdMessageReader, encodeVpcdMessage, handleVpcdMessage, startVpcdClient, type VpcdClient } from '../../../firmware-sim/transports/vpcd-client.ts';
import { ScriptedCard, hex, toHex } from './test-cards.ts';
import { until } from '../../support/until.ts';

describe('vpcd framing', () => {
  it('encodes a 2-byte big-endian length and the payload', () => {
    expect(toHex(encodeVpcdMessage(Uint8Array.of(4)))).toBe('000104');
    expect(toHex(encodeVpcdMessage(new Uint8Array(0x0102)).subarray(0, 2))).toBe('0102');
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
});

describe('vpcd message handling', () => {
  it('answers get-ATR with the ATR and APDUs with the response; nothing for power on/off/reset', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    expect(toHex((await handleVpcdMessage(reader, 1, Uint8Array.of(4)))!)).toMatch(/^3B8C8001/);
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(0))).toBeUndefined();
    expect((await reader.slotStatus(1))[0].card).toBe('present');
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(1))).toBeUndefined();
    expect((await reader.slotStatus(1))[0].card).toBe('powered');
    expect(await handleVpcdMessage(reader, 1, Uint8Array.of(2))).toBeUndefined();
    expect(toHex((await handleVpcdMessage(reader, 1, hex('00B2010400')))!)).toBe('01020304059000');
    // An APDU after power off powers the card on again (pcscd may skip the power-on).
    await handleVpcdMessage(reader, 1, Uint8Array.of(0));
    expect(toHex((await handleVpcdMessage(reader, 1, hex('00A4000000')))!)).toBe('9000');
  });

  it('a failing APDU (no card) answers an empty message', async () => {
    const reader = new SimulatedReader();
    expect((await handleVpcdMessage(reader, 1, hex('00A4000000')))!.length).toBe(0);
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
