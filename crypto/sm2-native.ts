// Standard SM2 through Node's bundled OpenSSL 3.0: DER-imported keys with the SM2 curve OID, and the digest
// input fed as ZA then M to createSign/createVerify('sm3'). (One-shot crypto.sign/verify uses an empty ID,
// and a freshly generated EC key gives ECDSA: neither is used here.)
import { createPrivateKey, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

export function importNativePublicKey(spkiDer: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
}

export function importNativePrivateKey(pkcs8Der: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8' });
}

/** DER signature over SM3(ZA‖M). */
export function nativeSign(key: KeyObject, za: Uint8Array, message: Uint8Array): Uint8Array {
  return createSign('sm3').update(za).update(message).sign(key);
}

export function nativeVerify(key: KeyObject, za: Uint8Array, message: Uint8Array, derSignature: Uint8Array): boolean {
  try {
    return createVerify('sm3').update(za).update(message).verify(key, derSignature);
  } catch {
    return false;
  }
}
