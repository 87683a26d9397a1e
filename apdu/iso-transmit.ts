// The ISO/IEC 7816-4 transmission rules, stated once. Every caller that sends commands through apdu/
// (the health-card session, the SAM authorizer, the simulator's scenario steps) wraps its link (PC/SC,
// our serial protocol, the in-process simulator) in withIsoTransmission(); the command logic above it
// only ever sees a command's final answer.
//
// For each command, in this order:
//   1. Send it.
//   2. 6Cxx (wrong Le): send the same command once more with Le = xx (short or extended form kept).
//      Once only: a second 6Cxx is the answer.
//   3. 61xx (T=0: xx more bytes are waiting): GET RESPONSE 00 C0 00 00 xx, repeated while the card
//      answers 61xx, the data concatenated, at most `maxGetResponseRounds` rounds (32, like apdu4j) so a
//      faulty card cannot keep us looping (GET_RESPONSE_LIMIT). Each GET RESPONSE is a command of its
//      own and goes through step 2 (a card may answer 6Cxx to a GET RESPONSE whose Le is wrong).
// Le retry comes before GET RESPONSE because the resent command may itself answer 61xx (a case-4
// command on T=0), never the other way round: a 6Cxx after data was fetched is the answer of a GET
// RESPONSE, handled inside step 3.
// Per-command opt-outs (OpenSC's NO_GET_RESP / NO_RETRY_WL): TransmitOptions.iso = { getResponse:
// false } leaves a 61xx to the caller, { leRetry: false } a 6Cxx.
//
// No command chaining (CLA bit 0x10): every command the host builds fits a short APDU (the writer sends
// UPDATE BINARY in 0x80-byte chunks; TLV records, SAM and authentication commands are far below 255
// bytes), WS/T 543 defines no chained command, the simulated card OS does not implement chaining, and raw
// APDUs from the API go to the link untouched. A decorator no caller could use was removed rather than
// kept untested.
//
// Batches: a link's transmitBatch stops at 61xx/6Cxx (PROTOCOL.md transmitBatch), the engine completes
// that answer with the steps above (nothing else has reached the card since) and resumes the batch.

import type { BatchCommand, CardChannel, TransmitOptions } from './card-channel.ts';
import { ChannelError } from './apdu-errors.ts';
import { batchWithRepair } from './batch.ts';
import { encodeCommand, parseCommand } from './command-apdu.ts';

export interface IsoTransmitOptions {
  /** Most GET RESPONSE commands for one command (default 32). */
  maxGetResponseRounds?: number;
}

const sw1 = (r: Uint8Array): number | undefined => (r.length >= 2 ? r[r.length - 2] : undefined);

/** Step 2: the same command with Le = SW2 after a bare 6Cxx; the original answer otherwise. */
async function leRetry(link: CardChannel, command: Uint8Array, response: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
  if (options?.iso?.leRetry === false || response.length !== 2 || response[0] !== 0x6c) return response;
  let parsed;
  try {
    parsed = parseCommand(command);
  } catch {
    return response; // not a command we can rebuild: the caller sees the 6Cxx
  }
  const ne = response[1] === 0 ? 256 : response[1];
  return link.transmit(encodeCommand({ ...parsed, ne }, { extended: parsed.extended ?? false }), options);
}

/** Steps 1 and 2 for one command. */
async function exchange(link: CardChannel, command: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
  return leRetry(link, command, await link.transmit(command, options), options);
}

/** Step 3: GET RESPONSE while the card answers 61xx; the data of every round ‖ the last status word. */
async function getResponse(link: CardChannel, response: Uint8Array, maxRounds: number, options?: TransmitOptions): Promise<Uint8Array> {
  if (options?.iso?.getResponse === false || sw1(response) !== 0x61) return response;
  const parts: Uint8Array[] = [response.subarray(0, response.length - 2)];
  let last = response;
  for (let round = 0; sw1(last) === 0x61; round++) {
    if (round >= maxRounds) throw new ChannelError('GET_RESPONSE_LIMIT', `card still answers 61xx after ${maxRounds} GET RESPONSE rounds`, { rounds: maxRounds });
    last = await exchange(link, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, last[last.length - 1]), options);
    parts.push(last.subarray(0, Math.max(0, last.length - 2)));
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total + 2);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  out.set(last.subarray(last.length - 2), total);
  return out;
}

/** A channel that applies the ISO transmission rules above to every command sent through `link`. */
export function withIsoTransmission(link: CardChannel, config: IsoTransmitOptions = {}): CardChannel {
  const maxRounds = config.maxGetResponseRounds ?? 32;
  // Steps 2 and 3 for an answer the link already gave (the same object back when nothing was done).
  const complete = async (command: Uint8Array, response: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> =>
    getResponse(link, await leRetry(link, command, response, options), maxRounds, options);
  const channel: CardChannel = {
    async transmit(command, options) {
      return complete(command, await link.transmit(command, options), options);
    },
  };
  if (link.transmitBatch) {
    channel.transmitBatch = (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions) =>
      batchWithRepair(link, commands, options, (c, r) => complete(c, r, options));
  }
  return channel;
}
