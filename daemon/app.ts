// The composition root: builds the daemon's parts from a YikaConfig and wires them together —
// device backends → reader registry → services → route modules → the HTTP server. main.ts only parses
// flags, runs the crypto self-test, calls createApp() and handles signals; tests call createApp() too.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorTextZh } from '../common/error-catalog.ts';
import { Sm2PrivateKey } from '../crypto/sm2-keys.ts';
import type { HostSecureConfig } from '../protocol/secure/host-handshake.ts';
import { testTrustedCa } from '../protocol/secure/test-ca.ts';
import { Sm2PublicKey } from '../crypto/sm2-keys.ts';
import { buildServer, listenServer } from './api/server.ts';
import { readerRoutes } from './api/routes/readers.ts';
import { healthCardRoutes } from './api/routes/healthcard.ts';
import { apiConfigOf } from './config/load-config.ts';
import type { YikaConfig } from './config/config-schema.ts';
import type { HealthReport, RouteModule, ServerContext } from './context.ts';
import { PcscBackend } from './devices/pcsc-backend.ts';
import type { DeviceBackend } from './devices/reader-device.ts';
import { SerialBackend } from './devices/serial-backend.ts';
import { SimBackend, type InProcessSimulator } from './devices/sim-backend.ts';
import { EventBus } from './events/event-bus.ts';
import { createLogger } from './logging/logger.ts';
import { Metrics } from './metrics/metrics.ts';
import { ReaderRegistry } from './readers/reader-registry.ts';
import { HealthCardService } from './services/health-card-service.ts';
import type { QrService } from './services/qr-service.ts';
import { writeJournalRoutes } from './api/routes/writes.ts';
import { WriteJournal } from './journal/write-journal.ts';
import { VERSION } from './version.ts';

export { VERSION };

export interface AppOptions {
  config: YikaConfig;
  logger?: Logger;
  /** Replaces the backends the config would create (tests). */
  backends?: DeviceBackend[];
  /** With config.sim.enabled: use this simulator instead of creating one (tests, benches). */
  simulator?: InProcessSimulator;
  /** Extra route modules (QR, conformance …) registered on /v1. */
  routes?: RouteModule[];
}

