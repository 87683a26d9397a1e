// A per-reader APDU trace: readable and diffable lines in the style of GlobalPlatformPro
// (`A>>` command, `A<<` response), switchable at run time, bounded in memory.
// Secrets are always masked (PIN verify, authentication cryptograms, SAM encryption input/output,
// secure-messaging payloads); with maskData (the default) response data and write data are masked too,
// so that cardholder data never sits in the trace unless a technician asks for it.
import type { TransmitOptions } from '../../apdu/card-channel.ts';
import { hexUpper } from '../../common/hex.ts';

export interface TraceEntry {
  seq: number;
  at: string;
  slot: number;
  dir: 'command' | 'response';
  /** Hex with masked parts shown as `**` per byte (length stays visible). */
  hex: string;
  /** Milliseconds from command to response (responses only). */
  ms?: number;
  /** A short note: "batch 3/7", "error CARD_REMOVED". */
  note?: string;
}

export interface TraceSettings {
  enabled: boolean;
  maskData: boolean;
}

/** Upper-case hex of b[from, to), read in place (no copy of the bytes). */
const MASK = (n: number): string => '**'.repeat(Math.max(0, n));

/** Where the command data of a short or extended APDU starts and how long it is. */
function commandDataSpan(apdu: Uint8Array): { start: number; length: number } {
  if (apdu.length <= 5) return { start: apdu.length, length: 0 };
  if (apdu[4] !== 0) return { start: 5, length: Math.min(apdu[4], apdu.length - 5) };
  if (apdu.length >= 7) {
    const lc = (apdu[5] << 8) | apdu[6];
    return { start: 7, length: Math.min(lc, apdu.length - 7) };
  }
  return { start: apdu.length, length: 0 };
}

/** Commands whose data is a secret: VERIFY, CHANGE PIN, authentication, SAM crypto, secure messaging. */
export function isSecretCommand(apdu: Uint8Array): boolean {
  if (apdu.length < 4) return false;
  const cla = apdu[0];
  const ins = apdu[1];
  if (ins === 0x20 || ins === 0x24 || ins === 0x82 || ins === 0x88) return true;
  if (cla === 0x80 && (ins === 0x5e || ins === 0xfa || ins === 0xde)) return true;
  if ((cla & 0x0c) !== 0 && cla !== 0x80 && cla !== 0x84) return true; // CLA with secure messaging bits (04, 0C)
  return false;
}

const WRITE_INS = new Set([0xd6, 0xdc, 0xe2, 0xd2]);
/** Responses that carry no cardholder data. */
const PUBLIC_RESPONSE_INS = new Set([0xa4, 0x84]);

/** A stored entry: the wall-clock time stays a number until someone reads the trace. */
interface StoredEntry {
  seq: number;
  atMs: number;
  slot: number;
  dir: 'command' | 'response';
  hex: string;
  ms: number | undefined;
  note: string | undefined;
}

export class ApduTrace {
  /** A ring of at most `capacity` entries: the oldest is overwritten, nothing is shifted. */
  private readonly ring: StoredEntry[] = [];
  private head = 0;
  private seq = 0;
  settings: TraceSettings;
  /** Set after a secret command so that the following GET RESPONSE output is masked too. */
  private maskNextResponse = false;
  /** Entries were recorded with maskData off since the last clear (reading them needs trace.unmasked). */
  holdsUnmaskedData = false;

