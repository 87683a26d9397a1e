// The daemon's QR verification service: one Verifier (trust store, cache, replay guard, optional
// Redis shared store and worker pool) behind the HTTP routes and the readers' scanners. It counts
// results for /v1/qr/stats and the metrics, publishes `qr.scanned` events without cardholder data,
// and logs outcomes by code only (never the text, never the card id).
import { Sm2PublicKey } from '../../crypto/index.ts';
import { buildDemoTrustBundle, demoAnchorPublicKey, DEMO_TRUST_WARNING } from '../../qr/demo-trust.ts';
import { QR_RESULT_CODES, QrError, type QrResultCode } from '../../qr/result-codes.ts';
import { RedisSharedStore } from '../../qr/stores/redis-shared-store.ts';
import type { SharedQrStore } from '../../qr/stores/shared-store.ts';
import { TrustStore, type ExpiredPolicy, type TrustInfo } from '../../qr/trust-store.ts';
import { Verifier, type ReplayStorePolicy, type StaticCheck } from '../../qr/verifier.ts';
import { VerifyPool } from '../../qr/verify-pool.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { Metrics } from '../metrics/metrics.ts';
// What it returns: the API's shapes (one definition, daemon/api/schemas/qr.ts).
import type { QrStats, QrTrust, QrVerifyResult } from '../api/schemas/qr.ts';

export interface QrServiceLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface QrServiceOptions {
  /** Pinned trust-anchor public keys, hex 04‖x‖y (or keys). Required unless demo. */
  anchors?: Array<string | Sm2PublicKey>;
  /** The installed bundle's file (read at start, rewritten on install). */
  trustBundle?: string;
  /** URL polled for newer bundles. */
  trustUrl?: string;
  trustRefreshSeconds?: number;
  staleAfterSeconds?: number;
  graceSeconds?: number;
  expiredPolicy?: ExpiredPolicy;
  /** redis://… or a unix socket path: shared replay guard and verdicts across desks. */
  redisUrl?: string;
  sharedDownPolicy?: ReplayStorePolicy;
  /** The second check a valid static code needs (default id-card). */
  staticCheck?: StaticCheck;
  /** Worker threads for cold verifications under load (0 = none; default 1 on 2 cores). */
  poolSize?: number;
  offloadAbovePerSecond?: number;
  cache?: { maxEntries?: number; maxBytes?: number; negativeTtlMs?: number };
  bounceMs?: number;
  /** TEST-ONLY: pin the demo anchor and install the demo bundle (the daemon's --sim). */
  demo?: boolean;
  events?: EventBus;
  metrics?: Metrics;
  logger?: QrServiceLogger;
  nowMs?: () => number;
}

export interface QrVerifyContext {
  /** Desk or scanner id: same text at the same terminal within seconds is a bounce. */
  terminal?: string;
  /** Reader whose scanner produced the text (set on scanner events). */
  readerId?: string;
}

/** A scan's full result (with the card id) kept briefly for the HIS, addressed by scanId. */
interface RecentScan {
  atMs: number;
  result: QrVerifyResult;
}

const RECENT_SCANS = 256;
const RECENT_SCAN_MS = 120_000;

export class QrService {
  readonly trust: TrustStore;
  readonly verifier: Verifier;
  private readonly shared?: SharedQrStore;
  private readonly pool?: VerifyPool;
  private readonly counts = new Map<QrResultCode, number>();
  private total = 0;
  private readonly recent = new Map<string, RecentScan>();
  private scanSeq = 0;
  /** Settles when the last scan's event is published (keeps qr.scanned in scan order). */
  private publishTail: Promise<void> = Promise.resolve();
  private readonly events?: EventBus;
  private readonly metrics?: Metrics;
  private readonly log: QrServiceLogger;
  private readonly nowMs: () => number;
  readonly demo: boolean;

