// 61xx → GET RESPONSE (00 C0 00 00 xx), repeated while the card says more data is waiting, the data
// concatenated; bounded (apdu4j caps at 32 rounds) so a faulty card cannot loop us forever.

import type { BatchCommand, CardChannel, TransmitOptions } from './card-channel.ts';
import { ChannelError } from './apdu-errors.ts';
import { batchWithRepair } from './batch.ts';

export interface GetResponseOptions {
  /** Most GET RESPONSE commands for one command (default 32). */
  maxRounds?: number;
}

export function withGetResponse(inner: CardChannel, config: GetResponseOptions = {}): CardChannel {
  const maxRounds = config.maxRounds ?? 32;

  async function repair(_command: Uint8Array, response: Uint8Array, options?: TransmitOptions): Promise<Uint8Array> {
    if (options?.iso?.getResponse === false) return response;
    if (response.length < 2 || response[response.length - 2] !== 0x61) return response;
    const parts: Uint8Array[] = [response.subarray(0, response.length - 2)];
    let last = response;
    for (let round = 0; last.length >= 2 && last[last.length - 2] === 0x61; round++) {
      if (round >= maxRounds) throw new ChannelError('GET_RESPONSE_LIMIT', `card still answers 61xx after ${maxRounds} GET RESPONSE rounds`, { rounds: maxRounds });
      last = await inner.transmit(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, last[last.length - 1]), options);
      parts.push(last.subarray(0, Math.max(0, last.length - 2)));
    }
    const total = parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(total + 2);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    out.set(last.subarray(last.length - 2), total);
    return out;
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
