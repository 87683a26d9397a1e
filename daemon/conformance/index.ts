// The conformance suite as a library: run it against any device over a ByteLink.
export { runConformance, type ConformanceOptions } from './run-conformance.ts';
export { formatReportTable, type ConformanceReport, type CheckResult, type CheckLevel, type CheckStatus } from './conformance-report.ts';
export { CHECKS, type ConformanceCheck } from './conformance-checks.ts';
export { LinkLease } from './link-lease.ts';
