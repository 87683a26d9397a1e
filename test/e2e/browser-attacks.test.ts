// The browser attacks of issue 15 in a real Chromium: a foreign page (another site: http://localhost:P
// against the daemon on 127.0.0.1; and another port of 127.0.0.1, same-site) embeds
// <img src=…/healthcard>, floods no-cors GETs, tries a CORS fetch. The reader must not run (the
// simulator counts its APDUs), the requests must have arrived and been refused (metrics), and a
// legitimate client keeps being served during the flood. Then a local program holds every WebSocket
// slot of its pool while the front-desk page still goes live.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { defaultConfig } from '../../daemon/config/config-schema.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: browser attack tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!hasChromium)('browser attacks in Chromium', () => {
  let sim: Simulator;
  let app: YikaApp;
  let daemon: string;
  let evil: http.Server;
  let evilPort: number;
  let evilPage = '';
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;

  const simApdus = async (): Promise<number> => (await sim.reader.deviceInfo()).counters.apdus ?? 0;
  const refusedOrigins = (): number => app.metrics.get('yika_http_errors_total', { code: 'ORIGIN_NOT_ALLOWED' });

  beforeAll(async () => {
    sim = createSimulator({ seed: 21 });
    const config = defaultConfig();
    config.listen = { host: '127.0.0.1', port: 0 };
    config.sim.enabled = true;
    config.devices.pcsc = false;
    config.devices.serialDiscovery = false;
    config.qr.demo = true;
    // A small budget, so that a flood that were charged to it would show.
    config.api = { rateLimit: { perSecond: 5, burst: 20 }, websocket: { maxSubscribers: 2 } };
    app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    daemon = await app.listen();
    await until('sim-1 with a card', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');

    // The attacker's site: serves whatever page the test sets.
    evil = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(evilPage));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilPort = (evil.address() as { port: number }).port;

    userDataDir = mkdtempSync(join(tmpdir(), 'yika-chromium-attacks-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await new Promise((r) => evil?.close(r));
    await app?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  }, 60_000);

  for (const [site, host] of [['cross-site (localhost)', 'localhost'], ['same-site (another port of 127.0.0.1)', '127.0.0.1']] as const) {
    it(`<img> probes from a ${site} page reach the daemon and are refused; the reader does not run`, async () => {
      const apdus = await simApdus();
      const refused = refusedOrigins();
      const target = `${daemon}/v1/readers/sim-1`;
      evilPage = `<!doctype html><title>cute cats</title>
        <img src="${target}/healthcard"><img src="${target}/healthcard?files=DDF1/EF06"><img src="${target}/healthcard/items?ids=11,15">`;
      await page.goto(`http://${host}:${evilPort}/`, { waitUntil: 'load' });
      await until('three refused probes', () => refusedOrigins() >= refused + 3, 15_000);
      expect(await simApdus()).toBe(apdus);
    });
  }

  it('a no-cors GET flood from a foreign page costs the HIS nothing: its parallel requests all succeed', async () => {
    const apdus = await simApdus();
    const refused = refusedOrigins();
    evilPage = `<!doctype html><script>
      window.sent = 0;
      const url = '${daemon}/v1/readers/sim-1/healthcard/items?ids=11';
      const until = Date.now() + 5000;
      async function worker() { while (Date.now() < until) { window.sent++; await fetch(url, { mode: 'no-cors' }).catch(() => {}); } }
      window.flood = Promise.all([worker(), worker(), worker(), worker()]).then(() => window.sent);
      // A CORS fetch too: refused, and the page could not read an answer anyway.
      window.cors = fetch('${daemon}/v1/readers').then((r) => 'read ' + r.status, (e) => 'blocked');
    </script>`;
    await page.goto(`http://localhost:${evilPort}/`, { waitUntil: 'load' });
    // The HIS (here: a program on the desk PC) reads ten times while the flood runs.
    const his: number[] = [];
    let hisApdus = 0;
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${daemon}/v1/readers/sim-1/healthcard?files=DDF1/EF05`);
      his.push(r.status);
      if (r.ok) hisApdus += ((await r.json()) as { apdus: number }).apdus;
      else await r.arrayBuffer();
    }
    const sent = (await page.evaluate('window.flood')) as number;
    expect(await page.evaluate('window.cors')).toBe('blocked');
    expect(his).toEqual(Array(10).fill(200));
    expect(sent).toBeGreaterThan(50);
    // Every flood request arrived and was refused before the rate limit and the reader.
    await until('the flood counted', () => refusedOrigins() >= refused + sent, 15_000);
    // The reader ran the HIS's reads and nothing else.
    expect(hisApdus).toBeGreaterThan(0);
    expect(await simApdus()).toBe(apdus + hisApdus);
  }, 60_000);

  it('a local program holding every WebSocket slot of its pool does not keep the front-desk page from going live', async () => {
    const held: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const ws = new WebSocket(`${daemon.replace('http:', 'ws:')}/v1/events`);
        const outcome = await new Promise<string | number>((resolve) => {
          ws.once('message', () => resolve('hello'));
          ws.once('close', (code) => resolve(code));
        });
        held.push(ws);
        expect(outcome).toBe(i < 2 ? 'hello' : 1013); // its own pool is full
      }
      await page.goto(daemon);
      await expect.poll(() => page.getAttribute('[data-testid=connection]', 'data-state'), { timeout: 15_000 }).toBe('live');
    } finally {
      for (const ws of held) ws.terminate();
    }
  }, 60_000);
});
