// Prints the one line CI reads: `vitest: N passed, N failed, N skipped`.
// Nothing that broke may read as green: a test file that fails to load counts as one failed test, and
// the tests of a suite whose beforeAll hook threw (vitest reports them as skipped) count as failed.
import type { Reporter, TestCase, TestModule, TestRunEndReason } from 'vitest/node';

/** True when a suite or module around the test has errors of its own (a hook threw). */
function underFailedParent(test: TestCase): boolean {
  for (let p: TestCase['parent'] | undefined = test.parent; p; p = p.type === 'suite' ? p.parent : undefined) {
    if (p.errors().length > 0) return true;
  }
  return false;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    _reason: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || underFailedParent(test)) failedHere++;
        else skipped++;
      }
      // A module that failed to import, threw at top level or in a top-level hook: at least one failure.
      if (failedHere === 0 && (mod.errors().length > 0 || mod.state() === 'failed')) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
