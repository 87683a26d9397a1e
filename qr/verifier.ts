// The EHC1 verifier: the checks of QR.md in order, each failure with its own code and a message for
// the front desk (never the payload). The expensive, time-independent part (decode, key lookup,
// claims, SM2, revocation) becomes a Verdict cached per normalised text and per trust bundle; the
// time window, trust-list state and replay guard run on every call, cached or not.
import { DEFAULT_SM2_ID, sm3, toHex as hex } from '../crypto/index.ts';
import {
  EHC1_VERSION,
  MIN_BODY_LENGTH,
  TYPE_MASK_BIT,
  parseClaims,
  parseHeader,
  splitBody,
  type CodeType,
  type Ehc1Claims,
} from './ehc1-body.ts';
import { classifyCode, maskCode, SENSITIVE_KINDS, type PaymentScheme, type QrKind, type StaticCheck } from './code-kind.ts';
import { decodeDigits, normaliseText } from './ehc1-text.ts';
import { QR_RESULT_DESCRIPTIONS, type QrResultCode, type QrWarningCode } from './result-codes.ts';
import { ResultCache, type CacheStats } from './result-cache.ts';
import { revocationHash } from './revocation-list.ts';
import { MemoryReplayGuard } from './stores/memory-replay-guard.ts';
import type { SharedQrStore } from './stores/shared-store.ts';
import type { TrustBundle, TrustKey } from './trust-bundle.ts';
import type { TrustStore } from './trust-store.ts';
import type { MsgValue } from './strict-msgpack.ts';

/** What a desk and the HIS get back. `claims` only when ok (the HIS needs the card id: never log it). */
export interface QrVerifyResult {
  ok: boolean;
  code: QrResultCode;
  message: string;
  type: CodeType | null;
  key: { kid: string; issuer: string } | null;
  /** The kid from the header (also when the key is unknown). */
  kid: string | null;
  claims: QrClaimsView | null;
  issuedAt: string | null;
  expiresAt: string | null;
  bundleSeq: number | null;
  /** Seconds since the trust bundle was issued (null without a bundle). */
  bundleAge: number | null;
  warnings: QrWarningCode[];
  /** True when the expensive part came from the cache. */
  cached: boolean;
  /** True when this is the repeat of a scan at the same terminal within the bounce window. */
  bounce: boolean;
  /** What kind of code the text is (QR.md §13): ehc1, ehc-online, insurance, payment, id-number, unknown. */
  kind: QrKind;
  /** Payment codes: the scheme whose documented format matched (wechat, alipay, unionpay). */
  scheme: PaymentScheme | null;
  /** Payment, insurance and ID texts: a masked form (the text itself is never kept, logged or sent in events). */
  masked: string | null;
  /**
   * Valid codes: 'dynamic' (regenerated on the phone, single use) or 'static' (printed or a screenshot:
   * anyone holding it passes the checks). Null unless ok.
   */
  assurance: CodeType | null;
  /** Valid static codes: the second check local policy asks for before accepting (QR.md §14). Null otherwise. */
  staticCheck: StaticCheck | null;
}

export type { StaticCheck };

export interface QrClaimsView {
  /** Hex card id (64 hex digits) or pseudonym (32). Cardholder data: hand to the HIS, never log. */
  cardId: string;
  cardIdKind: 'card' | 'pseudonym';
  ttl: number;
  ext?: Record<string, unknown>;
}

export interface VerifyOptions {
  /** The desk or scanner that read the code: scanner bounces are recognised per terminal. */
  terminal?: string;
}

export type ReplayStorePolicy = 'local' | 'fail';

