// The front-desk page in a real Chromium against the whole daemon (createApp) with the in-process
// simulated reader: the page loads, lists the reader, shows the cardholder when a card goes in,
// the QR verdict when the scanner reads a code, an error when the card is pulled mid-read; it never
// shows a patient who is not in the reader (removal, reader unplugged, daemon stopped, idle limit),
// resets the QR verdict, speaks Chinese for every error, labels a partial read, fits 1024×768; and
// keeps screenshots in test-artifacts/ (CI keeps them as artifacts).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { defaultConfig, type DeskConfig } from '../../daemon/config/config-schema.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: front-desk e2e needs Chromium at ${CHROMIUM} (apt-get install chromium)`);

interface Desk {
  sim: Simulator;
  app: YikaApp;
  url: string;
  context: BrowserContext;
  page: Page;
  userDataDir: string;
  consoleErrors: string[];
  foreignRequests: string[];
  /** Path and query of every request the page made to the daemon, in order; 'websocket' for each socket it opened. */
  requests: string[];
  /** The daemon's event position when the page was opened. */
  eventsAtLoad: number;
}

/** The daemon with the in-process simulator (no card in), and the page open in a fresh Chromium. */
async function openDesk(desk?: Partial<DeskConfig>): Promise<Desk> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const sim = createSimulator({ seed: 7 });
  sim.removeCard(0x01); // the desk starts empty; the test inserts the card
  const config = defaultConfig();
  config.listen = { host: '127.0.0.1', port: 0 };
  config.sim.enabled = true;
  config.devices.pcsc = false;
  config.devices.serialDiscovery = false;
  config.qr.demo = true; // TEST-ONLY demo trust anchor, as with --sim
  config.api = { rateLimit: false };
  config.log.level = 'silent';
  config.desk = { ...config.desk, ...desk };
  const app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  const url = await app.listen();

  const userDataDir = mkdtempSync(join(tmpdir(), 'yika-chromium-'));
  // A fresh profile in a temp dir: no state from earlier runs (language choice, caches).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
    locale: 'zh-CN',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  const requests: string[] = [];
  page.on('websocket', () => requests.push('websocket'));
  // API refusals the page handles (e.g. the read that the pulled card broke) are logged by
  // Chromium as "Failed to load resource"; anything else is a real page error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(url) && !u.startsWith(url.replace('http:', 'ws:')) && !u.startsWith('data:')) foreignRequests.push(u);
    else if (u.startsWith(url)) requests.push(u.slice(url.length));
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const eventsAtLoad = app.events.position;
  await page.goto(url);
  await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 15_000 });
  return { sim, app, url, context, page, userDataDir, consoleErrors, foreignRequests, requests, eventsAtLoad };
}

async function closeDesk(d: Desk | undefined): Promise<void> {
  if (!d) return;
  await d.context.close().catch(() => undefined);
  await d.app.close().catch(() => undefined);
  await d.sim.close().catch(() => undefined);
  rmSync(d.userDataDir, { recursive: true, force: true });
}

/**
 * How many times the page asked for /v1/readers from request number `from` on, counted once a marker
 * request made after everything else shows up (request events arrive in the order they were made),
 * and how many events the daemon published meanwhile (each may ask for the list again).
 */
async function readersFetched(d: Desk, from: number, eventsBefore: number): Promise<{ fetched: number; events: number }> {
  const marker = `/favicon.svg?marker=${from}`;
  await d.page.evaluate((m) => fetch(m).then((r) => r.text()), marker);
  await until('the marker request', () => d.requests.includes(marker), 15_000);
  const window = d.requests.slice(from, d.requests.indexOf(marker));
  return { fetched: window.filter((r) => r === '/v1/readers').length, events: d.app.events.position - eventsBefore };
}

function holderName(sim: Simulator): string {
  return String((sim.profile.items as Record<number, string | null>)[11]);
}

/** Upper-case codes (CARD_MUTE, NO_SAM …) that must not appear in the Chinese page's text. */
const ENGLISH_CODE = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/;

