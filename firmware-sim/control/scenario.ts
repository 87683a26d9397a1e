// Scenario files: a JSON or YAML document that is a list of steps, or `{ name?, steps: [...] }`.
// Each step is a SimCommand (see sim-commands.ts for the forms). Steps run in order; a failing step
// stops the scenario with its index in the error (unless `continueOnError`).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { normaliseStep, type SimCommand } from './sim-commands.ts';
import type { SimController } from './sim-controller.ts';
import { SimError } from './sim-errors.ts';

export interface Scenario {
  name?: string;
  steps: SimCommand[];
}

/** Parses scenario text (JSON is YAML, so one parser reads both). */
export function parseScenario(text: string): Scenario {
  let doc: unknown;
  try {
    doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text); // loaded only for a scenario file
  } catch (e) {
    throw new SimError('SIM_SCENARIO_INVALID', `the scenario is not valid JSON or YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const raw = Array.isArray(doc) ? { steps: doc } : (doc as { name?: unknown; steps?: unknown } | null);
  if (!raw || !Array.isArray(raw.steps)) throw new SimError('SIM_SCENARIO_INVALID', 'a scenario is a list of steps or an object with "steps"');
  if (raw.steps.length > 10_000) throw new SimError('SIM_SCENARIO_INVALID', 'a scenario has at most 10000 steps');
  const steps = raw.steps.map((s, i) => {
    try {
      return normaliseStep(s, i);
    } catch (e) {
      throw new SimError('SIM_SCENARIO_INVALID', (e as Error).message);
    }
  });
  return { ...(typeof raw.name === 'string' ? { name: raw.name } : {}), steps };
}

export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SimError('SIM_SCENARIO_INVALID', `cannot read the scenario file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { path });
  }
  return parseScenario(text);
}

/** One line of a scenario's log: what each step did (never a QR payload). */
export interface ScenarioLogEntry {
  step: number;
  cmd: SimCommand['cmd'];
  ok: boolean;
  ms: number;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface ScenarioOutcome {
  /** True when every step ran without error and every expect held. */
  ok: boolean;
  ran: number;
  errors: Array<{ step: number; code: string; message: string }>;
  log: ScenarioLogEntry[];
}

/**
 * Runs the steps in order. A failing step stops the scenario (its index in the error) unless
 * `continueOnError`; a failed `expect` always stops it — what follows assumed it held.
 */
export async function runScenario(
  controller: SimController,
  scenario: Scenario,
  options: { continueOnError?: boolean; onStep?: (index: number, step: SimCommand, result: unknown) => void; onLog?: (entry: ScenarioLogEntry) => void } = {},
): Promise<ScenarioOutcome> {
  const errors: ScenarioOutcome['errors'] = [];
  const log: ScenarioLogEntry[] = [];
  let ran = 0;
  for (const [i, step] of scenario.steps.entries()) {
    const started = performance.now();
    const done = (entry: Omit<ScenarioLogEntry, 'step' | 'cmd' | 'ms'>): ScenarioLogEntry => {
      const e: ScenarioLogEntry = { step: i + 1, cmd: step.cmd, ms: Math.round(performance.now() - started), ...entry };
      if (log.length < 10_000) log.push(e);
      options.onLog?.(e);
      return e;
    };
    try {
      const result = await controller.execute(step);
      done({ ok: true, ...(result !== undefined && step.cmd !== 'status' && step.cmd !== 'help' ? { result } : {}) });
      options.onStep?.(i, step, result);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const error = { code: err.code ?? 'INTERNAL', message: err.message ?? '' };
      done({ ok: false, error });
      ran++;
      const expectation = error.code === 'SIM_EXPECTATION_FAILED';
      if (!options.continueOnError && !expectation) throw new SimError('SIM_BAD_COMMAND', `scenario step ${i + 1} (${step.cmd}) failed: ${err.message}`, { step: i + 1, cause: error.code });
      errors.push({ step: i + 1, ...error });
      if (expectation) {
        if (!options.continueOnError) throw new SimError('SIM_EXPECTATION_FAILED', `scenario step ${i + 1} (expect) failed: ${err.message}`, { step: i + 1 });
        break;
      }
      continue;
    }
    ran++;
  }
  return { ok: errors.length === 0, ran, errors, log };
}
