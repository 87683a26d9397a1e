// The device identity certificate: compact, MessagePack, signed by the vendor's SM2 CA key.
//
//   cert = { tbs: bin, sig: bin(64) }        sig = SM2 signature (raw r‖s, default ID) over the tbs bytes
//   tbs  = msgpack map { v: 1, serial: str, vendor: str, model: str, key: bin(65) 04‖x‖y,
//                        notBefore: uint (Unix seconds), notAfter: uint, ca: str (CA key id) }
//
// The signature covers the exact tbs bytes, so no canonical encoding is needed: a vendor signs the bytes
// it produced and the host verifies those bytes.
import { Sm2PrivateKey, Sm2PublicKey } from '../../crypto/index.ts';
import { packMap, unpackMap, type WireMap } from '../messages.ts';
import { ProtocolError } from '../protocol-errors.ts';

export interface DeviceCertificate {
  serial: string;
  vendor: string;
  model: string;
  /** Device static SM2 public key, 04‖x‖y. */
  publicKey: Uint8Array;
  /** Validity, Unix seconds. */
  notBefore: number;
  notAfter: number;
  /** Which CA key signed it (matched against the trusted CAs). */
  ca: string;
}

export interface EncodedCertificate {
  tbs: Uint8Array;
  sig: Uint8Array;
}

/** A vendor CA the host trusts: its id (as written in certificates) and SM2 public key. */
export interface TrustedCa {
  id: string;
  publicKey: Sm2PublicKey;
}

export function encodeCertificateBody(c: DeviceCertificate): Uint8Array {
  return packMap({ v: 1, serial: c.serial, vendor: c.vendor, model: c.model, key: c.publicKey, notBefore: c.notBefore, notAfter: c.notAfter, ca: c.ca });
}

/** Signs a certificate with the CA key (what a vendor's factory does once per device). */
export function issueDeviceCertificate(caKey: Sm2PrivateKey, body: DeviceCertificate): EncodedCertificate {
  const tbs = encodeCertificateBody(body);
  return { tbs, sig: caKey.sign(tbs, { format: 'raw' }) };
}

function untrusted(message: string, details?: Record<string, string | number>): never {
  throw new ProtocolError('DEVICE_UNTRUSTED', message, details);
}

/** Parses the tbs without checking the signature (for display). */
export function parseCertificateBody(tbs: Uint8Array): DeviceCertificate {
  let m: WireMap;
  try {
    m = unpackMap(tbs);
  } catch {
    untrusted('the reader certificate is not a MessagePack map');
  }
  const s = (k: string) => (typeof m[k] === 'string' && (m[k] as string).length <= 64 ? (m[k] as string) : untrusted(`the reader certificate field ${k} is invalid`));
  const n = (k: string) => (typeof m[k] === 'number' && Number.isSafeInteger(m[k]) && (m[k] as number) >= 0 ? (m[k] as number) : untrusted(`the reader certificate field ${k} is invalid`));
  if (m.v !== 1) untrusted('the reader certificate version is not 1');
  const key = m.key;
  if (!(key instanceof Uint8Array) || key.length !== 65 || key[0] !== 0x04) untrusted('the reader certificate key is not an uncompressed SM2 point');
  return { serial: s('serial'), vendor: s('vendor'), model: s('model'), publicKey: key, notBefore: n('notBefore'), notAfter: n('notAfter'), ca: s('ca') };
}

/**
 * Verifies a device certificate against the trusted CAs at time `now`; returns its content and the
 * device public key. Throws DEVICE_UNTRUSTED (never leaks key material in the message).
 */
export function verifyDeviceCertificate(cert: EncodedCertificate, trusted: ReadonlyArray<TrustedCa>, now: Date = new Date()): { body: DeviceCertificate; key: Sm2PublicKey } {
  const body = parseCertificateBody(cert.tbs);
  const ca = trusted.find((c) => c.id === body.ca);
  if (!ca) untrusted(`the reader certificate is signed by CA "${body.ca}", which is not a trusted vendor CA`, { ca: body.ca });
  let ok = false;
  try {
    ok = ca.publicKey.verify(cert.tbs, cert.sig, { format: 'raw' });
  } catch {
    ok = false;
  }
  if (!ok) untrusted(`the reader certificate signature does not verify with CA "${body.ca}"`, { ca: body.ca });
  const t = Math.floor(now.getTime() / 1000);
  if (t < body.notBefore || t > body.notAfter) untrusted('the reader certificate is not valid at this time', { notBefore: body.notBefore, notAfter: body.notAfter });
  let key: Sm2PublicKey;
  try {
    key = Sm2PublicKey.fromBytes(body.publicKey);
  } catch {
    untrusted('the reader certificate key is not on the SM2 curve');
  }
  return { body, key };
}
