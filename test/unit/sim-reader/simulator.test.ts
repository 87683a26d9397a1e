import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { HostSession } from '../../../protocol/host-session.ts';
import { connectTcpLink } from '../../../protocol/link.ts';
import { testHostKey, testTrustedCa } from '../../../protocol/secure/test-ca.ts';
import type { DeviceEvent } from '../../../protocol/operations.ts';
import { hex, toHex } from './test-cards.ts';
import { until } from '../../support/until.ts';

let sim: Simulator | undefined;
let session: HostSession | undefined;
afterEach(async () => {
  await session?.close().catch(() => undefined);
  await sim?.close();
  session = undefined;
  sim = undefined;
});

/** T=0 the way a host does it: 61xx → GET RESPONSE, 6Cxx → resend with the right Le. */
async function t0(s: HostSession, apdu: Uint8Array): Promise<Uint8Array> {
  let r = await s.transmit(1, apdu);
  for (let i = 0; i < 4; i++) {
    const sw1 = r[r.length - 2];
    if (sw1 === 0x61) r = await s.transmit(1, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, r[r.length - 1]));
    else if (sw1 === 0x6c) r = await s.transmit(1, Uint8Array.of(...apdu.subarray(0, 4), r[r.length - 1]));
    else break;
  }
  return r;
}

