// A transit (public transport) card that also has a DF with FID DDF1 — named "1PAY.SYS.DDF01", not
// "WS.SYS.DDF01" — and even an EF05 with TLV records under it: a host that identifies the health card
// by FID alone reads garbage here, one that checks the DF name refuses it (NOT_A_HEALTH_CARD).
import { buildAtr } from '../card-os/atr.ts';
import { CardOs } from '../card-os/card-os.ts';
import { ALWAYS, DedicatedFile, NEVER, RecordFile, TransparentFile } from '../card-os/file-system.ts';
import { isoCommands } from '../card-os/iso-commands.ts';

const TRANSIT_DDF_NAME = new TextEncoder().encode('1PAY.SYS.DDF01');
/** The China T-Union interconnection application AID. */
const TRANSIT_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05);

const free = { read: ALWAYS, update: NEVER };

function fci(name: Uint8Array, proprietary = true): Uint8Array {
  const inner = [0x84, name.length, ...name, ...(proprietary ? [0xa5, 0x00] : [])];
  return Uint8Array.of(0x6f, inner.length, ...inner);
}

function transitCardAtr(serial: Uint8Array): Uint8Array {
  const historical = new Uint8Array(12);
  historical.set(serial.subarray(0, 8));
  historical.set(new TextEncoder().encode('JT10'), 8);
  return buildAtr([0, 1], historical);
}

export function createTransitCard(options: { label?: string; serial?: Uint8Array } = {}): CardOs {
  const serial = options.serial ?? Uint8Array.of(0x31, 0x00, 0x20, 0x24, 0x00, 0x00, 0x12, 0x34);
  const mf = new DedicatedFile(0x3f00, undefined, new Uint8Array(0));
  const ddf = mf.add(new DedicatedFile(0xddf1, TRANSIT_DDF_NAME, fci(TRANSIT_DDF_NAME)));
  // A directory-like EF05 with TLV records whose tags collide with health card items.
  const dir = ddf.add(new RecordFile(0xef05, 'linear', [3, 10], free));
  dir.records[0].set([0x01, 0x01, 0x32]);
  dir.records[1].set([0x39, 0x08, 0x54, 0x52, 0x41, 0x4e, 0x53, 0x49, 0x54, 0x31]);
  const adf = ddf.add(new DedicatedFile(0x1001, TRANSIT_AID, fci(TRANSIT_AID, false)));
  // EF15 public issuer data (30 B), EF16 holder data (55 B), EF18 trip log (cyclic 10 × 23 B).
  const ef15 = adf.add(new TransparentFile(0x0015, 30, free, { fill: 0x00 }));
  ef15.data.set([0x31, 0x00, ...serial, 0x02, 0x01, 0x20, 0x24, 0x01, 0x01, 0x20, 0x34, 0x12, 0x31]);
  adf.add(new TransparentFile(0x0016, 55, free, { fill: 0x00 }));
  const trips = adf.add(new RecordFile(0x0018, 'cyclic', Array(10).fill(23), free, { fill: 0x00 }));
  trips.records[0].set([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8, 0x06]);
  return new CardOs({ label: options.label ?? 'transit', atr: transitCardAtr(serial), protocols: [0, 1], mf, commands: isoCommands() });
}
