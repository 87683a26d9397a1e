// Renders RELIABILITY.md from the block results: headline totals, one table per section (runs,
// outcomes, wrong results, crashes, seed, time), the failures with their regression fixtures, known
// issues, and the soak samples.
import { cpus, totalmem } from 'node:os';
import { KNOWN_ISSUES, type BlockResult } from './kit/outcome.ts';
import type { SoakSample } from './load/load.ts';
import { renderAttackTable } from './security/attacks.ts';

const n = (x: number) => x.toLocaleString('en-US');

function outcomes(r: BlockResult): string {
  if (r.skipped) return `**SKIPPED**: ${r.skipped}`.replace(/\|/g, '\\|');
  return Object.entries(r.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${n(v)} ${k}`)
    .join('; ')
    .replace(/\|/g, '\\|');
}

export function renderReport(results: BlockResult[], meta: { command: string; mode: string; seed: number; startedAt: Date; seconds: number; soak?: SoakSample[] }): string {
  const total = (f: (r: BlockResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const known = total((r) => Object.values(r.known).reduce((a, b) => a + b, 0));
  const lines: string[] = [];
  lines.push('# Reliability report', '');
  lines.push('Rewritten by `npm run test:reliability` (test/reliability/run.ts). Do not edit by hand.', '');
  lines.push(`- Command: \`${meta.command}\` (${meta.mode}), base seed ${meta.seed}; started ${meta.startedAt.toISOString()}, ${Math.round(meta.seconds)} s`);
  lines.push(`- Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`);
  lines.push(`- Total: **${n(total((r) => r.runs))} runs, ${n(total((r) => r.wrong))} wrong results (${n(known)} from known issues), ${n(total((r) => r.crashes))} crashes**`);
  const skipped = results.filter((r) => r.skipped);
  if (skipped.length) lines.push(`- **Skipped (did not run here, not passed)**: ${skipped.map((r) => `${r.name} — ${r.skipped}`).join('; ')}`);
  lines.push('- Wrong result = accepted or returned something incorrect (a corrupted frame delivered, a mutated QR code accepted, a read with other data, a write applied but not reported). Crash = an untyped error, a 500, a hang or no recovery. Both must be 0.');
  lines.push('- Replay a block with its seed: `node --import tsx test/reliability/run.ts --only <block> --seed <seed>`; failing inputs are saved under `test/fixtures/fuzz/`.', '');
  for (const section of ['Fuzzing', 'Faults', 'Load', 'Security'] as const) {
    const rows = results.filter((r) => r.section === section);
    if (!rows.length) continue;
    lines.push(`## ${section}`, '');
    lines.push('| Block | Runs | Outcomes | Wrong | Crashes | Seed | Time |', '|---|---:|---|---:|---:|---:|---:|');
    for (const r of rows) lines.push(`| ${r.name} | ${n(r.runs)} | ${outcomes(r)} | ${r.wrong}${Object.keys(r.known).length ? ` (known: ${Object.entries(r.known).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''} | ${r.crashes} | ${r.seed} | ${(r.ms / 1000).toFixed(1)} s |`);
    lines.push('');
    const notes = rows.flatMap((r) => r.notes.map((x) => `- ${r.name}: ${x}`));
    if (notes.length) lines.push(...notes, '');
    if (section === 'Security') lines.push(...renderAttackTable(results), '');
  }
  const failures = results.flatMap((r) => r.failures.map((f) => `- ${r.name} (seed ${r.seed}): ${f}`));
  lines.push('## Failures found', '');
  lines.push(...(failures.length ? failures : ['None.']), '');
  const knownIds = [...new Set(results.flatMap((r) => Object.keys(r.known)))];
  if (knownIds.length) {
    lines.push('## Known issues (in code the suite does not own; reported to its owner)', '');
    for (const id of knownIds) lines.push(`- **${id}**: ${KNOWN_ISSUES[id as keyof typeof KNOWN_ISSUES] ?? ''}`);
    lines.push('');
  }
  if (meta.soak?.length) {
    lines.push('## Soak samples', '');
    lines.push('| t (s) | RSS (MiB) | heap (MiB) | event-loop delay p50 / p99 / max (ms) | reads so far |', '|---:|---:|---:|---|---:|');
    for (const s of meta.soak) lines.push(`| ${s.atS} | ${s.rssMiB.toFixed(0)} | ${s.heapMiB.toFixed(1)} | ${s.eldP50Ms.toFixed(1)} / ${s.eldP99Ms.toFixed(1)} / ${s.eldMaxMs.toFixed(1)} | ${n(s.reads)} |`);
    lines.push('');
  }
  return lines.join('\n');
}
