// Runs the conformance suite against any device on a ByteLink and returns the report. The link stays
// open for the whole run; every check works on its own lease of it (see link-lease.ts).
import type { Sm2PrivateKey } from '../../crypto/index.ts';
import { HostSession, type HostSessionOptions } from '../../protocol/host-session.ts';
import type { ByteLink } from '../../protocol/link.ts';
import type { TrustedCa } from '../../protocol/secure/device-certificate.ts';
import { CheckFailed, CheckSkipped, CheckUnexercised, type CheckContext, type ConformanceCheck } from './checks/check-kit.ts';
import { CHECKS } from './conformance-checks.ts';
import { summarize, type CheckResult, type ConformanceReport } from './conformance-report.ts';
import { LinkLease } from './link-lease.ts';
import { RawClient } from './raw-client.ts';
import { frameTap, type PayloadTap } from './session-tap.ts';

export interface ConformanceOptions {
  /** Vendor CA keys to authenticate the device's certificate (needed for the secure-channel checks). */
  trustedCas?: TrustedCa[];
  /** The host key for the secure channel (default: a fresh one per run). */
  hostKey?: Sm2PrivateKey;
  /** Multiplies every wait (slow lines or devices). Default 1. */
  timeScale?: number;
  /** Run only checks whose id starts with one of these prefixes. */
  only?: string[];
  /** Call the run CONFORMANT although some MUST checks could not be exercised (PROTOCOL.md 1.2 §12). */
  allowUnexercised?: boolean;
  /** Called after each check (progress output). */
  onResult?: (result: CheckResult) => void;
}

export async function runConformance(link: ByteLink, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const started = new Date();
  const hostKey = options.hostKey ?? (await import('../../crypto/index.ts')).Sm2PrivateKey.generate();
  const trust = options.trustedCas?.length ? { hostKey, trustedCas: options.trustedCas } : undefined;
  const run = leasedContext(link, options.timeScale ?? 1, trust);
  const results: CheckResult[] = [];
  const selected = options.only?.length ? CHECKS.filter((c) => options.only!.some((p) => c.id.startsWith(p)) || c.id === 'hello.negotiate') : CHECKS;
  for (const check of selected) {
    const result = await runCheck(check, run.ctx, link);
    await run.endCheck();
    // Let stray answers of this check drain before the next one leases the link.
    await new Promise((r) => setTimeout(r, 20));
    results.push(result);
    options.onResult?.(result);
  }

  const h = run.ctx.hello;
  const device = h ? { vendor: h.vendor, model: h.model, serial: h.serial, firmware: h.firmware, secureChannel: h.secureChannel, maxFrame: h.maxFrame } : undefined;
  return summarize(link.name, started, results, device, options.allowUnexercised ?? false);
}

/** The context the checks share: raw clients and host sessions on leases of the link, closed by endCheck(). */
function leasedContext(link: ByteLink, scale: number, trust: HostSessionOptions['trust']): { ctx: CheckContext; endCheck(): Promise<void> } {
  let cleanups: Array<() => void | Promise<void>> = [];
  const ctx: CheckContext = {
    scale,
    canSecure: trust !== undefined,
    badMessages: 0,
    raw() {
      const lease = new LinkLease(link);
      const raw = new RawClient(lease);
      cleanups.push(() => {
        raw.close();
        lease.close();
      });
      return raw;
    },
    async session(o: HostSessionOptions & { tap?: PayloadTap } = {}) {
      const { tap, ...sessionOptions } = o;
      const lease = new LinkLease(link, tap ? frameTap(tap) : undefined);
      const timeouts = Object.fromEntries(Object.entries(sessionOptions.timeouts ?? {}).map(([k, v]) => [k, v]));
      const session = await HostSession.open(lease, {
        host: 'yika conformance',
        keepaliveMs: 0,
        secure: trust ? 'preferred' : 'off',
        trust,
        ...sessionOptions,
        timeouts: { hello: 2000 * scale, ping: 1000 * scale, ...timeouts },
      });
      cleanups.push(async () => {
        ctx.badMessages += session.counters.badMessages;
        await session.close();
      });
      return session;
    },
  };
  const endCheck = async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  };
  return { ctx, endCheck };
}

/** One check: its verdict, what it observed, and how long it took. */
async function runCheck(check: ConformanceCheck, ctx: CheckContext, link: ByteLink): Promise<CheckResult> {
  const t = performance.now();
  try {
    if (link.closed) throw new CheckFailed('the link closed');
    const detail = await check.run(ctx);
    return { id: check.id, title: check.title, level: check.level, status: 'pass', detail: detail || undefined, ms: performance.now() - t };
  } catch (e) {
    const status = e instanceof CheckSkipped ? 'skip' : e instanceof CheckUnexercised ? 'unexercised' : 'fail';
    const detail = e instanceof CheckSkipped || e instanceof CheckUnexercised || e instanceof CheckFailed ? e.message : describe(e);
    return { id: check.id, title: check.title, level: check.level, status, detail, ms: performance.now() - t };
  }
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) return `${String((e as { code: unknown }).code)}: ${String((e as { message?: unknown }).message)}`;
  return e instanceof Error ? e.message : String(e);
}
