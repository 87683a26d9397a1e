import { createServer, connect, type Socket } from 'node:net';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { HostSession } from '../../../protocol/host-session.ts';
import { createLinkPair, socketLink, streamLink, type LinkCloseReason } from '../../../protocol/link.ts';
import { FakeReader } from './fake-reader.ts';
import { SELECT_MF } from './session-harness.ts';
import { until } from '../../support/until.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('createLinkPair', () => {
  it('delivers asynchronously, in order, as copies, in chunks when asked', async () => {
    const [a, b] = createLinkPair({ chunkSize: 3 });
    const got: number[][] = [];
    b.onData((x) => got.push([...x]));
    const buf = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
    a.write(buf);
    buf[0] = 99; // the writer reuses its buffer: the reader must still see what was written
    a.write(Uint8Array.of(8));
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual([[1, 2, 3], [4, 5, 6], [7], [8]]);
  });

  it('closes both ends once, the peer after the bytes written before close', async () => {
    const [a, b] = createLinkPair();
    const seen: string[] = [];
    b.onData(() => seen.push('data'));
    b.onClose((r: LinkCloseReason) => seen.push(`close:${r.by}`));
    const local: LinkCloseReason[] = [];
    a.onClose((r) => local.push(r));
    a.write(Uint8Array.of(1));
    a.close('unplugged');
    a.close('again');
    expect(a.closed).toBe(true);
    expect(() => a.write(Uint8Array.of(2))).toThrowError(expect.objectContaining({ code: 'LINK_CLOSED' }));
    await tick();
    expect(seen).toEqual(['data', 'close:peer']);
    expect(local).toEqual([{ by: 'local', message: 'unplugged' }]);
    const late: LinkCloseReason[] = [];
    b.onClose((r) => late.push(r));
    await tick();
    expect(late.length).toBe(1);
  });
});

describe('stream links', () => {
  it('runs a session over a real TCP socket and fails pending requests when the peer goes away', async () => {
    const reader = new FakeReader();
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      new DeviceSession(socketLink(s), reader);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const host = await HostSession.open(socketLink(socket), { keepaliveMs: 0 });
      await host.powerOn(1);
      expect(Buffer.from(await host.transmit(1, SELECT_MF)).toString('hex')).toBe('3f009000');
      reader.hangTransmit = true;
      const pending = host.transmit(1, SELECT_MF);
      setTimeout(() => sockets[0].destroy(), 20);
      await expect(pending).rejects.toMatchObject({ code: 'LINK_CLOSED' });
      expect(host.closed).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('wraps a serialport stream (MockBinding) and reports its close', async () => {
    SerialPortMock.binding.createPort('/dev/yika-mock0', { echo: true, record: true });
    const port = new SerialPortMock({ path: '/dev/yika-mock0', baudRate: 115200 });
    await new Promise((r) => port.once('open', r));
    const link = streamLink(port, '/dev/yika-mock0');
    const got: number[] = [];
    link.onData((b) => got.push(...b));
    link.write(Uint8Array.of(0x01, 0x02, 0x00));
    await until('the echo', () => got.length >= 3);
    expect(got).toEqual([0x01, 0x02, 0x00]); // the mock echoes
    const closed = new Promise<LinkCloseReason>((r) => link.onClose(r));
    link.close('done');
    expect((await closed).by).toBe('local');
    await until('the port closed', () => !port.isOpen);
    expect(port.isOpen).toBe(false);
    SerialPortMock.binding.reset();
  });
});
