// A readable, diffable APDU trace (GlobalPlatformPro's A>> / A<< lines): one line per command and one
// per response, uppercase hex without spaces. Secrets are masked as `**` per byte (length kept):
// VERIFY and CHANGE PIN data, EXTERNAL AUTHENTICATE cryptograms, the SAM's 80 DE / 80 FA data and
// answers (and the GET RESPONSE that fetches them), secure-messaging data (CLA bits 0x0C), and whatever
// the caller flags with TransmitOptions.sensitive.

import { hexUpper } from '../common/hex.ts';
import type { BatchCommand, CardChannel, TransmitOptions } from './card-channel.ts';
import { parseCommand } from './command-apdu.ts';

export interface TraceOptions {
  /** Line prefix: "A" gives `A>>` / `A<<` (default); use another letter per channel, e.g. "S" for the SAM. */
  prefix?: string;
}

interface MaskPlan {
  command: boolean;
  response: boolean;
}

function planFor(cla: number, ins: number, options: TransmitOptions | undefined, previousResponseSecret: boolean): MaskPlan {
  const flagged = options?.sensitive;
  const proprietarySam = (cla & 0xf0) === 0x80 && (ins === 0xde || ins === 0xfa || ins === 0x5e);
  const command = flagged === 'command' || flagged === 'both' || ins === 0x20 || ins === 0x82 || proprietarySam || ((cla & 0x80) === 0 && (cla & 0x0c) !== 0);
  const response = flagged === 'response' || flagged === 'both' || proprietarySam || (ins === 0xc0 && previousResponseSecret);
  return { command, response };
}

/** The command line body: header, Lc and Le kept, data bytes masked when secret. */
function formatCommand(bytes: Uint8Array, maskData: boolean): string {
  if (!maskData) return hexUpper(bytes);
  let dataStart: number;
  let dataLength: number;
  try {
    const c = parseCommand(bytes);
    dataLength = c.data.length;
    dataStart = c.extended ? 7 : 5;
  } catch {
    // Not a parsable APDU: keep the header, mask everything else.
    return hexUpper(bytes.subarray(0, 4)) + '**'.repeat(Math.max(0, bytes.length - 4));
  }
  return hexUpper(bytes.subarray(0, dataStart)) + '**'.repeat(dataLength) + hexUpper(bytes.subarray(dataStart + dataLength));
}

function formatResponse(bytes: Uint8Array, maskData: boolean): string {
  if (!maskData || bytes.length < 2) return hexUpper(bytes);
  return '**'.repeat(bytes.length - 2) + hexUpper(bytes.subarray(bytes.length - 2));
}

export function withTrace(inner: CardChannel, sink: (line: string) => void, config: TraceOptions = {}): CardChannel {
  const prefix = config.prefix ?? 'A';
  let previousResponseSecret = false;

  function log(command: Uint8Array, response: Uint8Array | undefined, options?: TransmitOptions): void {
    const plan = planFor(command[0] ?? 0, command[1] ?? 0, options, previousResponseSecret);
    sink(`${prefix}>> ${formatCommand(command, plan.command)}`);
    if (response) sink(`${prefix}<< ${formatResponse(response, plan.response)}`);
    // A 61xx after a secret answer: the following GET RESPONSE carries the secret.
    previousResponseSecret = plan.response && response !== undefined && response.length >= 2 && response[response.length - 2] === 0x61;
  }

  const channel: CardChannel = {
    async transmit(command, options) {
      let response: Uint8Array;
      try {
        response = await inner.transmit(command, options);
      } catch (e) {
        log(command, undefined, options);
        sink(`${prefix}!! ${(e as { code?: string }).code ?? 'ERROR'}`);
        throw e;
      }
      log(command, response, options);
      return response;
    },
  };
  if (inner.transmitBatch) {
    const batch = inner.transmitBatch.bind(inner);
    channel.transmitBatch = async (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions) => {
      const r = await batch(commands, options);
      r.responses.forEach((resp, i) => log(commands[i].apdu, resp, options));
      return r;
    };
  }
  return channel;
}
