// The negative corpus: every result code of the verifier, each produced by a crafted input and
// asserted exactly; plus the positive cases that must still pass (prefix case, CR/LF, retired key,
// duplicate kid, re-issued card).
import { createSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SM2_ID, SM2_P256, bigIntToBytes, concatBytes, type Sm2PrivateKey } from '../../../crypto/index.ts';
import { SIGNED_MESSAGE_PREFIX, encodeClaims, encodeHeader, type CodeType } from '../../../qr/ehc1-body.ts';
import { EHC1_PREFIX, bytesToDigits, digitsToBytes, encodeEhc1Text } from '../../../qr/ehc1-text.ts';
import { issueCode, prepareCode } from '../../../qr/issuer.ts';
import { QR_RESULT_CODES, type QrResultCode } from '../../../qr/result-codes.ts';
import { StrictWriter } from '../../../qr/strict-msgpack.ts';
import type { SharedQrStore } from '../../../qr/stores/shared-store.ts';
import type { QrVerifyResult, Verifier } from '../../../qr/verifier.ts';
import { DAY, DUP_KID, NOW, REISSUED_CARD, REVOKED_CARD, anchor, bundleBytes, cardId, code, keyIdOf, keys, makeStore, makeVerifier } from './qr-test-trust.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Signs arbitrary header + claims bytes with a key (to craft malformed-but-signed codes). */
function signedText(key: Sm2PrivateKey, header: Uint8Array, claims: Uint8Array): string {
  const sig = key.sign(concatBytes(SIGNED_MESSAGE_PREFIX, header, claims), { id: DEFAULT_SM2_ID, format: 'raw' });
  return encodeEhc1Text(concatBytes(header, claims, sig));
}

function claimsWith(fields: (w: StrictWriter) => void): Uint8Array {
  const w = new StrictWriter();
  fields(w);
  return w.bytes();
}

const kidActive = keyIdOf(keys.active.publicKey.toBytes());
const hdr = (type: CodeType = 'dynamic', kid = kidActive): Uint8Array => encodeHeader(type, kid);
const goodClaims = (): StrictWriter => new StrictWriter().arrayHeader(4).bin(cardId(1)).uint32Fixed(NOW - 10).uint(60).bin(new Uint8Array(8).fill(7));

/** A valid code's body with its signature replaced. */
function withSignature(sig: Uint8Array): string {
  const p = prepareCode({ type: 'dynamic', cardId: cardId(1), iat: NOW - 10, kid: kidActive });
  return encodeEhc1Text(concatBytes(p.header, p.claimsBytes, sig));
}

const n = SM2_P256.n;
const validBody = issueCode({ key: keys.active, type: 'dynamic', cardId: cardId(1), iat: NOW - 10 }).body;
const validSig = validBody.subarray(validBody.length - 64);

interface Case {
  name: string;
  text: () => string;
  code: QrResultCode;
  verifier?: () => Promise<Verifier>;
  message?: RegExp;
}

