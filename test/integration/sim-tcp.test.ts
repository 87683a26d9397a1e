// yika-sim --tcp as a child process: one host at a time, a scenario driving the physical side, and
// faults (corrupted bytes, card removed mid-read) as the host sees them.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HostSession } from '../../protocol/host-session.ts';
import { connectTcpLink } from '../../protocol/link.ts';
import type { DeviceEvent } from '../../protocol/operations.ts';
import { startSimProcess } from './sim-process.ts';
import { until } from '../support/until.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('yika-sim --tcp (child process)', () => {
  it('serves one host at a time; a scenario inserts, scans and pulls the card mid-exchange', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yika-sim-scn-'));
    const scenarioPath = join(dir, 'scenario.yaml');
    writeFileSync(
      scenarioPath,
      [
        'steps:',
        '  - wait: 3000',
        '  - remove: 1',
        '  - insert: { slot: 1, kind: health, seed: 5 }',
        '  - scan: { text: "EHC1:SCENARIO", ending: crlf }',
        '  - fault: { fault: remove-card, slot: 1, when: before, apdu: 2 }',
      ].join('\n'),
    );
    const sim = await startSimProcess(['--tcp', '127.0.0.1:0', '--scenario', scenarioPath, '--no-stdin']);
    let session: HostSession | undefined;
    try {
      const [host, port] = [sim.ready.tcp.slice(0, sim.ready.tcp.lastIndexOf(':')), Number(sim.ready.tcp.slice(sim.ready.tcp.lastIndexOf(':') + 1))];
      session = await HostSession.open(await connectTcpLink(host, port), { keepaliveMs: 0 });
      const events: DeviceEvent[] = [];
      session.on('event', (e) => events.push(e));

      // A second host is turned away while the first is connected.
      const second = connect({ host, port });
      let secondClosed = false;
      second.on('close', () => (secondClosed = true));
      second.on('error', () => undefined);
      await until('the second host turned away', () => secondClosed, 10_000);

      await until('sim.output().includes(scenario done)', () => sim.output().includes('scenario done'), 10_000);
      expect(events).toEqual([
        { type: 'card.removed', slot: 1 },
        { type: 'card.inserted', slot: 1 },
        { type: 'qr.scanned', text: 'EHC1:SCENARIO\r\n' },
      ]);
      await session.powerOn(1);
      expect(toHex((await session.transmit(1, hex('00A4000002DDF1'))).subarray(-2, -1))).toMatch(/^(61|90)$/);
      await expect(session.transmit(1, hex('00A4000002EF05'))).rejects.toMatchObject({ code: 'CARD_REMOVED' });
      await until('events.some((e, i) => i >= 3 && e.type === card.removed)', () => events.some((e, i) => i >= 3 && e.type === 'card.removed'), 10_000);
      await expect(session.transmit(1, hex('00A4000002EF05'))).rejects.toMatchObject({ code: 'NO_CARD' });
    } finally {
      await session?.close().catch(() => undefined);
      expect(await sim.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('corrupted bytes on the link: the CRC drops bad frames, requests time out, the session survives', async () => {
    const sim = await startSimProcess(['--tcp', '127.0.0.1:0', '--control', '0', '--seed', '3', '--no-stdin']);
    let session: HostSession | undefined;
    try {
      const [host, port] = [sim.ready.tcp.slice(0, sim.ready.tcp.lastIndexOf(':')), Number(sim.ready.tcp.slice(sim.ready.tcp.lastIndexOf(':') + 1))];
      session = await HostSession.open(await connectTcpLink(host, port), { keepaliveMs: 0, timeouts: { slotStatus: 300 } });
      const post = (body: string) => fetch(`${sim.ready.control}/line`, { method: 'POST', body }).then((r) => r.json());
      expect(await post('fault corrupt-bytes rate=0.2 direction=to-host')).toEqual([{ ok: true }]);
      let ok = 0;
      let timedOut = 0;
      for (let i = 0; i < 12; i++) {
        try {
          await session.slotStatus();
          ok++;
        } catch (e) {
          expect((e as { code: string }).code).toBe('PROTOCOL_TIMEOUT');
          timedOut++;
        }
      }
      // A slotStatus answer is > 40 bytes: at 20 % per byte nearly every answer is hit.
      expect(timedOut).toBeGreaterThan(6);
      expect(await post('fault clear')).toEqual([{ ok: true }]);
      expect((await session.slotStatus()).length).toBe(6);
      const status = await (await fetch(`${sim.ready.control}/status`)).json();
      expect(status.result.counters['faults.bytesCorrupted']).toBeGreaterThan(0);
      expect(ok + timedOut).toBe(12);
    } finally {
      await session?.close().catch(() => undefined);
      await sim.stop();
    }
  });
});
