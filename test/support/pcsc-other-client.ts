// Another PC/SC program on the same machine, as a separate process: it connects (shared) to a reader
// and disconnects with the disposition asked for — what pyscard's default disconnect (reset) or a
// vendor tool (unpower) does to the card under a daemon that holds its own connection.
// Usage: node --import tsx test/support/pcsc-other-client.ts "<reader name>" reset|unpower|leave [APDU-hex …]
// With APDUs, it sends each (printing the response in hex, one per line) before disconnecting.
import { createRequire } from 'node:module';
import type { PcscCardReader, PcscFactory } from '../../daemon/devices/pcsclite-types.ts';

const [name, disposition, ...apdus] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const pcsc = (require('pcsclite') as PcscFactory)();
const timer = setTimeout(() => {
  console.error('reader not found');
  process.exit(2);
}, 10_000);
pcsc.on('error', (e) => {
  console.error(String((e as Error).message));
  process.exit(3);
});
pcsc.on('reader', (r) => {
  if (r.name !== name) {
    r.close();
    return;
  }
  clearTimeout(timer);
  r.connect({ share_mode: r.SCARD_SHARE_SHARED, protocol: r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1 }, (err, protocol) => {
    connectedProtocol = protocol;
    if (err) {
      console.error(String((err as Error).message));
      process.exit(4);
    }
    void sendAll(r, apdus).then(() => finish(r));
  });
});

async function sendAll(r: PcscCardReader, list: string[]): Promise<void> {
  for (const hex of list) {
    const answer = await new Promise<string>((resolve) =>
      r.transmit(Buffer.from(hex, 'hex'), 258, protocolOf(r), (e, data) => resolve(e ? `error ${(e as Error).message}` : data.toString('hex'))),
    );
    console.log(answer);
  }
}

let connectedProtocol = 0;
function protocolOf(_r: PcscCardReader): number {
  return connectedProtocol;
}

function finish(r: PcscCardReader): void {
    const d = disposition === 'unpower' ? r.SCARD_UNPOWER_CARD : disposition === 'reset' ? r.SCARD_RESET_CARD : r.SCARD_LEAVE_CARD;
    r.disconnect(d, (e2) => {
      if (e2) {
        console.error(String((e2 as Error).message));
        process.exit(5);
      }
      console.log('ok');
      r.close();
      pcsc.close();
      process.exit(0);
    });
}
