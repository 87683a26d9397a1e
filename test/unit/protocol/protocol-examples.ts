// Generates the worked examples and reference tables of PROTOCOL.md from the real code, so the spec
// cannot drift from the implementation. protocol-doc.test.ts fails when PROTOCOL.md differs;
// `node --import tsx test/unit/protocol/protocol-examples.ts --write` rewrites the marked blocks.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sm2PrivateKey, sm2KeyExchange, sm2SignWithK, toHex } from '../../../crypto/index.ts';
import { FrameEncoder } from '../../../protocol/framing.ts';
import { encodeError, encodeEvent, encodePending, encodePingResult, encodeRequest, encodeResult, LIMITS, unpackMap } from '../../../protocol/messages.ts';
import { DEVICE_ERRORS, type DeviceErrorName } from '../../../protocol/operations.ts';
import { deriveChannelKeys, KX_KEY_LENGTH, transcriptHash } from '../../../protocol/secure/channel-keys.ts';
import { encodeCertificateBody } from '../../../protocol/secure/device-certificate.ts';
import { SecureRecordLayer } from '../../../protocol/secure/record-layer.ts';
import { testCaKey, testDeviceIdentity, testHostKey, TEST_CA_ID, TEST_NOT_AFTER, TEST_NOT_BEFORE } from '../../../protocol/secure/test-ca.ts';
import { CHECKS } from '../../../daemon/conformance/conformance-checks.ts';
import {
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_MAX_RETRANSMITS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_TIMEOUTS_MS,
  PENDING_NOTICE_MS,
  RTO_INITIAL_MS,
  RTO_MAX_MS,
  RTO_MIN_MS,
} from '../../../protocol/timing.ts';

export const PROTOCOL_MD = fileURLToPath(new URL('../../../PROTOCOL.md', import.meta.url));

const enc = new FrameEncoder();

function spaced(b: Uint8Array): string {
  const hex = toHex(b).toLowerCase();
  const pairs = hex.match(/../g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 32) lines.push(pairs.slice(i, i + 32).join(' '));
  return lines.join('\n' + ' '.repeat(22));
}

function show(value: unknown): string {
  const binText = (b: Uint8Array) => (b.length > 16 ? `bin(${b.length} bytes)` : `bin(${toHex(b).toLowerCase()})`);
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && (v instanceof Uint8Array || v.type === 'Buffer') ? binText(v instanceof Uint8Array ? v : Uint8Array.from(v.data)) : v));
}

function example(title: string, payload: Uint8Array, note?: string): string {
  const frame = enc.encode(payload);
  const lines = [`${title}`];
  if (note) lines.push(`  ${note}`);
  if (payload[0] !== 0xc1) lines.push(`  message           : ${show(unpackMap(payload))}`);
  lines.push(`  payload (${String(payload.length).padStart(3)} bytes): ${spaced(payload)}`);
  lines.push(`  frame   (${String(frame.length).padStart(3)} bytes): ${spaced(frame)}`);
  return lines.join('\n');
}

function kv(name: string, bytes: Uint8Array): string {
  return `  ${name.padEnd(18)}: ${spaced(bytes)}`;
}

const SELECT_MF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00]);

