// Serial readers speaking protocol v1 (USB CDC/UART, or a socat PTY in tests): the configured ports
// plus, with discovery on, every port whose USB vendor/product id is in the device table.
// Each port has a watcher: open → hello → attached; on any link error the reader is reported offline
// and the watcher reconnects with backoff until the port comes back. Nothing needs a daemon restart.
//
// Discovery: a port is matched by USB vendor/product id (any case, with or without 0x). A discovered
// device is known to the registry by its USB identity (vendor:product:serial number), not by its
// path, so a reader that is unplugged and comes back as another ttyACMn keeps its reader id. A port
// that is also configured (by the same path, or by a symlink to it such as /dev/serial/by-id/…) is
// not opened a second time: the configured entry wins. The list and open functions are seams for tests.
import { existsSync, realpathSync } from 'node:fs';
import { openSerialLink, type ByteLink } from '../../protocol/link.ts';
import type { HostSecureConfig } from '../../protocol/secure/host-handshake.ts';
import type { SecurePolicy, SerialPortConfig } from '../config/config-schema.ts';
import { Backoff } from './backoff.ts';
import { USB_SERIAL_READERS, usbSerialEntry, type UsbSerialEntry } from './device-table.ts';
import { connectProtocolDevice } from './protocol-connect.ts';
import type { BackendStatus, DeviceBackend, DeviceSink } from './reader-device.ts';

export interface SerialBackendOptions {
  ports: SerialPortConfig[];
  discovery: boolean;
  /** Secure policy for discovered ports. */
  secure: SecurePolicy;
  /** Trust for every port: the configured vendor CAs. */
  trust?: HostSecureConfig;
  /**
   * Trust including the TEST-ONLY CA (devices.trustTestCa), used only for ports that are
   * pseudo-terminals (a simulator started for testing), never for a real device node.
   */
  testCaTrust?: HostSecureConfig;
  /** Tells whether a path is a pseudo-terminal (default: its device node is under /dev/pts/). */
  isPseudoTerminal?: (path: string) => boolean;
  timeouts?: Partial<Record<string, number>>;
  /** How often to look for new USB serial readers (ms). */
  discoveryIntervalMs?: number;
  /** Backoff bounds for reconnects (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Lists serial ports (default: serialport's SerialPort.list(), which needs udevadm). */
  listPorts?: () => Promise<SerialPortInfo[]>;
  /** Opens a port (default: serialport through protocol/link.ts). */
  openLink?: (path: string, options: { baudRate: number }) => Promise<ByteLink>;
  /** USB serial readers to discover (default: the device table). */
  usbReaders?: readonly UsbSerialEntry[];
}

/** What a port list says about a port (serialport's PortInfo, the fields we use). */
export interface SerialPortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  pnpId?: string;
}

/** The canonical device node of a path (follows /dev/serial/by-id/… symlinks); the path itself if it cannot. */
function devicePath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * A pseudo-terminal (socat PTY, yika-sim --pty) rather than a device node of real hardware: its
 * canonical path is under /dev/pts/. USB CDC/UART readers are /dev/ttyACMn, /dev/ttyUSBn …
 */
function isPseudoTerminal(path: string): boolean {
  try {
    return realpathSync(path).startsWith('/dev/pts/');
  } catch {
    return false;
  }
}

/** Secure-channel failures: the line works, the device or the trust configuration does not. */
const SECURE_FIXES: Readonly<Record<string, string>> = {
  SECURE_CHANNEL_UNSUPPORTED: "the device does not support the secure channel: use a reader that does, or set this port's secure policy to 'preferred' or 'off'",
  SECURE_CHANNEL_NO_TRUST: "no trusted vendor CA is configured: add the reader vendor's CA to devices.vendorCas (the TEST-ONLY CA is never trusted for a real device)",
  DEVICE_UNTRUSTED: 'the device certificate is not signed by a trusted vendor CA (or is expired, or the device failed to prove its key): add its vendor CA to devices.vendorCas only if you trust this vendor',
  SECURE_CHANNEL_REQUIRED: "the device requires the secure channel but this port's policy is 'off': set it to 'preferred' or 'required'",
};

/**
 * The registry key of a discovered reader: its USB identity when the port reports one (stable across
 * unplug/replug, also when it comes back under another path), else its path.
 */
export function discoveredKey(port: SerialPortInfo, entry: UsbSerialEntry): string {
  const id = port.serialNumber?.trim() || port.pnpId?.trim();
  return id ? `usb:${entry.vendorId}:${entry.productId}:${id}` : port.path;
}

/** serialport's list() spawns udevadm and crashes the process when it is missing. */
export function udevadmPath(): string | undefined {
  return ['/usr/bin/udevadm', '/bin/udevadm', '/sbin/udevadm', '/usr/sbin/udevadm'].find((p) => existsSync(p));
}

interface PortState {
  config: SerialPortConfig;
  /** The device key the registry knows the reader by: the path, or the USB identity when discovered. */
  key: string;
  discovered: boolean;
  state: 'connecting' | 'attached' | 'waiting';
  detail?: string;
  /** What to do about `detail` when it is not a cabling problem (a secure-channel refusal). */
  fix?: string;
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
  private discovering = false;

  constructor(private readonly options: SerialBackendOptions) {}

