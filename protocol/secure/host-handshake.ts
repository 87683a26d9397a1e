// The host side of the secure-channel handshake and the host's policy ('required' | 'preferred' | 'off').
//
// Flow (SM2 key exchange, GB/T 32918.3, host = initiator A, device = responder B):
//   1. hello / hello result (plaintext; their exact bytes go into the transcript)
//   2. scOpen  { suites, hostKey P_A, ephemeral R_A }           → { suite, cert, ephemeral R_B, confirm S_B }
//   3. host verifies cert (trusted CA, validity, serial = hello serial), runs the key exchange, checks S_B
//   4. scFinish { confirm S_A }                                   → {}
//   5. both switch to records, keys from K and the transcript hash.
import { Sm2PrivateKey, sm2KeyExchange, sm2KeyExchangeConfirmationMatches, toHex, sm3 } from '../../crypto/index.ts';
import type { YikaError } from '../../common/yika-error.ts';
import { DeviceError } from '../device-error.ts';
import type { RecordProtector } from '../frame-channel.ts';
import type { OperationArgs, OperationResults, WireOperation } from '../messages.ts';
import type { DeviceHello } from '../operations.ts';
import { ProtocolError } from '../protocol-errors.ts';
import { deriveChannelKeys, KX_KEY_LENGTH, SUITE_NAMES, SUITE_SM2KX_SM4CTR_HMACSM3, transcriptHash } from './channel-keys.ts';
import { verifyDeviceCertificate, type TrustedCa } from './device-certificate.ts';
import { SecureRecordLayer } from './record-layer.ts';

export type SecurePolicy = 'required' | 'preferred' | 'off';

export interface HostSecureConfig {
  /** The host's static SM2 key (the device may accept only paired host keys). */
  hostKey: Sm2PrivateKey;
  /** Vendor CA keys this host trusts. */
  trustedCas: ReadonlyArray<TrustedCa>;
  /** Clock for certificate validity (tests). */
  now?: () => Date;
  /** Records between key ratchets; must match the device (tests only; default REKEY_INTERVAL). */
  rekeyInterval?: number;
}

export interface SecureChannelInfo {
  /** 'open': records protected; 'off': plaintext (policy or device); 'closed': was open, session ended. */
  state: 'open' | 'off' | 'closed';
  policy?: SecurePolicy;
  /** Why the channel is off (for the reader list). */
  reason?: string;
  suite?: string;
  /** The authenticated device identity (from its certificate). */
  peer?: { serial: string; vendor: string; model: string; ca: string; keyFingerprint: string };
  /** The record layer, for counters (rejected records by reason, rekeys). */
  records?: SecureRecordLayer;
}

export interface HostHandshakeContext {
  policy: SecurePolicy;
  trust?: HostSecureConfig;
  hello: DeviceHello;
  helloRequestBytes: Uint8Array;
  helloResultBytes: Uint8Array;
  request<K extends WireOperation>(op: K, args: OperationArgs[K]): Promise<OperationResults[K]>;
  /** Open incoming records with `layer` but keep sending plaintext (between scFinish and its answer). */
  prepareRecords?(layer: RecordProtector): void;
  enableRecords(layer: RecordProtector): void;
}

/** Applies the policy; runs the handshake when it should; returns the channel state or throws a typed error. */
export async function runHostHandshake(ctx: HostHandshakeContext): Promise<SecureChannelInfo> {
  const { policy, trust, hello } = ctx;
  const device = hello.secureChannel;
  if (policy === 'off') {
    if (device === 'required') throw new DeviceError('SECURE_CHANNEL_REQUIRED', "the reader requires the SM secure channel but the host's secure policy is 'off'");
    return { state: 'off', policy, reason: 'host policy off' };
  }
  if (device === 'none') {
    if (policy === 'required') throw new ProtocolError('SECURE_CHANNEL_UNSUPPORTED', "the host's secure policy is 'required' but the reader does not support the secure channel");
    return { state: 'off', policy, reason: 'the device does not support the secure channel' };
  }
  if (!trust || trust.trustedCas.length === 0) {
    if (policy === 'required' || device === 'required') {
      const who = policy === 'required' ? "the host's secure policy is 'required'" : 'the reader requires the secure channel';
      throw new ProtocolError('SECURE_CHANNEL_NO_TRUST', `${who} but no trusted vendor CA is configured for it (devices.vendorCas)`);
    }
    return { state: 'off', policy, reason: 'no trusted vendor CA is configured for this device (devices.vendorCas)' };
  }
  return handshake(ctx, trust);
}

function refuse(message: string, cause?: unknown): YikaError {
  return new ProtocolError('DEVICE_UNTRUSTED', message, undefined, { cause });
}

async function handshake(ctx: HostHandshakeContext, trust: HostSecureConfig): Promise<SecureChannelInfo> {
  const ephemeral = Sm2PrivateKey.generate();
  const open = { suites: [SUITE_SM2KX_SM4CTR_HMACSM3], hostKey: trust.hostKey.publicKey.toBytes(), ephemeral: ephemeral.publicKey.toBytes() };
  const answer = await ctx.request('scOpen', [open]);
  if (answer.suite !== SUITE_SM2KX_SM4CTR_HMACSM3) throw refuse(`the reader chose unknown cipher suite ${answer.suite}`);
  const { body, key } = verifyDeviceCertificate(answer.cert, trust.trustedCas, trust.now?.() ?? new Date());
  if (body.serial !== ctx.hello.serial) throw refuse('the reader certificate is for another serial number than the reader announced');
  let kx;
  try {
    kx = sm2KeyExchange({
      role: 'initiator',
      self: { priv: trust.hostKey },
      peer: { pub: key },
      selfEphemeral: { priv: ephemeral },
      peerEphemeralPub: answer.ephemeral,
      keyLength: KX_KEY_LENGTH,
    });
  } catch (e) {
    throw refuse('the SM2 key exchange with the reader failed', e);
  }
  if (!sm2KeyExchangeConfirmationMatches(kx, answer.confirm)) throw refuse('the reader failed to prove its key (key confirmation S_B does not match)');
  const h = transcriptHash({
    helloRequest: ctx.helloRequestBytes,
    helloResult: ctx.helloResultBytes,
    hostKey: open.hostKey,
    hostEphemeral: open.ephemeral,
    certTbs: answer.cert.tbs,
    certSig: answer.cert.sig,
    deviceEphemeral: answer.ephemeral,
  });
  const keys = deriveChannelKeys(kx.key, h);
  const records = new SecureRecordLayer({ send: keys.hostToDevice, receive: keys.deviceToHost }, trust.rekeyInterval);
  // The device switches to records once it has answered scFinish. If that plaintext answer is lost, the
  // records that follow it (events, the answer to our repeated scFinish is plaintext again) must open.
  ctx.prepareRecords?.(records);
  await ctx.request('scFinish', [{ confirm: kx.confirmSelf }]);
  ctx.enableRecords(records);
  return {
    state: 'open',
    policy: ctx.policy,
    suite: SUITE_NAMES[SUITE_SM2KX_SM4CTR_HMACSM3],
    peer: { serial: body.serial, vendor: body.vendor, model: body.model, ca: body.ca, keyFingerprint: toHex(sm3(body.publicKey)).slice(0, 16) },
    records,
  };
}
