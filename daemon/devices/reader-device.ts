// The one seam between the reader model and the hardware: every backend (serial protocol, PC/SC,
// in-process simulator) turns what it finds into ReaderDevices and reports them to a DeviceSink.
// A ReaderDevice speaks the card-level subset of the protocol's ReaderOperations, so a serial
// HostSession is one as it is, and the PC/SC backend adapts pcsclite to the same calls.
import type { BatchCommand, BatchResult, PowerOnResult, ProtocolParams, SlotInfo, SlotStatus } from '../../protocol/operations.ts';

export type DeviceKind = 'serial' | 'pcsc' | 'sim';

/** What the reader model needs from a device: the protocol's card operations. */
export interface DeviceOperations {
  slotStatus(slot?: number): Promise<SlotStatus[]>;
  powerOn(slot: number): Promise<PowerOnResult>;
  powerOff(slot: number): Promise<void>;
  transmit(slot: number, apdu: Uint8Array): Promise<Uint8Array>;
  /** Present when the device executes batches in one round trip. */
  transmitBatch?(slot: number, commands: ReadonlyArray<BatchCommand>): Promise<BatchResult>;
  /** Present when the host chooses the transmission protocol (PPS); PC/SC negotiates by itself. */
  setParams?(slot: number, params: ProtocolParams): Promise<ProtocolParams>;
}

export type DeviceCardEvent =
  | { type: 'card.inserted'; slot: number }
  | { type: 'card.removed'; slot: number }
  /** The card is still there but lost its power or was reset (by another PC/SC program, or pcscd): its state (selected files, security status, SAM PIN) is gone. */
  | { type: 'card.unpowered'; slot: number }
  | { type: 'qr.scanned'; text: string }
  | { type: 'error'; code: string; message: string };

/** Loss on a protocol link (PROTOCOL.md §Loss and retransmission), for metrics. */
export type LinkLossNotice = { kind: 'retransmit'; op: string } | { kind: 'gave-up'; op: string } | { kind: 'event-gap'; lost: number };

export interface SecureChannelState {
  /** What the configuration asked for. */
  policy: 'required' | 'preferred' | 'off';
  /** Whether the link is protected now. */
  state: 'open' | 'plain' | 'unsupported';
  /** Why the link is not protected (absent when open). */
  reason?: string;
}

/**
 * A downgrade: the policy asked for the secure channel where possible ('preferred') and a link that
 * leaves the process runs in plaintext. Returns what the reader's health says about it, or undefined.
 * The in-process simulated reader's link is memory, with nobody on the line: never a downgrade.
 */
export function plaintextDowngrade(device: Pick<ReaderDevice, 'kind' | 'secure'>): string | undefined {
  const secure = device.secure;
  if (device.kind === 'sim' || secure.policy !== 'preferred' || secure.state === 'open') return undefined;
  return `plaintext link: ${secure.reason ?? 'the secure channel did not open'} (policy 'preferred'; set 'required' to refuse plaintext readers, or 'off' for this port to accept it)`;
}

export interface ReaderDevice {
  readonly kind: DeviceKind;
  /** Stable within its backend across reconnects: port path, PC/SC reader base name, "sim-1". */
  readonly key: string;
  readonly name: string;
  readonly vendor: string;
  readonly model: string;
  readonly firmware: string;
  readonly serial?: string;
  readonly slots: ReadonlyArray<SlotInfo & { label?: string }>;
  readonly secure: SecureChannelState;
  /** Largest batch the device executes in one round trip (0 = no batch support). */
  readonly maxBatch: number;
  readonly ops: DeviceOperations;
  /** Device-level events; returns an unsubscribe function. */
  onEvent(listener: (event: DeviceCardEvent) => void): () => void;
  /** Frames lost on the link and recovered (protocol devices); returns an unsubscribe function. */
  onLinkLoss?(listener: (notice: LinkLossNotice) => void): () => void;
  /** Initial card states (called once after attach). */
  initialStatus?(): Promise<SlotStatus[]>;
  close(): Promise<void>;
}

export interface BackendStatus {
  backend: DeviceKind;
  available: boolean;
  /** What is wrong, in words a desk technician can act on. */
  detail?: string;
  /** The exact fix, when known. */
  fix?: string;
}

/** Where backends report what they find; implemented by the ReaderRegistry. */
export interface DeviceSink {
  attached(device: ReaderDevice): void;
  /** The device went away (unplugged, pcscd stopped, link error). The backend keeps trying to get it back. */
  detached(kind: DeviceKind, key: string, reason: string): void;
  /** The backend is retrying a device it knows (after an error): shown as the reader's health. */
  degraded?(kind: DeviceKind, key: string, detail: string): void;
}

export interface DeviceBackend {
  readonly kind: DeviceKind;
  start(sink: DeviceSink): Promise<void>;
  stop(): Promise<void>;
  status(): BackendStatus;
}

