// Fuzz: random text, random digits, mutated valid codes and random bytes behind the prefix never
// crash the verifier, never hang it and never accept (only the untouched code is VALID).
import { describe, expect, it } from 'vitest';
import { bytesToDigits, encodeEhc1Text } from '../../../qr/ehc1-text.ts';
import { QR_RESULT_CODES } from '../../../qr/result-codes.ts';
import { issueCode } from '../../../qr/issuer.ts';
import { NOW, cardId, keys, makeVerifier } from './qr-test-trust.ts';

// A small seeded PRNG (mulberry32) so that a failure reproduces.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('EHC1 verifier fuzz', () => {
  it('never throws and never accepts random or mutated input', async () => {
    const seed = Number(process.env.QR_FUZZ_SEED ?? 20261122);
    const rand = rng(seed);
    const v = await makeVerifier();
    const valid = issueCode({ key: keys.active, type: 'static', cardId: cardId(1), iat: NOW - 10, ttl: 86400 });
    const alphabet = 'EHC1:ehc0123456789 \r\n\t:/ABCDEFabcdef€中\u0000';
    const inputs: string[] = [];
    for (let i = 0; i < 400; i++) {
      const len = Math.floor(rand() * 600);
      inputs.push(Array.from({ length: len }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
      inputs.push('EHC1:' + Array.from({ length: len }, () => String(Math.floor(rand() * 10))).join(''));
      inputs.push('EHC1:' + Array.from({ length: len }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
      inputs.push(encodeEhc1Text(Uint8Array.from({ length: Math.floor(rand() * 220) }, () => Math.floor(rand() * 256))));
      // Mutations of the valid body: flip a byte, cut, extend.
      const b = Uint8Array.from(valid.body);
      b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255);
      inputs.push(encodeEhc1Text(b));
      inputs.push(encodeEhc1Text(valid.body.subarray(0, Math.floor(rand() * valid.body.length))));
      inputs.push('EHC1:' + bytesToDigits(valid.body) + String(Math.floor(rand() * 1e6)));
      // Digit-level mutation of the valid text.
      const t = valid.text.split('');
      t[5 + Math.floor(rand() * (t.length - 5))] = String(Math.floor(rand() * 10));
      const mutated = t.join('');
      if (mutated !== valid.text) inputs.push(mutated);
    }
    const codes = new Set<string>();
    for (const input of inputs) {
      const r = v.verifySync(input);
      codes.add(r.code);
      expect(QR_RESULT_CODES).toContain(r.code);
      if (r.ok) throw new Error(`fuzz accepted an input (seed ${seed})`);
    }
    expect(v.verifySync(valid.text).code).toBe('VALID');
    // The corpus reached deep into the pipeline, not just the prefix check.
    for (const c of ['NOT_EHC1', 'BAD_CHARSET', 'BAD_ENCODING', 'TOO_SHORT', 'UNKNOWN_KID', 'BAD_SIGNATURE']) expect(codes).toContain(c);
  });
});
