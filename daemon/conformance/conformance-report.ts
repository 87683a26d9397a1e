// The result of a conformance run: one line per check, a verdict, and two renderings (a table for
// people, JSON for CI and vendor bug reports).

export type CheckLevel = 'must' | 'should';
/**
 * pass / fail: exercised. skip: does not apply (the device does not announce the feature).
 * unexercised: applies, but this run could not drive it (no card, no CA key, a card too fast …) —
 * never a pass (PROTOCOL.md 1.2 §12).
 */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'unexercised';

export interface CheckResult {
  id: string;
  title: string;
  level: CheckLevel;
  status: CheckStatus;
  /** What was observed (a measured time, the error code received, why it was skipped …). */
  detail?: string;
  ms: number;
}

export interface ConformanceReport {
  target: string;
  protocolVersion: number;
  startedAt: string;
  durationMs: number;
  device?: { vendor: string; model: string; serial: string; firmware: string; secureChannel: string; maxFrame: number };
  results: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** Ids of the checks that apply but were not exercised (MUST and SHOULD). */
  unexercised: string[];
  /** MUST checks not exercised: the run is CONFORMANT with them only when allowUnexercised was given. */
  unexercisedMust: number;
  allowUnexercised: boolean;
  /** Every MUST check passed or does not apply (SHOULD failures are reported but do not fail the run). */
  ok: boolean;
}

export function summarize(target: string, startedAt: Date, results: CheckResult[], device?: ConformanceReport['device'], allowUnexercised = false): ConformanceReport {
  const failedMust = results.filter((r) => r.status === 'fail' && r.level === 'must').length;
  const unexercised = results.filter((r) => r.status === 'unexercised');
  const unexercisedMust = unexercised.filter((r) => r.level === 'must').length;
  return {
    target,
    protocolVersion: 1,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(Date.now() - startedAt.getTime()),
    device,
    results,
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    skipped: results.filter((r) => r.status === 'skip').length,
    unexercised: unexercised.map((r) => r.id),
    unexercisedMust,
    allowUnexercised,
    ok: failedMust === 0 && (unexercisedMust === 0 || allowUnexercised),
  };
}

export function formatReportTable(report: ConformanceReport): string {
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'n/a', unexercised: 'UNEX' } as const;
  const idWidth = Math.max(5, ...report.results.map((r) => r.id.length));
  const lines: string[] = [];
  lines.push(`Yika reader protocol v${report.protocolVersion} conformance — ${report.target}`);
  if (report.device) {
    const d = report.device;
    lines.push(`Device: ${d.vendor} ${d.model}, serial ${d.serial}, firmware ${d.firmware}, maxFrame ${d.maxFrame}, secure channel ${d.secureChannel}`);
  }
  lines.push('');
  lines.push(`${'RESULT'.padEnd(6)}  ${'LEVEL'.padEnd(6)}  ${'CHECK'.padEnd(idWidth)}  ${'MS'.padStart(6)}  DETAIL`);
  for (const r of report.results) {
    const detail = r.detail ? `${r.title}: ${r.detail}` : r.title;
    lines.push(`${mark[r.status].padEnd(6)}  ${r.level.toUpperCase().padEnd(6)}  ${r.id.padEnd(idWidth)}  ${String(Math.round(r.ms)).padStart(6)}  ${detail}`);
  }
  lines.push('');
  const unex = report.unexercisedMust > 0 ? ` (${report.unexercisedMust} MUST check${report.unexercisedMust === 1 ? '' : 's'} not exercised: ${report.results.filter((r) => r.status === 'unexercised' && r.level === 'must').map((r) => r.id).join(', ')})` : '';
  const verdict = report.ok ? (unex ? `CONFORMANT${unex}, accepted with --allow-unexercised` : 'CONFORMANT (every MUST check passed)') : `NOT CONFORMANT${unex}`;
  lines.push(`${report.passed} passed, ${report.failed} failed, ${report.unexercised.length} not exercised, ${report.skipped} not applicable in ${(report.durationMs / 1000).toFixed(1)} s — ${verdict}`);
  return lines.join('\n');
}
