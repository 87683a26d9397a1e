// Error objects logged under any key are scrubbed like everything else: message, stack, their own
// properties (details …, sensitive keys redacted) and their cause, never passed through as they are.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { YikaError } from '../../../common/yika-error.ts';
import { createLogger } from '../../../daemon/logging/logger.ts';
import { scrubValue } from '../../../daemon/logging/scrub.ts';

// Synthetic cardholder data.
const ID = '11010119900307451X';
const PHONE = '13812345678';
const NAME = '王小明';

describe('scrubValue on Error objects', () => {
  it('returns a plain object with message, stack, properties and cause scrubbed', () => {
    const cause = new Error(`lookup of ${PHONE} failed`);
    const e = Object.assign(new Error(`card ${ID} refused`, { cause }), { code: 'X', details: { name: NAME, note: `tel ${PHONE}` } });
    const out = scrubValue(e) as Record<string, unknown>;
    expect(out).not.toBeInstanceOf(Error);
    const text = JSON.stringify(out);
    for (const secret of [ID, PHONE, NAME]) expect(text, secret).not.toContain(secret);
    expect(out).toMatchObject({ type: 'Error', message: 'card 110101********451X refused', code: 'X', details: { name: '[REDACTED]', note: 'tel 138****5678' }, cause: { message: 'lookup of 138****5678 failed' } });
    expect(String(out.stack)).toContain('110101********451X');
  });

  it('a YikaError logged under an ordinary key leaks nothing', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const e = new YikaError('ITEM_VALUE_INVALID', `item 16: ${PHONE} is not a phone`, { itemNo: 16, value: PHONE, idNumber: ID });
    logger.warn({ failure: e, list: [e] }, 'write refused');
    const out = lines.join('');
    for (const secret of [ID, PHONE]) expect(out, secret).not.toContain(secret);
    expect(out).toContain('ITEM_VALUE_INVALID');
    expect(out).toContain('138****5678');
  });
});
