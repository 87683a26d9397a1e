import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, serializeRequest } from '../../../daemon/logging/logger.ts';
import { scrubText } from '../../../daemon/logging/scrub.ts';

// Synthetic cardholder data.
const NAME = '王小明';
const ID = '11010119900307451X';
const PHONE = '13812345678';
const PIN = '246813';
const QR = 'EHC1:12345678901234567890123456789';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination: sink }) };
}

describe('log redaction', () => {
  it('removes cardholder fields, secrets and QR text at any depth', () => {
    const { lines, logger } = capture();
    logger.info({ holder: { name: NAME, idNumber: ID, phone: PHONE }, pin: PIN, qr: { text: QR }, result: { card: { photo: 'AAAA', birthDate: '19900307' } } }, 'card read');
    logger.info({ req: { headers: { authorization: 'Bearer s3cr3t-token-value' } } }, 'x');
    const out = lines.join('');
    for (const secret of [NAME, ID, PHONE, PIN, QR, 'AAAA', '19900307', 's3cr3t']) expect(out, secret).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
    expect(out).toContain('card read');
  });

  it('redacts at any depth, in arrays, and in child-logger bindings', () => {
    const { lines, logger } = capture();
    logger.child({ reqId: 'r1' }).child({ holder: { idNumber: ID } }).info({ a: { b: { c: { d: { name: NAME } } } }, list: [{ phone: PHONE }] }, 'deep');
    const out = lines.join('');
    for (const secret of [NAME, ID, PHONE]) expect(out, secret).not.toContain(secret);
    expect(out).toContain('deep');
  });

  it('scrubs ID and phone numbers from free text, in messages, fields and errors', () => {
    const { lines, logger } = capture();
    logger.warn(`lookup failed for ${ID} tel ${PHONE}`);
    logger.info({ detail: `holder ${ID.toLowerCase()}` }, 'detail');
    logger.error({ err: new Error(`card ${ID} refused`) }, 'error');
    const out = lines.join('');
    expect(out).not.toContain(ID);
    expect(out).not.toContain(ID.toLowerCase());
    expect(out).not.toContain(PHONE);
    expect(out).toContain('110101********451X');
    expect(out).toContain('138****5678');
  });

  it('leaves ordinary numbers alone', () => {
    expect(scrubText('took 1234567 µs, seq 99, port 7611')).toBe('took 1234567 µs, seq 99, port 7611');
    expect(scrubText('ts 1795323374843')).toBe('ts 1795323374843'); // 13 digits: not a phone
    expect(scrubText('sw 6A82 ATR 3B8F8001804F0CA0000003060300030000000068')).toBe('sw 6A82 ATR 3B8F8001804F0CA0000003060300030000000068');
  });

  it('logs requests without headers or bodies', () => {
    const s = serializeRequest({ method: 'POST', url: `/v1/x?id=${ID}`, id: 'r1', ip: '127.0.0.1', routeOptions: { url: '/v1/x' } });
    expect(s).toEqual({ id: 'r1', method: 'POST', url: '/v1/x?id=110101********451X', route: '/v1/x', remoteAddress: '127.0.0.1' });
  });
});
