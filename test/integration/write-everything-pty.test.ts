// Acceptance: against the simulator over a real serial line (a socat PTY pair, `yika-sim --pty` in its
// own process, the daemon's serialport on the other end, SM secure channel open), the daemon reads
// every file and writes every writable item, verified by reading back (test/support/write-everything.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';
import { testTokens } from '../support/api-token.ts';
import { writeEverything } from '../support/write-everything.ts';
import { startSimProcess, type SimProcess } from './sim-process.ts';

const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED write-everything-pty tests: socat is not installed (apt-get install socat)');

describe.skipIf(!haveSocat)('daemon ↔ yika-sim over a socat PTY pair: write everything, read it back', () => {
  let pair: SocatPair;
  let sim: SimProcess;
  let app: YikaApp;
  let url: string;

  beforeAll(async () => {
    pair = await startSocatPair();
    sim = await startSimProcess(['--pty', pair.a, '--secure', 'required', '--seed', '23', '--no-stdin']);
    // The simulator's secure channel uses its TEST-ONLY CA: --trust-test-ca accepts it on this port
    // because the port is a pseudo-terminal; the daemon's policy stays the default (preferred).
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', pair.b, '--trust-test-ca', '--no-pcsc', '--no-serial-discovery']), {});
    config.api.tokens = testTokens(); // writes need a token with the write capability
    app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    url = await app.listen();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await sim?.stop();
    await pair?.close();
  });

  it('writes every writable item, the photo, appends and every visit slot, then erases some; read back equal', async () => {
    const reader = await until('the serial reader', () => app.registry.find('serial-1'));
    await until('card and SAM present', () => {
      const m = reader.toJSON();
      return m.slots.find((s) => s.slot === 1)?.card === 'present' && m.slots.some((s) => s.kind === 'sam' && s.card === 'present');
    });
    expect(reader.toJSON()).toMatchObject({ kind: 'serial', health: 'ok', secureChannel: { policy: 'preferred', state: 'open' } });
    const report = await writeEverything(url, 'serial-1', { seed: 1, log: (l) => console.log(l) });
    expect(report.tlvItems).toHaveLength(57);
    expect(report.notWritable).toEqual([]);
    expect(report.unchangedByDesign.every((n) => n === 1 || n === 2)).toBe(true);
    expect(report.visitItems).toBe(3 * 149 + 5 * 172);
    // Still on the secure channel, and the line never dropped.
    expect(reader.toJSON()).toMatchObject({ health: 'ok', secureChannel: { state: 'open' } });
  }, 180_000);
});
