// ============================== TEST ONLY — NEVER TRUST IN PRODUCTION ==============================
// A deterministic vendor CA, device identities and host keys for tests, the simulator and demos. Every
// private key here is derived from a public string: anyone can forge these certificates. A production
// daemon must not list TEST_CA_ID among its trusted CAs (the daemon should warn loudly if it does).
// ====================================================================================================
import { Sm2PrivateKey, sm3, utf8 } from '../../crypto/index.ts';
import { issueDeviceCertificate, type EncodedCertificate, type TrustedCa } from './device-certificate.ts';
import type { DeviceIdentity } from './device-handshake.ts';

export const TEST_CA_ID = 'yika-TEST-ONLY-ca-1';
/** 2024-01-01T00:00:00Z and 2099-12-31T23:59:59Z. */
export const TEST_NOT_BEFORE = 1_704_067_200;
export const TEST_NOT_AFTER = 4_102_444_799;

function deterministicKey(label: string): Sm2PrivateKey {
  // SM3 of a label is below the curve order n with overwhelming probability; re-hash if not.
  let seed = sm3(utf8(`YIKA TEST-ONLY KEY: ${label}`));
  for (;;) {
    try {
      return Sm2PrivateKey.fromBytes(seed);
    } catch {
      seed = sm3(seed);
    }
  }
}

/** TEST ONLY: the private key of the test vendor CA. */
export function testCaKey(): Sm2PrivateKey {
  return deterministicKey('vendor CA 1');
}

/** TEST ONLY: the test CA as a host trusts it. */
export function testTrustedCa(): TrustedCa {
  return { id: TEST_CA_ID, publicKey: testCaKey().publicKey };
}

/** TEST ONLY: a deterministic device identity (key + certificate) for a serial number. */
export function testDeviceIdentity(serial: string, options: { vendor?: string; model?: string; notBefore?: number; notAfter?: number; caKey?: Sm2PrivateKey; caId?: string } = {}): DeviceIdentity {
  const key = deterministicKey(`device ${serial}`);
  const certificate: EncodedCertificate = issueDeviceCertificate(options.caKey ?? testCaKey(), {
    serial,
    vendor: options.vendor ?? 'Yika',
    model: options.model ?? 'SIM-1',
    publicKey: key.publicKey.toBytes(),
    notBefore: options.notBefore ?? TEST_NOT_BEFORE,
    notAfter: options.notAfter ?? TEST_NOT_AFTER,
    ca: options.caId ?? TEST_CA_ID,
  });
  return { key, certificate };
}

/** TEST ONLY: a deterministic host key. */
export function testHostKey(name = 'host 1'): Sm2PrivateKey {
  return deterministicKey(`host ${name}`);
}
