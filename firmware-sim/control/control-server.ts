// The control channel: a small HTTP server on the loopback interface, for tests and CI scripts.
//   GET  /status              reader slots, counters, modelled time
//   GET  /time                modelled physical time so far
//   POST /command             one SimCommand as JSON            → {ok, result} | {ok:false, error}
//   POST /line                command lines (text/plain)        → [{ok, …} per line]
//   POST /scenario            a scenario (JSON or YAML)         → {ok, ran, errors, log} when it ends
//   POST /scenario?detach=1   starts it                          → 202 {id, state: "running", poll}
//   GET  /scenario/:id        a detached run                     → {id, state, ok, ran, errors, log}
// Bad input answers 400 with a typed error; it never stops the simulator.
import { hexUpper } from '../../common/hex.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { checkCommand, parseCommandLine } from './sim-commands.ts';
import { randomBytes } from 'node:crypto';
import { parseScenario, runScenario, type ScenarioLogEntry, type ScenarioOutcome } from './scenario.ts';
import type { SimController } from './sim-controller.ts';
import { SimError } from './sim-errors.ts';

const MAX_BODY = 1 << 20;

export interface ControlServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new SimError('SIM_BAD_COMMAND', 'the request body exceeds 1 MiB'));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (v instanceof Uint8Array ? hexUpper(v) : v));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function errorBody(e: unknown): { ok: false; error: { code: string; message: string } } {
  const err = e as { code?: string; message?: string };
  return { ok: false, error: { code: err.code ?? 'INTERNAL', message: err.message ?? 'error' } };
}

/** A detached scenario run, polled with GET /scenario/:id. */
interface ScenarioRun {
  name?: string;
  state: 'running' | 'passed' | 'failed';
  log: ScenarioLogEntry[];
  outcome?: ScenarioOutcome;
  error?: { code: string; message: string };
}

type Answer = [status: number, body: unknown];

const UNKNOWN_ENDPOINT: Answer = [404, { ok: false, error: { code: 'SIM_BAD_COMMAND', message: 'unknown endpoint; see SIMULATOR.md' } }];

function scenarioRunAnswer(runs: Map<string, ScenarioRun>, id: string): Answer {
  const run = runs.get(id);
  if (!run) return [404, { ok: false, error: { code: 'SIM_BAD_COMMAND', message: 'no scenario run with this id (the last 32 are kept)' } }];
  const o = run.outcome;
  return [200, { id, name: run.name, state: run.state, ok: run.state === 'passed', ran: o?.ran ?? run.log.length, errors: o?.errors ?? [], log: run.log, ...(run.error ? { error: run.error } : {}) }];
}

async function commandAnswer(controller: SimController, body: string): Promise<Answer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [400, errorBody(new SimError('SIM_BAD_COMMAND', 'the body is not JSON'))];
  }
  const r = await controller.run(checkCommand(parsed));
  return [r.ok ? 200 : 409, r];
}

async function linesAnswer(controller: SimController, body: string): Promise<Answer> {
  const results = [];
  for (const line of body.split(/\r?\n/)) {
    let command;
    try {
      command = parseCommandLine(line);
    } catch (e) {
      results.push(errorBody(e));
      continue;
    }
    if (command) results.push(await controller.run(command));
  }
  return [results.every((r) => r.ok) ? 200 : 400, results];
}

async function scenarioAnswer(controller: SimController, runs: Map<string, ScenarioRun>, body: string, query: URLSearchParams): Promise<Answer> {
  const scenario = parseScenario(body);
  if (query.get('detach') === '1' || query.get('detach') === 'true') {
    const id = randomBytes(6).toString('hex');
    const run: ScenarioRun = { name: scenario.name, state: 'running', log: [] };
    runs.set(id, run);
    if (runs.size > 32) runs.delete(runs.keys().next().value as string);
    void runScenario(controller, scenario, { continueOnError: true, onLog: (e) => run.log.length < 10_000 && run.log.push(e) }).then(
      (outcome) => {
        run.outcome = outcome;
        run.state = outcome.ok ? 'passed' : 'failed';
      },
      (e: { code?: string; message?: string }) => {
        run.state = 'failed';
        run.error = { code: e.code ?? 'INTERNAL', message: e.message ?? 'error' };
      },
    );
    return [202, { id, state: 'running', poll: `/scenario/${id}` }];
  }
  const outcome = await runScenario(controller, scenario, { continueOnError: true });
  return [outcome.ok ? 200 : 409, outcome];
}

async function answer(controller: SimController, runs: Map<string, ScenarioRun>, req: IncomingMessage): Promise<Answer> {
  const [path, queryString = ''] = (req.url ?? '/').split('?');
  if (req.method === 'GET' && path.startsWith('/scenario/')) return scenarioRunAnswer(runs, path.slice('/scenario/'.length));
  if (req.method === 'GET' && path === '/status') return [200, { ok: true, result: await controller.execute({ cmd: 'status' }) }];
  if (req.method === 'GET' && path === '/time') return [200, { ok: true, result: await controller.execute({ cmd: 'time' }) }];
  if (req.method !== 'POST') return UNKNOWN_ENDPOINT;
  const body = await readBody(req);
  if (path === '/command') return commandAnswer(controller, body);
  if (path === '/line') return linesAnswer(controller, body);
  if (path === '/scenario') return scenarioAnswer(controller, runs, body, new URLSearchParams(queryString));
  return UNKNOWN_ENDPOINT;
}

export async function startControlServer(controller: SimController, options: { port?: number; host?: string } = {}): Promise<ControlServer> {
  const host = options.host ?? '127.0.0.1';
  /** Detached scenario runs (the last 32). */
  const runs = new Map<string, ScenarioRun>();
  const server: Server = createServer(async (req, res) => {
    try {
      send(res, ...(await answer(controller, runs, req)));
    } catch (e) {
      send(res, e instanceof SimError ? 400 : 500, errorBody(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new SimError('SIM_TRANSPORT_FAILED', `cannot listen for the control channel on ${host}:${options.port ?? 0}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
