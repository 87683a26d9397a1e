// A ReaderDevice for anything that speaks reader protocol v1 as ReaderOperations: a HostSession over
// a serial port, TCP or the in-process link. The hello answer gives the identity, slots and batch size.
import type { DeviceEvent, DeviceHello, ReaderOperations } from '../../protocol/operations.ts';
import type { DeviceCardEvent, DeviceKind, ReaderDevice, SecureChannelState } from './reader-device.ts';

export interface ProtocolDeviceParts {
  kind: DeviceKind;
  key: string;
  /** Configured name; default "<vendor> <model>". */
  name?: string;
  ops: ReaderOperations;
  hello: DeviceHello;
  secure: SecureChannelState;
  /** Subscribes to the session's device events. */
  subscribe(listener: (event: DeviceEvent) => void): () => void;
  close(): Promise<void>;
  /** Overrides the batch size (device-table quirks); default hello.maxBatch when hello.batch. */
  maxBatch?: number;
}

export function protocolDevice(p: ProtocolDeviceParts): ReaderDevice {
  const maxBatch = p.maxBatch ?? (p.hello.batch ? p.hello.maxBatch : 0);
  return {
    kind: p.kind,
    key: p.key,
    name: p.name ?? `${p.hello.vendor} ${p.hello.model}`,
    vendor: p.hello.vendor,
    model: p.hello.model,
    firmware: p.hello.firmware,
    serial: p.hello.serial,
    slots: p.hello.slots.map((s) => ({ ...s })),
    secure: p.secure,
    maxBatch,
    ops: {
      slotStatus: (slot) => p.ops.slotStatus(slot),
      powerOn: (slot) => p.ops.powerOn(slot),
      powerOff: (slot) => p.ops.powerOff(slot),
      transmit: (slot, apdu) => p.ops.transmit(slot, apdu),
      setParams: (slot, params) => p.ops.setParams(slot, params),
      ...(maxBatch > 1 ? { transmitBatch: (slot: number, commands: Parameters<ReaderOperations['transmitBatch']>[1]) => p.ops.transmitBatch(slot, commands) } : {}),
    },
    onEvent(listener) {
      return p.subscribe((e) => {
        const mapped = mapEvent(e);
        if (mapped) listener(mapped);
      });
    },
    close: () => p.close(),
  };
}

function mapEvent(e: DeviceEvent): DeviceCardEvent | undefined {
  switch (e.type) {
    case 'card.inserted':
    case 'card.removed':
      return { type: e.type, slot: e.slot };
    case 'qr.scanned':
      return { type: 'qr.scanned', text: e.text };
    case 'error':
      return { type: 'error', code: e.code, message: e.message };
    default:
      return undefined; // busy: not a model change
  }
}