describe.skipIf(!hasChromium)('front-desk page in Chromium', () => {
  let sim: Simulator;
  let app: YikaApp;
  let url: string;
  let page: Page;
  let desk: Desk | undefined;
  let consoleErrors: string[] = [];
  let foreignRequests: string[] = [];

  beforeAll(async () => {
    desk = await openDesk();
    ({ sim, app, url, page, consoleErrors, foreignRequests } = desk);
  }, 120_000);

  afterAll(async () => {
    await closeDesk(desk);
  }, 60_000);

  it('loads and lists the simulated reader with no card', async () => {
    expect(url).toMatch(/^http:/);
    const reader = page.locator('[data-testid=reader]');
    await reader.first().waitFor({ timeout: 15_000 });
    const readers = await app.server.inject('/v1/readers');
    const sole = readers.json().readers[0];
    expect(await reader.first().getAttribute('data-reader-id')).toBe(sole.id);
    expect(await reader.first().textContent()).toContain(sole.name);
    expect(await page.isHidden('[data-testid=no-readers]')).toBe(true);
    expect(await page.textContent('[data-testid=card-status]')).toContain('请插入健康卡');
    // The list is asked for once, after the event stream said hello (no event can fall in between).
    const { fetched, events } = await readersFetched(desk!, 0, desk!.eventsAtLoad);
    if (events === 0) expect(fetched).toBe(1);
    else expect(fetched).toBeLessThanOrEqual(1 + events);
  });

  it('asks for the readers list once when the event stream reconnects', async () => {
    const from = desk!.requests.length;
    const eventsBefore = app.events.position;
    // The daemon drops the page's socket (as a proxy or a network blip would); the page resumes.
    for (const client of app.server.websocketServer.clients) client.terminate();
    await until('the page opened a new socket', () => desk!.requests.indexOf('websocket', from) >= 0, 15_000);
    await expect.poll(() => page.getAttribute('[data-testid=connection]', 'data-state'), { timeout: 15_000 }).toBe('live');
    const { fetched, events } = await readersFetched(desk!, from, eventsBefore);
    if (events === 0) expect(fetched).toBe(1);
    else expect(fetched).toBeLessThanOrEqual(1 + events);
    expect(fetched).toBeGreaterThanOrEqual(1);
  });

  it('shows the cardholder when the simulator inserts a card, with the ID masked until revealed', async () => {
    const items = sim.profile.items as Record<number, string | null>;
    const name = String(items[11]);
    const id = String(items[15]);
    sim.insertCard(0x01, sim.profile);
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 15_000 });
    const shownId = await page.textContent('[data-testid=holder-id]');
    expect(await page.isHidden('[data-testid=holder-card]')).toBe(true); // the ID row is enough
    expect(shownId).not.toContain(id);
    expect(shownId).toBe(`${id.slice(0, 6)}********${id.slice(-4)}`);
    expect(await page.textContent('[data-testid=holder-birth]')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await page.textContent('[data-testid=holder-sex]')).toMatch(/^(男|女|未知|未说明)$/);
    if (sim.profile.photo) {
      expect(await page.getAttribute('[data-testid=holder-photo]', 'src')).toMatch(/^data:image\/(jpeg|png);base64,/);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-card.png'), fullPage: true });
    await page.click('[data-testid=reveal]');
    expect(await page.textContent('[data-testid=holder-id]')).toBe(id);
    await page.click('[data-testid=reveal]');
    expect(await page.textContent('[data-testid=holder-id]')).not.toContain(id);
  });

  it('clears the cardholder when the card is removed', async () => {
    const name = String((sim.profile.items as Record<number, string | null>)[11]);
    sim.removeCard(0x01);
    await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-state'), { timeout: 15_000 }).toBe('removed');
    expect(await page.content()).not.toContain(name);
  });

  it('shows an error when the card is pulled mid-read', async () => {
    await sim.injectFault({ fault: 'remove-card', slot: 0x01, when: 'during', apdu: 3 });
    sim.insertCard(0x01, sim.profile);
    await page.locator('[data-testid=card-error]').waitFor({ state: 'visible', timeout: 15_000 });
    // The daemon's typed error for a card that left during the read, not some other failure.
    expect(await page.getAttribute('[data-testid=card-error]', 'data-code')).toMatch(/^(CARD_REMOVED|CARD_CHANGED|NO_CARD)$/);
    expect(await page.textContent('#card-error-text')).toMatch(/[\u4e00-\u9fff]{5,}/);
    expect(await page.textContent('[data-testid=card-panel]')).not.toMatch(ENGLISH_CODE);
    expect(await page.isHidden('[data-testid=holder]')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-card-pulled.png'), fullPage: true });
    await sim.injectFault({ fault: 'clear' });
  });

  it('shows the QR verdict when the simulator scans a code', async (ctx) => {
    const hasQr = (await app.server.inject('/v1/openapi.json')).json().paths['/v1/qr/verify'];
    if (!hasQr) {
      console.warn('SKIPPED: the daemon has no QR routes yet (daemon/app.ts does not wire the QR service)');
      ctx.skip();
    }
    const { issueDemoCode } = await import('../../qr/demo-trust.ts');
    await sim.scan(issueDemoCode({ type: 'dynamic' }).text);
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('valid');
    expect(await page.textContent('[data-testid=qr-verdict]')).toBe('有效');
    expect(await page.textContent('#qr-extra')).toMatch(/信任列表更新于/);
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-qr-valid.png'), fullPage: true });

    await sim.scan('EHC1:' + '1'.repeat(40)); // not a valid body
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('invalid');
    expect(await page.textContent('[data-testid=qr-verdict]')).toBe('无效');
    expect(await page.getAttribute('[data-testid=qr-result]', 'data-code')).toMatch(/^[A-Z_]+$/);

    // A static code: valid, but the page asks for the desk's second check (QR.md §14).
    await sim.scan(issueDemoCode({ type: 'static' }).text);
    await expect.poll(() => page.textContent('[data-testid=qr-verdict]'), { timeout: 15_000 }).toBe('有效（静态码，需核验）');
    expect(await page.textContent('[data-testid=qr-static-check]')).toMatch(/身份证/);

    // A payment code on the same phone screen: its kind and what to do, masked (QR.md §13).
    const { sampleScanText } = await import('../../firmware-sim/qr-scanner/sample-codes.ts');
    const pay = sampleScanText('wechat');
    await sim.scan(pay);
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-kind'), { timeout: 15_000 }).toBe('payment');
    const reason = (await page.textContent('[data-testid=qr-reason]')) ?? '';
    expect(reason).toMatch(/^微信付款码 1\d\*+\d\d：仅用于收费/);
    expect(await page.content()).not.toContain(pay);
  });

  it('takes a keyboard-wedge scan typed while nothing is focused', async () => {
    const { issueDemoCode } = await import('../../qr/demo-trust.ts');
    await page.click('[data-testid=events-panel] h2'); // focus away from the scanner field
    await page.keyboard.type('EHC1:' + '2'.repeat(30)); // a damaged scan: typed like a wedge scanner
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-code'), { timeout: 15_000 }).toMatch(/^(BAD_ENCODING|TOO_SHORT|BAD_PAYLOAD)$/);
    await page.click('[data-testid=events-panel] h2');
    await page.keyboard.type(issueDemoCode({ type: 'dynamic' }).text.toLowerCase()); // wedge scanners may flip case
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('valid');
  });

  it('resets the QR verdict when the next card goes in', async () => {
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('valid');
    sim.insertCard(0x01, sim.profile);
    await page.locator('[data-testid=holder-name]').filter({ hasText: holderName(sim) }).waitFor({ timeout: 15_000 });
    // The verdict of the previous code must not stand next to this cardholder.
    expect(await page.getAttribute('[data-testid=qr-result]', 'data-state')).toBe('none');
    expect(await page.textContent('[data-testid=qr-verdict]')).toBe('等待扫码');
  });

  it('names SAM slots SAM1 …, and the footer follows the events in Chinese', async () => {
    const readerText = (await page.textContent('[data-testid=readers]')) ?? '';
    expect(readerText).toContain('SAM1');
    expect(readerText).not.toMatch(/卡槽\s*\d/);
    const events = (await page.locator('[data-testid=events] li').allTextContents()).join('\n');
    expect(events).not.toMatch(/卡槽\s*\d+/);
    await expect.poll(() => page.textContent('[data-testid=health]'), { timeout: 15_000 }).toMatch(/^服务 /);
    const footer = (await page.textContent('[data-testid=health]')) ?? '';
    expect(footer).not.toMatch(ENGLISH_CODE);
    expect(footer).not.toMatch(/qr\.trust|reader\.|TEST-ONLY/); // no English component names or reasons
  });

  it('keeps both panels whole at 1024×768 with a cardholder shown', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      await page.locator('[data-testid=holder-name]').filter({ hasText: holderName(sim) }).waitFor({ timeout: 15_000 });
      for (const panel of ['card-panel', 'qr-panel']) {
        const box = await page.locator(`[data-testid=${panel}]`).boundingBox();
        expect(box, panel).not.toBeNull();
        expect(box!.x, panel).toBeGreaterThanOrEqual(0);
        expect(box!.y, panel).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, panel).toBeLessThanOrEqual(1024);
        expect(box!.y + box!.height, panel).toBeLessThanOrEqual(768);
      }
      // Side by side, not stacked.
      const card = (await page.locator('[data-testid=card-panel]').boundingBox())!;
      const qr = (await page.locator('[data-testid=qr-panel]').boundingBox())!;
      expect(qr.x).toBeGreaterThanOrEqual(card.x + card.width - 1);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);
      await page.screenshot({ path: join(ARTIFACTS, 'front-desk-1024x768.png') });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('clears the cardholder when the reader is unplugged, and reads the card again when it is back', async () => {
    const name = holderName(sim);
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 15_000 });
    await sim.injectFault({ fault: 'unplug' });
    await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-reason'), { timeout: 15_000 }).toBe('offline');
    expect(await page.isHidden('[data-testid=holder]')).toBe(true);
    expect(await page.content()).not.toContain(name);
    expect(await page.textContent('[data-testid=card-status]')).toBe('读卡器离线，已清除持卡人信息');
    // The footer says so too, at once (no 30 s poll), in Chinese; the header still says connected.
    await expect.poll(() => page.textContent('[data-testid=health]'), { timeout: 15_000 }).toMatch(/读卡器 .* 离线/);
    expect(await page.getAttribute('[data-testid=connection]', 'data-state')).toBe('live');
    expect(await page.textContent('[data-testid=health]')).not.toMatch(ENGLISH_CODE);
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-reader-offline.png'), fullPage: true });
    await sim.injectFault({ fault: 'replug' });
    // Back with the card still in: read again.
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 20_000 });
  });

  it('labels a partial read as partial and never shows the card number as the ID number', async () => {
    sim.removeCard(0x01);
    await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-state'), { timeout: 15_000 }).toBe('removed');
    await sim.injectFault({ fault: 'sam-missing' }); // the cardholder files need the SAM; the card file does not
    try {
      sim.insertCard(0x01, sim.profile);
      await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-state'), { timeout: 15_000 }).toBe('partial');
      const status = await page.textContent('[data-testid=card-status]');
      expect(status).toContain('部分读取');
      expect(status).not.toContain('读卡完成');
      const items = sim.profile.items as Record<number, string | null>;
      const cardNumber = String(items[8]);
      // Under 卡号 (masked like an ID: on many cards it is the ID number), never under 身份证号.
      expect(await page.textContent('[data-testid=holder-card]')).toBe(`${cardNumber.slice(0, 6)}${'*'.repeat(cardNumber.length - 10)}${cardNumber.slice(-4)}`);
      await page.click('[data-testid=reveal-card]');
      expect(await page.textContent('[data-testid=holder-card]')).toBe(cardNumber);
      await page.click('[data-testid=reveal-card]');
      expect(await page.isHidden('[data-testid=holder-id]')).toBe(true);
      expect(await page.textContent('[data-testid=holder-id]')).not.toContain(cardNumber.slice(-4));
      expect(await page.getAttribute('[data-testid=card-error]', 'data-code')).toBe('NO_SAM');
      expect(await page.textContent('#card-error-text')).toBe('需要 SAM 卡授权，但没有可用的 SAM 卡。');
      expect(await page.textContent('[data-testid=card-panel]')).not.toMatch(ENGLISH_CODE);
      await page.screenshot({ path: join(ARTIFACTS, 'front-desk-partial.png'), fullPage: true });
    } finally {
      sim.insertCard(0x11, { kind: 'sam' });
    }
  });

  it('shows card errors in Chinese from the error catalogue (messageZh), the code only as data', async () => {
    const catalogue = (await app.server.inject('/v1/errors')).json() as { errors: Array<{ code: string; messageZh: string }> };
    const zh = catalogue.errors.find((e) => e.code === 'NOT_A_HEALTH_CARD')?.messageZh;
    expect(zh).toMatch(/居民健康卡/);
    sim.removeCard(0x01);
    await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-state'), { timeout: 15_000 }).toBe('removed');
    sim.insertCard(0x01, { kind: 'transit' });
    await expect.poll(() => page.getAttribute('[data-testid=card-error]', 'data-code'), { timeout: 15_000 }).toBe('NOT_A_HEALTH_CARD');
    expect(await page.textContent('#card-error-text')).toBe(zh);
    expect(await page.textContent('[data-testid=card-panel]')).not.toMatch(ENGLISH_CODE);
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-error-zh.png'), fullPage: true });
    // The English page shows the English message and the code.
    await page.click('[data-testid=lang-toggle]');
    expect(await page.textContent('#card-error-code')).toBe('NOT_A_HEALTH_CARD');
    await page.click('[data-testid=lang-toggle]');
    expect(await page.textContent('#card-error-code')).toBe('');
  });

  it('switches to English and lists the last events', async () => {
    await page.click('[data-testid=lang-toggle]');
    expect(await page.textContent('[data-testid=card-panel] h2')).toBe('Resident Health Card');
    const events = await page.locator('[data-testid=events] li').allTextContents();
    expect(events.some((e) => e.includes('Card inserted'))).toBe(true);
    expect(events.some((e) => e.includes('Card removed'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk.png'), fullPage: true });
    await page.click('[data-testid=lang-toggle]');
  });

  it('reports no browser errors and loads nothing from outside', async () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it('clears the cardholder and the QR verdict, with a banner, when the daemon stops', async () => {
    sim.removeCard(0x01); // the transit card of the test before
    await page.locator('[data-testid=card-status]', { hasText: '卡已拔出' }).waitFor({ timeout: 15_000 });
    sim.insertCard(0x01, sim.profile);
    const name = holderName(sim);
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 15_000 });
    const { issueDemoCode } = await import('../../qr/demo-trust.ts');
    await sim.scan(issueDemoCode({ type: 'dynamic' }).text);
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('valid');
    await app.close();
    await page.locator('[data-testid=banner]').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.getAttribute('[data-testid=card-status]', 'data-reason')).toBe('disconnected');
    expect(await page.isHidden('[data-testid=holder]')).toBe(true);
    expect(await page.content()).not.toContain(name);
    expect(await page.getAttribute('[data-testid=qr-result]', 'data-state')).toBe('none');
    expect(await page.getAttribute('[data-testid=connection]', 'data-state')).toBe('down');
    expect(await page.textContent('[data-testid=health]')).toBe('服务连接中断');
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-daemon-stopped.png'), fullPage: true });
  });
});