/** The worked examples block (plain frames, then a complete deterministic secure-channel handshake). */
export function workedExamples(): string {
  const parts: string[] = [];
  parts.push(example('1. ping request (host → device), id 1', encodeRequest(1, 'ping', [])));
  parts.push(example('2. ping result (device → host); nextEvent: the seq of its next event (none sent yet)', encodePingResult(1, 0)));
  const helloReq = encodeRequest(2, 'hello', [{ versions: [1], maxFrame: 66560, host: 'yikad' }]);
  parts.push(example('3. hello request', helloReq));
  const helloRes = encodeResult(2, 'hello', {
    version: 1,
    vendor: 'Yika',
    model: 'SIM-1',
    serial: 'SIM-0001',
    firmware: '1.0.0',
    slots: [{ id: 0x01, kind: 'contact' }, { id: 0x11, kind: 'sam' }],
    qrScanner: true,
    maxFrame: 66560,
    secureChannel: 'supported',
    batch: true,
    maxBatch: 32,
    maxInFlight: 4,
  });
  parts.push(example('4. hello result', helloRes));
  parts.push(example('5. powerOn request, slot 0x01', encodeRequest(3, 'powerOn', [1])));
  parts.push(example('6. powerOn result (ATR 3B 02 14 50: no TD1, so T=0 is the only protocol it offers)', encodeResult(3, 'powerOn', { atr: Uint8Array.of(0x3b, 0x02, 0x14, 0x50), protocol: 0 })));
  parts.push(example('7. transmit request: SELECT MF (00 A4 00 00 02 3F 00)', encodeRequest(4, 'transmit', [1, SELECT_MF])));
  parts.push(example('8. transmit result: 90 00', encodeResult(4, 'transmit', Uint8Array.of(0x90, 0x00))));
  parts.push(example('9. error: the card was removed during request 4', encodeError(4, 'CARD_REMOVED')));
  parts.push(
    example(
      '10. transmitBatch request: two commands, the first may also end with a warning (62xx)',
      encodeRequest(5, 'transmitBatch', [1, [{ apdu: SELECT_MF, expect: [{ sw: 0x9000, mask: 0xffff }, { sw: 0x6200, mask: 0xff00 }] }, { apdu: Uint8Array.of(0x00, 0xb0, 0x85, 0x00, 0x00) }]]),
    ),
  );
  parts.push(example('11. event: card inserted in slot 0x01 (seq 0)', encodeEvent(0, { type: 'card.inserted', slot: 1 })));
  parts.push(example('12. error for an unparseable request (id 0)', encodeError(0, 'BAD_REQUEST')));
  parts.push(example(`12a. pending notice: request 4 is held (queued or executing) ${PENDING_NOTICE_MS} ms after it arrived, or was repeated meanwhile`, encodePending(4)));

  // A complete handshake with fixed ephemeral keys and a fixed CA signature nonce, so every byte is reproducible.
  const hostKey = testHostKey();
  const device = testDeviceIdentity('SIM-0001', { model: 'SIM-1' });
  const tbs = encodeCertificateBody({ serial: 'SIM-0001', vendor: 'Yika', model: 'SIM-1', publicKey: device.key.publicKey.toBytes(), notBefore: TEST_NOT_BEFORE, notAfter: TEST_NOT_AFTER, ca: TEST_CA_ID });
  const sig = sm2SignWithK(testCaKey(), tbs, 0x1234_5678_9abc_def0_1234_5678_9abc_def0n, { format: 'raw' });
  const rA = Sm2PrivateKey.fromHex('83a2c9c8b96e5af70bd480b472409a9a327257f1ebb73f5b073354b248668563');
  const rB = Sm2PrivateKey.fromHex('33fe21940342161c55619c4a0c060293d543c80af19748ce176d83477de71c80');
  const a = sm2KeyExchange({ role: 'initiator', self: { priv: hostKey }, peer: { pub: device.key.publicKey }, selfEphemeral: { priv: rA }, peerEphemeralPub: rB.publicKey.toBytes(), keyLength: KX_KEY_LENGTH });
  const b = sm2KeyExchange({ role: 'responder', self: { priv: device.key }, peer: { pub: hostKey.publicKey }, selfEphemeral: { priv: rB }, peerEphemeralPub: rA.publicKey.toBytes(), keyLength: KX_KEY_LENGTH });
  if (toHex(a.key) !== toHex(b.key) || toHex(a.confirmSelf) !== toHex(b.confirmPeerExpected)) throw new Error('example key exchange does not agree');
  const scOpen = encodeRequest(6, 'scOpen', [{ suites: [1], hostKey: hostKey.publicKey.toBytes(), ephemeral: rA.publicKey.toBytes() }]);
  const scOpenRes = encodeResult(6, 'scOpen', { suite: 1, cert: { tbs, sig }, ephemeral: rB.publicKey.toBytes(), confirm: b.confirmSelf });
  const scFinish = encodeRequest(7, 'scFinish', [{ confirm: a.confirmSelf }]);
  const h = transcriptHash({ helloRequest: helloReq, helloResult: helloRes, hostKey: hostKey.publicKey.toBytes(), hostEphemeral: rA.publicKey.toBytes(), certTbs: tbs, certSig: sig, deviceEphemeral: rB.publicKey.toBytes() });
  const keys = deriveChannelKeys(a.key, h);
  const hostRecords = new SecureRecordLayer({ send: keys.hostToDevice, receive: keys.deviceToHost });
  const deviceRecords = new SecureRecordLayer({ send: keys.deviceToHost, receive: keys.hostToDevice });
  const firstRecord = hostRecords.seal(encodeRequest(8, 'transmit', [1, SELECT_MF]));
  const answerRecord = deviceRecords.seal(encodeResult(8, 'transmit', Uint8Array.of(0x90, 0x00)));

  parts.push(
    [
      '13. secure channel, complete handshake (messages 3 and 4 above are the hello exchange of its transcript)',
      '  TEST-ONLY keys (protocol/secure/test-ca.ts); fixed ephemeral keys and CA nonce so every byte is reproducible',
      kv('host key d_A', hostKey.toBytes()),
      kv('host key P_A', hostKey.publicKey.toBytes()),
      kv('device key d_B', device.key.toBytes()),
      kv('device key P_B', device.key.publicKey.toBytes()),
      kv('ephemeral r_A', rA.toBytes()),
      kv('ephemeral r_B', rB.toBytes()),
      kv('cert tbs', tbs),
      kv('cert sig (CA)', sig),
    ].join('\n'),
  );
  parts.push(example('14. scOpen request (flow 1: P_A, R_A)', scOpen));
  parts.push(example('15. scOpen result (flow 2: certificate, R_B, S_B)', scOpenRes));
  parts.push(example('16. scFinish request (flow 3: S_A)', scFinish));
  parts.push(example('17. scFinish result; from here on every frame is a record', encodeResult(7, 'scFinish', undefined)));
  parts.push(
    [
      '18. key schedule',
      kv('K (KDF, 32 bytes)', a.key),
      kv('S_B', b.confirmSelf),
      kv('S_A', a.confirmSelf),
      kv('transcript hash H', h),
      kv('host→device enc', keys.hostToDevice.enc),
      kv('host→device mac', keys.hostToDevice.mac),
      kv('device→host enc', keys.deviceToHost.enc),
      kv('device→host mac', keys.deviceToHost.mac),
    ].join('\n'),
  );
  parts.push(example('19. first record host → device: transmit SELECT MF (id 8), seq 0', firstRecord, 'record = C1 ‖ seq ‖ SM4-CTR ciphertext ‖ HMAC-SM3 tag (16)'));
  parts.push(example('20. first record device → host: its result 90 00, seq 0', answerRecord));
  // A retransmission inside the channel: the same message in a new record (the next seq), never a copy of the old record.
  parts.push(example('21. record 20 was lost: the host sends request 8 again — the same message (same id) in a new record, seq 1', hostRecords.seal(encodeRequest(8, 'transmit', [1, SELECT_MF]))));
  parts.push(example('22. the device answers the repeat from its window without executing it again: the same message in a new record, seq 1', deviceRecords.seal(encodeResult(8, 'transmit', Uint8Array.of(0x90, 0x00)))));
  return parts.join('\n\n');
}

