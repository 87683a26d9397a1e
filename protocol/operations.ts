// The operations of reader protocol v1, as TypeScript types. This file is the contract between the
// host side (daemon) and the device side (firmware-sim, or a vendor's firmware): the wire codec in
// protocol/ turns these calls into MessagePack messages and back. PROTOCOL.md documents the wire form.

export const PROTOCOL_VERSION = 1;

export type SlotKind = 'contact' | 'contactless' | 'sam';

export interface SlotInfo {
  /** 0x01 contact user card, 0x02 contactless field, 0x11–0x14 SAM1–SAM4 (the hospital API numbering). */
  id: number;
  kind: SlotKind;
}

export interface HelloRequest {
  /** Protocol versions the host speaks, newest first. */
  versions: number[];
  /** Largest frame the host accepts (decoded payload bytes). */
  maxFrame: number;
  /** Free text naming the host software, for the device's diagnostics. */
  host?: string;
}

export interface DeviceHello {
  /** The version the device chose from the host's list. */
  version: number;
  vendor: string;
  model: string;
  serial: string;
  firmware: string;
  slots: SlotInfo[];
  /** Capabilities. */
  qrScanner: boolean;
  /** Largest frame (decoded payload bytes) the device accepts; both sides use min(host, device). */
  maxFrame: number;
  /** The device supports the SM secure channel (and may require it). */
  secureChannel: 'none' | 'supported' | 'required';
  /** The device executes `transmitBatch`. */
  batch: boolean;
  /** Largest number of commands in one batch. */
  maxBatch: number;
  /** Requests the device accepts before it has answered the first (it queues them); absent = 1. */
  maxInFlight?: number;
  /** The device executes the diagnostic `diagHold` operation (PROTOCOL.md 1.2). */
  diagnostics?: boolean;
}

export type CardState = 'absent' | 'present' | 'powered' | 'mute';

/**
 * The card interface rate in effect (PROTOCOL.md 6.1, revision 1.2, optional): Fi/Di after the ATR or
 * the last PPS, and the card clock. Bit rate = clockHz · di / fi.
 */
export interface CardRate {
  fi?: number;
  di?: number;
  clockHz?: number;
}

export interface SlotStatus extends CardRate {
  slot: number;
  card: CardState;
  /** Present when the card is powered. */
  atr?: Uint8Array;
  /** Transmission protocol in use when powered: 0 (T=0) or 1 (T=1). */
  protocol?: 0 | 1;
}

export interface PowerOnResult extends CardRate {
  atr: Uint8Array;
  protocol: 0 | 1;
}

export interface ProtocolParams {
  /** Requested transmission protocol. */
  protocol: 0 | 1;
  /** Requested Fi/Di (PPS); absent = keep the default (372/1). */
  fi?: number;
  di?: number;
  /** Result only (1.2, optional): the card clock in Hz. */
  clockHz?: number;
}

export interface BatchCommand {
  apdu: Uint8Array;
  /** Continue when (sw & mask) === sw for one entry; absent = only 9000. */
  expect?: ReadonlyArray<{ sw: number; mask: number }>;
}

export interface BatchResult {
  responses: Uint8Array[];
  stoppedAt?: number;
}

export interface DeviceInfo {
  uptimeMs: number;
  /** Free-form counters: frames in/out, CRC errors, resets … */
  counters: Record<string, number>;
  /** Free-form diagnostics strings, never cardholder data. */
  notes?: string[];
}

export type DeviceEvent =
  | { type: 'card.inserted'; slot: number }
  | { type: 'card.removed'; slot: number }
  | { type: 'qr.scanned'; text: string }
  | { type: 'error'; code: DeviceErrorName; message: string }
  | { type: 'busy'; busy: boolean };

/**
 * The operations a device executes. The firmware (simulator) implements this interface; the host
 * session exposes the same interface and sends each call over the wire.
 * Errors are DeviceError (protocol/device-error.ts) with one of DEVICE_ERRORS.
 */
