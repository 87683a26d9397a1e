// The reader's QR scanner: each scan becomes a qr.scanned event. It behaves like the scanners at
// front desks: a keyboard-wedge scanner ends each code with CR, LF or CR LF, and a scanner held over a
// code may "bounce" (decode the same code again within tens of milliseconds). The host must cope.
import type { DeviceEvent } from '../../protocol/operations.ts';
import { SimError } from '../control/sim-errors.ts';

export type ScanEnding = 'none' | 'cr' | 'lf' | 'crlf';

export interface ScanOptions {
  /** Line ending appended like a keyboard-wedge scanner (default: the scanner's configured ending). */
  ending?: ScanEnding;
  /** Extra identical scans (a bounce) after the first one. Default 0. */
  bounce?: number;
  /** Real milliseconds between bounced scans. Default 30. */
  bounceIntervalMs?: number;
}

/** A scanner's buffer: longer payloads are refused (EHC1 codes are a few hundred characters). */
export const MAX_SCAN_LENGTH = 4096;

const ENDINGS: Record<ScanEnding, string> = { none: '', cr: '\r', lf: '\n', crlf: '\r\n' };

export class QrScanner {
  #emit: (event: DeviceEvent) => void;
  #ending: ScanEnding;
  #scans = 0;
  #timers = new Set<NodeJS.Timeout>();

  constructor(emit: (event: DeviceEvent) => void, options: { ending?: ScanEnding } = {}) {
    this.#emit = emit;
    this.#ending = options.ending ?? 'none';
  }

  get scans(): number {
    return this.#scans;
  }

  /** Emits the scan now (and its bounces later); resolves once every bounce has been emitted. */
  scan(text: string, options: ScanOptions = {}): Promise<void> {
    if (typeof text !== 'string' || text.length === 0) throw new SimError('SIM_BAD_COMMAND', 'a scan needs non-empty text');
    if (text.length > MAX_SCAN_LENGTH) throw new SimError('SIM_BAD_COMMAND', `a scan is at most ${MAX_SCAN_LENGTH} characters`);
    const ending = options.ending ?? this.#ending;
    if (!(ending in ENDINGS)) throw new SimError('SIM_BAD_COMMAND', 'ending must be none, cr, lf or crlf');
    const bounce = options.bounce ?? 0;
    if (!Number.isInteger(bounce) || bounce < 0 || bounce > 20) throw new SimError('SIM_BAD_COMMAND', 'bounce must be an integer from 0 to 20');
    const interval = options.bounceIntervalMs ?? 30;
    if (!Number.isFinite(interval) || interval < 0 || interval > 10_000) throw new SimError('SIM_BAD_COMMAND', 'bounceIntervalMs must be 0..10000');
    const payload = text + ENDINGS[ending];
    const fire = (): void => {
      this.#scans++;
      this.#emit({ type: 'qr.scanned', text: payload });
    };
    fire();
    if (bounce === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = bounce;
      const next = (): void => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          fire();
          if (--left > 0) next();
          else resolve();
        }, interval);
        this.#timers.add(timer);
      };
      next();
    });
  }

  /** Cancels pending bounces (on close). */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
