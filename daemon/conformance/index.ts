// The conformance suite as a library: run it against any device over a ByteLink.
export { runConformance } from './run-conformance.ts';
export { formatReportTable } from './conformance-report.ts';
