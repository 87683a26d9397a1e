// One row of the reliability report: how many runs, what each ended in, and the two numbers that
// must stay 0 (a wrong result: accepted/returned something incorrect; a crash: an untyped error, a
// 500, a hang or a process-level failure).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isYikaError } from '../../../common/yika-error.ts';

export interface BlockResult {
  section: 'Fuzzing' | 'Faults' | 'Load' | 'Security';
  name: string;
  seed: number;
  runs: number;
  outcomes: Record<string, number>;
  wrong: number;
  crashes: number;
  /** Wrong results explained by a known issue (KNOWN_ISSUES), by issue id; included in `wrong`. */
  known: Record<string, number>;
  ms: number;
  /** First failures (no cardholder data): what went wrong and the fixture that replays it. */
  failures: string[];
  notes: string[];
  /** Set when the block could not run here (missing tool, no root …): why. Never a pass. */
  skipped?: string;
}

const FUZZ_FIXTURES = new URL('../../fixtures/fuzz/', import.meta.url).pathname;

export class Tally {
  readonly result: BlockResult;
  private readonly started = performance.now();

  constructor(section: BlockResult['section'], name: string, seed: number) {
    this.result = { section, name, seed, runs: 0, outcomes: {}, wrong: 0, crashes: 0, known: {}, ms: 0, failures: [], notes: [] };
  }

  count(outcome: string, n = 1): void {
    this.result.runs += n;
    this.result.outcomes[outcome] = (this.result.outcomes[outcome] ?? 0) + n;
  }

  /** A typed error counts as its code; anything else is a crash. */
  error(e: unknown, detail: () => string): void {
    if (isYikaError(e)) this.count(e.code);
    else this.crash(`${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)} — ${detail()}`);
  }

  wrong(what: string, input?: { name: string; data: Uint8Array | string }, knownIssue?: keyof typeof KNOWN_ISSUES): void {
    this.result.runs++;
    this.result.wrong++;
    if (knownIssue) this.result.known[knownIssue] = (this.result.known[knownIssue] ?? 0) + 1;
    this.fail(`WRONG${knownIssue ? ` [${knownIssue}]` : ''} ${what}`, input);
  }

  crash(what: string, input?: { name: string; data: Uint8Array | string }): void {
    this.result.runs++;
    this.result.crashes++;
    this.fail(`CRASH ${what}`, input);
  }

  /** The block cannot run here: reported as SKIPPED with the reason (not as a pass). */
  skip(reason: string): void {
    this.result.skipped = reason;
    this.note(`SKIPPED: ${reason}`);
  }

  note(text: string): void {
    this.result.notes.push(text);
  }

  private fail(what: string, input?: { name: string; data: Uint8Array | string }): void {
    if (this.result.failures.length >= 10) return;
    let line = what;
    if (input) line += ` (fixture ${saveFixture(this.result.name, this.result.seed, input.name, input.data)})`;
    this.result.failures.push(line);
  }

  done(): BlockResult {
    this.result.ms = Math.round(performance.now() - this.started);
    return this.result;
  }
}

/** Saves a failing input as a regression fixture; returns its path relative to the repository. */
function saveFixture(block: string, seed: number, name: string, data: Uint8Array | string): string {
  const dir = join(FUZZ_FIXTURES, block.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const file = `seed-${seed}-${name}.${typeof data === 'string' ? 'txt' : 'bin'}`;
  writeFileSync(join(dir, file), data);
  return `test/fixtures/fuzz/${dir.split('/fixtures/fuzz/')[1]}/${file}`;
}

/**
 * Failures the suite found in code it does not own, reported to its owner and still counted as wrong
 * results in RELIABILITY.md. The short form inside `npm test` tolerates these ids only.
 */
export const KNOWN_ISSUES: Readonly<Record<string, string>> = {
  // None open. K1 (write acknowledgement dropped after a card removal) was fixed: the reader channel
  // returns every response the card gave, and PARTIAL_WRITE reports written / uncertain / notWritten.
};

export interface BlockOptions {
  seed: number;
  /** Scales the run counts: 1 = the full suite. */
  scale: number;
}

export const scaled = (o: BlockOptions, n: number, min = 1): number => Math.max(min, Math.round(n * o.scale));
