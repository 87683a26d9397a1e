// The raw-APDU policy, the client address through trusted proxies, and the token table.
import { describe, expect, it } from 'vitest';
import { restrictedReason } from '../../../daemon/api/apdu-policy.ts';
import { proxyList, resolveApiConfig, tokenGrants } from '../../../daemon/api/api-config.ts';
import { TokenTable } from '../../../daemon/api/capabilities.ts';
import { clientAddress } from '../../../daemon/api/security.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('raw-APDU policy', () => {
  it('refuses every command to a SAM slot, by kind or by number', () => {
    expect(restrictedReason(0x11, 'sam', hex('00A40000023F00'))).toMatch(/SAM slot/);
    expect(restrictedReason(0x14, undefined, hex('00B0000000'))).toMatch(/SAM slot/);
    expect(restrictedReason(0x11, 'sam', hex('80FA000010' + '00'.repeat(16)))).toMatch(/SAM slot/);
  });

  it('refuses retry-counter and key commands to a user card whatever the CLA bits', () => {
    for (const apdu of ['0020000003123456', '0C20000003123456', '008200031100112233445566778899AABBCCDDEEFF04', '0088000008' + '00'.repeat(8), '802400000100', '00C2000000', 'FF00000003002000']) {
      expect(restrictedReason(0x01, 'contact', hex(apdu)), apdu).toBeDefined();
    }
  });

  it('lets ordinary commands through (SELECT, READ, GET CHALLENGE, UPDATE, GET RESPONSE)', () => {
    for (const apdu of ['00A4040010D15600000500', '00A40000023F00', '00B0000000', '00B2010400', '0084000008', '00D6000002AABB', '04DC0104081122334455667788', '00C0000010', 'FFCA000000']) {
      expect(restrictedReason(0x01, 'contact', hex(apdu)), apdu).toBeUndefined();
    }
  });
});

describe('client address through trusted proxies', () => {
  const proxies = proxyList(['127.0.0.1', '10.0.0.0/8']);

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress('127.0.0.1', '203.0.113.9', undefined)).toEqual({ address: '127.0.0.1', relayed: false });
    expect(clientAddress('192.0.2.7', '127.0.0.1', proxies)).toEqual({ address: '192.0.2.7', relayed: false });
  });

  it('takes the first untrusted hop from the right; a forged leftmost entry changes nothing', () => {
    expect(clientAddress('127.0.0.1', '127.0.0.1, 203.0.113.9', proxies)).toEqual({ address: '203.0.113.9', relayed: true });
    expect(clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.1.2.3', proxies)).toEqual({ address: '203.0.113.9', relayed: true });
    expect(clientAddress('::ffff:127.0.0.1', ['127.0.0.1', '203.0.113.9'], proxies)).toEqual({ address: '203.0.113.9', relayed: true });
  });

  it('never makes a relayed request loopback: ::1 or 127.0.0.1 from the header stays relayed', () => {
    expect(clientAddress('127.0.0.1', '::1', proxies)).toEqual({ address: '::1', relayed: true });
    expect(clientAddress('127.0.0.1', undefined, proxies).relayed).toBe(true);
    expect(clientAddress('127.0.0.1', 'not-an-ip, 203.0.113.9', proxies)).toEqual({ address: '203.0.113.9', relayed: true });
    expect(clientAddress('127.0.0.1', '203.0.113.9, garbage', proxies)).toEqual({ address: 'unknown', relayed: true });
  });

  it('config: a list of addresses or ranges; true and garbage are refused with the reason', () => {
    expect(resolveApiConfig({ trustProxy: ['127.0.0.1', '::1', '10.0.0.0/8'] }).trustProxy).toHaveLength(3);
    expect(resolveApiConfig({ trustProxy: false }).trustProxy).toEqual([]);
    expect(() => resolveApiConfig({ trustProxy: true })).toThrow(/trustProxy: true is no longer accepted/);
    expect(() => resolveApiConfig({ trustProxy: ['proxy.lan'] })).toThrow(/trustProxy\[0\]/);
    expect(() => resolveApiConfig({ trustProxy: ['10.0.0.0/33'] })).toThrow(/trustProxy\[0\]/);
  });
});

describe('tokens and capabilities', () => {
  it('api.token carries everything but apdu.restricted; api.tokens carry what they list (and read)', () => {
    const config = resolveApiConfig({ token: 'a'.repeat(20), tokens: [{ name: 'vendor', token: 'b'.repeat(20), capabilities: ['apdu.restricted'] }] });
    const table = new TokenTable(tokenGrants(config));
    const main = table.match(`Bearer ${'a'.repeat(20)}`);
    const vendor = table.match(`bearer ${'b'.repeat(20)}`);
    if (typeof main !== 'object' || typeof vendor !== 'object') throw new Error('tokens not found');
    expect([...main.capabilities].sort()).toEqual(['apdu', 'read', 'trace.unmasked', 'trust.install', 'write']);
    expect([...vendor.capabilities].sort()).toEqual(['apdu.restricted', 'read']);
    expect(table.match(undefined)).toBe('missing');
    expect(table.match(`Bearer ${'a'.repeat(21)}`)).toBe('invalid');
    expect(table.match(`Basic ${'a'.repeat(20)}`)).toBe('invalid');
  });

  it('refuses unknown capabilities, short or duplicate tokens', () => {
    expect(() => resolveApiConfig({ tokens: [{ token: 'b'.repeat(20), capabilities: ['root'] }] })).toThrow(/tokens\[0\]\.capabilities/);
    expect(() => resolveApiConfig({ tokens: [{ token: 'short', capabilities: [] }] })).toThrow(/tokens\[0\]\.token/);
    expect(() => resolveApiConfig({ token: 'c'.repeat(20), tokens: [{ token: 'c'.repeat(20), capabilities: [] }] })).toThrow(/twice/);
  });
});
