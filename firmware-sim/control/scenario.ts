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

export async function runScenario(
  controller: SimController,
  scenario: Scenario,
  options: { continueOnError?: boolean; onStep?: (index: number, step: SimCommand, result: unknown) => void } = {},
): Promise<{ ran: number; errors: Array<{ step: number; code: string; message: string }> }> {
  const errors: Array<{ step: number; code: string; message: string }> = [];
  let ran = 0;
  for (const [i, step] of scenario.steps.entries()) {
    try {
      const result = await controller.execute(step);
      options.onStep?.(i, step, result);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (!options.continueOnError) throw new SimError('SIM_BAD_COMMAND', `scenario step ${i + 1} (${step.cmd}) failed: ${err.message}`, { step: i + 1, cause: err.code ?? 'INTERNAL' });
      errors.push({ step: i + 1, code: err.code ?? 'INTERNAL', message: err.message ?? '' });
    }
    ran++;
  }
  return { ran, errors };
}
