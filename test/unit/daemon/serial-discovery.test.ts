// USB serial discovery of the serial backend, with the port list and the port opening injected: the
// "USB devices" are simulated readers (firmware-sim) behind in-process links, their device nodes are
// files in a temporary directory (so /dev/serial/by-id-style symlinks are real symlinks). No USB here.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { SerialBackend, discoveredKey, type SerialPortInfo, type SerialBackendOptions } from '../../../daemon/devices/serial-backend.ts';
import { compareVersions, normaliseUsbId, parseFirmwareVersion, protocolQuirks, usbSerialEntry, USB_SERIAL_READERS, type ProtocolQuirkEntry } from '../../../daemon/devices/device-table.ts';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import type { ByteLink } from '../../../protocol/link.ts';
import { until as poll } from '../../support/until.ts';

/** Discovery here runs on in-process links: short waits, tight polling. */
const until = (what: string, condition: () => boolean, ms = 3000) => poll(what, condition, ms, 10);

interface UsbDevice {
  serial: string;
  vendorId: string;
  productId: string;
  sim: Simulator;
  /** Device node while plugged in. */
  path?: string;
  link?: ByteLink;
}

/** A bus of simulated USB serial readers plus unrelated ports, as SerialPort.list() would report them. */
class FakeUsbBus {
  readonly dir = mkdtempSync(join(tmpdir(), 'yika-usb-'));
  readonly devices = new Map<string, UsbDevice>();
  /** Ports that are not our readers (a CH340 adapter, the mainboard UART …). */
  others: SerialPortInfo[] = [];
  opened: string[] = [];
  /** list() calls, one per discovery pass. */
  passes = 0;

  node(name: string): string {
    return join(this.dir, name);
  }

  plug(serial: string, name: string, ids: { vendorId?: string; productId?: string } = {}): string {
    let d = this.devices.get(serial);
    if (!d) {
      d = { serial, vendorId: ids.vendorId ?? '1209', productId: ids.productId ?? '7611', sim: createSimulator({ seed: this.devices.size + 1, serial }) };
      this.devices.set(serial, d);
    }
    d.path = this.node(name);
    writeFileSync(d.path, '');
    return d.path;
  }

  unplug(serial: string): void {
    const d = this.devices.get(serial)!;
    if (d.path) rmSync(d.path, { force: true });
    d.path = undefined;
    d.link?.close('unplugged');
    d.link = undefined;
  }

  readonly list = async (): Promise<SerialPortInfo[]> => {
    this.passes++;
    return [
      ...this.others,
      ...[...this.devices.values()].filter((d) => d.path).map((d) => ({ path: d.path!, vendorId: d.vendorId, productId: d.productId, serialNumber: d.serial, pnpId: `usb-Yika_SIM_${d.serial}-if00` })),
    ];
  };

  /** Waits for `n` more discovery passes (so "nothing more was opened" is checked after several). */
  async morePasses(n: number): Promise<void> {
    const from = this.passes;
    await until(`${n} more discovery passes`, () => this.passes >= from + n);
  }

  readonly open = async (path: string): Promise<ByteLink> => {
    this.opened.push(path);
    let node: string;
    try {
      node = realpathSync(path);
    } catch {
      throw new Error(`cannot open ${path}: No such file or directory`);
    }
    const d = [...this.devices.values()].find((x) => x.path === node);
    if (!d) throw new Error(`cannot open ${path}: not a reader`);
    d.link = d.sim.connectInProcess();
    return d.link;
  };

