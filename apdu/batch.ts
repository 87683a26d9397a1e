// Batch semantics shared by the decorators and callers without a batching transport: a batch runs its
// commands in order and stops at the first status word its command does not expect.

import type { BatchCommand, BatchResult, CardChannel, TransmitOptions } from './card-channel.ts';
import { statusWord } from './response-apdu.ts';

export function swExpected(sw: number, expect: BatchCommand['expect']): boolean {
  if (!expect) return sw === 0x9000;
  return expect.some((e) => (sw & e.mask) === e.sw);
}

/** Runs a batch with one transmit() per command (the fallback when transmitBatch is absent). */
export async function runBatchSequentially(channel: CardChannel, commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult> {
  const responses: Uint8Array[] = [];
  for (let i = 0; i < commands.length; i++) {
    const r = await channel.transmit(commands[i].apdu, options);
    responses.push(r);
    if (!swExpected(statusWord(r), commands[i].expect)) return { responses, stoppedAt: i };
  }
  return { responses };
}

/** Uses transmitBatch when the channel has it, else the sequential fallback. */
export function transmitBatch(channel: CardChannel, commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult> {
  return channel.transmitBatch ? channel.transmitBatch(commands, options) : runBatchSequentially(channel, commands, options);
}

/**
 * Batch through a decorator that may repair a response (GET RESPONSE after 61xx, resend after 6Cxx):
 * when the inner batch stops, the decorator repairs that response with single transmits and, if the
 * repaired SW is expected, resumes the batch with the remaining commands.
 */
export async function batchWithRepair(
  inner: CardChannel,
  commands: ReadonlyArray<BatchCommand>,
  options: TransmitOptions | undefined,
  repair: (command: Uint8Array, response: Uint8Array) => Promise<Uint8Array>,
): Promise<BatchResult> {
  const responses: Uint8Array[] = [];
  let start = 0;
  while (start < commands.length) {
    const rest = commands.slice(start);
    const r = await transmitBatch(inner, rest, options);
    const stop = r.stoppedAt;
    if (stop === undefined) {
      // Expected SWs may include 61xx/6Cxx: repair those too so callers always see complete data.
      for (let i = 0; i < r.responses.length; i++) responses.push(await repair(rest[i].apdu, r.responses[i]));
      return { responses };
    }
    for (let i = 0; i < stop; i++) responses.push(await repair(rest[i].apdu, r.responses[i]));
    const repaired = await repair(rest[stop].apdu, r.responses[stop]);
    responses.push(repaired);
    if (repaired === r.responses[stop] || !swExpected(statusWord(repaired), rest[stop].expect)) {
      return { responses, stoppedAt: start + stop };
    }
    start += stop + 1;
  }
  return { responses };
}
