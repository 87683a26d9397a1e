// Markdown rendering of a benchmark section: value, anchor and ratio side by side.
import type { BenchSection } from './bench-kit.ts';

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 0.1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function formatSection(section: BenchSection): string {
  const out = [`## ${section.title}`, '', `Command: \`${section.command}\``, '', '| Measure | Value | Anchor (same run) | Ratio |', '|---|---:|---|---:|'];
  for (const r of section.rows) {
    const anchor = r.anchor ? `${r.anchor.name}: ${fmt(r.anchor.value)} ${r.unit}` : '—';
    const ratio = r.anchor && r.anchor.value ? `${(r.value / r.anchor.value).toFixed(2)}×` : '—';
    out.push(`| ${r.name}${r.note ? ` (${r.note})` : ''} | ${fmt(r.value)} ${r.unit} | ${anchor} | ${ratio} |`);
  }
  if (section.notes?.length) out.push('', ...section.notes.map((n) => `- ${n}`));
  return out.join('\n') + '\n';
}
