// yika-sim as a child process over a real serial line (socat PTY pair, serialport on both ends).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostSession } from '../../protocol/host-session.ts';
import { openSerialLink } from '../../protocol/link.ts';
import type { DeviceEvent } from '../../protocol/operations.ts';
import { socatAvailable, startSocatPair } from '../support/socat.ts';
import { startSimProcess } from './sim-process.ts';
import { until } from '../support/until.ts';

const hasSocat = socatAvailable();
if (!hasSocat) console.warn('SKIPPED sim-pty tests: socat is not installed (apt-get install socat)');

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** A session on `path` once the simulator serves it again (it reopens its end every 500 ms): tries hello until one answers. */
function sessionWhenServed(path: string): Promise<HostSession> {
  return until(`a simulator answering hello on ${path}`, async () => {
    const link = await openSerialLink(path).catch(() => undefined);
    if (!link) return undefined;
    return HostSession.open(link, { keepaliveMs: 0, timeouts: { hello: 400 } }).catch(() => {
      link.close();
      return undefined;
    });
  }, 20_000, 250);
}
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

async function t0(s: HostSession, slot: number, apdu: Uint8Array): Promise<Uint8Array> {
  let r = await s.transmit(slot, apdu);
  for (let i = 0; i < 4; i++) {
    if (r[r.length - 2] === 0x61) r = await s.transmit(slot, Uint8Array.of(0, 0xc0, 0, 0, r[r.length - 1]));
    else if (r[r.length - 2] === 0x6c) r = await s.transmit(slot, Uint8Array.of(...apdu.subarray(0, 4), r[r.length - 1]));
    else break;
  }
  return r;
}

describe.skipIf(!hasSocat)('yika-sim --pty (child process, socat pair)', () => {
  it('hello, power on, SELECT DDF1, READ RECORD EF05; control channel events reach the host', async () => {
    const pair = await startSocatPair();
    const sim = await startSimProcess(['--pty', pair.a, '--seed', '21', '--control', '0', '--no-stdin']);
    let session: HostSession | undefined;
    try {
      expect(sim.ready.pty).toBe(pair.a);
      session = await HostSession.open(await openSerialLink(pair.b), { keepaliveMs: 0 });
      expect(session.deviceHello).toMatchObject({ vendor: 'Yika', model: 'SIM-1', serial: 'YSIM-000021' });
      const on = await session.powerOn(1);
      expect(on.atr[0]).toBe(0x3b);
      const fci = await t0(session, 1, hex('00A4000002DDF1'));
      expect(toHex(fci.subarray(-2))).toBe('9000');
      expect(Buffer.from(fci).toString('latin1')).toContain('WS.SYS.DDF01');
      expect(toHex(await t0(session, 1, hex('00A4000002EF05')))).toBe('9000');
      const rec = await t0(session, 1, hex('00B2010400'));
      expect(toHex(rec.subarray(-2))).toBe('9000');
      expect(rec[0]).toBe(0x01);

      // The control channel drives the physical side; the host sees the events.
      const events: DeviceEvent[] = [];
      session.on('event', (e) => events.push(e));
      const post = (path: string, body: string) => fetch(`${sim.ready.control}${path}`, { method: 'POST', body }).then((r) => r.json());
      expect(await post('/line', 'remove 1\nscan EHC1:XYZ ending=lf')).toEqual([{ ok: true, result: { slot: 1, removed: true } }, { ok: true }]);
      await until('events.length >= 2', () => events.length >= 2, 10_000);
      expect(events).toEqual([
        { type: 'card.removed', slot: 1 },
        { type: 'qr.scanned', text: 'EHC1:XYZ\n' },
      ]);
      await expect(session.powerOn(1)).rejects.toMatchObject({ code: 'NO_CARD' });
      const bad = await post('/command', JSON.stringify({ cmd: 'insert', slot: 9 }));
      expect(bad).toMatchObject({ ok: false, error: { code: 'SIM_BAD_COMMAND' } });
    } finally {
      await session?.close().catch(() => undefined);
      expect(await sim.stop()).toBe(0);
      await pair.close();
    }
  });

  it('--host-pty: an unplug fault makes the host port close and the path vanish; replug brings it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yika-sim-unplug-'));
    const devicePath = join(dir, 'reader');
    const hostPath = join(dir, 'host');
    const sim = await startSimProcess(['--pty', devicePath, '--host-pty', hostPath, '--control', '0', '--no-stdin']);
    let session: HostSession | undefined;
    try {
      session = await HostSession.open(await openSerialLink(hostPath), { keepaliveMs: 0 });
      await session.powerOn(1);
      const closed = new Promise<{ code: string }>((r) => session!.once('close', (e) => r(e)));
      const res = await fetch(`${sim.ready.control}/command`, { method: 'POST', body: JSON.stringify({ cmd: 'fault', spec: { fault: 'unplug', forMs: 400 } }) });
      expect((await res.json()).ok).toBe(true);
      expect((await closed).code).toBe('LINK_CLOSED');
      await until('!existsSync(hostPath)', () => !existsSync(hostPath), 5000);
      await until('existsSync(hostPath)', () => existsSync(hostPath), 10_000);
      session = await sessionWhenServed(hostPath);
      expect((await session.slotStatus(1))[0].card).toBe('present');
    } finally {
      await session?.close().catch(() => undefined);
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an external socat restarted: the simulator reopens its path and serves the next host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yika-sim-reopen-'));
    const [devicePath, hostPath] = [join(dir, 'reader'), join(dir, 'host')];
    const startSocat = async () => {
      const child = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], { stdio: 'ignore' });
      await until('existsSync(devicePath) && existsSync(hostPath)', () => existsSync(devicePath) && existsSync(hostPath), 10_000);
      return child;
    };
    const stopSocat = async (child: ReturnType<typeof spawn>) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    };
    let socat = await startSocat();
    const sim = await startSimProcess(['--pty', devicePath, '--no-stdin']);
    let session: HostSession | undefined;
    try {
      session = await HostSession.open(await openSerialLink(hostPath), { keepaliveMs: 0 });
      await session.close();
      await stopSocat(socat);
      socat = await startSocat();
      // The simulator retries every 500 ms; hello succeeds once it has reopened its end.
      session = await sessionWhenServed(hostPath);
      expect(session.deviceHello.vendor).toBe('Yika');
    } finally {
      await session?.close().catch(() => undefined);
      await sim.stop();
      await stopSocat(socat);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad flags exit with code 2 and a typed message', async () => {
    await expect(startSimProcess(['--pty'], 15_000)).rejects.toThrow(/exit 2\).*SIM_BAD_OPTION/s);
    await expect(startSimProcess(['--tcp', 'nohost', '--no-stdin'], 15_000)).rejects.toThrow(/exit 2\).*--tcp: expected HOST:PORT/s);
  });
});