  constructor(
    settings: Partial<TraceSettings> = {},
    private readonly capacity = 5000,
  ) {
    this.settings = { enabled: settings.enabled ?? false, maskData: settings.maskData ?? true };
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  configure(update: Partial<TraceSettings>): TraceSettings {
    if (update.enabled !== undefined) this.settings.enabled = update.enabled;
    if (update.maskData !== undefined) this.settings.maskData = update.maskData;
    return { ...this.settings };
  }

  clear(): void {
    this.ring.length = 0;
    this.head = 0;
    this.holdsUnmaskedData = false;
  }

  list(): TraceEntry[] {
    return this.ordered().map((e) => ({
      seq: e.seq,
      at: new Date(e.atMs).toISOString(),
      slot: e.slot,
      dir: e.dir,
      hex: e.hex,
      ...(e.ms !== undefined ? { ms: e.ms } : {}),
      ...(e.note !== undefined ? { note: e.note } : {}),
    }));
  }

  /** Records a command; returns a function that records its response (or failure). */
  command(slot: number, apdu: Uint8Array, options?: TransmitOptions, note?: string): (response: Uint8Array | Error) => void {
    if (!this.settings.enabled) return () => {};
    if (!this.settings.maskData) this.holdsUnmaskedData = true;
    const start = performance.now();
    const secret = isSecretCommand(apdu) || options?.sensitive === 'command' || options?.sensitive === 'both';
    const { start: ds, length: dl } = commandDataSpan(apdu);
    const maskCommandData = secret || (this.settings.maskData && WRITE_INS.has(apdu[1]));
    const hex = maskCommandData && dl > 0 ? hexUpper(apdu.subarray(0, ds)) + MASK(dl) + hexUpper(apdu.subarray(ds + dl)) : hexUpper(apdu);
    this.push(slot, 'command', hex, undefined, note);
    const getResponse = apdu.length >= 2 && apdu[1] === 0xc0;
    const maskResponse =
      options?.sensitive === 'response' ||
      options?.sensitive === 'both' ||
      secret ||
      (getResponse && this.maskNextResponse) ||
      (this.settings.maskData && !PUBLIC_RESPONSE_INS.has(apdu[1]));
    this.maskNextResponse = secret;
    return (response) => {
      const ms = Math.round((performance.now() - start) * 1000) / 1000;
      if (response instanceof Error) {
        const code = (response as { code?: string }).code ?? response.name;
        this.push(slot, 'response', '', ms, `error ${code}`);
        return;
      }
      const n = response.length;
      const hex = maskResponse && n > 2 ? MASK(n - 2) + hexUpper(response.subarray(n - 2)) : hexUpper(response);
      this.push(slot, 'response', hex, ms, undefined);
    };
  }

  /** The diffable text form: no timestamps or timings unless asked. */
  text(options: { timing?: boolean } = {}): string {
    return this.ordered()
      .map((e) => {
        const arrow = e.dir === 'command' ? 'A>>' : 'A<<';
        const slot = e.slot.toString(16).padStart(2, '0').toUpperCase();
        const timing = options.timing && e.ms !== undefined ? ` (${e.ms} ms)` : '';
        const note = e.note ? ` # ${e.note}` : '';
        return `[${slot}] ${arrow}${e.hex ? ` ${spaced(e.hex)}` : ''}${timing}${note}`;
      })
      .join('\n');
  }

  /**
   * One slot's exchanges as a transcript for apdu/'s ReplayChannel: `A>> hex` / `A<< hex` pairs in
   * order (batched commands paired with their responses), `A!! CODE` for a failed exchange. Masked
   * bytes stay `**`: the replay matches any byte there.
   */
  replayText(slot: number): string {
    const out: string[] = [];
    const pending: string[] = [];
    for (const e of this.ordered()) {
      if (e.slot !== slot) continue;
      if (e.dir === 'command') {
        pending.push(e.hex);
        continue;
      }
      const command = pending.shift();
      if (command === undefined) continue; // its command fell out of the bounded buffer
      out.push(`A>> ${command}`);
      const error = /^error (\S+)$/.exec(e.note ?? '');
      out.push(error ? `A!! ${error[1]}` : `A<< ${e.hex}`);
    }
    return out.join('\n');
  }

  private push(slot: number, dir: 'command' | 'response', hex: string, ms: number | undefined, note: string | undefined): void {
    const e: StoredEntry = { seq: ++this.seq, atMs: Date.now(), slot, dir, hex, ms, note };
    if (this.ring.length < this.capacity) {
      this.ring.push(e);
      return;
    }
    this.ring[this.head] = e;
    this.head = (this.head + 1) % this.capacity;
  }

  /** The entries, oldest first. */
  private ordered(): StoredEntry[] {
    return this.head === 0 ? this.ring : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }
}

function spaced(hex: string): string {
  return hex.replace(/(..)(?=.)/g, '$1 ');
}
