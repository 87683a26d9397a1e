// Which SM2 signature implementation runs on the recommended curve: native OpenSSL (fast) unless its
// known-answer test fails, then the pure-JS one. The check runs once, lazily on first use or from
// runSelfTest() at start-up, so the module fails safe even if nobody calls the self-test.
import { bigIntToBytes, bytesToBigInt, concatBytes, fromHex, utf8 } from './byte-encoding.ts';
import { baseMultiply, SM2_P256, type AffinePoint } from './sm2-curve.ts';
import { encodePkcs8, encodeSpki } from './sm2-key-codec.ts';
import { importNativePrivateKey, importNativePublicKey, nativeSign, nativeVerify } from './sm2-native.ts';
import { decodeDerSignature, encodeDerSignature } from './sm2-signature-encoding.ts';
import { verifyDigestJs } from './sm2-js-signature.ts';
import { computeZa, DEFAULT_SM2_ID } from './sm2-za.ts';
import { sm3 } from './sm3.ts';

export type Sm2BackendName = 'native' | 'js';

/** GB/T 32918.5 / GM/T 0003.5 annex example on the recommended curve (public test data). */
export const SM2_ANNEX_VECTOR = {
  d: 0x3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8n,
  message: 'message digest',
  k: 0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21n,
  r: 0xf5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3n,
  s: 0xb1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aan,
  za: 'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
} as const;

let backend: Sm2BackendName | undefined;
let nativeFailure: string | undefined;
let checked = false;

/** Runs the native SM2 known-answer checks; returns a failure description or undefined when all hold. */
function checkNativeSm2(): string | undefined {
  try {
    const v = SM2_ANNEX_VECTOR;
    const P = baseMultiply(SM2_P256, v.d) as AffinePoint;
    const point = concatBytes(Uint8Array.of(4), bigIntToBytes(P.x, 32), bigIntToBytes(P.y, 32));
    const pub = importNativePublicKey(encodeSpki(point));
    const priv = importNativePrivateKey(encodePkcs8(v.d, point));
    const za = computeZa(SM2_P256, P, utf8(DEFAULT_SM2_ID));
    const m = utf8(v.message);
    const known = encodeDerSignature({ r: v.r, s: v.s });
    if (!nativeVerify(pub, za, m, known)) return 'native SM2 rejects the annex signature';
    if (nativeVerify(pub, za, utf8('message digesT'), known)) return 'native SM2 accepts a signature over another message';
    if (nativeVerify(pub, new Uint8Array(0), m, known)) return 'native SM2 accepts the annex signature without ZA';
    const sig = nativeSign(priv, za, m);
    const e = bytesToBigInt(sm3(concatBytes(za, m)));
    if (!verifyDigestJs(SM2_P256, P, e, decodeDerSignature(sig))) return 'native SM2 signature does not verify in pure JS';
    if (!nativeVerify(pub, za, m, sig)) return 'native SM2 does not verify its own signature';
    return undefined;
  } catch (err) {
    return `native SM2 unavailable: ${err instanceof Error ? err.constructor.name : 'error'}`;
  }
}

/** Decides the backend once (or again with force). */
export function selectSm2Backend(force = false): Sm2BackendName {
  if (backend && !force) return backend;
  nativeFailure = checkNativeSm2();
  checked = true;
  backend = nativeFailure === undefined ? 'native' : 'js';
  return backend;
}

/** The SM2 signature backend in use on the recommended curve. */
export function sm2Backend(): Sm2BackendName {
  return backend ?? selectSm2Backend();
}

/** Why native SM2 was rejected (runs the check once if it never ran); undefined when native SM2 is sound. */
export function sm2NativeFailure(): string | undefined {
  if (!checked) selectSm2Backend();
  return nativeFailure;
}

/** For tests and operators: pin a backend (e.g. force 'js' to exercise the fallback). */
export function setSm2Backend(name: Sm2BackendName): void {
  backend = name;
}

export const SM2_ANNEX_ZA = fromHex(SM2_ANNEX_VECTOR.za);