describe.skipIf(!hasChromium)('front-desk page timers in Chromium (desk config)', () => {
  let d: Desk | undefined;
  beforeAll(async () => {
    d = await openDesk({ idleClearSeconds: 5, qrResultSeconds: 2 });
  }, 120_000);
  afterAll(async () => {
    await closeDesk(d);
  }, 60_000);

  it('hands the desk config to the page', async () => {
    const meta = await d!.page.getAttribute('meta[name=yika-desk]', 'content');
    expect(JSON.parse(meta!)).toEqual({ idleClearSeconds: 5, qrResultSeconds: 2, offlineGraceSeconds: 3 });
  });

  it('hides the cardholder after the idle limit though the card stays in, and shows it again on request', async () => {
    const { sim, page } = d!;
    const name = holderName(sim);
    sim.insertCard(0x01, sim.profile);
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getAttribute('[data-testid=card-status]', 'data-reason'), { timeout: 20_000 }).toBe('idle');
    expect(await page.content()).not.toContain(name);
    expect(await page.textContent('[data-testid=card-status]')).toBe('长时间无操作，已隐藏持卡人信息');
    await page.screenshot({ path: join(ARTIFACTS, 'front-desk-idle.png'), fullPage: true });
    await page.click('[data-testid=reread]');
    await page.locator('[data-testid=holder-name]').filter({ hasText: name }).waitFor({ timeout: 15_000 });
  });

  it('resets the QR verdict after qrResultSeconds', async () => {
    const { sim, page } = d!;
    const { issueDemoCode } = await import('../../qr/demo-trust.ts');
    await sim.scan(issueDemoCode({ type: 'dynamic' }).text);
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('valid');
    await expect.poll(() => page.getAttribute('[data-testid=qr-result]', 'data-state'), { timeout: 15_000 }).toBe('none');
    expect(await page.textContent('[data-testid=qr-verdict]')).toBe('等待扫码');
  });

  it('says nothing about readers until the list has come (no "no reader found" before the first answer)', async () => {
    const { page } = d!;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked = 0;
    await page.route('**/v1/readers', async (route) => {
      asked++;
      await held;
      await route.continue();
    });
    try {
      await page.reload();
      await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 15_000 });
      await until('the page asked for the readers list', () => asked > 0, 15_000);
      // The list is held back: the page is live and has rendered, but knows of no reader yet.
      expect(await page.isHidden('[data-testid=no-readers]')).toBe(true);
      release();
      await page.locator('[data-testid=reader]').first().waitFor({ timeout: 15_000 });
      expect(await page.isHidden('[data-testid=no-readers]')).toBe(true);
    } finally {
      release();
      await page.unroute('**/v1/readers');
    }
  });

  it('reports no browser errors', () => {
    expect(d!.consoleErrors).toEqual([]);
    expect(d!.foreignRequests).toEqual([]);
  });
});
