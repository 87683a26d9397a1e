// The trust store: loaded from disk before the first verification, replaced only by a verified newer
// bundle (file, API or URL), persisted atomically, with freshness states and bounded parsing.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sm2PrivateKey } from '../../../crypto/index.ts';
import { buildTrustBundle, parseTrustBundle } from '../../../qr/trust-bundle.ts';
import { TrustStore } from '../../../qr/trust-store.ts';
import { Verifier } from '../../../qr/verifier.ts';
import { DAY, NOW, anchor, bundleBytes, bundleSpec, code } from './qr-test-trust.ts';

const dir = mkdtempSync(join(tmpdir(), 'yika-qr-trust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `bundle-${++n}.bin`);

describe('TrustStore', () => {
  it('loads the bundle from disk before the first verification (no race with the loader)', async () => {
    const f = file();
    writeFileSync(f, bundleBytes());
    const trust = new TrustStore({ anchors: [anchor.publicKey], file: f, now: () => NOW });
    const v = new Verifier({ trust, nowMs: () => NOW * 1000 });
    // verify() is called synchronously after construction: it must wait for the disk load.
    const r = await v.verify(code({ type: 'static', ttl: DAY }));
    expect([r.code, r.bundleSeq]).toEqual(['VALID', 7]);
  });

  it('reports NO_TRUSTLIST when the file is missing or signed by another anchor, and keeps running', async () => {
    const warnings: string[] = [];
    const logger = { info() {}, warn: (_o: object, m: string) => warnings.push(m) };
    const missing = new TrustStore({ anchors: [anchor.publicKey], file: join(dir, 'nope.bin'), now: () => NOW, logger });
    expect((await new Verifier({ trust: missing, nowMs: () => NOW * 1000 }).verify(code())).code).toBe('NO_TRUSTLIST');
    const f = file();
    writeFileSync(f, buildTrustBundle(bundleSpec(), Sm2PrivateKey.generate()));
    const foreign = new TrustStore({ anchors: [anchor.publicKey], file: f, now: () => NOW, logger });
    await foreign.ready;
    expect(foreign.current).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/rejected/);
  });

  it('installs only a newer seq, persists it atomically, and a restart loads the persisted one', async () => {
    const f = file();
    const trust = new TrustStore({ anchors: [anchor.publicKey], file: f, now: () => NOW });
    await trust.install(bundleBytes({ seq: 10 }));
    await expect(trust.install(bundleBytes({ seq: 10 }))).rejects.toMatchObject({ code: 'QR_TRUST_BUNDLE_NOT_NEWER' });
    await expect(trust.install(bundleBytes({ seq: 9 }))).rejects.toMatchObject({ code: 'QR_TRUST_BUNDLE_NOT_NEWER' });
    const info = await trust.install(bundleBytes({ seq: 11 }));
    expect([info.seq, info.state, info.keys.length, info.revokedCards]).toEqual([11, 'fresh', 8, 4]);
    expect(parseTrustBundle(readFileSync(f), [anchor.publicKey]).seq).toBe(11);
    expect(existsSync(`${f}.${process.pid}.tmp`)).toBe(false);
    const restarted = new TrustStore({ anchors: [anchor.publicKey], file: f, now: () => NOW });
    await restarted.ready;
    expect(restarted.current?.seq).toBe(11);
  });

  it('serialises concurrent installs: of two bundles with the same seq exactly one wins', async () => {
    const trust = new TrustStore({ anchors: [anchor.publicKey], now: () => NOW });
    const results = await Promise.allSettled([trust.install(bundleBytes({ seq: 3 })), trust.install(bundleBytes({ seq: 3 })), trust.install(bundleBytes({ seq: 2 }))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('refuses tampered, truncated and foreign bundles with QR_TRUST_BUNDLE_INVALID, keeping the installed one', async () => {
    const trust = new TrustStore({ anchors: [anchor.publicKey], now: () => NOW });
    await trust.install(bundleBytes({ seq: 1 }));
    const good = bundleBytes({ seq: 2 });
    const tampered = Uint8Array.from(good);
    tampered[40] ^= 1;
    for (const bad of [tampered, good.subarray(0, good.length - 10), new Uint8Array(0), Uint8Array.from([0x93, 1, 2, 3]), new TextEncoder().encode('{"seq":99}')]) {
      await expect(trust.install(bad)).rejects.toMatchObject({ code: 'QR_TRUST_BUNDLE_INVALID' });
    }
    expect(trust.current?.seq).toBe(1);
  });

  it('accepts bundles of a second pinned anchor (anchor rotation)', async () => {
    const next = Sm2PrivateKey.generate();
    const trust = new TrustStore({ anchors: [anchor.publicKey, next.publicKey], now: () => NOW });
    await trust.install(buildTrustBundle(bundleSpec({ seq: 20 }), next));
    expect(trust.current?.seq).toBe(20);
  });

  it('states: fresh, stale after 24 h, expired after nextUpdate + grace', async () => {
    const trust = new TrustStore({ anchors: [anchor.publicKey], now: () => NOW, graceSeconds: 3600 });
    expect(trust.state()).toBe('none');
    await trust.install(bundleBytes({ issuedAt: NOW - 100, nextUpdate: NOW + DAY }));
    expect(trust.state(NOW)).toBe('fresh');
    expect(trust.state(NOW + DAY)).toBe('stale');
    expect(trust.state(NOW + DAY + 3601)).toBe('expired');
    expect(trust.info(NOW).ageSeconds).toBe(100);
  });

  it('refreshes from a URL: installs a newer bundle, ignores an older one and survives a server error', async () => {
    let serve: Uint8Array | null = bundleBytes({ seq: 30 });
    const server: Server = createServer((_req, res) => {
      if (!serve) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.end(Buffer.from(serve));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const trust = new TrustStore({ anchors: [anchor.publicKey], url: `http://127.0.0.1:${port}/bundle`, now: () => NOW });
      expect(await trust.refresh()).toBe(true);
      expect(trust.current?.seq).toBe(30);
      expect(await trust.refresh()).toBe(false); // same seq
      serve = null;
      expect(await trust.refresh()).toBe(false); // HTTP 500: keeps seq 30
      serve = bundleBytes({ seq: 31 });
      expect(await trust.refresh()).toBe(true);
      expect(trust.current?.seq).toBe(31);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('TrustStore persistence failure', () => {
  it('an unwritable bundle file refuses the install with QR_TRUST_BUNDLE_UNAVAILABLE and keeps the old bundle', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const trust = new TrustStore({ anchors: [anchor.publicKey], file: join(blocker, 'bundle.bin'), now: () => NOW });
    await expect(trust.install(bundleBytes({ seq: 40 }))).rejects.toMatchObject({ code: 'QR_TRUST_BUNDLE_UNAVAILABLE' });
    expect(trust.current).toBeUndefined();
  });
});