export interface VerifierOptions {
  trust: TrustStore;
  /** Clock in ms (tests inject one). Default Date.now. */
  nowMs?: () => number;
  skewSeconds?: { dynamic: number; static: number };
  cache?: { maxEntries?: number; maxBytes?: number; negativeTtlMs?: number };
  /** Same text at the same terminal within this window = one scan bounced (default 3 s). */
  bounceMs?: number;
  /** Optional shared store (Redis) for replay and verdicts across desks. */
  shared?: SharedQrStore;
  /** When the shared store is down: verify replay locally with a warning ('local', default) or refuse dynamic codes ('fail'). */
  sharedDownPolicy?: ReplayStorePolicy;
  /** Optional off-thread SM2 verification, used when `useOffThread()` says so. */
  offThread?: { verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>; shouldOffload(): boolean };
  /** Called once when the shared store goes down and once when it is back (the service logs it). */
  onSharedStoreChange?: (healthy: boolean, error?: string) => void;
  maxReplayEntries?: number;
  /** The second check a valid static code needs at this desk (default 'id-card'). */
  staticCheck?: StaticCheck;
}

/** The cached, time-independent outcome for one normalised text under one trust bundle. */
interface Verdict {
  code: QrResultCode; // a failure code, or VALID = passed everything up to revocation
  detail?: string;
  type: CodeType | null;
  kidHex: string | null;
  key?: TrustKey;
  keyView?: { kid: string; issuer: string };
  claims?: Ehc1Claims;
  claimsView?: QrClaimsView;
  cardRevoked?: boolean;
  issuedAt?: string;
  expiresAt?: string;
  replayKey?: string;
}

type Pending = { kind: 'result'; result: QrVerifyResult } | { kind: 'verdict'; verdict: Verdict; text: string; hit: boolean } | { kind: 'signature'; text: string; work: SignatureWork };

interface SignatureWork {
  bundle: TrustBundle;
  type: CodeType;
  kidHex: string;
  candidates: TrustKey[];
  claims: Ehc1Claims;
  signedMessage: Uint8Array;
  signature: Uint8Array;
}

const NEGATIVE_TTL_MS = 5_000;
const SCHEME_NAMES: Record<PaymentScheme, string> = { wechat: 'WeChat Pay', alipay: 'Alipay', unionpay: 'UnionPay' };
/** What the desk should do with a code that is not a health code (the page shows the same in Chinese). */
const KIND_MESSAGES: Record<QrKind, (scheme: PaymentScheme | null) => string> = {
  ehc1: () => QR_RESULT_DESCRIPTIONS.NOT_EHC1,
  'ehc-online': () => QR_RESULT_DESCRIPTIONS.LEGACY_ONLINE_ONLY,
  insurance: () => 'A medical-insurance electronic voucher (医保电子凭证), not a health code: use it at the medical-insurance terminal or HIS insurance step.',
  payment: (s) => `A ${s ? SCHEME_NAMES[s] : 'payment'} payment code, not a health code: use it only for payment (Yika does not keep it).`,
  'id-number': () => 'A resident ID number, not a health code: find the patient by ID number, or ask for the health card.',
  unknown: () => QR_RESULT_DESCRIPTIONS.NOT_EHC1,
};
const VALID_DYNAMIC = 'Valid dynamic health code.';
const VALID_STATIC = 'Valid static health code.';
/** A static code is a printed or screenshotted code: local practice pairs it with a second check. */
const STATIC_CHECK_MESSAGES: Record<Exclude<StaticCheck, 'none'>, string> = {
  'id-card': 'A static code: confirm the patient with their ID card before accepting it.',
  password: 'A static code: ask for the health card password before accepting it.',
  sms: 'A static code: confirm with the SMS code sent to the patient before accepting it.',
};
const pad2 = (n: number): string => (n < 10 ? '0' + n : '' + n);

/**
 * Seconds since the epoch as ISO 8601 UTC with milliseconds (what Date#toISOString gives), by integer
 * civil-from-days arithmetic: about 4× cheaper than a Date, and a cold verification formats two.
 */
