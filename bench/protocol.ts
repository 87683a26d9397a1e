// Protocol benchmark section: frame codec speed for a 261-byte APDU transmit message against plain
// msgpackr on the same message, CRC-32 against zlib's native one, the secure channel's record-layer
// overhead (bytes and µs per frame) and handshake time, and session round trips over an in-memory link.
// Alone: `node --import tsx bench/protocol.ts`.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { medianMs, opsPerSecond, type BenchRow, type BenchSection } from './bench-kit.ts';
import { crc32Portable } from '../protocol/crc32.ts';
import { DeviceSession } from '../protocol/device-session.ts';
import { FrameDecoder, FrameEncoder } from '../protocol/framing.ts';
import { HostSession } from '../protocol/host-session.ts';
import { createLinkPair } from '../protocol/link.ts';
import { decodeRequest, encodeRequest } from '../protocol/messages.ts';
import type { ReaderOperations } from '../protocol/operations.ts';
import { RECORD_OVERHEAD, SecureRecordLayer } from '../protocol/secure/record-layer.ts';
import { testDeviceIdentity, testHostKey, testTrustedCa } from '../protocol/secure/test-ca.ts';

/** A device that answers instantly: the bench measures the protocol, not a card. */
function echoDevice(): ReaderOperations {
  const sw = Uint8Array.of(0x90, 0x00);
  return {
    hello: async () => ({ version: 1, vendor: 'Yika', model: 'BENCH', serial: 'BENCH-1', firmware: '0', slots: [{ id: 1, kind: 'contact' }], qrScanner: false, maxFrame: 66_560, secureChannel: 'none', batch: false, maxBatch: 0 }),
    slotStatus: async () => [],
    powerOn: async () => ({ atr: Uint8Array.of(0x3b, 0x00), protocol: 1 }),
    powerOff: async () => {},
    resetCard: async () => ({ atr: Uint8Array.of(0x3b, 0x00), protocol: 1 }),
    setParams: async (_s, p) => p,
    transmit: async () => sw,
    transmitBatch: async () => ({ responses: [] }),
    ping: async () => {},
    deviceReset: async () => {},
    deviceInfo: async () => ({ uptimeMs: 0, counters: {} }),
  };
}

async function openPair(secure: boolean): Promise<{ host: HostSession; close: () => Promise<void> }> {
  const [a, b] = createLinkPair();
  new DeviceSession(b, echoDevice(), secure ? { secure: { identity: testDeviceIdentity('BENCH-1') } } : {});
  const host = await HostSession.open(a, { keepaliveMs: 0, secure: secure ? 'required' : 'off', trust: secure ? { hostKey: testHostKey(), trustedCas: [testTrustedCa()] } : undefined });
  return { host, close: () => host.close() };
}

export async function run(): Promise<BenchSection> {
  // A 261-byte APDU: SELECT-style header + Lc + 255 data bytes + Le (a maximal short command APDU).
  const apdu = new Uint8Array(261).map((_, i) => (i * 31 + 7) & 0xff);
  const message = encodeRequest(42, 'transmit', [1, apdu]);
  const enc = new FrameEncoder();
  const dec = new FrameDecoder();
  const frame = enc.encode(message);
  const plainMessage = { id: 42, op: 'transmit', slot: 1, apdu: Buffer.from(apdu) };

  const msgpackrRoundTrip = opsPerSecond(() => unpack(pack(plainMessage)), { batch: 1000 });
  const framingOnly = opsPerSecond(() => dec.push(enc.encode(message)), { batch: 1000 });
  const fullPath = opsPerSecond(() => decodeRequest(dec.push(enc.encode(encodeRequest(42, 'transmit', [1, apdu])))[0]), { batch: 1000 });

  const crcBytes = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
  const ours = opsPerSecond(() => crc32Portable(crcBytes), { batch: 20 });
  const native = opsPerSecond(() => zlibCrc32(crcBytes), { batch: 20 });

  // Record layer: seal + open of the same message, per frame.
  const k1 = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2) };
  const k2 = { enc: new Uint8Array(16).fill(3), mac: new Uint8Array(16).fill(4) };
  const tx = new SecureRecordLayer({ send: k1, receive: k2 });
  const rx = new SecureRecordLayer({ send: k2, receive: k1 });
  const sealOpen = opsPerSecond(() => rx.open(tx.seal(message)), { batch: 200 });
  const securedFrame = enc.encode(tx.seal(message));

  // Handshake: open with hello only vs hello + SM2 key exchange + certificate check.
  const plainOpen = await medianMs(async () => (await openPair(false)).close(), 15);
  const secureOpen = await medianMs(async () => (await openPair(true)).close(), 15);

  // Session round trips over the in-memory link (async delivery on both sides).
  const plain = await openPair(false);
  const secure = await openPair(true);
  const rttPlain = await medianMs(async () => {
    for (let i = 0; i < 200; i++) await plain.host.transmit(1, apdu);
  }, 7);
  const rttSecure = await medianMs(async () => {
    for (let i = 0; i < 200; i++) await secure.host.transmit(1, apdu);
  }, 7);
  await plain.close();
  await secure.close();

  const frameUs = 1e6 / framingOnly;
  const recordUs = 1e6 / sealOpen;
  const rows: BenchRow[] = [
    { name: 'Frame encode+decode, 261-byte APDU transmit message', value: framingOnly, unit: 'ops/s', anchor: { name: 'msgpackr pack+unpack of the same message', value: msgpackrRoundTrip }, note: `${message.length} B payload → ${frame.length} B frame` },
    { name: 'Message + frame encode, frame + message decode (full wire path)', value: fullPath, unit: 'ops/s', anchor: { name: 'msgpackr pack+unpack of the same message', value: msgpackrRoundTrip } },
    { name: 'CRC-32 portable JS reference (slicing-by-8), 64 KiB; the codec uses zlib.crc32', value: (ours * crcBytes.length) / 1e6, unit: 'MB/s', anchor: { name: 'zlib.crc32 (native)', value: (native * crcBytes.length) / 1e6 } },
    { name: 'Record seal+open per frame (SM4-CTR + HMAC-SM3)', value: recordUs, unit: 'µs', anchor: { name: 'frame encode+decode', value: frameUs } },
    { name: 'Record overhead per frame', value: securedFrame.length - frame.length, unit: 'bytes', anchor: { name: 'framing overhead (COBS + CRC + delimiter)', value: frame.length - message.length }, note: `record header+tag ${RECORD_OVERHEAD} B` },
    { name: 'Session open with secure channel (hello + SM2 key exchange + cert)', value: secureOpen, unit: 'ms', anchor: { name: 'session open, hello only', value: plainOpen } },
    { name: 'transmit round trip, secure channel (in-memory link)', value: (rttSecure * 1000) / 200, unit: 'µs', anchor: { name: 'plaintext round trip', value: (rttPlain * 1000) / 200 } },
  ];
  return {
    title: 'Reader protocol (frames, messages, secure channel)',
    command: 'node --import tsx bench/protocol.ts',
    rows,
    notes: [
      'The 261-byte APDU is a maximal short command APDU (4 header + Lc + 255 data + Le); its transmit message is what every card exchange of the daemon sends.',
      'Round trips use the in-memory link pair (setImmediate delivery both ways) and a device that answers at once: protocol cost only, no card, no serial line.',
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()) + '\n');
}
