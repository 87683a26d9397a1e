// Key schedule of the secure channel (suite 1). Both sides compute the same transcript hash and
// derive the same four record keys; a single differing byte anywhere in the transcript gives
// different keys, so the first record fails its tag and the channel is torn down.
import { concatBytes, sm3, sm3Kdf, utf8 } from '../../crypto/index.ts';
import type { DirectionKeys } from './record-layer.ts';

export const SUITE_SM2KX_SM4CTR_HMACSM3 = 1;
export const SUITE_NAMES: Record<number, string> = { [SUITE_SM2KX_SM4CTR_HMACSM3]: 'SM2-KX/SM4-CTR/HMAC-SM3-128' };
/** Length in bytes of K, the SM2 key-exchange output. */
export const KX_KEY_LENGTH = 32;
const TRANSCRIPT_LABEL = utf8('yika-sc1 transcript');
const KEYS_LABEL = utf8('yika-sc1 keys');

export interface TranscriptParts {
  helloRequest: Uint8Array;
  helloResult: Uint8Array;
  hostKey: Uint8Array;
  hostEphemeral: Uint8Array;
  certTbs: Uint8Array;
  certSig: Uint8Array;
  deviceEphemeral: Uint8Array;
}

function lengthPrefixed(part: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + part.length);
  new DataView(out.buffer).setUint32(0, part.length);
  out.set(part, 4);
  return out;
}

/** H = SM3("yika-sc1 transcript" ‖ for each part: u32be(length) ‖ part), parts in the order above. */
export function transcriptHash(t: TranscriptParts): Uint8Array {
  const parts = [t.helloRequest, t.helloResult, t.hostKey, t.hostEphemeral, t.certTbs, t.certSig, t.deviceEphemeral];
  return sm3(concatBytes(TRANSCRIPT_LABEL, ...parts.map(lengthPrefixed)));
}

/** (hostToDevice, deviceToHost) = split(SM3-KDF(K ‖ H ‖ "yika-sc1 keys", 64)) into enc ‖ mac ‖ enc ‖ mac. */
export function deriveChannelKeys(k: Uint8Array, transcript: Uint8Array): { hostToDevice: DirectionKeys; deviceToHost: DirectionKeys } {
  const m = sm3Kdf(concatBytes(k, transcript, KEYS_LABEL), 64);
  return {
    hostToDevice: { enc: m.slice(0, 16), mac: m.slice(16, 32) },
    deviceToHost: { enc: m.slice(32, 48), mac: m.slice(48, 64) },
  };
}
