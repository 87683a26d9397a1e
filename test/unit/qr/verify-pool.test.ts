// The worker pool: verifies in worker threads with the same answers as in-process, falls back to
// in-process verification when closed, and the verifier routes cold verifications through it.
import { afterAll, describe, expect, it } from 'vitest';
import { splitBody } from '../../../qr/ehc1-body.ts';
import { issueCode } from '../../../qr/issuer.ts';
import { VerifyPool } from '../../../qr/verify-pool.ts';
import { NOW, cardId, code, keys, makeVerifier } from './qr-test-trust.ts';

const pool = new VerifyPool({ size: 2, always: true });
afterAll(() => pool.close());

describe('VerifyPool', () => {
  it('verifies good and bad signatures in worker threads', async () => {
    const c = issueCode({ key: keys.active, type: 'dynamic', cardId: cardId(1), iat: NOW });
    const p = splitBody(c.body);
    const pub = keys.active.publicKey.toBytes();
    const bad = Uint8Array.from(p.signature);
    bad[10] ^= 4;
    const answers = await Promise.all([
      pool.verify(pub, p.signedMessage, p.signature),
      pool.verify(pub, p.signedMessage, bad),
      pool.verify(keys.unknown.publicKey.toBytes(), p.signedMessage, p.signature),
      pool.verify(new Uint8Array(65), p.signedMessage, p.signature), // not a key: false, no crash
    ]);
    expect(answers).toEqual([true, false, false, false]);
  }, 60_000);

  it('the verifier gives the same codes through the pool, under concurrency', async () => {
    const v = await makeVerifier({ offThread: pool });
    const texts = Array.from({ length: 20 }, (_, i) => code({ cardId: cardId(100 + i), key: i % 5 === 0 ? keys.unknown : keys.active }));
    const results = await Promise.all(texts.map((t) => v.verify(t)));
    expect(results.map((r) => r.code)).toEqual(texts.map((_, i) => (i % 5 === 0 ? 'UNKNOWN_KID' : 'VALID')));
  }, 60_000);

  it('falls back to in-process verification once the pool is closed', async () => {
    const p2 = new VerifyPool({ size: 1, always: true });
    await p2.close();
    expect(p2.shouldOffload()).toBe(false);
    const v = await makeVerifier({ offThread: p2 });
    expect((await v.verify(code())).code).toBe('VALID');
  });
});