  constructor(options: QrServiceOptions) {
    this.log = options.logger ?? { info() {}, warn() {} };
    this.events = options.events;
    this.metrics = options.metrics;
    this.nowMs = options.nowMs ?? Date.now;
    this.demo = options.demo ?? false;
    const anchors = (options.anchors ?? []).map((a) => (typeof a === 'string' ? parseAnchor(a) : a));
    if (this.demo) {
      anchors.push(demoAnchorPublicKey());
      this.log.warn({}, `qr: ${DEMO_TRUST_WARNING}`);
    }
    if (!anchors.length) throw new QrError('QR_KEY_INVALID', 'qr: no trust anchor configured (set the anchor public key, or use the demo with --sim)');
    this.trust = new TrustStore({
      anchors,
      file: options.trustBundle,
      url: options.trustUrl,
      refreshSeconds: options.trustRefreshSeconds,
      staleAfterSeconds: options.staleAfterSeconds,
      graceSeconds: options.graceSeconds,
      expiredPolicy: options.expiredPolicy,
      now: () => Math.floor(this.nowMs() / 1000),
      logger: this.log,
    });
    if (options.redisUrl) this.shared = new RedisSharedStore({ url: options.redisUrl });
    const poolSize = options.poolSize ?? 1;
    if (poolSize > 0) this.pool = new VerifyPool({ size: poolSize, offloadAbovePerSecond: options.offloadAbovePerSecond });
    this.verifier = new Verifier({
      trust: this.trust,
      nowMs: this.nowMs,
      cache: options.cache,
      bounceMs: options.bounceMs,
      shared: this.shared,
      sharedDownPolicy: options.sharedDownPolicy,
      staticCheck: options.staticCheck,
      offThread: this.pool,
      onSharedStoreChange: (up, error) =>
        up
          ? this.log.info({}, 'qr: shared store (Redis) is back; replay is checked across desks again')
          : this.log.warn({ err: error }, 'qr: shared store (Redis) unreachable; replay is checked at this desk only until it is back'),
    });
    this.metrics?.describe('yika_qr_results_total', 'counter', 'QR verifications by result code');
    this.metrics?.describe('yika_qr_cache_lookups_total', 'counter', 'QR verdict cache lookups by result (hit, miss)');
    this.metrics?.describe('yika_qr_verify_seconds', 'histogram', 'QR verification latency');
    this.metrics?.describe('yika_qr_trust_bundle_age_seconds', 'gauge', 'Age of the installed QR trust bundle');
    if (this.demo) void this.installDemoBundle();
    this.trust.start();
  }

  /** Resolves once the bundle on disk (and the demo bundle) is loaded. */
  async ready(): Promise<void> {
    await this.trust.ready;
    await this.demoInstalled;
  }

  private demoInstalled: Promise<void> = Promise.resolve();
  private installDemoBundle(): Promise<void> {
    this.demoInstalled = this.trust
      .install(buildDemoTrustBundle(Math.floor(this.nowMs() / 1000)), 'demo')
      .then(() => undefined)
      .catch((e: QrError) => {
        if (e.code !== 'QR_TRUST_BUNDLE_NOT_NEWER') this.log.warn({ code: e.code }, 'qr: demo trust bundle not installed');
      });
    return this.demoInstalled;
  }

  /** Verifies a scanned or posted text. The result carries the card id for the caller: never log it. */
  async verify(text: string, context: QrVerifyContext = {}): Promise<QrVerifyResult> {
    if (this.demo) await this.demoInstalled;
    const start = performance.now();
    const result = await this.verifier.verify(text, { terminal: context.terminal ?? context.readerId });
    this.total++;
    this.counts.set(result.code, (this.counts.get(result.code) ?? 0) + 1);
    if (this.metrics) {
      this.metrics.inc('yika_qr_results_total', { code: result.code });
      if (!result.bounce && result.kid !== null) this.metrics.inc('yika_qr_cache_lookups_total', { result: result.cached ? 'hit' : 'miss' });
      this.metrics.observe('yika_qr_verify_seconds', (performance.now() - start) / 1000);
      if (result.bundleAge !== null) this.metrics.set('yika_qr_trust_bundle_age_seconds', result.bundleAge);
    }
    this.log.debug?.({ code: result.code, kid: result.kid, type: result.type, cached: result.cached, bounce: result.bounce, readerId: context.readerId }, 'qr: verified');
    return result;
  }

  /**
   * A reader's scanner read `text`: verify, keep the full result for the HIS under a scanId for two
   * minutes, and publish `qr.scanned` with the result minus the card id.
   */
  async scanned(text: string, context: QrVerifyContext & { readerId: string }): Promise<QrVerifyResult & { scanId: string }> {
    // Verifications run concurrently (a cold EHC1 code takes longer than a NOT_EHC1 text), but
    // their qr.scanned events are published in scan order: each waits for the one scanned before it.
    const scanId = `${context.readerId}-${++this.scanSeq}`;
    const verifying = this.verify(text, context);
    const previous = this.publishTail;
    const published = (async () => {
      const result = await verifying;
      await previous;
      this.rememberScan(scanId, result);
      this.events?.publish({ type: 'qr.scanned', readerId: context.readerId, result: { scanId, ...publicView(result) } }, sensitiveText(result, text));
      return result;
    })();
    this.publishTail = published.then(
      () => undefined,
      () => undefined,
    );
    const result = await published;
    return { ...result, scanId };
  }

