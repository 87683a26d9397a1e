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

export interface ProtocolQuirks {
  /** Largest batch to send, below what hello announces (firmware with a batch bug). */
  maxBatch?: number;
  /** Per-request timeout for slow firmware (ms). */
  requestTimeoutMs?: number;
}

export interface ProtocolQuirkEntry {
  vendor: string;
  model?: RegExp;
  /** Firmware versions the quirk applies to. */
  firmware?: RegExp;
  quirks: ProtocolQuirks;
  why: string;
}

export const PROTOCOL_QUIRKS: readonly ProtocolQuirkEntry[] = [];

export function protocolQuirks(vendor: string, model: string, firmware: string): ProtocolQuirks {
  const out: ProtocolQuirks = {};
  for (const e of PROTOCOL_QUIRKS) {
    if (e.vendor === vendor && (!e.model || e.model.test(model)) && (!e.firmware || e.firmware.test(firmware))) Object.assign(out, e.quirks);
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

export const PCSC_READERS: readonly PcscSlotMapping[] = [
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
