// The bearer token test daemons are configured with: every capability, apdu.restricted included,
// so that tests about other things (raw APDUs to a SAM, writes, traces) run as a fully trusted HIS
// would. Tests of the security policy itself configure their own tokens.
import { CAPABILITIES } from '../../daemon/api/capabilities.ts';

export const TEST_TOKEN = 'yika-test-token-all-capabilities-0123';
export const TEST_AUTH = { authorization: `Bearer ${TEST_TOKEN}` } as const;

/** An api.tokens entry for TEST_TOKEN. */
export function testTokens(): Array<{ name: string; token: string; capabilities: string[] }> {
  return [{ name: 'test', token: TEST_TOKEN, capabilities: [...CAPABILITIES] }];
}
