// Plays back a recorded trace (withTrace lines) as a CardChannel: each command must equal the next
// recorded `>>` line (masked `**` bytes match anything of the same length) and gets the recorded `<<`
// answer (masked answer bytes come back as 00). A transcript thus doubles as a test fixture.

import type { BatchCommand, BatchResult, CardChannel, TransmitOptions } from './card-channel.ts';
import { ChannelError } from './apdu-errors.ts';
import { hexUpper } from '../common/hex.ts';
import { YikaError } from '../common/yika-error.ts';
import { runBatchSequentially } from './batch.ts';

interface Exchange {
  /** Expected command bytes; null = masked (any byte). */
  command: Array<number | null>;
  response: Uint8Array;
  /** A recorded transport failure (`A!! CODE`): replayed as a YikaError with that code. */
  errorCode?: string;
  line: number;
}

export interface ReplayOptions {
  /** Which lines to play: `A` (default) takes `A>>`/`A<<`; lines of other prefixes are skipped. */
  prefix?: string;
  /** Offer transmitBatch (run one command after the other), to exercise batching callers. */
  batch?: boolean;
}

function parseHexPattern(text: string, line: number): Array<number | null> {
  if (text.length % 2 !== 0 || !/^([0-9A-Fa-f]{2}|\*\*)*$/.test(text)) {
    throw new ChannelError('TRACE_MALFORMED', `trace line ${line}: not hex`, { line });
  }
  const out: Array<number | null> = [];
  for (let i = 0; i < text.length; i += 2) {
    const pair = text.slice(i, i + 2);
    out.push(pair === '**' ? null : parseInt(pair, 16));
  }
  return out;
}

export class ReplayChannel implements CardChannel {
  private readonly exchanges: Exchange[] = [];
  private position = 0;
  /** Number of transmit() calls and of batches, for round-trip assertions. */
  transmits = 0;
  batches = 0;
  transmitBatch?: (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions) => Promise<BatchResult>;

  constructor(trace: string | readonly string[], options: ReplayOptions = {}) {
    const prefix = options.prefix ?? 'A';
    const lines = typeof trace === 'string' ? trace.split(/\r?\n/) : trace;
    let pending: { command: Array<number | null>; line: number } | undefined;
    lines.forEach((raw, index) => {
      const lineNo = index + 1;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = /^(\S+?)(>>|<<|!!)\s*(\S*)$/.exec(line);
      if (!m) throw new ChannelError('TRACE_MALFORMED', `trace line ${lineNo}: expected "${prefix}>> hex" or "${prefix}<< hex"`, { line: lineNo });
      if (m[1] !== prefix) return;
      if (m[2] === '!!') {
        if (!pending) throw new ChannelError('TRACE_MALFORMED', `trace line ${lineNo}: error without a command`, { line: lineNo });
        this.exchanges.push({ ...pending, response: new Uint8Array(0), errorCode: m[3] || 'ERROR' });
        pending = undefined;
        return;
      }
      if (m[2] === '>>') {
        if (pending) throw new ChannelError('TRACE_MALFORMED', `trace line ${lineNo}: command without a response before it`, { line: lineNo });
        pending = { command: parseHexPattern(m[3], lineNo), line: lineNo };
      } else {
        if (!pending) throw new ChannelError('TRACE_MALFORMED', `trace line ${lineNo}: response without a command`, { line: lineNo });
        const response = Uint8Array.from(parseHexPattern(m[3], lineNo), (b) => b ?? 0);
        this.exchanges.push({ ...pending, response });
        pending = undefined;
      }
    });
    if (options.batch) {
      this.transmitBatch = (commands, opts) => {
        this.batches++;
        return runBatchSequentially({ transmit: (c, o) => this.play(c, o) }, commands, opts);
      };
    }
  }

  /** Exchanges not yet played. */
  get remaining(): number {
    return this.exchanges.length - this.position;
  }

  async transmit(command: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
    this.transmits++;
    return this.play(command, options);
  }

  private async play(command: Uint8Array, _options?: TransmitOptions): Promise<Uint8Array> {
    const next = this.exchanges[this.position];
    if (!next) throw new ChannelError('REPLAY_EXHAUSTED', `transcript has no exchange left (${this.exchanges.length} played)`, { played: this.exchanges.length });
    const matches = next.command.length === command.length && next.command.every((b, i) => b === null || b === command[i]);
    if (!matches) {
      // Name the headers only: the data may be cardholder data.
      throw new ChannelError('REPLAY_MISMATCH', `exchange ${this.position + 1} (trace line ${next.line}): expected ${hexUpper(Uint8Array.from(next.command.slice(0, 4), (b) => b ?? 0))}…, got ${hexUpper(command.subarray(0, 4))}…`, {
        exchange: this.position + 1, line: next.line, expectedLength: next.command.length, sentLength: command.length,
      });
    }
    this.position++;
    if (next.errorCode) throw new YikaError(next.errorCode, `replayed transport failure (trace line ${next.line})`, { line: next.line });
    return next.response.slice();
  }
}
