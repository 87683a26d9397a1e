// Issue 14, "done when": writing then reading item 11 (the name) with each name of the rare-character
// corpus returns it unchanged through the HTTP API, or is refused with the typed error; never a
// changed name. Daemon and yika-sim are two processes joined by a real serial line (socat PTY pair).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH, testTokens } from '../support/api-token.ts';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { corpusNames } from '../fixtures/names/rare-name-characters.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';
import { startSimProcess, type SimProcess } from './sim-process.ts';

const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED rare-names-pty tests: socat is not installed (apt-get install socat)');

describe.skipIf(!haveSocat)('rare name characters: item 11 written and read back over a serial PTY', () => {
  let pair: SocatPair;
  let sim: SimProcess;
  let app: YikaApp;
  let url: string;

  beforeAll(async () => {
    pair = await startSocatPair();
    sim = await startSimProcess(['--pty', pair.a, '--seed', '31', '--no-stdin']);
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', pair.b, '--no-pcsc', '--no-serial-discovery']), {});
    config.api.tokens = testTokens(); // writes need a token
    app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    url = await app.listen();
    const reader = await until('the serial reader', () => app.registry.find('serial-1'));
    await until('card and SAM present', () => {
      const m = reader.toJSON();
      return m.slots.find((s) => s.slot === 1)?.card === 'present' && m.slots.some((s) => s.kind === 'sam' && s.card === 'present');
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await sim?.stop();
    await pair?.close();
  });

  it('each corpus name: unchanged, or 400 ITEM_VALUE_NOT_GBK naming item 11 and the code point (not the name)', async () => {
    const names = corpusNames();
    expect(names.length).toBeGreaterThanOrEqual(99);
    let accepted = 0;
    let refused = 0;
    for (const { name, cp, outcome } of names) {
      const codePoint = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      const put = await fetch(`${url}/v1/readers/serial-1/healthcard/items`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...TEST_AUTH },
        body: JSON.stringify({ items: { '11': name } }),
      });
      const body = (await put.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
      if (outcome === 'refused') {
        expect([codePoint, put.status, body.error?.code]).toEqual([codePoint, 400, 'ITEM_VALUE_NOT_GBK']);
        expect(body.error?.details).toMatchObject({ itemNo: 11, codePoint, index: 1 });
        expect(body.error?.message).not.toContain(name);
        refused++;
        continue;
      }
      expect([codePoint, put.status]).toEqual([codePoint, 200]);
      const get = await fetch(`${url}/v1/readers/serial-1/healthcard/items?ids=11`);
      const read = (await get.json()) as { items: Array<{ itemNo: number; value: string | null }> };
      expect([codePoint, read.items[0].value]).toEqual([codePoint, name]);
      accepted++;
    }
    expect(accepted).toBeGreaterThanOrEqual(81);
    expect(refused).toBeGreaterThanOrEqual(10);
  }, 180_000);
});
