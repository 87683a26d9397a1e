// All readers the daemon knows, keyed by a stable short id ("sim-1", "serial-1", "pcsc-1"). It is the
// DeviceSink every backend reports to: a device that comes back (replugged, pcscd restarted) gets its
// old id and Reader back. It publishes reader and card events on the EventBus.
import type { EventBus } from '../events/event-bus.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { DeviceCardEvent, DeviceKind, DeviceSink, ReaderDevice } from '../devices/reader-device.ts';
import type { TraceSettings } from './apdu-trace.ts';
import { Reader } from './reader.ts';
import { ReaderError } from './reader-errors.ts';

export interface ReaderRegistryOptions {
  events: EventBus;
  metrics?: Metrics;
  lockTimeoutMs: number;
  trace?: Partial<TraceSettings>;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export class ReaderRegistry implements DeviceSink {
  private readonly byId = new Map<string, Reader>();
  private readonly byKey = new Map<string, Reader>();
  private readonly counters = new Map<DeviceKind, number>();
  private readonly qrListeners = new Set<(readerId: string, text: string) => void>();

  constructor(private readonly options: ReaderRegistryOptions) {
    const m = options.metrics;
    m?.describe('yika_apdus_total', 'counter', 'APDUs exchanged with cards, by reader');
    m?.describe('yika_link_roundtrips_total', 'counter', 'Round trips on the reader link (one per transmit, one per batch), by reader');
    m?.describe('yika_readers', 'gauge', 'Readers known to the daemon, by health');
    m?.describe('yika_protocol_retransmits_total', 'counter', 'Requests sent again on a reader link because the answer did not come within the retransmission timeout (frames lost on the line), by reader');
    m?.describe('yika_protocol_retransmit_failures_total', 'counter', 'Requests given up after their last retransmission (PROTOCOL_TIMEOUT), by reader');
    m?.describe('yika_protocol_events_lost_total', 'counter', 'Device events lost on the line (gaps in the event sequence; slot states were re-read), by reader');
  }

  /** Per device key: stops counting the link losses of the attached device. */
  private readonly lossSubscriptions = new Map<string, () => void>();

  private countLinkLoss(key: string, reader: Reader, device: ReaderDevice): void {
    this.lossSubscriptions.get(key)?.();
    this.lossSubscriptions.delete(key);
    const m = this.options.metrics;
    if (!m || !device.onLinkLoss) return;
    const labels = { reader: reader.id };
    this.lossSubscriptions.set(
      key,
      device.onLinkLoss((n) => {
        if (n.kind === 'retransmit') m.inc('yika_protocol_retransmits_total', labels);
        else if (n.kind === 'gave-up') m.inc('yika_protocol_retransmit_failures_total', labels);
        else m.inc('yika_protocol_events_lost_total', labels, n.lost);
      }),
    );
  }

  list(): Reader[] {
    return [...this.byId.values()];
  }

  get(id: string): Reader {
    const r = this.byId.get(id);
    if (!r) throw new ReaderError('READER_NOT_FOUND', `No reader "${id}"`, { readerId: id, known: [...this.byId.keys()] });
    return r;
  }

  find(id: string): Reader | undefined {
    return this.byId.get(id);
  }

  /** QR scans from device scanners (the QR service subscribes in app.ts). */
  onQrScanned(listener: (readerId: string, text: string) => void): () => void {
    this.qrListeners.add(listener);
    return () => this.qrListeners.delete(listener);
  }

  attached(device: ReaderDevice): void {
    const key = `${device.kind}:${device.key}`;
    let reader = this.byKey.get(key);
    if (reader) {
      reader.attach(device);
    } else {
      const n = (this.counters.get(device.kind) ?? 0) + 1;
      this.counters.set(device.kind, n);
      reader = new Reader(`${device.kind}-${n}`, device.kind, device.key, device, {
        lockTimeoutMs: this.options.lockTimeoutMs,
        trace: this.options.trace,
        onEvent: (r, e) => this.onDeviceEvent(r, e),
        onExchange: (r, kind, count) =>
          this.options.metrics?.inc(kind === 'apdu' ? 'yika_apdus_total' : 'yika_link_roundtrips_total', { reader: r.id }, count),
      });
      this.byKey.set(key, reader);
      this.byId.set(reader.id, reader);
    }
    const r = reader;
    this.countLinkLoss(key, r, device);
    this.options.log?.info({ readerId: r.id, kind: device.kind, readerName: device.name }, 'reader attached');
    this.options.events.publish({ type: 'reader.attached', readerId: r.id, name: device.name });
    const model = r.toJSON();
    if (model.health === 'degraded') this.options.log?.warn({ readerId: r.id, kind: device.kind, detail: model.healthDetail }, 'reader runs without the secure channel (downgrade)');
    this.options.events.publish({ type: 'reader.health', readerId: r.id, health: model.health, ...(model.healthDetail ? { detail: model.healthDetail } : {}) });
    this.updateGauge();
    this.refreshStatus(r, device, 0);
  }

  /**
   * The first slot status after attach. A query that times out (a reader or a machine busy at that
   * moment) is retried with backoff while the same device stays attached; otherwise its slots would
   * read "absent" until the next card event.
   */
  private refreshStatus(r: Reader, device: ReaderDevice, attempt: number): void {
    r.refreshStatus().then((found) => {
      // A card already in a slot when the reader (re)attaches is announced like an insertion: the
      // model had the slot empty since the attach, and a page or HIS waiting for a card reads it now.
      for (const slot of found) this.options.events.publish({ type: 'card.inserted', readerId: r.id, slot });
    }, (e: unknown) => {
      const retry = attempt < 4 && r.online && r.currentDevice === device;
      this.options.log?.warn({ readerId: r.id, code: (e as { code?: string }).code, retry }, 'reader status query failed');
      if (retry) setTimeout(() => this.refreshStatus(r, device, attempt + 1), 250 * 2 ** attempt).unref();
    });
  }

  detached(kind: DeviceKind, key: string, reason: string): void {
    const reader = this.byKey.get(`${kind}:${key}`);
    if (!reader || !reader.online) return;
    this.lossSubscriptions.get(`${kind}:${key}`)?.();
    this.lossSubscriptions.delete(`${kind}:${key}`);
    reader.detach(reason);
    this.options.log?.warn({ readerId: reader.id, reason }, 'reader detached');
    this.options.events.publish({ type: 'reader.detached', readerId: reader.id, reason });
    this.options.events.publish({ type: 'reader.health', readerId: reader.id, health: 'offline', detail: reason });
    this.updateGauge();
  }

  degraded(kind: DeviceKind, key: string, detail: string): void {
    const reader = this.byKey.get(`${kind}:${key}`);
    if (!reader) return;
    reader.degrade(detail);
    this.options.events.publish({ type: 'reader.health', readerId: reader.id, health: reader.currentHealth, detail });
    this.updateGauge();
  }

  private onDeviceEvent(reader: Reader, e: DeviceCardEvent): void {
    if (e.type === 'card.inserted' || e.type === 'card.removed') {
      this.options.events.publish({ type: e.type, readerId: reader.id, slot: e.slot });
    } else if (e.type === 'qr.scanned') {
      for (const l of this.qrListeners) {
        try {
          l(reader.id, e.text);
        } catch (err) {
          this.options.log?.warn({ readerId: reader.id, err: (err as Error).name }, 'QR listener failed');
        }
      }
    } else if (e.type === 'error') {
      this.options.log?.warn({ readerId: reader.id, code: e.code }, 'device reported an error');
    }
  }

  private updateGauge(): void {
    const m = this.options.metrics;
    if (!m) return;
    for (const h of ['ok', 'degraded', 'offline'] as const) {
      m.set('yika_readers', this.list().filter((r) => r.currentHealth === h).length, { health: h });
    }
  }
}
