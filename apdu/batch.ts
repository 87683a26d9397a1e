// Batch semantics shared by the decorators and callers without a batching transport: a batch runs its
// commands in order and stops at the first status word its command does not expect, and always at
// 61xx / 6Cxx (PROTOCOL.md transmitBatch): on T=0 only the very next command can collect that answer.

import { neverSent, type BatchCommand, type BatchResult, type CardChannel, type TransmitOptions } from './card-channel.ts';
import { ChannelError } from './apdu-errors.ts';
import { statusWord, swHex } from './response-apdu.ts';

export function swExpected(sw: number, expect: BatchCommand['expect']): boolean {
  if (!expect) return sw === 0x9000;
  return expect.some((e) => (sw & e.mask) === e.sw);
}

/**
 * SW1 = 61 (T=0: data waiting, GET RESPONSE must be the very next command) or 6C (wrong Le: the same
 * command must be sent again with Le = SW2, in the same card state). Whatever runs next in a batch
 * would destroy the pending data or change the state the resend needs.
 */
function swNeedsFollowUp(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw1 === 0x61 || sw1 === 0x6c;
}

/** Whether a batch stops after this answer: an unexpected SW, or 61xx/6Cxx whatever `expect` says. */
export function batchStops(sw: number, expect: BatchCommand['expect']): boolean {
  return swNeedsFollowUp(sw) || !swExpected(sw, expect);
}

/** Runs a batch with one transmit() per command (the fallback when transmitBatch is absent). */
export async function runBatchSequentially(channel: CardChannel, commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult> {
  const responses: Uint8Array[] = [];
  for (let i = 0; i < commands.length; i++) {
    let r: Uint8Array;
    try {
      r = await channel.transmit(commands[i].apdu, options);
    } catch (e) {
      // Refused before it was sent (the card left after the previous answer): keep what ran.
      if (i > 0 && neverSent(e)) return { responses, interrupted: e as Error };
      throw e;
    }
    responses.push(r);
    if (batchStops(statusWord(r), commands[i].expect)) return { responses, stoppedAt: i };
  }
  return { responses };
}

/** Uses transmitBatch when the channel has it, else the sequential fallback. */
export function transmitBatch(channel: CardChannel, commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult> {
  return channel.transmitBatch ? channel.transmitBatch(commands, options) : runBatchSequentially(channel, commands, options);
}

/**
 * Batch through a decorator that may repair a response (GET RESPONSE after 61xx, resend after 6Cxx):
 * the inner batch stops at the answer to repair (a 61xx/6Cxx always stops a batch), the decorator
 * repairs it there with single transmits (nothing else has reached the card since) and, if the repaired
 * SW lets the batch go on, resumes with the remaining commands.
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
    if (r.responses.length === 0) return r.interrupted ? { responses, interrupted: r.interrupted } : { responses };
    // Where the batch ended: the device's stop, else its last answer (a device of the old rule may
    // leave a final 61xx unmarked; nothing ran after it, so it can still be repaired).
    const last = r.stoppedAt ?? r.responses.length - 1;
    for (let i = 0; i < last; i++) {
      const sw = statusWord(r.responses[i]);
      // A device that ran on past a 61xx/6Cxx: that answer's data is gone (and a later GET RESPONSE
      // would fetch another command's data). Refuse rather than hand out wrong data.
      if (swNeedsFollowUp(sw)) {
        throw new ChannelError('BATCH_RESPONSE_LOST', `command ${start + i + 1} of the batch answered ${swHex(sw)} and the reader ran the next command: its response is lost (the reader's firmware breaks the transmitBatch rule)`, { command: start + i, sw: swHex(sw) });
      }
      responses.push(r.responses[i]);
    }
    if (r.interrupted) {
      // The card or reader went away after this answer: nothing can be sent to repair it.
      responses.push(r.responses[last]);
      return { responses, interrupted: r.interrupted };
    }
    const original = r.responses[last];
    const repaired = await repair(rest[last].apdu, original);
    responses.push(repaired);
    if (r.stoppedAt === undefined && r.responses.length < rest.length) return { responses }; // a short answer: the caller sees it
    const stopped = batchStops(statusWord(repaired), rest[last].expect) || (r.stoppedAt !== undefined && repaired === original);
    if (stopped) return { responses, stoppedAt: start + last };
    start += last + 1;
  }
  return { responses };
}