const cases: Case[] = [
  // ---- text layer
  { name: 'oversize input (600 digits)', text: () => EHC1_PREFIX + '1'.repeat(600), code: 'TOO_LONG' },
  { name: 'huge input (1 MB) rejected before trimming', text: () => ' '.repeat(10) + 'x'.repeat(1_000_000), code: 'TOO_LONG' },
  { name: 'plain text', text: () => 'hello world', code: 'NOT_EHC1' },
  { name: 'empty string', text: () => '', code: 'NOT_EHC1' },
  { name: 'URL', text: () => 'https://example.org/?EHC1:123', code: 'NOT_EHC1' },
  { name: 'prefix without colon', text: () => 'EHC1' + bytesToDigits(validBody), code: 'NOT_EHC1' },
  { name: 'legacy static', text: () => 'A1'.repeat(32) + ':1', code: 'LEGACY_ONLINE_ONLY' },
  { name: 'legacy dynamic', text: () => 'ab'.repeat(32) + ':0:' + 'cd'.repeat(16), code: 'LEGACY_ONLINE_ONLY' },
  { name: 'letter inside the digits', text: () => code().replace(/(\d{20})\d/, '$1A'), code: 'BAD_CHARSET' },
  { name: 'space inside the digits', text: () => code().replace(/(\d{20})\d/, '$1 '), code: 'BAD_CHARSET' },
  { name: 'impossible digit count (mod 17 = 1)', text: () => code() + '1', code: 'BAD_ENCODING' },
  { name: 'full group ≥ 256^7', text: () => EHC1_PREFIX + '99999999999999999'.repeat(6), code: 'BAD_ENCODING' },
  { name: 'final 1-byte group ≥ 256', text: () => code().slice(0, 5 + 17 * 5) + '256', code: 'BAD_ENCODING' },
  { name: 'prefix only', text: () => EHC1_PREFIX, code: 'TOO_SHORT' },
  { name: 'truncated to 5 groups', text: () => code().slice(0, 5 + 17 * 5), code: 'TOO_SHORT' },
  { name: 'other text version', text: () => 'EHC2:' + bytesToDigits(validBody), code: 'UNSUPPORTED_VERSION' },
  {
    name: 'binary version 2',
    text: () => {
      const b = Uint8Array.from(validBody);
      b[0] = 2;
      return encodeEhc1Text(b);
    },
    code: 'UNSUPPORTED_VERSION',
  },
  // ---- trust list
  { name: 'no bundle installed', text: () => code(), code: 'NO_TRUSTLIST', verifier: async () => makeVerifier({}, await makeStore({}, null)) },
  {
    name: 'bundle past nextUpdate + grace, policy fail',
    text: () => code(),
    code: 'TRUSTLIST_EXPIRED',
    verifier: async () => makeVerifier({}, await makeStore({ graceSeconds: 0 }, bundleBytes({ issuedAt: NOW - 3 * DAY, nextUpdate: NOW - 2 * DAY }))),
    message: /expected an update at .*Z/,
  },
  // ---- header and keys
  { name: 'unknown kid', text: () => code({ key: keys.unknown }), code: 'UNKNOWN_KID', message: new RegExp(hex(keyIdOf(keys.unknown.publicKey.toBytes()))) },
  { name: 'revoked key', text: () => code({ key: keys.revoked }), code: 'KEY_REVOKED' },
  { name: 'static-only key signs a dynamic code', text: () => code({ key: keys.staticOnly }), code: 'TYPE_NOT_ALLOWED' },
  // ---- claims (each signed by a trusted key, so only the strict parse can reject it)
  { name: 'unknown type byte', text: () => signedText(keys.active, Uint8Array.from([1, 9, ...kidActive]), goodClaims().bytes()), code: 'BAD_PAYLOAD' },
  { name: 'dynamic ttl 1000 s', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(4).bin(cardId(1)).uint32Fixed(NOW - 10).uint(1000).bin(new Uint8Array(8)))), code: 'BAD_PAYLOAD' },
  { name: 'card id of 20 bytes', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(4).bin(new Uint8Array(20)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(8)))), code: 'BAD_PAYLOAD' },
  { name: 'jti of 7 bytes', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(4).bin(cardId(1)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(7)))), code: 'BAD_PAYLOAD' },
  { name: 'card id as str instead of bin', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(4).str('x'.repeat(32)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(8)))), code: 'BAD_PAYLOAD' },
  { name: 'only 3 claims', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(3).bin(cardId(1)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(8)))), code: 'BAD_PAYLOAD' },
  { name: 'trailing byte after the claims', text: () => signedText(keys.active, hdr(), concatBytes(goodClaims().bytes(), Uint8Array.of(0xc0))), code: 'BAD_PAYLOAD' },
  { name: 'iat before 2020', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(4).bin(cardId(1)).uint32Fixed(1000).uint(60).bin(new Uint8Array(8)))), code: 'BAD_PAYLOAD' },
  { name: 'extension that is not a map', text: () => signedText(keys.active, hdr(), claimsWith((w) => w.arrayHeader(5).bin(cardId(1)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(8)).uint(5))), code: 'BAD_PAYLOAD' },
  { name: 'float in an extension', text: () => signedText(keys.active, hdr(), concatBytes(claimsWith((w) => w.arrayHeader(5).bin(cardId(1)).uint32Fixed(NOW).uint(60).bin(new Uint8Array(8))), Uint8Array.of(0x81, 0xa1, 0x78, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0))), code: 'BAD_PAYLOAD' },
  // ---- signature
  { name: 'random signature (forged)', text: () => withSignature(Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)), code: 'BAD_SIGNATURE' },
  { name: 'flipped bit in r', text: () => withSignature(Uint8Array.from(validSig, (b, i) => (i === 5 ? b ^ 1 : b))), code: 'BAD_SIGNATURE' },
  { name: 'flipped bit in s', text: () => withSignature(Uint8Array.from(validSig, (b, i) => (i === 40 ? b ^ 0x80 : b))), code: 'BAD_SIGNATURE' },
  { name: 'r = 0', text: () => withSignature(concatBytes(new Uint8Array(32), validSig.subarray(32))), code: 'BAD_SIGNATURE' },
  { name: 's = n', text: () => withSignature(concatBytes(validSig.subarray(0, 32), bigIntToBytes(n, 32))), code: 'BAD_SIGNATURE' },
  { name: 'r + s ≡ 0 (mod n)', text: () => withSignature(concatBytes(bigIntToBytes(5n, 32), bigIntToBytes(n - 5n, 32))), code: 'BAD_SIGNATURE' },
  {
    name: 'signed with another ID',
    text: () => code({ sign: (m) => keys.active.sign(m, { id: 'ALICE123@YAHOO.COM', format: 'raw' }) }),
    code: 'BAD_SIGNATURE',
  },
  {
    name: 'signed without ZA (SM3(M) only)',
    text: () => code({ sign: (m) => derToRaw(createSign('sm3').update(m).sign(keys.active.nativeKey())) }),
    code: 'BAD_SIGNATURE',
  },
  {
    name: 'claims altered after signing (iat + 1)',
    text: () => {
      const b = Uint8Array.from(issueCode({ key: keys.active, type: 'dynamic', cardId: cardId(1), iat: NOW - 10 }).body);
      b[10 + 1 + 34 + 4] ^= 1; // last byte of the fixed uint32 iat
      return encodeEhc1Text(b);
    },
    code: 'BAD_SIGNATURE',
  },
  { name: 'signed by another key with a trusted kid', text: () => code({ key: keys.unknown, kid: kidActive }), code: 'BAD_SIGNATURE' },
  { name: 'type byte flipped to static', text: () => flipType(code({ type: 'dynamic' })), code: 'BAD_SIGNATURE' },
  // ---- key windows and time
  { name: 'iat outside the key sign window', text: () => code({ key: keys.windowed }), code: 'KEY_NOT_VALID_AT_IAT' },
  { name: 'key past verifyUntil', text: () => code({ key: keys.expired }), code: 'KEY_EXPIRED' },
  { name: 'issued 40 s in the future (skew 30 s)', text: () => code({ iat: NOW + 40 }), code: 'NOT_YET_VALID', message: /clock skew suspected/ },
  { name: 'issued a day in the future', text: () => code({ iat: NOW + DAY }), code: 'NOT_YET_VALID' },
  { name: 'dynamic expired 2 min ago', text: () => code({ iat: NOW - 60 - 150 - 30 }), code: 'EXPIRED', message: /expired at \d{4}-\d\d-\d\dT.*\(\d+ (s|min) ago\)/ },
  { name: 'static expired', text: () => code({ type: 'static', iat: NOW - 400 * DAY + 1, ttl: 365 * DAY }), code: 'EXPIRED' },
  // ---- revocation
  { name: 'revoked card', text: () => code({ cardId: REVOKED_CARD }), code: 'CARD_REVOKED' },
  { name: 'card revoked before a time, code issued earlier', text: () => code({ type: 'static', ttl: 30 * DAY, cardId: REISSUED_CARD, iat: NOW - 2 * DAY }), code: 'CARD_REVOKED' },
];

