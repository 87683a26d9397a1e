// `npm run test:reliability [-- --quick] [-- --minutes N] [-- --only a,b] [-- --seed S]`: runs every block
// of the reliability suite in this one process and rewrites RELIABILITY.md. Exit code 1 when a block
// has a wrong result or a crash not explained by a known issue (see test/reliability/kit/outcome.ts).
import { writeFileSync } from 'node:fs';
import { numberOption, parseCliOptions, type CliOptionTable } from '../../common/cli-options.ts';
import { BLOCKS, unexplained } from './suite.ts';
import { concurrentLoad, type SoakSample } from './load/load.ts';
import { renderReport } from './report.ts';
import type { BlockResult } from './kit/outcome.ts';

const OPTIONS = {
  quick: { type: 'boolean' },
  minutes: { type: 'string' },
  only: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies CliOptionTable;

function parseRunArgs(argv: string[]) {
  const { values: v } = parseCliOptions(OPTIONS, argv);
  if (v.help) {
    console.log(`Usage: node --import tsx test/reliability/run.ts [--quick] [--minutes N] [--only ${BLOCKS.map((b) => b.id).join(',')}] [--seed S] [--out FILE]`);
    process.exit(0);
  }
  const a = { quick: v.quick === true, minutes: numberOption(v.minutes, '--minutes'), only: v.only?.split(','), seed: numberOption(v.seed, '--seed') ?? 20261122, out: v.out ?? new URL('../../RELIABILITY.md', import.meta.url).pathname };
  if (a.minutes !== undefined && !(a.minutes > 0)) throw new Error('--minutes needs a positive number');
  if (!Number.isInteger(a.seed) || a.seed < 1) throw new Error('--seed needs a positive integer');
  return a;
}

const args = parseRunArgs(process.argv.slice(2));
const scale = args.quick ? 0.1 : 1;
const startedAt = new Date();
const results: BlockResult[] = [];
// A crash of the process itself is a crash of the suite: report it rather than die silently.
process.on('unhandledRejection', (e) => {
  console.error('UNHANDLED REJECTION (counted as a crash):', e);
  process.exitCode = 1;
});
const blocks = BLOCKS.filter((b) => !args.only || args.only.includes(b.id) || b.id === 'log-scan');
for (const [i, block] of blocks.entries()) {
  const seed = args.seed + i;
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${block.id} (seed ${seed}) … `);
  let r: BlockResult;
  try {
    r = await block.run({ seed, scale });
  } catch (e) {
    r = { section: 'Faults', name: block.id, seed, runs: 1, outcomes: {}, wrong: 0, crashes: 1, known: {}, ms: 0, failures: [`CRASH the block itself threw: ${(e as Error).stack ?? e}`], notes: [] };
  }
  results.push(r);
  if (r.skipped) console.log(`SKIPPED: ${r.skipped}`);
  else console.log(`${r.runs} runs, ${r.wrong} wrong${Object.keys(r.known).length ? ' (known issues)' : ''}, ${r.crashes} crashes, ${(r.ms / 1000).toFixed(1)} s`);
  for (const f of r.failures.slice(0, 3)) console.log(`    ${f}`);
}
let soak: SoakSample[] | undefined;
if (args.minutes !== undefined) {
  soak = [];
  process.stdout.write(`soak for ${args.minutes} min … `);
  const r = await concurrentLoad({ seed: args.seed + 99, scale: 1, minutes: args.minutes, samples: soak });
  results.splice(results.length - 1, 0, r);
  console.log(`${r.runs} runs, ${r.wrong} wrong, ${r.crashes} crashes`);
}
const mode = [args.quick ? 'quick' : 'full', args.minutes ? `soak ${args.minutes} min` : '', args.only ? `only ${args.only.join(',')}` : ''].filter(Boolean).join(', ');
const command = `npm run test:reliability${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
writeFileSync(args.out, renderReport(results, { command, mode, seed: args.seed, startedAt, seconds: (Date.now() - startedAt.getTime()) / 1000, soak }) + '\n');
const bad = results.reduce((s, r) => s + unexplained(r), 0);
console.log(`reliability: ${results.reduce((s, r) => s + r.runs, 0)} runs, ${results.reduce((s, r) => s + r.wrong, 0)} wrong, ${results.reduce((s, r) => s + r.crashes, 0)} crashes; ${bad} unexplained → ${args.out}`);
process.exit(bad ? 1 : process.exitCode ?? 0);
