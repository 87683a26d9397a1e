// GET /v1/events as Server-Sent Events, with curl -N as the client (what an old HIS or a shell script
// has): it receives card.inserted, resumes with ?after and with Last-Event-ID, and the same filters and
// security as the WebSocket apply. reveal=codes with the API token gives the scanned payment text to
// that subscriber only, live only.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { sampleScanText } from '../../firmware-sim/qr-scanner/sample-codes.ts';
import { until } from '../support/until.ts';

const TOKEN = 'sse-test-token-0123456789abcdef';
let app: YikaApp;
let sim: Simulator;
let url: string;

beforeAll(async () => {
  sim = createSimulator({ seed: 7 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), { YIKA_TOKEN: TOKEN });
  config.devices.timeouts = { hello: 1500, powerOn: 1500, setParams: 1500, transmit: 1500, transmitBatch: 1500 };
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

interface SseEvent {
  id?: number;
  event: string;
  data: any;
}

/** curl -N as a child process; parses its stdout as SSE frames. */
function curl(path: string, headers: string[] = []) {
  const args = ['-sS', '-N', '-H', 'Accept: text/event-stream', ...headers.flatMap((h) => ['-H', h]), url + path];
  const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const events = (): SseEvent[] =>
    out
      .split('\n\n')
      .slice(0, -1)
      .map((frame) => {
        const e: SseEvent = { event: 'message', data: undefined };
        for (const line of frame.split('\n')) {
          if (line.startsWith('id: ')) e.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
        }
        return e;
      })
      .filter((e) => e.data !== undefined);
  const stop = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))));
  return { events, stop, raw: () => out };
}

/** The yika CLI as a child process; resolves when it exits. */
function yika(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/cli/yika.ts', ...args], { env: { ...process.env, YIKA_URL: url, YIKA_TOKEN: '', YIKA_TOKEN_FILE: '/nonexistent/yika-api-token', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { out: () => stdout, err: () => stderr, exit, kill: () => child.kill('SIGKILL') };
}

describe('yika events and yika readers --watch', () => {
  it('readers --watch prints the table, then each card change, and stops after --count', async () => {
    const w = yika(['readers', '--watch', '--count', '2']);
    try {
      await until('table', () => /^ID\s+NAME/m.test(w.out()), 30_000);
      sim.removeCard(1);
      sim.insertCard(1, { kind: 'health', seed: 11 });
      expect(await w.exit).toBe(0);
      expect(w.out()).toMatch(/#\d+\s+card\.removed\s+sim-1 slot 1: card removed/);
      expect(w.out()).toMatch(/#\d+\s+card\.inserted\s+sim-1 slot 1: card inserted/);
    } finally {
      w.kill();
    }
  }, 60_000);

  it('events --json --after replays as JSON lines; --reveal needs a token; an unreachable daemon exits 3', async () => {
    const e = yika(['events', '--json', '--types', 'card.inserted', '--after', '0', '--count', '1']);
    expect(await e.exit).toBe(0);
    const first = JSON.parse(e.out().trim().split('\n')[0]);
    expect(first).toMatchObject({ type: 'card.inserted', readerId: 'sim-1' });
    const noToken = yika(['events', '--reveal']);
    expect(await noToken.exit).toBe(2);
    expect(noToken.err()).toMatch(/--reveal needs --token/);
    const down = yika(['events'], { YIKA_URL: 'http://127.0.0.1:9' });
    expect(await down.exit).toBe(3);
    expect(down.err().trim().split('\n')).toHaveLength(1);
    expect(down.err()).toMatch(/^yika: DAEMON_UNREACHABLE/);
  }, 60_000);
});

describe('GET /v1/events as Server-Sent Events (curl -N)', () => {
  it('receives card.inserted, then resumes with ?after and with Last-Event-ID', async () => {
    const c1 = curl('/v1/events?types=card.inserted,card.removed');
    await until('hello', () => c1.events().find((e) => e.event === 'stream.hello'));
    sim.removeCard(1);
    sim.insertCard(1, { kind: 'health', seed: 8 });
    const inserted = await until('card.inserted', () => c1.events().find((e) => e.event === 'card.inserted'));
    expect(inserted.data).toMatchObject({ type: 'card.inserted', readerId: 'sim-1', seq: inserted.id });
    expect(c1.raw()).toMatch(/^retry: \d+\n\n/);
    await c1.stop();

    // Disconnected: the card goes out and in again; a resume gets exactly those two events.
    sim.removeCard(1);
    sim.insertCard(1, { kind: 'health', seed: 9 });
    await until('re-inserted', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
    const c2 = curl(`/v1/events?types=card.inserted,card.removed&after=${inserted.id}`);
    const resumed = await until('resumed events', () => {
      const e = c2.events().filter((x) => x.event.startsWith('card.'));
      return e.length >= 2 && e;
    });
    expect(resumed.map((e) => e.event)).toEqual(['card.removed', 'card.inserted']);
    expect(c2.events()[0].data.resume).toEqual({ after: inserted.id, complete: true });
    await c2.stop();

    const c3 = curl('/v1/events?types=card.inserted', [`Last-Event-ID: ${inserted.id}`]);
    const viaHeader = await until('Last-Event-ID resume', () => c3.events().find((e) => e.event === 'card.inserted'));
    expect(viaHeader.id).toBe(resumed[1].id);
    await c3.stop();
  });

  it('applies the origin rule and refuses a plain GET and bad filters with typed errors', async () => {
    const evil = await fetch(`${url}/v1/events`, { headers: { accept: 'text/event-stream', origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.code).toBe('ORIGIN_NOT_ALLOWED');
    const plain = await fetch(`${url}/v1/events`);
    expect(plain.status).toBe(400);
    expect((await plain.json()).error.code).toBe('EVENTS_STREAM_REQUIRED');
    const bad = await fetch(`${url}/v1/events?types=nope`, { headers: { accept: 'text/event-stream' } });
    expect(bad.status).toBe(400);
  });

  it('reveal=codes: only a subscriber with the API token gets the payment text, and only live', async () => {
    const noToken = await fetch(`${url}/v1/events?reveal=codes`, { headers: { accept: 'text/event-stream' } });
    expect(noToken.status).toBe(401);
    const his = curl('/v1/events?types=qr.scanned&reveal=codes', [`Authorization: Bearer ${TOKEN}`]);
    const page = curl('/v1/events?types=qr.scanned');
    await until('both connected', () => his.events().length && page.events().length);
    const text = sampleScanText('wechat');
    await sim.scan(text, { ending: 'crlf' });
    const forHis = await until('his event', () => his.events().find((e) => e.event === 'qr.scanned'));
    const forPage = await until('page event', () => page.events().find((e) => e.event === 'qr.scanned'));
    expect(forHis.data.result).toMatchObject({ kind: 'payment', scheme: 'wechat', text });
    expect(forPage.data.result.text).toBeUndefined();
    expect(page.raw()).not.toContain(text);
    await his.stop();
    // A resume replays the event from the history: masked, without the text.
    const again = curl(`/v1/events?types=qr.scanned&reveal=codes&after=${forHis.id! - 1}`, [`Authorization: Bearer ${TOKEN}`]);
    const replayed = await until('replayed', () => again.events().find((e) => e.event === 'qr.scanned'));
    expect(replayed.data.result.text).toBeUndefined();
    expect(replayed.data.result.masked).toMatch(/^1\d\*+\d\d$/);
    await again.stop();
    await page.stop();
  });
});
