// Ready-made scan texts for QA: EHC1 codes from the TEST-ONLY demo issuer (qr/demo-trust.ts) in the
// states a verifier must tell apart, and one synthetic text of every other kind a desk scanner reads
// (qr/code-kind.ts): the national opaque codes, the insurance voucher, WeChat/Alipay/UnionPay payment
// codes, a resident ID number, garbage. A daemon trusting the demo bundle accepts `ehc1` and tells the
// others apart by code and kind. The synthetic texts have the public formats but are random: no
// payment or insurance account behind them.
import { randomBytes, randomInt } from 'node:crypto';
import { classifyCode, idCheckCharacter } from '../../qr/code-kind.ts';
import { DEMO_REVOKED_CARD, issueDemoCode } from '../../qr/demo-trust.ts';
import { encodeEhc1Text } from '../../qr/ehc1-text.ts';

export const SAMPLE_KINDS = [
  'ehc1',
  'ehc1-static',
  'ehc1-expired',
  'ehc1-revoked',
  'ehc1-tampered',
  'legacy',
  'legacy-dynamic',
  'insurance',
  'wechat',
  'alipay',
  'unionpay',
  'id-number',
  'garbage',
] as const;
export type SampleKind = (typeof SAMPLE_KINDS)[number];

/** A fresh text of the given kind (EHC1 codes get a new jti each time, so replays are real replays). */
export function sampleScanText(kind: SampleKind, nowS = Math.floor(Date.now() / 1000)): string {
  switch (kind) {
    case 'ehc1':
      return issueDemoCode({ iat: nowS }).text;
    case 'ehc1-static':
      return issueDemoCode({ type: 'static', iat: nowS }).text;
    case 'ehc1-expired':
      return issueDemoCode({ iat: nowS - 3600, ttl: 60 }).text;
    case 'ehc1-revoked':
      return issueDemoCode({ card: DEMO_REVOKED_CARD, iat: nowS }).text;
    case 'ehc1-tampered': {
      // The last signature byte changed: a well-formed code whose signature fails.
      const body = Uint8Array.from(issueDemoCode({ iat: nowS }).body);
      body[body.length - 1] ^= 1;
      return encodeEhc1Text(body);
    }
    case 'legacy': // the national platform's static code: <64 hex>:1
      return randomBytes(32).toString('hex').toUpperCase() + ':1';
    case 'legacy-dynamic': // <64 hex>:0:<32 hex>
      return randomBytes(32).toString('hex').toUpperCase() + ':0:' + randomBytes(16).toString('hex').toUpperCase();
    case 'insurance': // 424 + 17 unique + 2 random + province (11, Beijing) + 0000
      return '424' + digits(17) + digits(2) + '11' + '0000';
    case 'wechat':
      return until('payment', () => '1' + randomInt(0, 6) + digits(16));
    case 'alipay':
      return until('payment', () => String(randomInt(25, 31)) + digits(16));
    case 'unionpay':
      return until('payment', () => '62' + digits(17));
    case 'id-number': {
      // Synthetic: region 110101, born 1990-01-01, a random sequence number, the GB 11643 check character.
      const first17 = '11010119900101' + digits(3);
      return first17 + idCheckCharacter(first17);
    }
    case 'garbage':
      return '\u0000\u00ff#@!~?';
  }
}

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += randomInt(0, 10);
  return s;
}

/** Draws until the text classifies as `kind` (a payment shape passes the ID check about 1 in 25,000 times). */
function until(kind: 'payment', draw: () => string): string {
  for (;;) {
    const t = draw();
    if (classifyCode(t).kind === kind) return t;
  }
}