  async close(): Promise<void> {
    for (const d of this.devices.values()) await d.sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start(bus: FakeUsbBus, options: Partial<SerialBackendOptions> = {}) {
  const registry = new ReaderRegistry({ events: new EventBus(), lockTimeoutMs: 1000 });
  const backend = new SerialBackend({
    ports: [],
    discovery: true,
    secure: 'off',
    discoveryIntervalMs: 20,
    retryMinMs: 10,
    retryMaxMs: 40,
    listPorts: bus.list,
    openLink: bus.open,
    ...options,
  });
  await backend.start(registry);
  cleanup.push(async () => {
    await backend.stop();
    await bus.close();
  });
  return { registry, backend };
}

const onlineIds = (registry: ReaderRegistry) => registry.list().filter((r) => r.online).map((r) => r.id).sort();
const serialOf = (registry: ReaderRegistry, id: string) => registry.get(id).attachedDevice?.serial;

describe('USB serial discovery (device table VID/PID)', () => {
  it('opens ports whose VID/PID is in the table, in any case and with 0x, and ignores every other port', async () => {
    const bus = new FakeUsbBus();
    const a = bus.plug('SIM-A', 'ttyACM0');
    const b = bus.plug('SIM-B', 'ttyACM1', { vendorId: '0x1209', productId: '7611' });
    const c = bus.plug('SIM-C', 'ttyUSB0', { vendorId: '1A86', productId: '55D4' });
    bus.others = [
      { path: bus.node('ttyS0') }, // mainboard UART: no USB ids
      { path: bus.node('ttyUSB1'), vendorId: '1a86', productId: '7523' }, // CH340 adapter, not in the table
      { path: bus.node('ttyACM9'), vendorId: '1209', productId: '0001' }, // same vendor, other product
    ];
    const usbReaders = [...USB_SERIAL_READERS, { vendorId: '1a86', productId: '55d4', description: 'test reader (upper-case ids on the bus)', baudRate: 115200 }];
    const { registry } = await start(bus, { usbReaders });
    await until('three readers', () => onlineIds(registry).length === 3);
    await bus.morePasses(5);
    expect([...new Set(bus.opened)].sort()).toEqual([a, b, c].sort());
    expect(registry.list().map((r) => r.attachedDevice?.serial).sort()).toEqual(['SIM-A', 'SIM-B', 'SIM-C']);
  });

  it('opens a configured port once, also when it is configured through a by-id symlink, next to a discovered one', async () => {
    const bus = new FakeUsbBus();
    const acm0 = bus.plug('SIM-A', 'ttyACM0');
    const acm1 = bus.plug('SIM-B', 'ttyACM1');
    mkdirSync(join(bus.dir, 'by-id'));
    const byId = join(bus.dir, 'by-id', 'usb-Yika_SIM_SIM-A-if00');
    symlinkSync(acm0, byId);
    const { registry, backend } = await start(bus, { ports: [{ path: byId, baudRate: 115200, secure: 'off', name: 'Desk 1' }] });
    await until('two readers', () => onlineIds(registry).length === 2);
    await bus.morePasses(5);
    expect(bus.opened.filter((p) => p === acm0)).toEqual([]); // never opened twice under its real node
    expect([...new Set(bus.opened)].sort()).toEqual([acm1, byId].sort());
    expect(registry.list().length).toBe(2);
    expect(registry.list().find((r) => r.attachedDevice?.serial === 'SIM-A')?.attachedDevice?.name).toBe('Desk 1');
    expect(backend.portStates().map((p) => [p.path, p.discovered]).sort()).toEqual([[acm1, true], [byId, false]].sort());
  });

  it('a configured plain path and the same port discovered: one reader', async () => {
    const bus = new FakeUsbBus();
    const acm0 = bus.plug('SIM-A', 'ttyACM0');
    const { registry } = await start(bus, { ports: [{ path: acm0, baudRate: 115200, secure: 'off' }] });
    await until('the reader', () => onlineIds(registry).length === 1);
    await bus.morePasses(5);
    expect(registry.list().length).toBe(1);
    expect(bus.opened).toEqual([acm0]);
  });

  it('a reader unplugged and plugged back keeps its reader id, also when it comes back as another ttyACMn', async () => {
    const bus = new FakeUsbBus();
    bus.plug('SIM-A', 'ttyACM0');
    const { registry } = await start(bus);
    await until('SIM-A', () => onlineIds(registry).length === 1);
    bus.plug('SIM-B', 'ttyACM1');
    await until('SIM-B', () => onlineIds(registry).length === 2);
    const idA = registry.list().find((r) => r.attachedDevice?.serial === 'SIM-A')!.id;
    const idB = registry.list().find((r) => r.attachedDevice?.serial === 'SIM-B')!.id;

    // SIM-A: out, and back under the next free node (the kernel still held ttyACM0).
    bus.unplug('SIM-A');
    await until('SIM-A offline', () => !registry.get(idA).online);
    expect(registry.get(idA).currentHealth).toBe('offline');
    bus.plug('SIM-A', 'ttyACM2');
    await until('SIM-A back', () => registry.get(idA).online);
    expect(serialOf(registry, idA)).toBe('SIM-A');

    // SIM-B: out and back at the same node.
    bus.unplug('SIM-B');
    await until('SIM-B offline', () => !registry.get(idB).online);
    await bus.morePasses(2); // discovery forgets the vanished port meanwhile
    bus.plug('SIM-B', 'ttyACM1');
    await until('SIM-B back', () => registry.get(idB).online);

    expect(registry.list().map((r) => r.id).sort()).toEqual([idA, idB].sort());
    expect(onlineIds(registry)).toEqual([idA, idB].sort());
  });

  it('keys a discovered reader by its USB identity, or by its path when the port has none', () => {
    const entry = USB_SERIAL_READERS[0];
    expect(discoveredKey({ path: '/dev/ttyACM0', serialNumber: 'ABC' }, entry)).toBe('usb:1209:7611:ABC');
    expect(discoveredKey({ path: '/dev/ttyACM0', pnpId: 'usb-X-if00' }, entry)).toBe('usb:1209:7611:usb-X-if00');
    expect(discoveredKey({ path: '/dev/ttyACM0' }, entry)).toBe('/dev/ttyACM0');
  });

  it('reports a failing list and keeps going', async () => {
    const bus = new FakeUsbBus();
    let fail = true;
    bus.plug('SIM-A', 'ttyACM0');
    const { registry, backend } = await start(bus, { listPorts: async () => { if (fail) throw new Error('udevadm exited 1'); return bus.list(); } });
    await until('the note', () => /udevadm exited 1/.test(backend.status().detail ?? ''));
    fail = false;
    await until('the reader', () => onlineIds(registry).length === 1);
    expect(backend.status().detail).toBeUndefined();
  });
});

describe('device table lookups', () => {
  it('normalises USB ids', () => {
    expect(normaliseUsbId('1A86')).toBe('1a86');
    expect(normaliseUsbId('0x1209')).toBe('1209');
    expect(normaliseUsbId('0X7611')).toBe('7611');
    expect(normaliseUsbId('483')).toBe('0483');
    expect(normaliseUsbId('')).toBeUndefined();
    expect(normaliseUsbId('usb')).toBeUndefined();
    expect(usbSerialEntry('1209', '7611')?.description).toMatch(/Yika/);
    expect(usbSerialEntry('1209', undefined)).toBeUndefined();
  });

  it('compares firmware versions numerically', () => {
    expect(parseFirmwareVersion('1.10.0-rc1')).toEqual([1, 10, 0]);
    expect(parseFirmwareVersion('v2.3')).toEqual([2, 3]);
    expect(parseFirmwareVersion('sim')).toBeUndefined();
    expect(compareVersions([1, 10], [1, 9, 5])).toBe(1);
    expect(compareVersions([1, 2], [1, 2, 0])).toBe(0);
  });

  it('finds quirks by vendor, model and firmware range (from inclusive, before exclusive)', () => {
    const table: ProtocolQuirkEntry[] = [
      { vendor: 'Acme', model: /^DR-/, firmware: { before: '1.4.0' }, quirks: { maxBatch: 8 }, why: 'batch bug before 1.4' },
      { vendor: 'Acme', firmware: { from: '2.0', before: '2.1' }, quirks: { requestTimeoutMs: 9000 }, why: 'slow 2.0.x' },
      { vendor: 'Acme', model: /DR-9/g, firmware: /-beta$/, quirks: { maxBatch: 2 }, why: 'betas' },
    ];
    expect(protocolQuirks('Acme', 'DR-7', '1.3.9', table)).toEqual({ maxBatch: 8 });
    expect(protocolQuirks('Acme', 'DR-7', '1.4.0', table)).toEqual({});
    expect(protocolQuirks('Acme', 'DR-7', '1.10.0', table)).toEqual({}); // 1.10 is after 1.4, not before
    expect(protocolQuirks('Acme', 'XR-1', '1.3.0', table)).toEqual({}); // model does not match
    expect(protocolQuirks('Acme', 'XR-1', '2.0.7', table)).toEqual({ requestTimeoutMs: 9000 });
    expect(protocolQuirks('Acme', 'XR-1', '2.1.0', table)).toEqual({});
    expect(protocolQuirks('Acme', 'XR-1', 'custom build', table)).toEqual({}); // no version: a range never matches
    expect(protocolQuirks('Other', 'DR-7', '1.0.0', table)).toEqual({});
    // Later entries override earlier ones; a /g pattern matches every time (no lastIndex carried over).
    for (let i = 0; i < 3; i++) expect(protocolQuirks('Acme', 'DR-9', '1.2.0-beta', table)).toEqual({ maxBatch: 2 });
    expect(protocolQuirks('Yika', 'SIM-1', '1.0.0-sim')).toEqual({});
  });
});
