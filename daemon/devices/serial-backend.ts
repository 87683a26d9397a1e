// Serial readers speaking protocol v1 (USB CDC/UART, or a socat PTY in tests): the configured ports
// plus, with discovery on, every port whose USB vendor/product id is in the device table.
// Each port has a watcher: open → hello → attached; on any link error the reader is reported offline
// and the watcher reconnects with backoff until the port comes back. Nothing needs a daemon restart.
import { existsSync } from 'node:fs';
import { openSerialLink } from '../../protocol/link.ts';
import type { HostSecureConfig } from '../../protocol/secure/host-handshake.ts';
import type { SecurePolicy, SerialPortConfig } from '../config/config-schema.ts';
import { Backoff } from './backoff.ts';
import { USB_SERIAL_READERS } from './device-table.ts';
import { connectProtocolDevice } from './protocol-connect.ts';
import type { BackendStatus, DeviceBackend, DeviceSink } from './reader-device.ts';

export interface SerialBackendOptions {
  ports: SerialPortConfig[];
  discovery: boolean;
  /** Secure policy for discovered ports. */
  secure: SecurePolicy;
  trust?: HostSecureConfig;
  timeouts?: Partial<Record<string, number>>;
  /** How often to look for new USB serial readers (ms). */
  discoveryIntervalMs?: number;
  /** Backoff bounds for reconnects (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** serialport's list() spawns udevadm and crashes the process when it is missing. */
export function udevadmPath(): string | undefined {
  return ['/usr/bin/udevadm', '/bin/udevadm', '/sbin/udevadm', '/usr/sbin/udevadm'].find((p) => existsSync(p));
}

interface PortState {
  config: SerialPortConfig;
  discovered: boolean;
  state: 'connecting' | 'attached' | 'waiting';
  detail?: string;
  timer?: NodeJS.Timeout;
  abort?: AbortController;
  close?: () => Promise<void>;
  backoff: Backoff;
  attachedOnce: boolean;
}

export class SerialBackend implements DeviceBackend {
  readonly kind = 'serial' as const;
  private sink: DeviceSink | undefined;
  private readonly ports = new Map<string, PortState>();
  private discoveryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private discoveryNote: string | undefined;

  constructor(private readonly options: SerialBackendOptions) {}

  status(): BackendStatus {
    const waiting = [...this.ports.values()].filter((p) => p.state !== 'attached' && !p.discovered);
    if (waiting.length) {
      return {
        backend: 'serial',
        available: true,
        detail: waiting.map((p) => `${p.config.path}: ${p.detail ?? p.state}`).join('; '),
        fix: 'check the cable and the port path; run `yika doctor` for permissions and udev',
      };
    }
    return { backend: 'serial', available: true, ...(this.discoveryNote ? { detail: this.discoveryNote } : {}) };
  }

  /** Per-port state, for `yika doctor` and health. */
  portStates(): Array<{ path: string; state: string; detail?: string; discovered: boolean }> {
    return [...this.ports.values()].map((p) => ({ path: p.config.path, state: p.state, detail: p.detail, discovered: p.discovered }));
  }

  async start(sink: DeviceSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    for (const config of this.options.ports) this.watch(config, false);
    if (this.options.discovery) {
      if (!udevadmPath()) {
        this.discoveryNote = 'USB discovery off: udevadm is missing (apt-get install udev)';
        this.options.log?.warn({}, this.discoveryNote);
      } else {
        void this.discover();
        this.discoveryTimer = setInterval(() => void this.discover(), this.options.discoveryIntervalMs ?? 3000);
        this.discoveryTimer.unref?.();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.discoveryTimer);
    await Promise.all([...this.ports.values()].map((p) => this.unwatch(p)));
    this.ports.clear();
  }

  private async discover(): Promise<void> {
    if (this.stopped) return;
    let list: Array<{ path: string; vendorId?: string; productId?: string }>;
    try {
      const { SerialPort } = await import('serialport');
      list = await SerialPort.list();
    } catch (e) {
      this.discoveryNote = `USB discovery failed: ${(e as Error).message}`;
      return;
    }
    for (const port of list) {
      if (this.ports.has(port.path)) continue;
      const entry = USB_SERIAL_READERS.find((e) => e.vendorId === port.vendorId?.toLowerCase() && e.productId === port.productId?.toLowerCase());
      if (!entry) continue;
      this.options.log?.info({ path: port.path, device: entry.description }, 'serial reader discovered');
      this.watch({ path: port.path, baudRate: entry.baudRate, secure: this.options.secure }, true);
    }
    // A discovered port that vanished from the bus and is not attached: forget it.
    for (const p of this.ports.values()) {
      if (p.discovered && p.state !== 'attached' && !list.some((l) => l.path === p.config.path)) {
        await this.unwatch(p);
        this.ports.delete(p.config.path);
      }
    }
  }

  private watch(config: SerialPortConfig, discovered: boolean): void {
    const p: PortState = { config, discovered, state: 'connecting', backoff: new Backoff(this.options.retryMinMs ?? 250, this.options.retryMaxMs ?? 5000), attachedOnce: false };
    this.ports.set(config.path, p);
    void this.connect(p);
  }

  private async unwatch(p: PortState): Promise<void> {
    clearTimeout(p.timer);
    p.abort?.abort();
    await p.close?.().catch(() => {});
  }

  private async connect(p: PortState): Promise<void> {
    if (this.stopped || this.ports.get(p.config.path) !== p) return;
    p.state = 'connecting';
    const abort = new AbortController();
    p.abort = abort;
    let link;
    try {
      link = await openSerialLink(p.config.path, { baudRate: p.config.baudRate });
    } catch (e) {
      return this.retry(p, openFailure(e));
    }
    try {
      const { device, session } = await connectProtocolDevice(link, {
        kind: 'serial',
        key: p.config.path,
        name: p.config.name,
        secure: p.config.secure,
        trust: this.options.trust,
        signal: abort.signal,
        timeouts: this.options.timeouts,
      });
      if (this.stopped || this.ports.get(p.config.path) !== p) {
        await session.close();
        return;
      }
      p.state = 'attached';
      p.detail = undefined;
      p.attachedOnce = true;
      p.backoff.reset();
      p.close = () => session.close();
      session.once('close', (err) => {
        p.close = undefined;
        if (this.stopped) return;
        const reason = `${err.code}: ${err.message}`;
        this.sink?.detached('serial', p.config.path, reason);
        this.retry(p, reason);
      });
      this.sink?.attached(device);
    } catch (e) {
      link.close('hello failed');
      const err = e as { code?: string; message?: string };
      this.retry(p, `${err.code ?? 'ERROR'}: ${err.message ?? String(e)}`);
    }
  }

  private retry(p: PortState, detail: string): void {
    if (this.stopped || this.ports.get(p.config.path) !== p) return;
    p.state = 'waiting';
    p.detail = detail;
    const delay = p.backoff.next();
    if (p.backoff.attempts <= 1 || p.backoff.attempts % 20 === 0) this.options.log?.warn({ path: p.config.path, delayMs: delay, detail }, 'serial reader not available; retrying');
    p.timer = setTimeout(() => void this.connect(p), delay);
    p.timer.unref?.();
  }
}

function openFailure(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  if (/ENOENT|No such file/i.test(m)) return 'not connected (no such device)';
  if (/EACCES|Permission denied/i.test(m)) return 'permission denied (add the user to the dialout group; see `yika doctor`)';
  if (/lock/i.test(m)) return 'in use by another program (port locked)';
  return m;
}
