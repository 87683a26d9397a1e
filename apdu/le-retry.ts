// 6Cxx → resend the same command once with Le = xx (short or extended form kept).

import type { BatchCommand, CardChannel, TransmitOptions } from './card-channel.ts';
import { encodeCommand, parseCommand } from './command-apdu.ts';
import { batchWithRepair } from './batch.ts';

export function withLeRetry(inner: CardChannel): CardChannel {
  async function repair(command: Uint8Array, response: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
    if (options?.iso?.leRetry === false) return response;
    if (response.length !== 2 || response[0] !== 0x6c) return response;
    let parsed;
    try { parsed = parseCommand(command); } catch { return response; }
    const ne = response[1] === 0 ? 256 : response[1];
    const resent = encodeCommand({ ...parsed, ne }, { extended: parsed.extended ?? false });
    return inner.transmit(resent, options);
  }
  const channel: CardChannel = {
    async transmit(command, options) {
      return repair(command, await inner.transmit(command, options), options);
    },
  };
  if (inner.transmitBatch) {
    channel.transmitBatch = (commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions) =>
      batchWithRepair(inner, commands, options, (c, r) => repair(c, r, options));
  }
  return channel;
}