export interface YikaApp {
  readonly config: YikaConfig;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly metrics: Metrics;
  readonly registry: ReaderRegistry;
  readonly backends: DeviceBackend[];
  readonly healthCards: HealthCardService;
  /** Intent and outcome of every card write (on disk in config.stateDir): interrupted writes. */
  readonly journal: WriteJournal;
  /** Present when QR trust anchors are configured (or the demo anchor with --sim). */
  readonly qr?: QrService;
  readonly server: FastifyInstance;
  /** The simulated reader's backend when --sim. */
  readonly sim?: SimBackend;
  health(): HealthReport;
  /** Starts the device backends (readers appear as they are found). */
  startDevices(): Promise<void>;
  /** Listens on config.listen; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The secure-channel trust of each kind of reader. Real devices (serial) trust the configured vendor
 * CAs only. The TEST-ONLY CA is trusted by the in-process simulated reader, and — with
 * devices.trustTestCa — by serial ports that are pseudo-terminals (serial-backend.ts decides per port).
 */
function hostTrust(config: YikaConfig, logger: Logger): { vendor?: HostSecureConfig; withTestCa: HostSecureConfig } {
  const cas = config.devices.vendorCas.map((c) => ({ id: c.id, publicKey: Sm2PublicKey.fromHex(c.publicKey) }));
  let hostKey: Sm2PrivateKey;
  if (config.devices.hostKeyFile) hostKey = Sm2PrivateKey.fromPem(readFileSync(config.devices.hostKeyFile, 'utf8'));
  else {
    hostKey = Sm2PrivateKey.generate();
    logger.debug({}, 'secure channel: using a new host key for this run (set devices.hostKeyFile to pair)');
  }
  return { vendor: cas.length ? { hostKey, trustedCas: cas } : undefined, withTestCa: { hostKey, trustedCas: [...cas, testTrustedCa()] } };
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/** The configured device backends (or the caller's). Only the simulator and serial readers use a secure channel: the host key is made (or read) for them alone. */
function deviceBackends(config: YikaConfig, options: AppOptions, logger: Logger, log: Log): { backends: DeviceBackend[]; sim?: SimBackend } {
  if (options.backends) return { backends: options.backends };
  let hostTrustOnce: ReturnType<typeof hostTrust> | undefined;
  const trust = () => (hostTrustOnce ??= hostTrust(config, logger));
  const backends: DeviceBackend[] = [];
  let sim: SimBackend | undefined;
  if (config.sim.enabled) {
    sim = new SimBackend({
      seed: config.sim.seed,
      speed: config.sim.speed,
      profile: config.sim.profile,
      secure: config.devices.secure,
      deviceSecure: config.devices.secure !== 'off' ? 'supported' : undefined,
      trust: trust().withTestCa,
      timeouts: config.devices.timeouts,
      simulator: options.simulator,
      log,
    });
    backends.push(sim);
  }
  if (config.devices.serial.length || config.devices.serialDiscovery) {
    if (config.devices.trustTestCa) logger.warn({}, "TEST ONLY: the simulator's TEST-ONLY CA is trusted for serial ports that are pseudo-terminals (devices.trustTestCa); never use this in production");
    backends.push(
      new SerialBackend({
        ports: config.devices.serial,
        discovery: config.devices.serialDiscovery,
        secure: config.devices.secure,
        trust: trust().vendor,
        testCaTrust: config.devices.trustTestCa ? trust().withTestCa : undefined,
        timeouts: config.devices.timeouts,
        log,
      }),
    );
  }
  if (config.devices.pcsc) backends.push(new PcscBackend({ log }));
  return { backends, sim };
}

/**
 * QR verification: scanner events from every reader go through the QR service, which publishes the
 * verdict as a qr.scanned event (without the card id). Loaded only when QR verification is
 * configured (a reader-only desk never loads the verifier).
 */
async function startQr(
  config: YikaConfig, parts: { events: EventBus; metrics: Metrics; registry: ReaderRegistry; logger: Logger; log: Log },
): Promise<{ qr?: QrService; qrRoutes?: typeof import('./api/routes/qr.ts').qrRoutes }> {
  if (!config.qr.anchors.length && !config.qr.demo) return {};
  const { events, metrics, registry, logger, log } = parts;
  const [{ QrService }, routes] = await Promise.all([import('./services/qr-service.ts'), import('./api/routes/qr.ts')]);
  const qr = new QrService({
    anchors: config.qr.anchors,
    trustBundle: config.qr.trustBundle,
    trustUrl: config.qr.trustUrl,
    redisUrl: config.qr.redisUrl,
    staticCheck: config.qr.staticCheck,
    expiredPolicy: config.qr.expiredPolicy,
    graceSeconds: config.qr.graceSeconds,
    staleAfterSeconds: config.qr.staleAfterSeconds,
    trustRefreshSeconds: config.qr.trustRefreshSeconds,
    sharedDownPolicy: config.qr.sharedDownPolicy,
    demo: config.qr.demo,
    events,
    metrics,
    logger: { info: log.info, warn: log.warn, debug: (o, m) => logger.debug(o, m) },
  });
  registry.onQrScanned((readerId, text) => {
    qr.scanned(text, { readerId }).catch((e: unknown) => logger.warn({ readerId, code: (e as { code?: string }).code }, 'QR scan verification failed'));
  });
  return { qr, qrRoutes: routes.qrRoutes };
}

/** GET /v1/health: every backend, reader, interrupted write and the QR verifier that needs attention. */
function healthReport(
  parts: { backends: DeviceBackend[]; registry: ReaderRegistry; journal: WriteJournal; qr?: QrService }, startedAt: number,
): HealthReport {
  const { backends, registry, journal, qr } = parts;
  const degraded: HealthReport['degraded'] = [];
  for (const b of backends) {
    const s = b.status();
    const zh = `${BACKEND_ZH[s.backend] ?? s.backend} 不可用，请运行 yika doctor 查看原因和修复方法。`;
    if (!s.available) degraded.push({ component: `devices.${s.backend}`, reason: `${s.detail ?? 'unavailable'}${s.fix ? ` — fix: ${s.fix}` : ''}`, reasonZh: zh });
    else if (s.detail && s.fix) degraded.push({ component: `devices.${s.backend}`, reason: `${s.detail} — ${s.fix}`, reasonZh: `${BACKEND_ZH[s.backend] ?? s.backend} 需要注意，请运行 yika doctor 查看详情。` });
  }
  for (const r of registry.list()) {
    const m = r.toJSON();
    if (m.health !== 'ok') degraded.push({ component: `reader.${m.id}`, reason: `${m.health}${m.healthDetail ? `: ${m.healthDetail}` : ''}`, reasonZh: readerHealthZh(m.name, m.health, m.healthDetail) });
  }
  if (!registry.list().length) degraded.push({ component: 'readers', reason: 'no reader found: plug in a reader, or start with --sim for the simulated one', reasonZh: '未发现读卡器：请插好读卡器，或用 --sim 启动模拟读卡器。' });
  const interrupted = journal.interrupted();
  if (interrupted.length) {
    degraded.push({
      component: 'writes',
      reason: `${interrupted.length} card write${interrupted.length > 1 ? 's were' : ' was'} interrupted (the daemon stopped mid-write): read the card back, then acknowledge each with POST /v1/writes/interrupted/:id/ack (GET /v1/writes/interrupted lists them)`,
      reasonZh: `${interrupted.length} 次写卡被中断（守护进程在写卡中途停止）：请先读回卡片核对，再用 POST /v1/writes/interrupted/:id/ack 逐条确认（GET /v1/writes/interrupted 列出）。`,
    });
  }
  if (journal.problem) degraded.push({ component: 'writes', reason: journal.problem, reasonZh: '写卡日志无法保存到状态目录：写卡中断后重启将无法报告。请修正目录权限或设置 stateDir。' });
  if (qr) degraded.push(...qr.degraded());
  else degraded.push({ component: 'qr', reason: 'QR verification is off: no trust anchor configured (qr.anchors)', reasonZh: '二维码核验未开启：未配置信任锚（qr.anchors）。' });
  return { status: degraded.length ? 'degraded' : 'ok', degraded, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), version: VERSION };
}

export async function createApp(options: AppOptions): Promise<YikaApp> {
  const config = options.config;
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const events = new EventBus();
  const metrics = new Metrics();
  const startedAt = Date.now();
  const log: Log = {
    info: (obj: object, msg: string) => logger.info(obj, msg),
    warn: (obj: object, msg: string) => logger.warn(obj, msg),
  };

  const registry = new ReaderRegistry({
    events,
    metrics,
    lockTimeoutMs: config.readers.lockTimeoutMs,
    trace: { enabled: config.readers.trace, maskData: config.readers.traceMaskData },
    log,
  });
  const { backends, sim } = deviceBackends(config, options, logger, log);

  // The write journal first: a write cut short by the previous run is reported from the start.
  const journal = new WriteJournal(config.stateDir, log);
  for (const w of journal.interrupted()) events.publish({ type: 'write.interrupted', writeId: w.id, readerId: w.readerId, slot: w.slot, startedAt: w.startedAt });
  const healthCards = new HealthCardService({ registry, metrics, samPin: config.sam.pin, logger, journal });
  const { qr, qrRoutes } = await startQr(config, { events, metrics, registry, logger, log });
  const health = (): HealthReport => healthReport({ backends, registry, journal, qr }, startedAt);

  const ctx: ServerContext = {
    logger,
    events,
    metrics,
    health,
    routes: [readerRoutes(registry), healthCardRoutes(healthCards), writeJournalRoutes(journal), ...(qr && qrRoutes ? [qrRoutes(qr)] : []), ...(options.routes ?? [])],
    desk: config.desk,
  };
  const server = await buildServer(ctx, { ...config.api, listen: apiConfigOf(config).listen });

  let started = false;
  return {
    config,
    logger,
    events,
    metrics,
    registry,
    backends,
    healthCards,
    journal,
    qr,
    server,
    sim,
    health,
    async startDevices() {
      if (started) return;
      started = true;
      for (const b of backends) await b.start(registry);
    },
    listen: () => listenServer(server),
    async close() {
      await server.close();
      for (const b of backends) await b.stop().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'backend stop failed'));
      await qr?.close().catch(() => {});
      journal.close();
    },
  };
}

const BACKEND_ZH: Record<string, string> = { pcsc: 'PC/SC 读卡器服务', serial: '串口读卡器', sim: '模拟读卡器' };

/** "读卡器 X 离线：<the catalogue's Chinese for the code the detail starts with>". */
function readerHealthZh(name: string, health: 'ok' | 'degraded' | 'offline', detail: string | undefined): string {
  const code = detail ? /^([A-Z][A-Z0-9_]+)\b/.exec(detail)?.[1] : undefined;
  const why = code ? errorTextZh(code) : undefined;
  return `读卡器 ${name} ${health === 'offline' ? '离线' : '降级'}${why ? `：${why}` : ''}`;
}
