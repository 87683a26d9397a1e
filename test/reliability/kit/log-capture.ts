// Every daemon the suite starts logs through pino at debug level into this capture, and every line
// is scanned as it arrives for the synthetic cardholders' names, ID numbers and phones and the SAM
// PIN registered by the blocks (the scan must find none).
import type { DestinationStream, Logger } from 'pino';
import { createLogger } from '../../../daemon/logging/logger.ts';

export interface LogHit {
  label: string;
  line: number;
}

class LogCapture implements DestinationStream {
  lines = 0;
  bytes = 0;
  readonly hits: LogHit[] = [];
  /** The newest lines, for a failure report (bounded). */
  readonly recent: string[] = [];
  private readonly needles = new Map<string, { label: string; digits?: RegExp }>();

  /** A secret that must never appear in a log line; `label` says what it is (never the value). */
  watch(value: string | null | undefined, label: string): void {
    if (!value || value.length < (/^\d+$/.test(value) ? 4 : 2)) return;
    // A digits-only secret (PIN, ID number, phone) counts only as a whole number, not inside a timestamp.
    this.needles.set(value, { label, digits: /^\d+$/.test(value) ? new RegExp(`(?<!\\d)${value}(?!\\d)`) : undefined });
  }

  get watched(): number {
    return this.needles.size;
  }

  write(line: string): void {
    this.lines++;
    this.bytes += line.length;
    for (const [needle, { label, digits }] of this.needles) {
      if (line.includes(needle) && (!digits || digits.test(line))) this.hits.push({ label, line: this.lines });
    }
    this.recent.push(line);
    if (this.recent.length > 2000) this.recent.splice(0, 1000);
  }

  logger(level = 'debug'): Logger {
    return createLogger({ level, destination: this });
  }
}

export const suiteLogs = new LogCapture();
