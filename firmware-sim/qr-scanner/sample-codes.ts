// Ready-made scan texts for QA: EHC1 codes from the TEST-ONLY demo issuer (qr/demo-trust.ts) in the
// states a verifier must tell apart, a legacy non-EHC1 string and garbage. A daemon trusting the demo
// bundle accepts `ehc1` and rejects the others with their specific reasons.
import { DEMO_REVOKED_CARD, issueDemoCode } from '../../qr/demo-trust.ts';
import { encodeEhc1Text } from '../../qr/ehc1-text.ts';

export const SAMPLE_KINDS = ['ehc1', 'ehc1-static', 'ehc1-expired', 'ehc1-revoked', 'ehc1-tampered', 'legacy', 'garbage'] as const;
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
    case 'legacy':
      return 'HC:110101199001011234';
    case 'garbage':
      return '\u0000\u00ff#@!~?';
  }
}