describe('createSimulator (in-process)', () => {
  it('defaults: a health card in 0x01 and a SAM in 0x11; hello over the in-process link', async () => {
    sim = createSimulator({ seed: 11 });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    const hello = session.deviceHello;
    expect(hello).toMatchObject({ vendor: 'Yika', model: 'SIM-1', serial: 'YSIM-000011', batch: true, secureChannel: 'none' });
    const status = await session.slotStatus();
    expect(status.find((s) => s.slot === 0x01)?.card).toBe('present');
    expect(status.find((s) => s.slot === 0x11)?.card).toBe('present');
    expect(status.find((s) => s.slot === 0x02)?.card).toBe('absent');
  });

  it('reads DDF1/EF05 over the protocol: power on, SELECT DDF1, SELECT EF05, READ RECORD (T=0 and T=1)', async () => {
    sim = createSimulator({ seed: 3 });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    const on = await session.powerOn(1);
    expect(toHex(on.atr)).toMatch(/^3B9C968001[0-9A-F]{16}57533130[0-9A-F]{2}$/);
    expect(on).toMatchObject({ fi: 372, di: 1, clockHz: 4_000_000 }); // the ATR's rate until PPS
    const fci = await t0(session, hex('00A4000002DDF1'));
    expect(toHex(fci.subarray(-2))).toBe('9000');
    expect(Buffer.from(fci).toString('latin1')).toContain('WS.SYS.DDF01');
    expect(toHex(await t0(session, hex('00A4000002EF05')))).toBe('9000');
    const rec = await t0(session, hex('00B2010400'));
    expect(toHex(rec.subarray(-2))).toBe('9000');
    expect(rec[0]).toBe(0x01); // tag 01: card type
    // Same through T=1 after PPS.
    await session.setParams(1, { protocol: 1 });
    const rec1 = await session.transmit(1, hex('00B2010400'));
    expect(toHex(rec1)).toBe(toHex(rec));
    expect(sim.modelledTimeUs()).toBeGreaterThan(0);
  });

  it('forwards card and QR events to the host, and runs batches', async () => {
    sim = createSimulator();
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    const events: DeviceEvent[] = [];
    session.on('event', (e) => events.push(e));
    sim.removeCard(1);
    sim.insertCard(1, { kind: 'health', seed: 99 });
    await sim.scan('EHC1:TEST', { ending: 'crlf' });
    await until('three events', () => events.length >= 3);
    expect(events).toEqual([
      { type: 'card.removed', slot: 1 },
      { type: 'card.inserted', slot: 1 },
      { type: 'qr.scanned', text: 'EHC1:TEST\r\n' },
    ]);
    await session.powerOn(1);
    await session.setParams(1, { protocol: 1 });
    const r = await session.transmitBatch(1, [{ apdu: hex('00A4000002DDF1') }, { apdu: hex('00A4000002EF06') }, { apdu: hex('00B2010400') }]);
    // EF06 needs RK_DDF1: the read stops the batch with 6982.
    expect(r.stoppedAt).toBe(2);
    expect(toHex(r.responses[2])).toBe('6982');
  });

  it('a wrong SAM PIN: the SAM answers 63Cx to VERIFY 123456', async () => {
    sim = createSimulator({ samPin: '654321' });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    await session.powerOn(0x11);
    const r = await session.transmit(0x11, hex('0020000003123456'));
    expect(toHex(r)).toMatch(/^63C[0-9A-F]$/);
  });

  it('reset-reader fault: the host must say hello again (NOT_READY)', async () => {
    sim = createSimulator();
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    await session.powerOn(1);
    await sim.injectFault({ fault: 'reset-reader' });
    await expect(session.slotStatus()).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('unplug closes the in-process link (LINK_CLOSED) and replug hands a new link', async () => {
    sim = createSimulator();
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0 });
    const links: unknown[] = [];
    sim.onReplug((l) => links.push(l));
    const closed = new Promise((r) => session!.once('close', r));
    await sim.injectFault({ fault: 'unplug' });
    expect(await closed).toMatchObject({ code: 'LINK_CLOSED' });
    expect(() => sim!.connectInProcess()).toThrow(expect.objectContaining({ code: 'SIM_TRANSPORT_FAILED' }));
    await sim.injectFault({ fault: 'replug' });
    expect(links.length).toBe(1);
  });

  it('TCP: unplug drops the host and refuses connections; replug listens on the same port again', async () => {
    sim = createSimulator();
    const tcp = await sim.serveTcp('127.0.0.1', 0);
    session = await HostSession.open(await connectTcpLink('127.0.0.1', tcp.port), { keepaliveMs: 0 });
    await session.powerOn(1);
    const closed = new Promise((r) => session!.once('close', r));
    await sim.injectFault({ fault: 'unplug' });
    expect(await closed).toMatchObject({ code: 'LINK_CLOSED' });
    await expect(connectTcpLink('127.0.0.1', tcp.port, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    await sim.injectFault({ fault: 'replug' });
    session = await HostSession.open(await connectTcpLink('127.0.0.1', tcp.port), { keepaliveMs: 0 });
    // The reader lost power while unplugged: the card is present but no longer powered.
    expect((await session.slotStatus(1))[0].card).toBe('present');
    expect((await sim.status()).transports).toContain(`tcp 127.0.0.1:${tcp.port}`);
  });

  it('dropped frames: the host times out instead of hanging; clearing the fault recovers', async () => {
    sim = createSimulator({ seed: 5 });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0, timeouts: { slotStatus: 200 } });
    await sim.injectFault({ fault: 'drop-frames', rate: 1, direction: 'to-host' });
    await expect(session.slotStatus()).rejects.toMatchObject({ code: 'PROTOCOL_TIMEOUT' });
    await sim.injectFault({ fault: 'clear' });
    expect((await session.slotStatus()).length).toBe(6);
  });

  it('the secure channel (TEST-ONLY identity) is announced when enabled', async () => {
    sim = createSimulator({ secure: 'supported' });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0, secure: 'off' });
    expect(session.deviceHello.secureChannel).toBe('supported');
  });

  it('secure channel required: a plaintext host is refused, the SM channel carries a read', async () => {
    sim = createSimulator({ secure: 'required', seed: 4 });
    await expect(HostSession.open(sim.connectInProcess(), { keepaliveMs: 0, secure: 'off' })).rejects.toMatchObject({ code: 'SECURE_CHANNEL_REQUIRED' });
    session = await HostSession.open(sim.connectInProcess(), { keepaliveMs: 0, secure: 'required', trust: { hostKey: testHostKey(), trustedCas: [testTrustedCa()] } });
    expect(session.secureChannel.state).toBe('open');
    await session.powerOn(1);
    await session.setParams(1, { protocol: 1 });
    expect(toHex(await session.transmit(1, hex('00A4000002DDF1')))).toMatch(/9000$/);
    expect(toHex(await session.transmit(1, hex('00A4000002EF05')))).toBe('9000');
    expect(toHex(await session.transmit(1, hex('00B2010400')))).toMatch(/^0101.*9000$/);
  });

  it('bad options are typed errors', () => {
    expect(() => createSimulator({ seed: -1 })).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
    expect(() => createSimulator({ samPin: 'abc' })).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
    expect(() => createSimulator({ speed: -2 })).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });
});