  status(): BackendStatus {
    const waiting = [...this.ports.values()].filter((p) => p.state !== 'attached' && (!p.discovered || p.fix));
    if (waiting.length) {
      const fixes = new Set(waiting.map((p) => p.fix ?? 'check the cable and the port path; run `yika doctor` for permissions and udev'));
      return {
        backend: 'serial',
        available: true,
        detail: waiting.map((p) => `${p.config.path}: ${p.detail ?? p.state}`).join('; '),
        fix: [...fixes].join('; '),
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
      if (!this.options.listPorts && !udevadmPath()) {
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

  /** One discovery pass (also run by the timer); exported for tests through `discoverNow`. */
  async discoverNow(): Promise<void> {
    await this.discover();
  }

  private async discover(): Promise<void> {
    // One pass at a time: a slow list (udevadm per port) must not pile up behind the timer.
    if (this.stopped || this.discovering) return;
    this.discovering = true;
    try {
      await this.discoverOnce();
    } finally {
      this.discovering = false;
    }
  }

  private async discoverOnce(): Promise<void> {
    let list: SerialPortInfo[];
    try {
      list = await (this.options.listPorts ?? listSerialPorts)();
    } catch (e) {
      this.discoveryNote = `USB discovery failed: ${(e as Error).message}`;
      return;
    }
    if (this.stopped) return;
    this.discoveryNote = undefined;
    const table = this.options.usbReaders ?? USB_SERIAL_READERS;
    // Device nodes already watched (configured ports through their symlinks too), and keys in use.
    const watchedNodes = new Map<string, PortState>();
    for (const p of this.ports.values()) watchedNodes.set(devicePath(p.config.path), p);
    const present = new Set<string>();
    for (const port of list) {
      const entry = usbSerialEntry(port.vendorId, port.productId, table);
      if (!entry) continue;
      const key = discoveredKey(port, entry);
      present.add(key);
      const node = devicePath(port.path);
      const same = watchedNodes.get(node);
      if (same) continue; // configured, or already discovered at this path
      // The same reader under a new path (replugged as another ttyACMn): move its watcher over.
      const moved = [...this.ports.values()].find((p) => p.discovered && p.key === key);
      if (moved) {
        if (moved.state === 'attached') continue;
        await this.unwatch(moved);
        this.ports.delete(moved.config.path);
      }
      this.options.log?.info({ path: port.path, device: entry.description }, 'serial reader discovered');
      const p = this.watch({ path: port.path, baudRate: entry.baudRate, secure: this.options.secure }, true, key);
      watchedNodes.set(node, p);
    }
    // A discovered port that vanished from the bus and is not attached: forget it.
    const listed = new Set(list.map((l) => devicePath(l.path)));
    for (const p of [...this.ports.values()]) {
      if (p.discovered && p.state !== 'attached' && !listed.has(devicePath(p.config.path))) {
        await this.unwatch(p);
        if (this.ports.get(p.config.path) === p) this.ports.delete(p.config.path);
      }
    }
  }

  private watch(config: SerialPortConfig, discovered: boolean, key = config.path): PortState {
    const p: PortState = { config, key, discovered, state: 'connecting', backoff: new Backoff(this.options.retryMinMs ?? 250, this.options.retryMaxMs ?? 5000), attachedOnce: false };
    this.ports.set(config.path, p);
    void this.connect(p);
    return p;
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
      link = await (this.options.openLink ?? openSerialLink)(p.config.path, { baudRate: p.config.baudRate });
    } catch (e) {
      p.fix = undefined;
      return this.retry(p, openFailure(e));
    }
    // The TEST-ONLY CA only for a pseudo-terminal, checked at every open (a path can be re-pointed).
    let trust = this.options.trust;
    if (this.options.testCaTrust) {
      if ((this.options.isPseudoTerminal ?? isPseudoTerminal)(p.config.path)) trust = this.options.testCaTrust;
      else if (!p.attachedOnce && p.backoff.attempts === 0) this.options.log?.warn({ path: p.config.path }, 'devices.trustTestCa ignored for this port: it is not a pseudo-terminal, and the TEST-ONLY CA is never trusted for a real device');
    }
    try {
      const { device, session } = await connectProtocolDevice(link, {
        kind: 'serial',
        key: p.key,
        name: p.config.name,
        secure: p.config.secure,
        trust,
        signal: abort.signal,
        timeouts: this.options.timeouts,
        lineBytesPerSecond: p.config.baudRate ? p.config.baudRate / 10 : undefined,
      });
      if (this.stopped || this.ports.get(p.config.path) !== p) {
        await session.close();
        return;
      }
      p.state = 'attached';
      p.detail = undefined;
      p.fix = undefined;
      p.attachedOnce = true;
      p.backoff.reset();
      p.close = () => session.close();
      session.once('close', (err) => {
        p.close = undefined;
        if (this.stopped) return;
        const reason = `${err.code}: ${err.message}`;
        this.sink?.detached('serial', p.key, reason);
        this.retry(p, reason);
      });
      this.sink?.attached(device);
    } catch (e) {
      link.close('hello failed');
      const err = e as { code?: string; message?: string };
      p.fix = err.code ? SECURE_FIXES[err.code] : undefined;
      if (p.fix && p.backoff.attempts === 0) this.options.log?.warn({ path: p.config.path, code: err.code, detail: err.message }, 'serial reader refused: secure channel');
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

/** serialport's list (udevadm must exist: see udevadmPath). */
async function listSerialPorts(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await import('serialport');
  return SerialPort.list();
}

function openFailure(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  if (/ENOENT|No such file/i.test(m)) return 'not connected (no such device)';
  if (/EACCES|Permission denied/i.test(m)) return 'permission denied (add the user to the dialout group; see `yika doctor`)';
  if (/lock/i.test(m)) return 'in use by another program (port locked)';
  return m;
}
