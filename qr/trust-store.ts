// Holds the installed trust bundle: loads it from disk before the first verification (`ready`),
// replaces it only with a bundle that verifies under a pinned anchor AND has a higher seq (from an
// operator's file/API call or a configured URL polled periodically), persists what it installs
// atomically (temp file + rename), and reports the bundle's age and freshness state.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Sm2PublicKey } from '../crypto/index.ts';
import { QrError } from './result-codes.ts';
import { maskToTypes, parseTrustBundle, type TrustBundle } from './trust-bundle.ts';

export type ExpiredPolicy = 'fail' | 'degrade';
export type TrustState = 'none' | 'fresh' | 'stale' | 'expired';

export interface TrustStoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TrustStoreOptions {
  /** Pinned trust-anchor public keys (usually one; two during an anchor rotation). */
  anchors: Sm2PublicKey[];
  /** Where the installed bundle lives; read at start, rewritten on every install. */
  file?: string;
  /** A URL serving the signed bundle file; polled every refreshSeconds. */
  url?: string;
  refreshSeconds?: number;
  /** Warn (TRUSTLIST_STALE) when the bundle is older than this (default 24 h). */
  staleAfterSeconds?: number;
  /** Expired after nextUpdate + grace (default 72 h). */
  graceSeconds?: number;
  /** What an expired bundle does to verification (default 'fail'). */
  expiredPolicy?: ExpiredPolicy;
  /** Clock in Unix seconds (tests inject one). */
  now?: () => number;
  logger?: TrustStoreLogger;
  fetch?: typeof fetch;
}

export interface TrustInfo {
  state: TrustState;
  seq: number | null;
  issuedAt: string | null;
  nextUpdate: string | null;
  ageSeconds: number | null;
  expiredPolicy: ExpiredPolicy;
  anchorKid: string | null;
  source: string | null;
  keys: Array<{ kid: string; issuer: string; status: string; types: string[]; signFrom: string; signUntil: string; verifyUntil: string }>;
  revokedCards: number;
}

const iso = (s: number): string => new Date(s * 1000).toISOString();
const quietLogger: TrustStoreLogger = { info() {}, warn() {} };

export class TrustStore {
  private bundle: TrustBundle | undefined;
  private source: string | null = null;
  private readonly listeners = new Set<(b: TrustBundle) => void>();
  private timer: NodeJS.Timeout | undefined;
  private installing: Promise<unknown> = Promise.resolve();
  readonly ready: Promise<void>;
  readonly now: () => number;
  readonly staleAfterSeconds: number;
  readonly graceSeconds: number;
  readonly expiredPolicy: ExpiredPolicy;
  private readonly log: TrustStoreLogger;

  constructor(private readonly options: TrustStoreOptions) {
    if (!options.anchors.length) throw new QrError('QR_KEY_INVALID', 'at least one trust-anchor key must be pinned');
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.staleAfterSeconds = options.staleAfterSeconds ?? 86_400;
    this.graceSeconds = options.graceSeconds ?? 72 * 3600;
    this.expiredPolicy = options.expiredPolicy ?? 'fail';
    this.log = options.logger ?? quietLogger;
    // Loading starts at construction; verifiers await `ready`, so none can run before it settles.
    this.ready = this.loadFromDisk();
  }

  get current(): TrustBundle | undefined {
    return this.bundle;
  }

  /** Called after every successful install (the verifier drops its cache). */
  onChange(fn: (b: TrustBundle) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async loadFromDisk(): Promise<void> {
    if (!this.options.file) return;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.options.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err: (e as Error).message }, 'qr: trust bundle file unreadable');
      else this.log.warn({}, 'qr: no trust bundle installed yet (NO_TRUSTLIST until one is installed)');
      return;
    }
    try {
      this.swap(parseTrustBundle(bytes, this.options.anchors), 'file');
    } catch (e) {
      this.log.warn({ code: (e as QrError).code, err: (e as Error).message }, 'qr: trust bundle on disk rejected');
    }
  }

  /**
   * Verifies and installs a signed bundle if its seq is newer; persists it to the configured file.
   * Installs are serialised, so two concurrent installs cannot both pass the seq check.
   */
  install(fileBytes: Uint8Array, source = 'api'): Promise<TrustInfo> {
    const run = this.installing.then(async () => {
      await this.ready;
      const next = parseTrustBundle(fileBytes, this.options.anchors);
      if (this.bundle && next.seq <= this.bundle.seq) {
        throw new QrError('QR_TRUST_BUNDLE_NOT_NEWER', `trust bundle seq ${next.seq} is not newer than the installed seq ${this.bundle.seq}`, {
          installed: this.bundle.seq,
          offered: next.seq,
        });
      }
      if (this.options.file) {
        try {
          await writeAtomically(this.options.file, fileBytes);
        } catch (e) {
          // Not installed: a bundle that would vanish at the next restart is worse than a clear error.
          throw new QrError('QR_TRUST_BUNDLE_UNAVAILABLE', `the trust bundle file could not be written (${(e as NodeJS.ErrnoException).code ?? 'I/O error'})`, undefined, { cause: e });
        }
      }
      this.swap(next, source);
      return this.info();
    });
    this.installing = run.catch(() => undefined);
    return run;
  }

  private swap(next: TrustBundle, source: string): void {
    this.bundle = next;
    this.source = source;
    this.log.info({ seq: next.seq, keys: next.keys.length, revoked: next.revocation.size, source }, 'qr: trust bundle installed');
    for (const fn of this.listeners) fn(next);
  }

  /** Fetches the configured URL once; installs when newer. Returns whether it installed. */
  async refresh(): Promise<boolean> {
    const url = this.options.url;
    if (!url) return false;
    let bytes: Uint8Array;
    try {
      const res = await (this.options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'qr: trust bundle refresh failed; keeping the installed one');
      return false;
    }
    try {
      await this.install(bytes, 'url');
      return true;
    } catch (e) {
      if ((e as QrError).code !== 'QR_TRUST_BUNDLE_NOT_NEWER') this.log.warn({ code: (e as QrError).code, err: (e as Error).message }, 'qr: fetched trust bundle rejected');
      return false;
    }
  }

  /** Starts the periodic URL refresh (first one right after the disk load). */
  start(): void {
    if (!this.options.url || this.timer) return;
    const every = (this.options.refreshSeconds ?? 3600) * 1000;
    void this.ready.then(() => this.refresh());
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Freshness at `now` (seconds): fresh, stale (> staleAfter since issuedAt) or expired (> nextUpdate + grace). */
  state(now = this.now()): TrustState {
    const b = this.bundle;
    if (!b) return 'none';
    if (now > b.nextUpdate + this.graceSeconds) return 'expired';
    if (now - b.issuedAt > this.staleAfterSeconds) return 'stale';
    return 'fresh';
  }

  info(now = this.now()): TrustInfo {
    const b = this.bundle;
    return {
      state: this.state(now),
      seq: b?.seq ?? null,
      issuedAt: b ? iso(b.issuedAt) : null,
      nextUpdate: b ? iso(b.nextUpdate) : null,
      ageSeconds: b ? now - b.issuedAt : null,
      expiredPolicy: this.expiredPolicy,
      anchorKid: b?.anchorKid ?? null,
      source: this.source,
      keys: (b?.keys ?? []).map((k) => ({
        kid: k.kidHex,
        issuer: k.issuer,
        status: k.status,
        types: maskToTypes(k.typMask),
        signFrom: iso(k.signFrom),
        signUntil: iso(k.signUntil),
        verifyUntil: iso(k.verifyUntil),
      })),
      revokedCards: b?.revocation.size ?? 0,
    };
  }
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