function derToRaw(der: Uint8Array): Uint8Array {
  // SEQUENCE { INTEGER r, INTEGER s } → r‖s (test-local: the point is an independent parser)
  let o = 2;
  const ints: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    const len = der[o + 1];
    let v = der.subarray(o + 2, o + 2 + len);
    while (v.length > 32 && v[0] === 0) v = v.subarray(1);
    const p = new Uint8Array(32);
    p.set(v, 32 - v.length);
    ints.push(p);
    o += 2 + len;
  }
  return concatBytes(ints[0], ints[1]);
}

function flipType(text: string): string {
  const b = digitsToBytes(text.slice(5))!;
  b[1] = b[1] === 0 ? 1 : 0;
  return encodeEhc1Text(b);
}

describe('EHC1 verifier: negative corpus', () => {
  let shared: Verifier;
  const results: Array<{ c: Case; r: QrVerifyResult; text: string }> = [];

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    shared ??= await makeVerifier();
    const v = c.verifier ? await c.verifier() : shared;
    const text = c.text();
    const r = await v.verify(text);
    results.push({ c, r, text });
    expect(r.code).toBe(c.code);
    expect(r.ok).toBe(false);
    expect(r.claims).toBeNull();
    if (c.message) expect(r.message).toMatch(c.message);
    // The sync path agrees with the async one (fresh verifier: no replay state).
    const again = (c.verifier ? await c.verifier() : await makeVerifier()).verifySync(text);
    expect(again.code).toBe(c.code);
  });

  it('messages never contain the payload or the card id', () => {
    expect(results.length).toBe(cases.length);
    for (const { r, text } of results) {
      const digits = text.slice(5, 40);
      if (digits.length >= 20) expect(r.message).not.toContain(digits);
      expect(r.message).not.toContain(hex(cardId(1)));
      expect(r.message).not.toContain(hex(REVOKED_CARD));
    }
  });
});

