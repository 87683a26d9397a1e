// EHC1 text: random text, random digits, and mutations of valid codes (byte flips of the body, digit
// substitutions, cuts, extensions, another signer's signature spliced in) through the qr verifier.
// Wrong result = any mutated code accepted (only a text that normalises to the untouched valid code
// may be VALID) or the untouched code refused; crash = a throw or a code outside QR_RESULT_CODES.
import { bytesToDigits, encodeEhc1Text, normaliseText } from '../../../qr/ehc1-text.ts';
import { issueCode } from '../../../qr/issuer.ts';
import { QR_RESULT_CODES } from '../../../qr/result-codes.ts';
import { NOW, cardId, keys, makeVerifier } from '../../unit/qr/qr-test-trust.ts';
import { mutateBytes, rng } from '../kit/rng.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const ALPHABET = 'EHC1:ehc0123456789 \r\n\t:/ABCDEFabcdef€中\u0000';

export async function fuzzEhc1(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'EHC1 text (qr verifier)', o.seed);
  const r = rng(o.seed);
  const v = await makeVerifier();
  const codes = [
    issueCode({ key: keys.active, type: 'static', cardId: cardId(1), iat: NOW - 10, ttl: 86_400 }),
    issueCode({ key: keys.staticOnly, type: 'static', cardId: cardId(2), iat: NOW - 60, ttl: 86_400 }),
    issueCode({ key: keys.active, type: 'static', cardId: cardId(3), iat: NOW - 5, ttl: 600 }),
  ];
  const validNorm = new Set(codes.map((c) => (normaliseText(c.text) as { text: string }).text));
  for (const c of codes) {
    const res = v.verifySync(c.text);
    if (res.code !== 'VALID') t.wrong(`an untouched valid code was refused (${res.code})`, { name: 'untouched', data: c.text });
  }
  const known = new Set<string>(QR_RESULT_CODES);
  for (let i = 0, n = scaled(o, 100_000, 300); i < n; i++) {
    const c = r.pick(codes);
    let text: string;
    switch (r.int(7)) {
      case 0: text = Array.from({ length: r.int(500) }, () => r.pick(ALPHABET.split(''))).join(''); break;
      case 1: text = 'EHC1:' + Array.from({ length: r.int(500) }, () => String(r.int(10))).join(''); break;
      case 2: text = encodeEhc1Text(mutateBytes(r, c.body)); break;
      case 3: {
        const d = c.text.split('');
        for (let k = 1 + r.int(3); k > 0; k--) d[5 + r.int(d.length - 5)] = String(r.int(10));
        text = d.join('');
        break;
      }
      case 4: text = 'EHC1:' + bytesToDigits(c.body) + String(r.int(1e6)); break;
      case 5: {
        // Another valid code's signature (the last 64 bytes) on this code's claims.
        const other = r.pick(codes.filter((x) => x !== c));
        const b = Uint8Array.from(c.body);
        b.set(other.body.subarray(other.body.length - 64), b.length - 64);
        text = encodeEhc1Text(b);
        break;
      }
      default: text = encodeEhc1Text(r.bytes(r.int(240)));
    }
    let res;
    try {
      res = v.verifySync(text);
    } catch (e) {
      t.crash(`verifySync threw ${(e as Error).message}`, { name: `input-${i}`, data: text });
      continue;
    }
    if (!known.has(res.code)) t.crash(`result code ${res.code} is not in QR_RESULT_CODES`, { name: `input-${i}`, data: text });
    else if (res.ok) {
      const norm = normaliseText(text);
      if (norm.ok && validNorm.has(norm.text)) t.count('VALID (normalises to the untouched code)');
      else t.wrong('a mutated code was accepted', { name: `accepted-${i}`, data: text });
    } else t.count(res.code);
  }
  return t.done();
}
