// `yika qr`: keygen → bundle → issue (text, PNG, SVG) → verify --offline, end to end in-process,
// with exit codes (0 valid, 1 refused, 2 usage) and typed errors for bad keys and card ids.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../../daemon/cli/commands/qr.ts';

const dir = mkdtempSync(join(tmpdir(), 'yika-qr-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function yika(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('yika qr', () => {
  const anchor = join(dir, 'anchor.json');
  const issuer = join(dir, 'issuer.json');
  const bundle = join(dir, 'bundle.bin');
  const card = 'ab'.repeat(32);
  const revoked = 'cd'.repeat(32);

  it('keygen writes a 0600 key file; bundle signs keys and revocations', async () => {
    expect((await yika('keygen', '--out', anchor)).code).toBe(0);
    expect((await yika('keygen', '--out', issuer)).code).toBe(0);
    expect(statSync(anchor).mode & 0o777).toBe(0o600);
    const b = await yika('bundle', '--anchor-key', anchor, '--seq', '5', '--key', issuer, '--issuer', 'CLI test', '--revoke', revoked, '--out', bundle);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/seq 5, 1 key\(s\), 1 revoked card/);
  });

  it('issue → verify --offline: VALID (exit 0), revoked card (exit 1), garbage (exit 1)', async () => {
    const png = join(dir, 'c.png');
    const svg = join(dir, 'c.svg');
    const issued = await yika('issue', '--key', issuer, '--card', card, '--static', '--png', png, '--svg', svg);
    expect(issued.code).toBe(0);
    const text = issued.out.trim().split('\n').pop()!;
    expect(text).toMatch(/^EHC1:\d{300,}$/);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(svg, 'utf8')).toMatch(/<svg/);
    const ok = await yika('verify', text, '--offline', '--bundle', bundle, '--anchor', anchor, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, code: 'VALID', type: 'static', key: { issuer: 'CLI test' }, claims: { cardId: card } });
    const rev = (await yika('issue', '--key', issuer, '--card', revoked)).out.trim();
    const refused = await yika('verify', rev, '--offline', '--bundle', bundle, '--anchor', anchor);
    expect([refused.code, refused.out]).toEqual([1, expect.stringMatching(/REFUSED {2}CARD_REVOKED/)]);
    expect((await yika('verify', 'hello', '--offline', '--bundle', bundle, '--anchor', anchor)).code).toBe(1);
  });

  it('typed errors and usage: wrong anchor, bad card id, missing flags, --terminal QR', async () => {
    const text = (await yika('issue', '--key', issuer, '--card', card)).out.trim();
    const wrong = await yika('verify', text, '--offline', '--bundle', bundle, '--anchor', issuer);
    expect([wrong.code, wrong.err]).toEqual([1, expect.stringMatching(/QR_TRUST_BUNDLE_INVALID/)]);
    expect((await yika('issue', '--key', issuer, '--card', '12')).code).toBe(2);
    expect((await yika('issue', '--card', card)).code).toBe(2);
    expect((await yika('issue', '--key', join(dir, 'nope.json'), '--card', card)).err).toMatch(/QR_KEY_INVALID/);
    expect((await yika('frobnicate')).code).toBe(2);
    expect((await yika('issue', '--key', issuer, '--card', card, '--ext', '{nope')).code).toBe(2);
    expect((await yika('issue', '--key', issuer, '--card', card, '--ttl', 'soon')).code).toBe(2);
    expect((await yika('issue', '--key', issuer, '--card', card, '--ttl', '5')).err).toMatch(/QR_ISSUE_INVALID/);
    const ext = await yika('issue', '--key', issuer, '--card', card, '--ext', '{"dept":"ER"}');
    const r = await yika('verify', ext.out.trim(), '--offline', '--bundle', bundle, '--anchor', anchor, '--json');
    expect(JSON.parse(r.out).claims.ext).toEqual({ dept: 'ER' });
    const term = await yika('issue', '--key', issuer, '--card', card, '--terminal');
    expect(term.out).toMatch(/[█▀▄]/);
    expect(existsSync(join(dir, 'nope.json'))).toBe(false);
  });

  it('install: an unreachable daemon and a missing file are one line with the documented exit code, never a stack', async () => {
    const down = await yika('install', bundle, '--url', 'http://127.0.0.1:9');
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/^yika: DAEMON_UNREACHABLE: [^\n]+\n$/);
    const missing = await yika('install', '/nonexistent');
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('yika: FILE_UNREADABLE: /nonexistent: no such file or directory\n');
    const json = await yika('install', '/nonexistent', '--json');
    expect(JSON.parse(json.out)).toEqual({ error: { code: 'FILE_UNREADABLE', message: '/nonexistent: no such file or directory' } });
    for (const r of [down, missing, json]) expect(r.err + r.out).not.toMatch(/\n\s+at /);
  });
});
