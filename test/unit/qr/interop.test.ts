// Independent signers: codes signed by the OpenSSL CLI (`pkeyutl -rawin -digest sm3 -pkeyopt
// distid:1234567812345678`) and by sm-crypto (pure JS) verify; codes we sign verify in both of them.
// OpenSSL without distid (empty ID) is the classic interop bug: it must be refused as BAD_SIGNATURE.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { Sm2PrivateKey, sm2SignatureDerToRaw, sm2SignatureRawToDer } from '../../../crypto/index.ts';
import { assembleCode, issueCode, prepareCode } from '../../../qr/issuer.ts';
import { buildTrustBundle, keyIdOf } from '../../../qr/trust-bundle.ts';
import { TrustStore } from '../../../qr/trust-store.ts';
import { Verifier } from '../../../qr/verifier.ts';
import { DAY, NOW, anchor, cardId } from './qr-test-trust.ts';

const smCrypto = createRequire(import.meta.url)('sm-crypto') as {
  sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(msg: number[], priv: string, o: { hash: boolean; der: boolean; publicKey?: string }): string;
    doVerifySignature(msg: number[], sig: string, pub: string, o: { hash: boolean; der: boolean }): boolean;
  };
};

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version']);
} catch {
  hasOpenssl = false;
  console.warn('SKIPPED: openssl CLI not found; the OpenSSL interop cases do not run');
}

const dir = mkdtempSync(join(tmpdir(), 'yika-qr-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function opensslKey(): { pem: string; pub: Uint8Array } {
  const pem = join(dir, `k${Math.random().toString(36).slice(2)}.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', pem]);
  const spki = execFileSync('openssl', ['pkey', '-in', pem, '-pubout', '-outform', 'DER']);
  return { pem, pub: Uint8Array.from(spki.subarray(spki.length - 65)) };
}

function opensslSign(pem: string, message: Uint8Array, distid?: string): Uint8Array {
  const m = join(dir, 'm.bin');
  writeFileSync(m, message);
  const args = ['pkeyutl', '-sign', '-inkey', pem, '-rawin', '-digest', 'sm3', '-in', m];
  if (distid) args.push('-pkeyopt', `distid:${distid}`);
  return sm2SignatureDerToRaw(execFileSync('openssl', args));
}

async function verifierTrusting(pubs: Uint8Array[]): Promise<Verifier> {
  const trust = new TrustStore({ anchors: [anchor.publicKey], now: () => NOW });
  await trust.install(
    buildTrustBundle(
      { seq: 1, issuedAt: NOW - 60, nextUpdate: NOW + DAY, keys: pubs.map((pub) => ({ pub, issuer: 'interop', signFrom: NOW - DAY, signUntil: NOW + DAY, verifyUntil: NOW + DAY })) },
      anchor,
    ),
  );
  return new Verifier({ trust, nowMs: () => NOW * 1000 });
}

describe.skipIf(!hasOpenssl)('EHC1 ⇄ OpenSSL CLI', () => {
  it('a code signed by openssl pkeyutl with distid 1234567812345678 verifies; without distid it is BAD_SIGNATURE', async () => {
    const k = opensslKey();
    const v = await verifierTrusting([k.pub]);
    for (const type of ['dynamic', 'static'] as const) {
      const p = prepareCode({ type, cardId: cardId(type === 'dynamic' ? 1 : 2), iat: NOW - 5, ttl: type === 'dynamic' ? 60 : DAY, kid: keyIdOf(k.pub) });
      const good = assembleCode(p.header, p.claimsBytes, opensslSign(k.pem, p.signedMessage, '1234567812345678'));
      expect((await v.verify(good)).code).toBe('VALID');
    }
    const p = prepareCode({ type: 'dynamic', cardId: cardId(3), iat: NOW - 5, kid: keyIdOf(k.pub) });
    const emptyId = assembleCode(p.header, p.claimsBytes, opensslSign(k.pem, p.signedMessage));
    expect((await v.verify(emptyId)).code).toBe('BAD_SIGNATURE');
  });

  it('openssl pkeyutl -verify accepts our signature of a code', () => {
    const key = Sm2PrivateKey.generate();
    const code = issueCode({ key, type: 'dynamic', cardId: cardId(4), iat: NOW });
    const pubPem = join(dir, 'pub.pem');
    writeFileSync(pubPem, key.publicKey.toPem());
    const m = join(dir, 'msg.bin');
    const s = join(dir, 'sig.der');
    writeFileSync(m, code.signedMessage);
    writeFileSync(s, sm2SignatureRawToDer(code.body.subarray(code.body.length - 64)));
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubPem, '-rawin', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678', '-in', m, '-sigfile', s], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/Signature Verified Successfully/);
    expect(readFileSync(m).length).toBe(code.signedMessage.length);
  });
});

describe('EHC1 ⇄ sm-crypto', () => {
  it('a code signed by sm-crypto (hash: true, default ID) verifies; ours verifies in sm-crypto', async () => {
    const kp = smCrypto.sm2.generateKeyPairHex();
    const pub = Uint8Array.from(Buffer.from(kp.publicKey, 'hex'));
    const ours = Sm2PrivateKey.generate();
    const v = await verifierTrusting([pub, ours.publicKey.toBytes()]);
    const p = prepareCode({ type: 'dynamic', cardId: cardId(5), iat: NOW - 5, kid: keyIdOf(pub) });
    const sigHex = smCrypto.sm2.doSignature([...p.signedMessage], kp.privateKey, { hash: true, der: false, publicKey: kp.publicKey });
    expect((await v.verify(assembleCode(p.header, p.claimsBytes, Uint8Array.from(Buffer.from(sigHex, 'hex'))))).code).toBe('VALID');
    // Without hash (no ZA): sm-crypto's other mode is not SM2 of the message, and is refused.
    const p2 = prepareCode({ type: 'dynamic', cardId: cardId(6), iat: NOW - 5, kid: keyIdOf(pub) });
    const noZa = smCrypto.sm2.doSignature([...p2.signedMessage], kp.privateKey, { hash: false, der: false });
    expect((await v.verify(assembleCode(p2.header, p2.claimsBytes, Uint8Array.from(Buffer.from(noZa, 'hex'))))).code).toBe('BAD_SIGNATURE');

    const code = issueCode({ key: ours, type: 'static', cardId: cardId(7), iat: NOW });
    const sig = Buffer.from(code.body.subarray(code.body.length - 64)).toString('hex');
    expect(smCrypto.sm2.doVerifySignature([...code.signedMessage], sig, ours.publicKey.toHex(), { hash: true, der: false })).toBe(true);
  });
});