describe('EHC1 verifier: accepted codes and stateful checks', () => {
  it('accepts a valid dynamic code with claims, key, bundle age and expiry', async () => {
    const v = await makeVerifier();
    const r = await v.verify(code());
    expect(r).toMatchObject({ ok: true, code: 'VALID', type: 'dynamic', key: { kid: hex(kidActive), issuer: 'Test platform' }, bundleSeq: 7, bundleAge: 3600, warnings: [], cached: false });
    expect(r.claims).toEqual({ cardId: hex(cardId(1)), cardIdKind: 'card', ttl: 60 });
    expect(r.expiresAt).toBe(new Date((NOW - 10 + 60) * 1000).toISOString());
  });

  it('accepts the prefix in any case and trims CR/LF and spaces from wedge scanners', async () => {
    const v = await makeVerifier();
    const t = code({ type: 'static', ttl: DAY });
    for (const variant of ['ehc1:' + t.slice(5), 'Ehc1:' + t.slice(5), ` ${t}\r\n`, `${t}\n`, `\t${t}`]) {
      expect((await v.verify(variant)).code).toBe('VALID');
    }
  });

  it('accepts codes of a retired key until verifyUntil, and tries every key sharing a kid', async () => {
    const v = await makeVerifier();
    expect((await v.verify(code({ key: keys.retired }))).code).toBe('VALID');
    const a = await v.verify(code({ key: keys.dupA, kid: DUP_KID }));
    const b = await v.verify(code({ key: keys.dupB, kid: DUP_KID, cardId: cardId(2) }));
    expect([a.code, a.key?.issuer]).toEqual(['VALID', 'Dup A']);
    expect([b.code, b.key?.issuer]).toEqual(['VALID', 'Dup B']);
  });

  it('accepts a re-issued card code issued after its "revoked before" time, and 16-byte pseudonyms', async () => {
    const v = await makeVerifier();
    expect((await v.verify(code({ type: 'static', ttl: DAY, cardId: REISSUED_CARD, iat: NOW - 100 }))).code).toBe('VALID');
    const p = await v.verify(code({ cardId: new Uint8Array(16).fill(9) }));
    expect([p.code, p.claims?.cardIdKind]).toEqual(['VALID', 'pseudonym']);
  });

  it('accepts codes within the clock skew (dynamic 30 s, static 300 s) and unknown trailing claims', async () => {
    const v = await makeVerifier();
    expect((await v.verify(code({ iat: NOW + 29 }))).code).toBe('VALID');
    expect((await v.verify(code({ iat: NOW - 60 - 29, cardId: cardId(3) }))).code).toBe('VALID');
    expect((await v.verify(code({ type: 'static', ttl: 60, iat: NOW - 60 - 299 }))).code).toBe('VALID');
    const claims = encodeClaims({ cardId: cardId(4), iat: NOW, ttl: 60, jti: new Uint8Array(8), ext: { dept: 'ER', n: 3 } }, ['future', 42]);
    const r = await v.verify(signedText(keys.active, hdr(), claims));
    expect(r.code).toBe('VALID');
    expect(r.claims?.ext).toEqual({ dept: 'ER', n: 3 });
  });

  it('REPLAYED: a dynamic code is accepted once; a static code any number of times', async () => {
    const v = await makeVerifier();
    const d = code();
    expect((await v.verify(d)).code).toBe('VALID');
    const again = await v.verify(d);
    expect(again.code).toBe('REPLAYED');
    expect(again.cached).toBe(true);
    expect((await v.verify(d, { terminal: 'desk-2' })).code).toBe('REPLAYED');
    const s = code({ type: 'static', ttl: DAY });
    for (let i = 0; i < 3; i++) expect((await v.verify(s)).code).toBe('VALID');
  });

  it('a failed check does not consume the code: an early scan (NOT_YET_VALID) can be retried when valid', async () => {
    let now = NOW * 1000;
    const v = await makeVerifier({ nowMs: () => now });
    const d = code({ iat: NOW + 60 });
    expect((await v.verify(d)).code).toBe('NOT_YET_VALID');
    now += 45_000;
    expect((await v.verify(d)).code).toBe('VALID');
    expect((await v.verify(d)).code).toBe('REPLAYED');
  });

  it('scanner bounce: the same text at the same terminal within 3 s returns the same result, not REPLAYED', async () => {
    let now = NOW * 1000;
    const v = await makeVerifier({ nowMs: () => now });
    const d = code();
    const first = await v.verify(d, { terminal: 'desk-1' });
    expect(first.code).toBe('VALID');
    now += 800;
    const bounce = await v.verify(d + '\r\n', { terminal: 'desk-1' });
    expect({ ...bounce, bounce: false }).toEqual(first);
    expect(bounce.bounce).toBe(true);
    expect((await v.verify(d, { terminal: 'desk-2' })).code).toBe('REPLAYED'); // another desk: a real reuse
    now += 5000;
    expect((await v.verify(d, { terminal: 'desk-1' })).code).toBe('REPLAYED'); // later: a real reuse
  });

  it('the replay guard forgets a code only after ttl + skew', async () => {
    let now = NOW * 1000;
    const v = await makeVerifier({ nowMs: () => now });
    const d = code({ iat: NOW });
    expect((await v.verify(d)).code).toBe('VALID');
    now += 89_000; // ttl 60 + skew 30 − 1
    expect((await v.verify(d)).code).toBe('REPLAYED');
    now += 2_000;
    expect((await v.verify(d)).code).toBe('EXPIRED');
  });

  it('TRUSTLIST_STALE warns but accepts; policy "degrade" accepts an expired bundle with a warning', async () => {
    const stale = await makeVerifier({}, await makeStore({}, bundleBytes({ issuedAt: NOW - 2 * DAY, nextUpdate: NOW + DAY })));
    const r = await stale.verify(code());
    expect([r.code, r.warnings, r.bundleAge]).toEqual(['VALID', ['TRUSTLIST_STALE'], 2 * DAY]);
    const degrade = await makeVerifier({}, await makeStore({ expiredPolicy: 'degrade', graceSeconds: 0 }, bundleBytes({ issuedAt: NOW - 3 * DAY, nextUpdate: NOW - DAY })));
    const d = await degrade.verify(code());
    expect([d.code, d.warnings]).toEqual(['VALID', ['TRUSTLIST_EXPIRED']]);
  });

  it('shared store down: policy "local" accepts with SHARED_STORE_DOWN and still catches local replays; policy "fail" refuses', async () => {
    const broken: SharedQrStore = {
      healthy: false,
      claimOnce: () => Promise.reject(new Error('ECONNREFUSED')),
      getVerdict: () => Promise.reject(new Error('ECONNREFUSED')),
      putVerdict: () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => {},
    };
    const changes: boolean[] = [];
    const local = await makeVerifier({ shared: broken, onSharedStoreChange: (up) => changes.push(up) });
    const d = code();
    const r = await local.verify(d);
    expect([r.code, r.warnings]).toEqual(['VALID', ['SHARED_STORE_DOWN']]);
    expect((await local.verify(d)).code).toBe('REPLAYED');
    expect(changes).toEqual([false]);
    const fail = await makeVerifier({ shared: broken, sharedDownPolicy: 'fail' });
    expect((await fail.verify(code({ cardId: cardId(9) }))).code).toBe('REPLAY_STORE_UNAVAILABLE');
    // Static codes need no replay store.
    expect((await fail.verify(code({ type: 'static', ttl: DAY }))).code).toBe('VALID');
  });

  it('a bundle with a key off the curve is refused at install; the previous bundle stays', async () => {
    const store = await makeStore();
    const offCurve = Uint8Array.from(keys.active.publicKey.toBytes());
    offCurve[64] ^= 1;
    await expect(store.install(bundleBytes({ seq: 8, keys: [{ pub: offCurve, issuer: 'x', signFrom: 0, signUntil: NOW * 2, verifyUntil: NOW * 2 }] }))).rejects.toMatchObject({
      code: 'QR_TRUST_BUNDLE_INVALID',
    });
    expect(store.current?.seq).toBe(7);
  });

  it('a new bundle voids cached verdicts (a key revoked later is refused at once)', async () => {
    const store = await makeStore();
    const v = await makeVerifier({}, store);
    const s = code({ type: 'static', ttl: DAY });
    expect((await v.verify(s)).code).toBe('VALID');
    expect((await v.verify(s)).cached).toBe(true);
    const spec = bundleBytes({ seq: 8, revokedCards: [] });
    await store.install(spec);
    await store.install(
      (await import('../../../qr/trust-bundle.ts')).buildTrustBundle(
        { seq: 9, issuedAt: NOW - 60, nextUpdate: NOW + DAY, keys: [{ pub: keys.active.publicKey.toBytes(), issuer: 'Test platform', status: 'revoked', signFrom: 0, signUntil: NOW * 2, verifyUntil: NOW * 2 }] },
        anchor,
      ),
    );
    const r = await v.verify(s);
    expect([r.code, r.cached, r.bundleSeq]).toEqual(['KEY_REVOKED', false, 9]);
  });

  it('every result code is produced by the corpus or the stateful cases above', () => {
    const produced = new Set<QrResultCode>([...cases.map((c) => c.code), 'VALID', 'REPLAYED', 'REPLAY_STORE_UNAVAILABLE']);
    expect([...QR_RESULT_CODES].filter((c) => !produced.has(c))).toEqual([]);
  });
});
