// `npm run bench`: runs every benchmark section one after the other (never in parallel, so they do
// not steal each other's cores) and rewrites BENCHMARKS.md with the machine, the commands, the
// medians and each figure's ratio to its anchor measured in the same run.
// `npm run bench -- crypto qr` runs only the named sections (and does not rewrite BENCHMARKS.md).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseCliOptions } from '../common/cli-options.ts';
import type { BenchSection } from './bench-kit.ts';
import { formatSection } from './report.ts';

const SECTIONS = ['crypto', 'qr', 'protocol', 'card', 'http', 'footprint'] as const;

function machine(): string[] {
  const cpus = os.cpus();
  let openssl = 'not found';
  try {
    openssl = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // the anchors that need the CLI say so in their own rows
  }
  return [
    `- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Node ${process.version} (bundled OpenSSL ${process.versions.openssl}); OpenSSL CLI: ${openssl}`,
  ];
}

/**
 * Each section runs in a fresh node process, so no section inherits another's heap, JIT state or
 * worker threads, and a section's figures match `npm run bench -- <section>`.
 * A section module may return several tables (card: the in-process read, then PC/SC).
 */
function runSectionInChild(name: string): BenchSection[] {
  const out = join(mkdtempSync(join(os.tmpdir(), 'yika-bench-')), 'section.json');
  const script = `const m = await import(${JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href)});` +
    `(await import('node:fs')).writeFileSync(${JSON.stringify(out)}, JSON.stringify([await m.run()].flat()));`;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sections = JSON.parse(readFileSync(out, 'utf8')) as BenchSection[];
  rmSync(dirname(out), { recursive: true, force: true });
  return sections;
}

async function main(): Promise<void> {
  const only = parseCliOptions({}, process.argv.slice(2), { positionals: true }).positionals;
  const chosen = only.length ? SECTIONS.filter((s) => only.includes(s)) : [...SECTIONS];
  const results: BenchSection[] = [];
  const missing: string[] = [];
  for (const name of chosen) {
    const file = new URL(`./${name}.ts`, import.meta.url);
    if (!existsSync(file)) {
      missing.push(name);
      continue;
    }
    process.stderr.write(`bench: ${name} …\n`);
    for (const section of runSectionInChild(name)) {
      results.push(section);
      process.stdout.write(formatSection(section) + '\n');
    }
  }
  if (only.length) return;
  const lines = [
    '# Benchmarks',
    '',
    'Rewritten by `npm run bench` (one section alone: `npm run bench -- <section>`). Every figure is the',
    'median of repeated runs and sits next to its anchor, measured in the same run on the same machine;',
    'only the ratios travel to other machines. Tests never assert timings; this file is where speed is shown.',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}:`,
    ...machine(),
    '',
    ...results.map((s) => formatSection(s)),
    ...(missing.length ? ['', `Sections not built yet: ${missing.join(', ')}.`] : []),
    '',
  ];
  writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), lines.join('\n'));
  process.stderr.write('bench: BENCHMARKS.md rewritten\n');
  process.exit(0);
}

await main();