function iso(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds >= 253402300800) return new Date(seconds * 1000).toISOString();
  const days = Math.floor(seconds / 86400);
  let rem = seconds - days * 86400;
  const hh = Math.floor(rem / 3600);
  rem -= hh * 3600;
  const mm = Math.floor(rem / 60);
  const ss = rem - mm * 60;
  // H. Hinnant's civil_from_days (proleptic Gregorian, eras of 400 years)
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y + '-' + pad2(m) + '-' + pad2(d) + 'T' + pad2(hh) + ':' + pad2(mm) + ':' + pad2(ss) + '.000Z';
}

/** One frozen { kid, issuer } per trust key, shared by every verdict that key verified. */
const keyViews = new WeakMap<TrustKey, Readonly<{ kid: string; issuer: string }>>();
function keyViewOf(key: TrustKey): Readonly<{ kid: string; issuer: string }> {
  let v = keyViews.get(key);
  if (!v) keyViews.set(key, (v = Object.freeze({ kid: key.kidHex, issuer: key.issuer })));
  return v;
}

function jsonSafe(v: MsgValue): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return typeof v === 'bigint' ? v.toString() : v;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function ago(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

export class Verifier {
  readonly trust: TrustStore;
  private readonly nowMs: () => number;
  private readonly skew: { dynamic: number; static: number };
  private readonly cache: ResultCache<Verdict>;
  private readonly negativeTtlMs: number;
  private readonly bounceMs: number;
  private readonly bounces = new Map<string, { atMs: number; result: QrVerifyResult }>();
  private readonly replay: MemoryReplayGuard;
  private readonly shared?: SharedQrStore;
  private readonly sharedDownPolicy: ReplayStorePolicy;
  private readonly staticCheck: StaticCheck;
  private readonly offThread?: VerifierOptions['offThread'];
  private readonly onSharedStoreChange?: VerifierOptions['onSharedStoreChange'];
  private sharedUp = true;
  /** Replay claims made while the shared store was down, pushed to it when it is back. */
  private readonly unsynced = new Map<string, number>();
  private loaded = false;
  private bundleSeq = -1;

  constructor(options: VerifierOptions) {
    this.trust = options.trust;
    this.nowMs = options.nowMs ?? Date.now;
    this.skew = options.skewSeconds ?? { dynamic: 30, static: 300 };
    this.cache = new ResultCache<Verdict>(options.cache?.maxEntries ?? 100_000, options.cache?.maxBytes ?? 64 * 1024 * 1024);
    this.negativeTtlMs = options.cache?.negativeTtlMs ?? NEGATIVE_TTL_MS;
    this.bounceMs = options.bounceMs ?? 3_000;
    this.replay = new MemoryReplayGuard(options.maxReplayEntries);
    this.shared = options.shared;
    this.sharedDownPolicy = options.sharedDownPolicy ?? 'local';
    this.staticCheck = options.staticCheck ?? 'id-card';
    this.offThread = options.offThread;
    this.onSharedStoreChange = options.onSharedStoreChange;
    // A new bundle changes keys and revocations: every cached verdict is void.
    this.trust.onChange(() => this.cache.clear());
    // Without waiting for traffic: a store that is back gets the outage-time claims, a store that
    // lost its data gets every claim this desk holds (QR.md §7).
    this.shared?.on?.('ready', () => this.sharedHealthy(true));
    this.shared?.on?.('reset', () => void this.repushAll());
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  /** Waits for the trust bundle loader, then verifies (uses the shared store and off-thread SM2 if configured). */
  async verify(rawText: string, options: VerifyOptions = {}): Promise<QrVerifyResult> {
    if (!this.loaded) {
      await this.trust.ready;
      this.loaded = true;
    }
    const nowMs = this.nowMs();
    const pending = this.begin(rawText, options, nowMs);
    if (pending.kind === 'result') return pending.result;
    let verdict: Verdict;
    let cached = false;
    if (pending.kind === 'verdict') {
      verdict = pending.verdict;
      cached = pending.hit;
    } else {
      const shared = await this.sharedVerdict(pending.text, pending.work);
      cached = shared !== undefined;
      const signer = shared ?? (await this.checkSignature(pending.work));
      verdict = this.verdictAfterSignature(pending.work, signer);
      this.remember(pending.text, verdict, nowMs);
      if (!cached && this.shared) void this.storeSharedVerdict(pending.text, pending.work, signer);
    }
    return this.finish(verdict, cached, pending.text, options, nowMs, true);
  }

  /**
   * Synchronous verification with local state only (no shared store, no worker): for the simulator,
   * the bench and callers that have awaited `trust.ready`. Before the loader settles it reports NO_TRUSTLIST.
   */
  verifySync(rawText: string, options: VerifyOptions = {}): QrVerifyResult {
    const nowMs = this.nowMs();
    const pending = this.begin(rawText, options, nowMs);
    if (pending.kind === 'result') return pending.result;
    let verdict: Verdict;
    let cached = false;
    if (pending.kind === 'verdict') {
      verdict = pending.verdict;
      cached = pending.hit;
    } else {
      verdict = this.verdictAfterSignature(pending.work, this.checkSignatureSync(pending.work));
      this.remember(pending.text, verdict, nowMs);
    }
    return this.finish(verdict, cached, pending.text, options, nowMs, false) as QrVerifyResult;
  }

  // ---- the pipeline -------------------------------------------------------------------------

  /** Normalise → bounce → cache → charset → decode → version → trust list → header → claims. */
  private begin(rawText: string, options: VerifyOptions, nowMs: number): Pending {
    const norm = normaliseText(rawText);
    if (!norm.ok) return { kind: 'result', result: this.notEhc1(rawText, norm.code, nowMs) };
    const text = norm.text;
    if (options.terminal !== undefined && this.bounces.size) {
      const b = this.bounces.get(options.terminal + '\n' + text);
      if (b && nowMs - b.atMs <= this.bounceMs) return { kind: 'result', result: { ...b.result, bounce: true } };
    }
    const bundle = this.trust.current;
    if (bundle && bundle.seq !== this.bundleSeq) {
      // Covers a bundle swapped in before this verifier subscribed (or by another store instance).
      this.cache.clear();
      this.bundleSeq = bundle.seq;
    }
    const hit = this.cache.get(text, nowMs);
    if (hit) return { kind: 'verdict', verdict: hit, text, hit: true };

    const decoded = decodeDigits(text); // charset and decoding in one pass
    if (!decoded.ok) return { kind: 'result', result: this.fail(decoded.code, null, nowMs) };
    const body = decoded.body;
    if (body.length < MIN_BODY_LENGTH) return { kind: 'result', result: this.fail('TOO_SHORT', null, nowMs) };
    if (body[0] !== EHC1_VERSION) {
      return { kind: 'result', result: this.fail('UNSUPPORTED_VERSION', null, nowMs, `Version ${body[0]} EHC code: this verifier knows version ${EHC1_VERSION}; update Yika.`) };
    }
    // Trust-list state is checked on the cached path too (in finish); here it guards the key lookup.
    if (!bundle) return { kind: 'result', result: this.fail('NO_TRUSTLIST', null, nowMs) };
    const parts = splitBody(body);
    const header = parseHeader(parts.header);
    const kidHex = hex(parts.header.subarray(2, 10));
    if (!header) return this.early(text, { code: 'BAD_PAYLOAD', type: null, kidHex, detail: 'unknown code type in the header' }, nowMs);
    const keys = bundle.keysByKid.get(kidHex);
    if (!keys) return this.early(text, { code: 'UNKNOWN_KID', type: header.type, kidHex }, nowMs);
    const usable = keys.filter((k) => k.status !== 'revoked');
    if (!usable.length) return this.early(text, { code: 'KEY_REVOKED', type: header.type, kidHex }, nowMs);
    const allowed = usable.filter((k) => k.typMask & TYPE_MASK_BIT[header.type]);
    if (!allowed.length) return this.early(text, { code: 'TYPE_NOT_ALLOWED', type: header.type, kidHex }, nowMs);
    const claims = parseClaims(parts.claims, header.type);
    if (!claims.ok) return this.early(text, { code: 'BAD_PAYLOAD', type: header.type, kidHex, detail: claims.reason }, nowMs);
    return {
      kind: 'signature',
      text,
      work: { bundle, type: header.type, kidHex, candidates: allowed, claims: claims.claims, signedMessage: parts.signedMessage, signature: parts.signature },
    };
  }

  /** A verdict reached before the signature check: remembered like any other. */
  private early(text: string, v: Verdict, nowMs: number): Pending {
    this.remember(text, v, nowMs);
    return { kind: 'verdict', verdict: v, text, hit: false };
  }

  /** Tries every candidate key with the kid (duplicates are legal); returns the one that verifies. */
  private checkSignatureSync(w: SignatureWork): TrustKey | undefined {
    for (const k of w.candidates) {
      if (k.publicKey.verify(w.signedMessage, w.signature, { id: DEFAULT_SM2_ID, format: 'raw' })) return k;
    }
    return undefined;
  }

  private async checkSignature(w: SignatureWork): Promise<TrustKey | undefined> {
    const pool = this.offThread;
    if (!pool || !pool.shouldOffload()) return this.checkSignatureSync(w);
    try {
      for (const k of w.candidates) {
        if (await pool.verify(k.pub, w.signedMessage, w.signature)) return k;
      }
      return undefined;
    } catch {
      return this.checkSignatureSync(w); // pool closed or its workers died: verify here
    }
  }

  /** Signature → key sign window → revocation lookup (stored in the verdict; reported after the time checks). */
  private verdictAfterSignature(w: SignatureWork, key: TrustKey | undefined): Verdict {
    if (!key) return { code: 'BAD_SIGNATURE', type: w.type, kidHex: w.kidHex };
    const c = w.claims;
    // Views are shared by every result of this verdict (cached path): frozen, so no caller can alter the cache.
    const keyView = keyViewOf(key);
    if (c.iat < key.signFrom || c.iat > key.signUntil) {
      return { code: 'KEY_NOT_VALID_AT_IAT', type: w.type, kidHex: w.kidHex, key, keyView, detail: `issued ${iso(c.iat)}, key signs ${iso(key.signFrom)} … ${iso(key.signUntil)}` };
    }
    const cardIdKind = c.cardId.length === 32 ? 'card' : 'pseudonym';
    const claimsView: QrClaimsView = c.ext
      ? deepFreeze({ cardId: hex(c.cardId), cardIdKind, ttl: c.ttl, ext: jsonSafe(c.ext) as Record<string, unknown> })
      : Object.freeze({ cardId: hex(c.cardId), cardIdKind, ttl: c.ttl });
    return {
      type: w.type,
      kidHex: w.kidHex,
      code: 'VALID',
      key,
      keyView,
      claims: c,
      claimsView,
      cardRevoked: w.bundle.revocation.isRevoked(revocationHash(c.cardId), c.iat),
      issuedAt: iso(c.iat),
      expiresAt: iso(c.iat + c.ttl),
      replayKey: w.type === 'dynamic' ? w.kidHex + hex(c.jti) : undefined,
    };
  }

  private remember(text: string, v: Verdict, nowMs: number): void {
    const expires = v.code === 'VALID' && v.claims ? (v.claims.iat + v.claims.ttl + this.skew[v.type!]) * 1000 : nowMs + this.negativeTtlMs;
    if (expires <= nowMs) return;
    this.cache.set(text, v, expires, text.length * 2 + (v.code === 'VALID' ? 600 : 150));
  }

  /** Trust state → key verifyUntil → time window → revocation → replay → VALID. */
  private finish(v: Verdict, cached: boolean, text: string, options: VerifyOptions, nowMs: number, async: boolean): QrVerifyResult | Promise<QrVerifyResult> {
    const now = nowMs / 1000;
    const warnings: QrWarningCode[] = [];
    const trustState = this.trust.state(Math.floor(now));
    if (trustState === 'none') return this.fail('NO_TRUSTLIST', v, nowMs);
    if (trustState === 'expired') {
      if (this.trust.expiredPolicy === 'fail') return this.fail('TRUSTLIST_EXPIRED', v, nowMs, this.expiredMessage(now));
      warnings.push('TRUSTLIST_EXPIRED');
    } else if (trustState === 'stale') warnings.push('TRUSTLIST_STALE');

    if (v.code !== 'VALID') return this.done(this.fail(v.code, v, nowMs, this.failureMessage(v), warnings, cached), text, options, nowMs);
    const c = v.claims!;
    const key = v.key!;
    if (now > key.verifyUntil) {
      return this.done(this.fail('KEY_EXPIRED', v, nowMs, `The signing key ${v.kidHex} was accepted until ${iso(key.verifyUntil)}: ask for a new code.`, warnings, cached), text, options, nowMs);
    }
    const skew = this.skew[v.type!];
    if (c.iat > now + skew) {
      const ahead = c.iat - now;
      if (ahead <= 2 * skew + 60) warnings.push('CLOCK_SKEW_SUSPECTED');
      const msg = `The code is issued ${ago(ahead)} in the future (${v.issuedAt})${ahead <= 2 * skew + 60 ? ': clock skew suspected, check this desk\'s clock and the phone\'s' : ': check this desk\'s clock, or ask for a new code'}.`;
      return this.done(this.fail('NOT_YET_VALID', v, nowMs, msg, warnings, cached), text, options, nowMs);
    }
    const end = c.iat + c.ttl;
    if (now > end + skew) {
      const late = now - end;
      if (late <= 2 * skew + 60 && v.type === 'dynamic') warnings.push('CLOCK_SKEW_SUSPECTED');
      const msg = `The code expired at ${v.expiresAt} (${ago(late)} ago): ask the patient to refresh it${v.type === 'static' ? ' or show a new code' : ''}.`;
      return this.done(this.fail('EXPIRED', v, nowMs, msg, warnings, cached), text, options, nowMs);
    }
    if (v.cardRevoked) return this.done(this.fail('CARD_REVOKED', v, nowMs, undefined, warnings, cached), text, options, nowMs);
    if (v.replayKey === undefined) return this.done(this.pass(v, warnings, cached, nowMs), text, options, nowMs);

    // Replay: checked and recorded in one step (claimOnce), only after every other check passed.
    const ttlMs = Math.max(1000, (end + skew) * 1000 - nowMs);
    if (this.replay.has(v.replayKey, nowMs)) return this.done(this.replayed(v, warnings, cached, nowMs), text, options, nowMs);
    if (!async || !this.shared) {
      this.replay.claimOnce(v.replayKey, ttlMs, nowMs);
      return this.done(this.pass(v, warnings, cached, nowMs), text, options, nowMs);
    }
    return this.sharedReplay(v, ttlMs, warnings, cached, text, options, nowMs);
  }

  private async sharedReplay(v: Verdict, ttlMs: number, warnings: QrWarningCode[], cached: boolean, text: string, options: VerifyOptions, nowMs: number): Promise<QrVerifyResult> {
    const key = v.replayKey!;
    let first: boolean;
    try {
      first = await this.shared!.claimOnce(key, ttlMs);
      this.sharedHealthy(true);
    } catch (e) {
      this.sharedHealthy(false, (e as Error).message);
      if (this.sharedDownPolicy === 'fail') return this.done(this.fail('REPLAY_STORE_UNAVAILABLE', v, nowMs, undefined, warnings, cached), text, options, nowMs);
      warnings.push('SHARED_STORE_DOWN');
      const fresh = this.replay.claimOnce(key, ttlMs, nowMs);
      if (fresh) this.unsynced.set(key, nowMs + ttlMs);
      return this.done(fresh ? this.pass(v, warnings, cached, nowMs) : this.replayed(v, warnings, cached, nowMs), text, options, nowMs);
    }
    // Between our local check and the shared claim another call of this process may have claimed it.
    if (!first || !this.replay.claimOnce(key, ttlMs, nowMs)) return this.done(this.replayed(v, warnings, cached, nowMs), text, options, nowMs);
    return this.done(this.pass(v, warnings, cached, nowMs), text, options, nowMs);
  }

  private sharedHealthy(up: boolean, error?: string): void {
    if (up === this.sharedUp) return;
    this.sharedUp = up;
    this.onSharedStoreChange?.(up, error);
    if (up && this.unsynced.size) void this.syncUnsynced();
  }

  /** Claims re-pushed after the shared store lost its data (for stats). */
  repushed = 0;

  /** The shared store lost its data: claim again every code this desk accepted that is still alive. */
  private async repushAll(): Promise<void> {
    const now = this.nowMs();
    const batch: Array<Promise<unknown>> = [];
    for (const [key, ttlMs] of this.replay.live(now)) {
      this.unsynced.delete(key);
      batch.push(
        this.shared!.claimOnce(key, ttlMs).then(
          () => this.repushed++,
          () => this.unsynced.set(key, now + ttlMs), // down again: the next 'ready' pushes it
        ),
      );
      if (batch.length >= 256) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
  }

  /** After an outage: the codes accepted locally are claimed in the shared store, so other desks refuse them. */
  private async syncUnsynced(): Promise<void> {
    const now = this.nowMs();
    for (const [key, exp] of [...this.unsynced]) {
      this.unsynced.delete(key);
      if (exp > now) await this.shared!.claimOnce(key, exp - now).catch(() => this.unsynced.set(key, exp));
    }
  }

  /** Records the result for bounce detection at this terminal. */
  private done(result: QrVerifyResult, text: string, options: VerifyOptions, nowMs: number): QrVerifyResult {
    if (options.terminal !== undefined) {
      if (this.bounces.size >= 10_000) this.bounces.delete(this.bounces.keys().next().value as string);
      const k = options.terminal + '\n' + text;
      this.bounces.delete(k);
      this.bounces.set(k, { atMs: nowMs, result });
    }
    return result;
  }

  // ---- shared verdicts ----------------------------------------------------------------------

  /** Shared verdicts hold no cardholder data: SM3(text) → the kid + pub of the key that verified it. */
  private sharedKey(text: string, bundle: TrustBundle): string {
    return `v:${bundle.seq}:${hex(sm3(new TextEncoder().encode(text)))}`;
  }

  private async sharedVerdict(text: string, w: SignatureWork): Promise<TrustKey | undefined> {
    // Skip the round trip while the store's connection is down; its own reconnects tell us when it is back.
    if (!this.shared || !this.shared.healthy) return undefined;
    try {
      const v = await this.shared.getVerdict(this.sharedKey(text, w.bundle));
      this.sharedHealthy(true);
      if (!v) return undefined;
      return w.candidates.find((k) => hex(k.pub) === v);
    } catch (e) {
      this.sharedHealthy(false, (e as Error).message);
      return undefined;
    }
  }

  private async storeSharedVerdict(text: string, w: SignatureWork, key: TrustKey | undefined): Promise<void> {
    if (!key || !this.shared!.healthy) return;
    const ttlMs = (w.claims.iat + w.claims.ttl + this.skew[w.type]) * 1000 - this.nowMs();
    if (ttlMs <= 0) return;
    await this.shared!.putVerdict(this.sharedKey(text, w.bundle), hex(key.pub), Math.min(ttlMs, 86_400_000)).catch((e: Error) => this.sharedHealthy(false, e.message));
  }

  // ---- results ------------------------------------------------------------------------------

  private expiredMessage(now: number): string {
    const b = this.trust.current!;
    return `The trust bundle (seq ${b.seq}) expected an update at ${iso(b.nextUpdate)} (${ago(now - b.nextUpdate)} ago) and its grace is over: update it before accepting codes.`;
  }

  private failureMessage(v: Verdict): string | undefined {
    switch (v.code) {
      case 'UNKNOWN_KID':
        return `The code was signed by key ${v.kidHex}, which this desk's trust bundle does not contain: update the trust bundle or check online.`;
      case 'KEY_REVOKED':
        return `The code was signed by key ${v.kidHex}, which has been revoked: do not accept it.`;
      case 'TYPE_NOT_ALLOWED':
        return `Key ${v.kidHex} may not issue ${v.type} codes: do not accept it.`;
      case 'KEY_NOT_VALID_AT_IAT':
        return `The code claims an issue time outside the signing period of key ${v.kidHex} (${v.detail}): do not accept it.`;
      default:
        return undefined;
    }
  }

  /** One object literal with a fixed field order: every result has the same hidden class (fast to build and serialise). */
  private result(ok: boolean, code: QrResultCode, message: string, v: Verdict | null, nowMs: number, warnings: QrWarningCode[], cached: boolean): QrVerifyResult {
    const b = this.trust.current;
    return {
      ok,
      code,
      message,
      type: v?.type ?? null,
      key: v?.keyView ?? null,
      kid: v?.kidHex ?? null,
      claims: ok ? v!.claimsView! : null,
      issuedAt: v?.issuedAt ?? null,
      expiresAt: v?.expiresAt ?? null,
      bundleSeq: b ? b.seq : null,
      bundleAge: b ? Math.floor(nowMs / 1000) - b.issuedAt : null,
      warnings,
      cached,
      bounce: false,
      kind: 'ehc1',
      scheme: null,
      masked: null,
      assurance: ok ? (v?.type ?? null) : null,
      staticCheck: ok && v?.type === 'static' ? this.staticCheck : null,
    };
  }

  /** A text the EHC1 layer refused before decoding: says what kind of code it is, and what to do with it. */
  private notEhc1(rawText: string, code: QrResultCode, nowMs: number): QrVerifyResult {
    const c = code === 'TOO_LONG' ? { kind: 'unknown' as const, scheme: null } : classifyCode(rawText);
    const message = code === 'NOT_EHC1' ? KIND_MESSAGES[c.kind](c.scheme) : undefined;
    const r = this.fail(code, null, nowMs, message);
    r.kind = c.kind;
    r.scheme = c.scheme;
    r.masked = SENSITIVE_KINDS.has(c.kind) ? maskCode(rawText) : null;
    return r;
  }

  private fail(code: QrResultCode, v: Verdict | null, nowMs: number, message?: string, warnings: QrWarningCode[] = [], cached = false): QrVerifyResult {
    return this.result(false, code, message ?? QR_RESULT_DESCRIPTIONS[code], v, nowMs, warnings, cached);
  }

  private replayed(v: Verdict, warnings: QrWarningCode[], cached: boolean, nowMs: number): QrVerifyResult {
    return this.fail('REPLAYED', v, nowMs, undefined, warnings, cached);
  }

  private pass(v: Verdict, warnings: QrWarningCode[], cached: boolean, nowMs: number): QrVerifyResult {
    let message = warnings.length ? `Valid ${v.type} health code (${warnings.join(', ').toLowerCase().replace(/_/g, ' ')}).` : v.type === 'dynamic' ? VALID_DYNAMIC : VALID_STATIC;
    if (v.type === 'static' && this.staticCheck !== 'none') message += ` ${STATIC_CHECK_MESSAGES[this.staticCheck]}`;
    return this.result(true, 'VALID', message, v, nowMs, warnings, cached);
  }
}
