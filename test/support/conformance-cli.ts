// `yika conformance --json` as a vendor runs it: the CLI in its own process (real serialport), its
// report parsed. Used by the end-to-end runs against yika-sim and the C yika-fw over a PTY.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConformanceReport } from '../../daemon/conformance/conformance-report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ConformanceCliRun {
  code: number | null;
  report: ConformanceReport;
  /** `id status: detail` of every check that did not pass (the assertion that names what went wrong). */
  notPassed: string[];
}

/**
 * Runs `yika conformance ARGS --json` and parses its report. Kills it after timeoutMs; a run without a
 * JSON report throws with the CLI's stderr and `peerOutput()` (what the device printed).
 */
export async function runConformanceCli(args: string[], timeoutMs: number, peerOutput: () => string = () => ''): Promise<ConformanceCliRun> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/cli/yika.ts', 'conformance', ...args, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`yika conformance timed out: ${err.slice(-1000)}`));
    }, timeoutMs);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, stdout: out, stderr: err });
    });
  });
  let report: ConformanceReport;
  try {
    report = JSON.parse(stdout) as ConformanceReport;
  } catch {
    throw new Error(`no JSON report (exit ${code}): ${stderr.slice(-1500)}\n${peerOutput().slice(-1000)}`);
  }
  const notPassed = report.results.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.status}: ${r.detail}`);
  return { code, report, notPassed };
}
