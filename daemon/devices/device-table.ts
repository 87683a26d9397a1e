// Every device-specific behaviour lives here, keyed by vendor/model/firmware (or USB ids, or PC/SC
// reader-name patterns), never as name checks scattered in the code.

export interface UsbSerialEntry {
  /** USB vendor and product id, lower-case hex as udev reports them (e.g. "1a86"). */
  vendorId: string;
  productId: string;
  /** What the device is, for `yika doctor` and logs. */
  description: string;
  baudRate: number;
}

/** Serial readers that speak Yika protocol v1, found by USB id. */
export const USB_SERIAL_READERS: readonly UsbSerialEntry[] = [
  // pid.codes test VID/PID allocated for open-source hardware prototypes of protocol v1 readers.
  { vendorId: '1209', productId: '7611', description: 'Yika protocol v1 reader (open hardware)', baudRate: 115200 },
];

/** A USB id as 4 lower-case hex digits: udev says "1a86", Windows "1A86", some tools "0x1a86". */
export function normaliseUsbId(id: string | undefined): string | undefined {
  const m = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(id?.trim() ?? '');
  return m ? m[1].toLowerCase().padStart(4, '0') : undefined;
}

/** The table entry of a port's USB vendor/product id (compared case-insensitively), if any. */
export function usbSerialEntry(vendorId: string | undefined, productId: string | undefined, table: readonly UsbSerialEntry[] = USB_SERIAL_READERS): UsbSerialEntry | undefined {
  const vid = normaliseUsbId(vendorId);
  const pid = normaliseUsbId(productId);
  if (!vid || !pid) return undefined;
  return table.find((e) => normaliseUsbId(e.vendorId) === vid && normaliseUsbId(e.productId) === pid);
}

export interface ProtocolQuirks {
  /** Largest batch to send, below what hello announces (firmware with a batch bug). */
  maxBatch?: number;
  /** Per-request timeout for slow firmware (ms). */
  requestTimeoutMs?: number;
}

/** Firmware versions from `from` (inclusive) up to `before` (exclusive); either end may be open. */
export interface FirmwareRange {
  from?: string;
  before?: string;
}

export interface ProtocolQuirkEntry {
  vendor: string;
  model?: RegExp;
  /**
   * Firmware versions the quirk applies to: a pattern, or a range of dotted versions compared
   * numerically ("1.10.0" comes after "1.9.2"; a suffix such as "-rc1" is ignored). A firmware string
   * without a leading version number never matches a range.
   */
  firmware?: RegExp | FirmwareRange;
  quirks: ProtocolQuirks;
  why: string;
}

const PROTOCOL_QUIRKS: readonly ProtocolQuirkEntry[] = [];

/** The numeric parts of a leading dotted version ("2.1.0-sim" → [2, 1, 0]); undefined when there is none. */
export function parseFirmwareVersion(text: string): number[] | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)/i.exec(text);
  return m ? m[1].split('.').map(Number) : undefined;
}

/** Compares dotted versions numerically, missing parts counting as 0 (1.2 = 1.2.0). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function firmwareMatches(rule: RegExp | FirmwareRange, firmware: string): boolean {
  if (rule instanceof RegExp) return firmware.search(rule) >= 0;
  const v = parseFirmwareVersion(firmware);
  if (!v) return false;
  const from = rule.from !== undefined ? parseFirmwareVersion(rule.from) : undefined;
  const before = rule.before !== undefined ? parseFirmwareVersion(rule.before) : undefined;
  if (from && compareVersions(v, from) < 0) return false;
  if (before && compareVersions(v, before) >= 0) return false;
  return true;
}

/** The quirks of a device (every matching entry, later entries overriding earlier ones). */
export function protocolQuirks(vendor: string, model: string, firmware: string, table: readonly ProtocolQuirkEntry[] = PROTOCOL_QUIRKS): ProtocolQuirks {
  const out: ProtocolQuirks = {};
  for (const e of table) {
    // search(), not test(): a pattern written with the g flag must not carry lastIndex between devices.
    if (e.vendor === vendor && (!e.model || model.search(e.model) >= 0) && (!e.firmware || firmwareMatches(e.firmware, firmware))) Object.assign(out, e.quirks);
  }
  return out;
}

/**
 * How a PC/SC multi-slot reader's per-slot reader names map to one logical reader. pcsc-lite names a
 * reader "<friendly name> [<interface>] <reader index> <slot index>"; CCID desk readers expose the
 * user card as slot 00 and SAM sockets as 01, 02 …
 */
export interface PcscSlotMapping {
  /** Matches the base name (the reader name without its trailing slot index). */
  name: RegExp;
  vendor: string;
  model: string;
  /** pcsc slot index → our slot id and kind. */
  slots: Record<number, { id: number; kind: 'contact' | 'contactless' | 'sam' }>;
  why: string;
}

const DEFAULT_PCSC_SLOTS: PcscSlotMapping['slots'] = {
  0: { id: 0x01, kind: 'contact' },
  1: { id: 0x11, kind: 'sam' },
  2: { id: 0x12, kind: 'sam' },
  3: { id: 0x13, kind: 'sam' },
  4: { id: 0x14, kind: 'sam' },
};

const PCSC_READERS: readonly PcscSlotMapping[] = [
  {
    name: /^Virtual PCD\b/,
    vendor: 'vsmartcard',
    model: 'vpcd',
    slots: DEFAULT_PCSC_SLOTS,
    why: 'vsmartcard vpcd exposes two readers (ports 35963, 35964): we use the first as the user card and the second as SAM1.',
  },
  {
    name: /PICC|Contactless/i,
    vendor: 'generic',
    model: 'contactless',
    slots: { 0: { id: 0x02, kind: 'contactless' } },
    why: 'A PC/SC interface named PICC/Contactless is an antenna, not a contact slot.',
  },
];

/** Splits a pcsc-lite reader name into the logical reader's base name and the slot index. */
export function splitPcscName(name: string): { base: string; slotIndex: number } {
  const m = /^(.*\S)\s+(\d{2})$/.exec(name);
  if (!m) return { base: name, slotIndex: 0 };
  return { base: m[1], slotIndex: Number(m[2]) };
}

export function pcscMapping(base: string): Pick<PcscSlotMapping, 'vendor' | 'model' | 'slots'> {
  const hit = PCSC_READERS.find((e) => e.name.test(base));
  return hit ?? { vendor: 'PC/SC', model: base.replace(/\s+\d{2}$/, ''), slots: DEFAULT_PCSC_SLOTS };
}