/** The error table (from DEVICE_ERRORS). */
function errorTable(): string {
  const rows = (Object.keys(DEVICE_ERRORS) as DeviceErrorName[]).map((n) => `| ${DEVICE_ERRORS[n].wire} | \`${n}\` | ${DEVICE_ERRORS[n].meaning} | ${DEVICE_ERRORS[n].host} |`);
  return ['| wire | name | meaning | what the host does |', '|---:|---|---|---|', ...rows].join('\n');
}

/** Timeouts and limits (from timing.ts and LIMITS). */
function timingTable(): string {
  const t = Object.entries(DEFAULT_TIMEOUTS_MS).map(([op, ms]) => `| \`${op}\` | ${ms} |`);
  const l = [
    ['request id', `1 … ${LIMITS.maxId} (0 is reserved for errors about unparseable requests)`],
    ['slot id', `0 … ${LIMITS.maxSlot}`],
    ['command APDU (transmit.apdu, batch apdu)', `4 … ${LIMITS.maxCommandApdu} bytes`],
    ['response APDU (rapdu, responses[])', `2 … ${LIMITS.maxResponseApdu} bytes`],
    ['ATR', '2 … 33 bytes'],
    ['vendor, model, serial, firmware, host', `≤ ${LIMITS.maxShortText} UTF-8 bytes`],
    ['error / event message', `≤ ${LIMITS.maxMessageText} UTF-8 bytes`],
    ['qr.scanned text', `≤ ${LIMITS.maxQrText} UTF-8 bytes`],
    ['versions[]', `1 … ${LIMITS.maxVersions} entries`],
    ['slots[]', `≤ ${LIMITS.maxSlots} entries`],
    ['commands[] (batch)', `1 … ${LIMITS.maxBatch} (and ≤ the device's maxBatch)`],
    ['expect[] per command', `≤ ${LIMITS.maxExpect}`],
    ['counters (deviceInfo)', `≤ ${LIMITS.maxCounters} entries, names ≤ ${LIMITS.maxCounterName} bytes, values 0 … 2^53−1`],
    ['notes (deviceInfo)', `≤ ${LIMITS.maxNotes} strings`],
    ['maxInFlight', `1 … ${LIMITS.maxInFlight}`],
  ].map(([k, v]) => `| ${k} | ${v} |`);
  return [
    '| operation | host timeout (ms) |',
    '|---|---:|',
    ...t,
    '',
    `Keepalive: the host sends \`ping\` after ${DEFAULT_KEEPALIVE_MS} ms without any frame from an idle device; no answer within ${DEFAULT_PING_TIMEOUT_MS} ms → the device is declared dead and the link is closed.`,
    '',
    '| loss and retransmission (9.1) | value |',
    '|---|---|',
    `| retransmission timeout (RTO), host | SRTT + 4·RTTVAR of measured round trips, within ${RTO_MIN_MS} … ${RTO_MAX_MS} ms (${RTO_INITIAL_MS} ms before the first measurement), plus the request's time on the wire |`,
    `| backoff | the timer doubles with each retransmission, up to ${RTO_MAX_MS} ms |`,
    `| retransmissions, host | up to ${DEFAULT_MAX_RETRANSMITS} (${DEFAULT_MAX_RETRANSMITS + 1} sends in all), then \`PROTOCOL_TIMEOUT\`; the operation timeout above stays the hard limit |`,
    `| pending notices, device | for a request held ${PENDING_NOTICE_MS} ms, then every ${PENDING_NOTICE_MS} ms until it is answered; at once for a repeat of a held request |`,
    `| host timer after a pending notice | 2 × ${PENDING_NOTICE_MS} ms + RTO |`,
    '| answers a device keeps for repeats | the last `maxInFlight` request ids (its window) |',
    '',
    '| field | limit |',
    '|---|---|',
    ...l,
  ].join('\n');
}