  private rememberScan(scanId: string, result: QrVerifyResult): void {
    const now = this.nowMs();
    for (const [k, v] of this.recent) {
      if (this.recent.size < RECENT_SCANS && now - v.atMs < RECENT_SCAN_MS) break;
      this.recent.delete(k);
    }
    this.recent.set(scanId, { atMs: now, result });
  }

  /** The full result of a recent scan (with the card id), or undefined once it is older than two minutes. */
  scan(scanId: string): QrVerifyResult | undefined {
    const s = this.recent.get(scanId);
    if (!s || this.nowMs() - s.atMs > RECENT_SCAN_MS) return undefined;
    return s.result;
  }

  stats(): QrStats {
    const c = this.verifier.cacheStats();
    const results: QrStats['results'] = {};
    for (const code of QR_RESULT_CODES) if (this.counts.has(code)) results[code] = this.counts.get(code);
    const t = this.trust.info();
    return {
      verifications: this.total,
      results,
      cache: { ...c, hitRate: c.hits + c.misses ? c.hits / (c.hits + c.misses) : 0 },
      shared: { configured: !!this.shared, healthy: this.shared ? this.shared.healthy : null },
      pool: { size: this.pool?.size ?? 0 },
      trust: { state: t.state, seq: t.seq, ageSeconds: t.ageSeconds },
    };
  }

  trustInfo(): QrTrust {
    return { ...this.trust.info(), demo: this.demo };
  }

  /** Installs a signed bundle (verified under the pinned anchors, newer seq only). */
  async installTrust(bundle: Uint8Array): Promise<TrustInfo> {
    return this.trust.install(bundle, 'api');
  }

  /** What is degraded, for the daemon's /v1/health. */
  degraded(): Array<{ component: string; reason: string; reasonZh: string }> {
    const out: Array<{ component: string; reason: string; reasonZh: string }> = [];
    const state = this.trust.state();
    if (state === 'none') out.push({ component: 'qr.trust', reason: 'no QR trust bundle installed: codes cannot be verified offline (POST /v1/qr/trust or set qr.trustBundle)', reasonZh: '未安装二维码信任列表，无法离线核验健康码。' });
    else if (state === 'stale') out.push({ component: 'qr.trust', reason: 'the QR trust bundle is more than a day old: refresh it', reasonZh: '二维码信任列表超过一天未更新，请更新。' });
    else if (state === 'expired') out.push({ component: 'qr.trust', reason: `the QR trust bundle has expired (policy: ${this.trust.expiredPolicy})`, reasonZh: '二维码信任列表已过期，请尽快更新。' });
    if (this.shared && !this.shared.healthy) out.push({ component: 'qr.shared', reason: 'Redis unreachable: QR replay is checked at this desk only', reasonZh: '共享存储（Redis）不可用：防重放仅在本机检查。' });
    if (this.demo) out.push({ component: 'qr.trust', reason: 'TEST-ONLY demo trust anchor in use', reasonZh: '正在使用仅供测试的演示信任锚。' });
    return out;
  }

  async close(): Promise<void> {
    this.trust.stop();
    await this.pool?.close();
    await this.shared?.close();
  }
}

function parseAnchor(hex: string): Sm2PublicKey {
  try {
    return Sm2PublicKey.fromHex(hex.trim());
  } catch (e) {
    throw new QrError('QR_KEY_INVALID', 'qr: a trust anchor is not an SM2 public key in hex (04‖x‖y)', undefined, { cause: e });
  }
}

/**
 * The scanned text of a payment, insurance or ID code, handed to the event bus as a transient part of
 * the event: never kept in its history, sent only to subscribers that asked with the API token.
 */
function sensitiveText(result: QrVerifyResult, text: string): { text: string } | undefined {
  return result.masked !== null ? { text: text.trim() } : undefined;
}

/** A result without the card id: for events, logs and pages that need the outcome only. */
export function publicView(result: QrVerifyResult): Record<string, unknown> {
  const { claims, ...rest } = result;
  return { ...rest, claims: claims ? { cardIdKind: claims.cardIdKind, ttl: claims.ttl } : null };
}
