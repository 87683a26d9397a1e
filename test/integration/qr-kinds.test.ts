// Every kind of code a desk scanner reads, through the whole daemon: POST /v1/qr/verify answers the
// kind (and scheme) of a sample of each kind, the reader's scanner publishes qr.scanned events in
// scan order, and no payment, insurance or ID text appears anywhere the daemon writes: its log (at
// trace level), the event stream, the recent-scan results, the APDU trace, the metrics.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TEST_AUTH, testTokens } from '../support/api-token.ts';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { SAMPLE_KINDS, sampleScanText } from '../../firmware-sim/qr-scanner/sample-codes.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;
let log = '';

const SENSITIVE = ['insurance', 'wechat', 'alipay', 'unionpay', 'id-number'] as const;

beforeAll(async () => {
  sim = createSimulator({ seed: 7 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.api.tokens = testTokens(); // the unmasked trace needs a token
  config.devices.timeouts = { hello: 1500, powerOn: 1500, setParams: 1500, transmit: 1500, transmitBatch: 1500 };
  const sink = new Writable({ write: (chunk, _enc, cb) => ((log += chunk.toString()), cb()) });
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'trace', destination: sink }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

const verify = async (text: string) =>
  (await (await fetch(`${url}/v1/qr/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })).json()) as Record<string, unknown>;

describe('code kinds through the daemon', () => {
  it('POST /v1/qr/verify answers the kind of a sample of each kind', async () => {
    const got: Record<string, string> = {};
    for (const k of SAMPLE_KINDS) {
      const r = await verify(sampleScanText(k));
      got[k] = `${r.code} ${r.kind}${r.scheme ? '/' + r.scheme : ''}`;
    }
    expect(got).toEqual({
      ehc1: 'VALID ehc1',
      'ehc1-static': 'VALID ehc1',
      'ehc1-expired': 'EXPIRED ehc1',
      'ehc1-revoked': 'CARD_REVOKED ehc1',
      'ehc1-tampered': 'BAD_SIGNATURE ehc1',
      legacy: 'LEGACY_ONLINE_ONLY ehc-online',
      'legacy-dynamic': 'LEGACY_ONLINE_ONLY ehc-online',
      insurance: 'NOT_EHC1 insurance',
      wechat: 'NOT_EHC1 payment/wechat',
      alipay: 'NOT_EHC1 payment/alipay',
      unionpay: 'NOT_EHC1 payment/unionpay',
      'id-number': 'NOT_EHC1 id-number',
      garbage: 'NOT_EHC1 unknown',
    });
  });

  it('scanner events keep scan order, and no sensitive text leaks into logs, events, scans, traces or metrics', async () => {
    await fetch(`${url}/v1/readers/sim-1/trace`, { method: 'PUT', headers: { 'content-type': 'application/json', ...TEST_AUTH }, body: JSON.stringify({ enabled: true, maskData: false }) });
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events?types=qr.scanned`);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    // A cold EHC1 verification is slower than a NOT_EHC1 classification: the events must still come in scan order.
    const order = ['ehc1-tampered', 'ehc1-expired', 'wechat', 'ehc1', 'insurance', 'alipay', 'ehc1-static', 'unionpay', 'id-number', 'legacy', 'garbage'] as const;
    const texts = new Map<string, string>();
    for (const k of order) {
      const t = sampleScanText(k);
      texts.set(k, t);
      await sim.scan(t, { ending: 'crlf' });
    }
    const events = await until('all qr.scanned events', () => {
      const e = frames.map((f) => JSON.parse(f)).filter((m) => m.type === 'qr.scanned');
      return e.length >= order.length && e;
    });
    expect(events.map((e) => e.result.kind + (e.result.scheme ? '/' + e.result.scheme : ''))).toEqual([
      'ehc1', 'ehc1', 'payment/wechat', 'ehc1', 'insurance', 'payment/alipay', 'ehc1', 'payment/unionpay', 'id-number', 'ehc-online', 'unknown',
    ]);
    expect(events.map((e) => e.result.code).slice(0, 2)).toEqual(['BAD_SIGNATURE', 'EXPIRED']);
    const wechatEvent = events[2].result;
    expect(wechatEvent.masked).toMatch(/^1[0-5]\*{14}\d\d$/);
    const scans = await Promise.all(events.map(async (e) => (await fetch(`${url}/v1/qr/scans/${e.result.scanId}`)).text()));
    ws.close();
    const trace = await (await fetch(`${url}/v1/readers/sim-1/trace`, { headers: TEST_AUTH })).text();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const everything = [log, frames.join('\n'), scans.join('\n'), trace, metrics].join('\n');
    expect(log.length).toBeGreaterThan(1000); // the trace-level log really was captured
    for (const k of SENSITIVE) {
      const t = texts.get(k)!;
      expect(everything, `${k} text leaked`).not.toContain(t);
      expect(everything, `${k} text leaked`).not.toContain(t.slice(2, -2)); // not even the masked middle
    }
  });
});