export interface ReaderOperations {
  hello(request: HelloRequest): Promise<DeviceHello>;
  slotStatus(slot?: number): Promise<SlotStatus[]>;
  powerOn(slot: number): Promise<PowerOnResult>;
  powerOff(slot: number): Promise<void>;
  /** Warm reset of the card in the slot. */
  resetCard(slot: number): Promise<PowerOnResult>;
  setParams(slot: number, params: ProtocolParams): Promise<ProtocolParams>;
  transmit(slot: number, apdu: Uint8Array): Promise<Uint8Array>;
  transmitBatch(slot: number, commands: ReadonlyArray<BatchCommand>): Promise<BatchResult>;
  ping(): Promise<void>;
  deviceReset(): Promise<void>;
  deviceInfo(): Promise<DeviceInfo>;
}

/**
 * Every error a device can return: the wire code, its meaning and what the host should do.
 * Codes never change meaning once published; new ones are only added.
 */
export const DEVICE_ERRORS = {
  BAD_REQUEST: { wire: 1, meaning: 'The request is malformed or a field is out of range.', host: 'Fix the request; do not retry.' },
  UNKNOWN_OPERATION: { wire: 2, meaning: 'The device does not implement this operation.', host: 'Check the hello capabilities; do not retry.' },
  UNSUPPORTED_VERSION: { wire: 3, meaning: 'No protocol version in common.', host: 'Report the device as incompatible.' },
  NOT_READY: { wire: 4, meaning: 'hello has not completed (or the secure channel is required but not open).', host: 'Send hello (and open the secure channel), then retry.' },
  BUSY: { wire: 5, meaning: 'The device is executing another request and cannot queue this one.', host: 'Retry after a short delay.' },
  BAD_SLOT: { wire: 10, meaning: 'The slot does not exist on this device.', host: 'Use a slot listed in hello; do not retry.' },
  NO_CARD: { wire: 11, meaning: 'No card in the slot.', host: 'Ask the user to insert a card.' },
  CARD_NOT_POWERED: { wire: 12, meaning: 'The card is present but not powered.', host: 'Power the card on, then retry.' },
  CARD_REMOVED: { wire: 13, meaning: 'The card was removed during the operation; its result is lost.', host: 'Fail the operation; ask for the card again.' },
  CARD_MUTE: { wire: 14, meaning: 'The card did not answer (no ATR or no response within the card timeout).', host: 'Power-cycle the card once; then report a faulty card.' },
  CARD_PROTOCOL_ERROR: { wire: 15, meaning: 'T=0/T=1 transmission error between reader and card (parity, EDC, PPS refused).', host: 'Reset the card and retry once.' },
  APDU_TOO_LONG: { wire: 16, meaning: 'The APDU exceeds what the device or card accepts.', host: 'Use short APDUs or smaller chunks.' },
  BATCH_TOO_LONG: { wire: 17, meaning: 'More commands than maxBatch.', host: 'Split the batch.' },
  FRAME_TOO_LARGE: { wire: 20, meaning: 'A frame exceeded the negotiated maximum.', host: 'Respect maxFrame.' },
  SECURE_CHANNEL_REQUIRED: { wire: 30, meaning: 'The device accepts this operation only inside the secure channel.', host: 'Open the secure channel.' },
  SECURE_CHANNEL_FAILED: { wire: 31, meaning: 'The secure-channel handshake or a record check failed; the channel is closed.', host: 'Re-run the handshake; report if it fails again.' },
  HOST_NOT_PAIRED: { wire: 32, meaning: 'The device accepts only paired host keys and this host key is not one.', host: 'Pair the host key with the device.' },
  INTERNAL: { wire: 99, meaning: 'An internal device error.', host: 'Reset the device; report if it repeats.' },
} as const;

export type DeviceErrorName = keyof typeof DEVICE_ERRORS;
