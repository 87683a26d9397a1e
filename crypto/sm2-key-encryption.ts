// Passphrase-protected PKCS#8 ("ENCRYPTED PRIVATE KEY", PBES2) for SM2 keys at rest, via Node's OpenSSL.
// Only PKCS#8 DER crosses the boundary: never export an SM2 KeyObject as 'sec1' (Node 20 aborts).
import { createPrivateKey } from 'node:crypto';
import { CryptoArgumentError, CryptoKeyError } from './crypto-errors.ts';

export type Pkcs8Cipher = 'sm4-cbc' | 'aes-256-cbc';

export function encryptPkcs8(pkcs8Der: Uint8Array, passphrase: string, cipher: Pkcs8Cipher = 'sm4-cbc'): string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new CryptoArgumentError('a non-empty passphrase is required');
  if (cipher !== 'sm4-cbc' && cipher !== 'aes-256-cbc') throw new CryptoArgumentError('unsupported PKCS#8 cipher', { cipher: String(cipher) });
  const key = createPrivateKey({ key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8' });
  return key.export({ format: 'pem', type: 'pkcs8', cipher, passphrase }) as string;
}

/** PKCS#8 DER from an "ENCRYPTED PRIVATE KEY" PEM block; CRYPTO_BAD_KEY for a wrong passphrase or bad data. */
export function decryptPkcs8(encryptedPem: string, passphrase: string | undefined): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new CryptoArgumentError('this private key is encrypted: a passphrase is required');
  try {
    const key = createPrivateKey({ key: encryptedPem, format: 'pem', passphrase });
    return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  } catch (cause) {
    // no detail from OpenSSL: it may say which step failed, never anything secret, but keep it generic
    throw new CryptoKeyError('cannot decrypt the private key (wrong passphrase or corrupt data)', undefined, { cause });
  }
}
