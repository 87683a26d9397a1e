// Cross-verification with independent implementations: sm-crypto (pure JS) and the openssl CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import smCrypto from 'sm-crypto';
import { Sm2PrivateKey, Sm2PublicKey, fromHex, toHex, utf8, sm2SignatureDerToRaw } from '../../../crypto/index.ts';

const M = utf8('Yika interop message 一卡');

describe('SM2 against sm-crypto (hash:true = standard SM2 with ZA)', () => {
  it('sm-crypto signs, we verify (raw and DER, default and custom ID)', () => {
    const { privateKey, publicKey } = smCrypto.sm2.generateKeyPairHex();
    const pub = Sm2PublicKey.fromHex(publicKey);
    const raw = smCrypto.sm2.doSignature(Array.from(M), privateKey, { hash: true });
    expect(pub.verify(M, fromHex(raw))).toBe(true);
    const der = smCrypto.sm2.doSignature(Array.from(M), privateKey, { hash: true, der: true });
    expect(pub.verify(M, fromHex(der), { format: 'der' })).toBe(true);
    const withId = smCrypto.sm2.doSignature(Array.from(M), privateKey, { hash: true, userId: 'ALICE123@YAHOO.COM' });
    expect(pub.verify(M, fromHex(withId), { id: 'ALICE123@YAHOO.COM' })).toBe(true);
    expect(pub.verify(M, fromHex(withId))).toBe(false);
    // its "hash:false" signs the message as e directly: not SM2, and we must not accept it
    const noHash = smCrypto.sm2.doSignature(Array.from(M), privateKey, { hash: false });
    expect(pub.verify(M, fromHex(noHash))).toBe(false);
  });

  it('we sign, sm-crypto verifies', () => {
    const key = Sm2PrivateKey.generate();
    const pubHex = key.publicKey.toHex();
    expect(smCrypto.sm2.doVerifySignature(Array.from(M), toHex(key.sign(M)), pubHex, { hash: true })).toBe(true);
    expect(smCrypto.sm2.doVerifySignature(Array.from(M), toHex(key.sign(M, { format: 'der' })), pubHex, { hash: true, der: true })).toBe(true);
    expect(smCrypto.sm2.doVerifySignature(Array.from(M), toHex(key.sign(M, { id: 'BILL456@YAHOO.COM' })), pubHex, { hash: true, userId: 'BILL456@YAHOO.COM' })).toBe(true);
    // negative control: the other ID
    expect(smCrypto.sm2.doVerifySignature(Array.from(M), toHex(key.sign(M, { id: 'BILL456@YAHOO.COM' })), pubHex, { hash: true })).toBe(false);
  });

  it('derives the same public key from a private key', () => {
    const { privateKey, publicKey } = smCrypto.sm2.generateKeyPairHex();
    expect(Sm2PrivateKey.fromHex(privateKey).publicKey.toHex()).toBe(publicKey.toLowerCase());
    expect(toHex(Sm2PublicKey.fromHex(publicKey).toBytes(true))).toBe(smCrypto.sm2.compressPublicKeyHex(publicKey).toLowerCase());
  });
});

const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
if (!hasOpenssl) console.warn('SKIPPED: openssl CLI not found; SM2 interop with openssl pkeyutl not tested');

describe.skipIf(!hasOpenssl)('SM2 against the openssl CLI (pkeyutl -rawin -digest sm3 -pkeyopt distid)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yika-sm2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  const opensslVerifies = (pubPem: string, sig: Uint8Array, id: string): boolean => {
    writeFileSync(file('pub.pem'), pubPem);
    writeFileSync(file('sig.der'), sig);
    const r = spawnSync('openssl', ['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pubin', '-inkey', file('pub.pem'), '-in', file('msg'), '-sigfile', file('sig.der'), '-pkeyopt', `distid:${id}`], { encoding: 'utf8', timeout: 20_000 });
    return r.status === 0 && /Verified Successfully/.test(r.stdout);
  };
  writeFileSync(file('msg'), M);

  it('openssl signs with an openssl-generated key, we import the key and verify', () => {
    openssl('genpkey', '-algorithm', 'SM2', '-out', file('key.pem'));
    openssl('pkey', '-in', file('key.pem'), '-pubout', '-out', file('pub.pem'));
    openssl('pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', file('key.pem'), '-in', file('msg'), '-pkeyopt', 'distid:1234567812345678', '-out', file('sig.der'));
    const sig = readFileSync(file('sig.der'));
    const pub = Sm2PublicKey.fromPem(readFileSync(file('pub.pem'), 'utf8'));
    expect(pub.verify(M, sig, { format: 'der' })).toBe(true);
    expect(pub.verify(M, sm2SignatureDerToRaw(sig))).toBe(true);
    expect(pub.verify(M, sig, { format: 'der', id: '' })).toBe(false);
    const key = Sm2PrivateKey.fromPem(readFileSync(file('key.pem'), 'utf8'));
    expect(key.publicKey.equals(pub)).toBe(true);
    // SEC1 as written by `openssl ec` ("SM2 PRIVATE KEY")
    openssl('ec', '-in', file('key.pem'), '-out', file('sec1.pem'));
    expect(Sm2PrivateKey.fromPem(readFileSync(file('sec1.pem'), 'utf8')).toHex()).toBe(key.toHex());
  });

  it('openssl signs with a custom distid, we verify with that ID only', () => {
    const key = Sm2PrivateKey.generate();
    writeFileSync(file('k2.pem'), key.toPem());
    openssl('pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', file('k2.pem'), '-in', file('msg'), '-pkeyopt', 'distid:ALICE123@YAHOO.COM', '-out', file('sig2.der'));
    const sig = readFileSync(file('sig2.der'));
    expect(key.publicKey.verify(M, sig, { format: 'der', id: 'ALICE123@YAHOO.COM' })).toBe(true);
    expect(key.publicKey.verify(M, sig, { format: 'der' })).toBe(false);
  });

  it('encrypted PKCS#8 both ways: openssl pkcs8 -v2 sm4-cbc → ours, ours → openssl pkey -passin', () => {
    const key = Sm2PrivateKey.generate();
    writeFileSync(file('plain.pem'), key.toPem());
    openssl('pkcs8', '-topk8', '-in', file('plain.pem'), '-v2', 'sm4-cbc', '-passout', 'pass:desk-17', '-out', file('enc.pem'));
    expect(Sm2PrivateKey.fromPem(readFileSync(file('enc.pem'), 'utf8'), 'desk-17').toHex()).toBe(key.toHex());
    writeFileSync(file('ours-enc.pem'), key.toEncryptedPem('desk-18'));
    const out = openssl('pkey', '-in', file('ours-enc.pem'), '-passin', 'pass:desk-18', '-pubout').toString();
    expect(Sm2PublicKey.fromPem(out).equals(key.publicKey)).toBe(true);
  });

  it('we sign, openssl verifies (and rejects the wrong ID)', () => {
    const key = Sm2PrivateKey.generate();
    const pem = key.publicKey.toPem();
    expect(opensslVerifies(pem, key.sign(M, { format: 'der' }), '1234567812345678')).toBe(true);
    expect(opensslVerifies(pem, key.sign(M, { format: 'der', id: 'BILL456@YAHOO.COM' }), 'BILL456@YAHOO.COM')).toBe(true);
    expect(opensslVerifies(pem, key.sign(M, { format: 'der' }), 'BILL456@YAHOO.COM')).toBe(false);
  });
});
