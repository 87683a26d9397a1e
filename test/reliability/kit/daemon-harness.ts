// Builds the daemon the way its own integration tests do (createApp with an in-process simulator),
// logging into the suite's capture, and talks to it through fastify inject.
import { createApp, type YikaApp } from '../../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../../daemon/config/load-config.ts';
import type { YikaConfig } from '../../../daemon/config/config-schema.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../../firmware-sim/index.ts';
import type { HealthCardProfile } from '../../../firmware-sim/personalisation/profile.ts';
import { suiteLogs } from './log-capture.ts';
import { TEST_AUTH, testTokens } from '../../support/api-token.ts';
import { until } from '../../support/until.ts';

/** Not the simulator's default: the scan looks for this exact PIN in every log line. */
export const SUITE_SAM_PIN = '731946';

/** The items that identify a person (name, ID number, phones, contacts' names and phones). */
const PERSONAL_ITEMS: Record<number, string> = { 11: 'name', 15: 'ID number', 16: 'phone 1', 17: 'phone 2', 25: 'contact 1 name', 27: 'contact 1 phone', 28: 'contact 2 name', 30: 'contact 2 phone' };

export function watchProfile(profile: HealthCardProfile): void {
  for (const [n, label] of Object.entries(PERSONAL_ITEMS)) suiteLogs.watch(profile.items[Number(n)] ?? undefined, `cardholder ${label}`);
}
suiteLogs.watch(SUITE_SAM_PIN, 'SAM PIN');

export interface Harness {
  app: YikaApp;
  sim: Simulator;
  inject(method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** The shared until() polling every 10 ms (in-process daemon: the fault blocks wait thousands of times), 10 s by default. */
  until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startDaemon(options: { seed: number; sim?: SimulatorOptions; tune?: (c: YikaConfig) => void }): Promise<Harness> {
  const sim = createSimulator({ seed: options.seed, secure: 'supported', samPin: SUITE_SAM_PIN, ...options.sim });
  watchProfile(sim.profile);
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.sam.pin = SUITE_SAM_PIN;
  (config.api as { rateLimit?: unknown }).rateLimit = false;
  // A HIS with a token that may do everything (raw APDUs to the SAM included): these blocks test other things.
  config.api.tokens = testTokens();
  options.tune?.(config);
  const app = await createApp({ config, simulator: sim, logger: suiteLogs.logger() });
  await app.startDevices();
  await until('sim-1 ready', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present', 10_000, 10);
  return {
    app,
    sim,
    until: (what, fn, timeoutMs = 10_000) => until(what, fn, timeoutMs, 10),
    inject: (method, url, payload, headers) => injectJson(app, method, url, payload, { ...TEST_AUTH, ...headers }),
    async close() {
      await app.close();
      await sim.close();
    },
  };
}

export type Reply = { status: number; body: any; text: string };

/** One request through fastify inject; a JSON payload is serialised, a JSON answer parsed (else body undefined). */
export async function injectJson(app: YikaApp, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await app.server.inject({
    method: method as 'GET',
    url,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    payload: payload === undefined ? undefined : typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
  });
  let body: any;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, text: res.body };
}

/** A typed API error: the one error shape of the API with an UPPER_SNAKE code. */
export function typedError(body: any): string | undefined {
  const code = body?.error?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) && typeof body.error.message === 'string' ? code : undefined;
}
