// Command chaining (ISO/IEC 7816-4 §5.1.1.1): data longer than the chunk limit is sent in parts, every
// part but the last with CLA bit 0x10. Only interindustry classes (bit 8 clear) are chained.

import type { BatchCommand, CardChannel, TransmitOptions } from './card-channel.ts';
import { encodeCommand, parseCommand, type CommandApdu } from './command-apdu.ts';
import { runBatchSequentially } from './batch.ts';
import { statusWord } from './response-apdu.ts';

export interface ChainingOptions {
  /** Largest data field of one part (default 255, the short-APDU limit). */
  maxData?: number;
}

export function withChaining(inner: CardChannel, config: ChainingOptions = {}): CardChannel {
  const maxData = config.maxData ?? 255;

  function needsChaining(command: Uint8Array, options?: TransmitOptions): CommandApdu | undefined {
    if (options?.iso?.chaining === false) return undefined;
    let c: CommandApdu;
    try { c = parseCommand(command); } catch { return undefined; }
    if (c.data.length <= maxData || (c.cla & 0x80) !== 0) return undefined;
    return c;
  }

  const channel: CardChannel = {
    async transmit(command, options) {
      const c = needsChaining(command, options);
      if (!c) return inner.transmit(command, options);
      let last: Uint8Array = new Uint8Array(0);
      for (let off = 0; off < c.data.length; off += maxData) {
        const final = off + maxData >= c.data.length;
        const part: CommandApdu = { cla: final ? c.cla : c.cla | 0x10, ins: c.ins, p1: c.p1, p2: c.p2, data: c.data.subarray(off, off + maxData), ne: final ? c.ne : 0 };
        last = await inner.transmit(encodeCommand(part), options);
        // A refused part ends the chain; the caller sees the card's status word.
        if (!final && statusWord(last) !== 0x9000) return last;
      }
      return last;
    },
  };
  if (inner.transmitBatch) {
    const batch = inner.transmitBatch.bind(inner);
    channel.transmitBatch = (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions) =>
      commands.some((c) => needsChaining(c.apdu, options)) ? runBatchSequentially(channel, commands, options) : batch(commands, options);
  }
  return channel;
}
