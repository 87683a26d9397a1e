// The device side of the secure-channel handshake (responder B of GB/T 32918.3).
import { bytesEqual, Sm2PrivateKey, Sm2PublicKey, sm2KeyExchange, sm2KeyExchangeConfirmationMatches, type Sm2KeyExchangeResult } from '../../crypto/index.ts';
import { DeviceError } from '../device-error.ts';
import type { ScFinishRequest, ScOpenRequest, ScOpenResult } from '../messages.ts';
import { deriveChannelKeys, KX_KEY_LENGTH, SUITE_SM2KX_SM4CTR_HMACSM3, transcriptHash } from './channel-keys.ts';
import type { EncodedCertificate } from './device-certificate.ts';
import { SecureRecordLayer, type DirectionKeys } from './record-layer.ts';

export interface DeviceIdentity {
  /** The device's static SM2 key (never leaves the device). */
  key: Sm2PrivateKey;
  /** Its certificate, signed by the vendor CA; the public key in it is `key`'s. */
  certificate: EncodedCertificate;
}

export interface DeviceSecureConfig {
  identity: DeviceIdentity;
  /** Refuse every operation but hello/ping/handshake until the channel is open. */
  require?: boolean;
  /** If set, only these host public keys (04‖x‖y) may open the channel (others: HOST_NOT_PAIRED). */
  pairedHosts?: ReadonlyArray<Uint8Array>;
  /** Records between key ratchets; must match the host (tests only). */
  rekeyInterval?: number;
}

/** One handshake in progress on the device. */
export class DeviceHandshake {
  #pending: { kx: Sm2KeyExchangeResult; keys: { hostToDevice: DirectionKeys; deviceToHost: DirectionKeys } } | undefined;

  constructor(private readonly config: DeviceSecureConfig) {}

  /** Flow 2: answer scOpen. Throws DeviceError (HOST_NOT_PAIRED, SECURE_CHANNEL_FAILED). */
  open(request: ScOpenRequest, helloRequest: Uint8Array, helloResult: Uint8Array): ScOpenResult {
    this.#pending = undefined;
    if (!request.suites.includes(SUITE_SM2KX_SM4CTR_HMACSM3)) throw new DeviceError('SECURE_CHANNEL_FAILED', 'no common cipher suite');
    const paired = this.config.pairedHosts;
    if (paired && !paired.some((k) => bytesEqual(k, request.hostKey))) throw new DeviceError('HOST_NOT_PAIRED');
    let hostKey: Sm2PublicKey;
    try {
      hostKey = Sm2PublicKey.fromBytes(request.hostKey);
    } catch {
      throw new DeviceError('SECURE_CHANNEL_FAILED', 'the host key is not a valid SM2 point');
    }
    const ephemeral = Sm2PrivateKey.generate();
    let kx: Sm2KeyExchangeResult;
    try {
      kx = sm2KeyExchange({
        role: 'responder',
        self: { priv: this.config.identity.key },
        peer: { pub: hostKey },
        selfEphemeral: { priv: ephemeral },
        peerEphemeralPub: request.ephemeral,
        keyLength: KX_KEY_LENGTH,
      });
    } catch {
      throw new DeviceError('SECURE_CHANNEL_FAILED', 'the SM2 key exchange failed');
    }
    const cert = this.config.identity.certificate;
    const result: ScOpenResult = { suite: SUITE_SM2KX_SM4CTR_HMACSM3, cert, ephemeral: ephemeral.publicKey.toBytes(), confirm: kx.confirmSelf };
    const h = transcriptHash({
      helloRequest,
      helloResult,
      hostKey: request.hostKey,
      hostEphemeral: request.ephemeral,
      certTbs: cert.tbs,
      certSig: cert.sig,
      deviceEphemeral: result.ephemeral,
    });
    this.#pending = { kx, keys: deriveChannelKeys(kx.key, h) };
    return result;
  }

  /** scOpen was answered and scFinish is awaited (state HANDSHAKE). */
  get inProgress(): boolean {
    return this.#pending !== undefined;
  }

  /** Drops the handshake in progress (a request other than scFinish/ping/hello arrived: PROTOCOL.md 10.2). */
  abandon(): void {
    this.#pending = undefined;
  }

  /** Flow 4: check S_A; returns the record layer to switch on after answering. */
  finish(request: ScFinishRequest): SecureRecordLayer {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) throw new DeviceError('SECURE_CHANNEL_FAILED', 'scFinish without scOpen');
    if (!sm2KeyExchangeConfirmationMatches(pending.kx, request.confirm)) throw new DeviceError('SECURE_CHANNEL_FAILED', 'key confirmation S_A does not match');
    return new SecureRecordLayer({ send: pending.keys.deviceToHost, receive: pending.keys.hostToDevice }, this.config.rekeyInterval);
  }
}
