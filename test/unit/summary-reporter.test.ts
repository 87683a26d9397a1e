// The summary line is what CI reads: a failing hook or a module that cannot load must never read as green.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('../fixtures/summary-reporter/', import.meta.url));
const vitestBin = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

it('counts hook failures and load failures as failed, explicit skips as skipped', async () => {
  const result = await run(process.execPath, [vitestBin, 'run', '--config', 'vitest.config.ts'], { cwd: fixtures }).then(
    () => {
      throw new Error('vitest exited 0 on failing fixtures');
    },
    (e: { stdout: string; code: number }) => e,
  );
  expect(result.code).not.toBe(0);
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('vitest: '));
  expect(lines).toEqual(['vitest: 1 passed, 4 failed, 1 skipped']);
}, 60_000);