/** The conformance checks (from daemon/conformance). */
function checksTable(): string {
  return ['| check | level | what it verifies |', '|---|---|---|', ...CHECKS.map((c) => `| \`${c.id}\` | ${c.level.toUpperCase()} | ${c.title} |`)].join('\n');
}

export const BLOCKS = {
  examples: workedExamples,
  checks: checksTable,
  errors: errorTable,
  timing: timingTable,
} as const;

export function blockMarkers(name: string): { begin: string; end: string } {
  return { begin: `<!-- BEGIN GENERATED ${name} (test/unit/protocol/protocol-examples.ts) -->`, end: `<!-- END GENERATED ${name} -->` };
}

export function renderBlock(name: keyof typeof BLOCKS): string {
  const body = BLOCKS[name]();
  return name === 'examples' ? '```text\n' + body + '\n```' : body;
}

/** Replaces every marked block of the document with freshly generated content. */
function regenerate(doc: string): string {
  let out = doc;
  for (const name of Object.keys(BLOCKS) as Array<keyof typeof BLOCKS>) {
    const { begin, end } = blockMarkers(name);
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`PROTOCOL.md lacks the ${name} markers`);
    out = out.slice(0, i + begin.length) + '\n' + renderBlock(name) + '\n' + out.slice(j);
  }
  return out;
}

if (process.argv.includes('--write') && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(PROTOCOL_MD, regenerate(readFileSync(PROTOCOL_MD, 'utf8')));
  process.stdout.write(`rewrote the generated blocks of ${PROTOCOL_MD}\n`);
}
