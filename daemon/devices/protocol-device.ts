// A ReaderDevice for anything that speaks reader protocol v1 as ReaderOperations: a HostSession over
// a serial port, TCP or the in-process link. The hello answer gives the identity, slots and batch size.
//
// Lost events: the session reports a gap in the event sequence (a card.removed lost to line noise …).
// The device then re-reads the slot states and tells the reader model what it missed, as the events
// it would have had: a card that is gone → card.removed; a new card → card.inserted; a card that was
// powered and is now only present (removed and inserted again, both events lost) → both.
import type { CardState, DeviceEvent, DeviceHello, ReaderOperations, SlotStatus } from '../../protocol/operations.ts';
import type { DeviceCardEvent, DeviceKind, LinkLossNotice, ReaderDevice, SecureChannelState } from './reader-device.ts';

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
  /** Subscribes to gaps in the event sequence (events lost on the line). */
  subscribeGaps?(listener: () => void): () => void;
  /** Subscribes to the session's retransmissions (for metrics). */
  subscribeLoss?(listener: (notice: LinkLossNotice) => void): () => void;
  close(): Promise<void>;
  /** Overrides the batch size (device-table quirks); default hello.maxBatch when hello.batch. */
  maxBatch?: number;
}

/**
 * What the reader model has been told about each slot, and the card events it is owed: after an event
 * gap (lost frames) a slotStatus read tells what changed meanwhile, and the missing events are made up.
 */
class SlotStateTracker {
  private readonly known = new Map<number, CardState>();
  // Card events per slot, to tell whether one arrived while a resync's slotStatus was under way.
  private readonly eventCount = new Map<number, number>();
  readonly listeners = new Set<(event: DeviceCardEvent) => void>();
  private resyncing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly slotStatus: () => Promise<SlotStatus[]>) {}

  learn(list: SlotStatus[]): SlotStatus[] {
    for (const s of list) this.known.set(s.slot, s.card);
    return list;
  }

  powered(slot: number): void {
    this.known.set(slot, 'powered');
  }

  unpowered(slot: number): void {
    if (this.known.get(slot) === 'powered') this.known.set(slot, 'present');
  }

  /** A device event as it arrives: card events update what is known. */
  event(e: DeviceEvent): void {
    if (e.type === 'card.inserted' || e.type === 'card.removed') {
      this.known.set(e.slot, e.type === 'card.inserted' ? 'present' : 'absent');
      this.eventCount.set(e.slot, (this.eventCount.get(e.slot) ?? 0) + 1);
    }
    const mapped = mapEvent(e);
    if (mapped) this.deliver(mapped);
  }

  /** Events were lost: one resync at a time, and one more if another gap came meanwhile. */
  gap(): void {
    if (this.resyncing) {
      this.again = true;
      return;
    }
    this.resyncing = this.resync().finally(() => {
      this.resyncing = undefined;
      if (this.again) {
        this.again = false;
        this.gap();
      }
    });
  }

  private deliver(e: DeviceCardEvent): void {
    for (const l of this.listeners) l(e);
  }

  private async resync(): Promise<void> {
    const before = new Map(this.eventCount);
    let statuses: SlotStatus[];
    try {
      statuses = await this.slotStatus();
    } catch {
      return; // the link is failing: the session's own error handling takes over
    }
    for (const st of statuses) {
      // A card event of this slot arrived meanwhile: it is newer than anything we could infer.
      if ((this.eventCount.get(st.slot) ?? 0) !== (before.get(st.slot) ?? 0)) continue;
      const was = this.known.get(st.slot);
      this.known.set(st.slot, st.card);
      if (was === undefined || was === st.card) continue;
      if (was === 'absent') this.deliver({ type: 'card.inserted', slot: st.slot });
      else if (st.card === 'absent') this.deliver({ type: 'card.removed', slot: st.slot });
      else if (was === 'powered') {
        // Powered by us, now unpowered: the card was pulled and put back (or swapped).
        this.deliver({ type: 'card.removed', slot: st.slot });
        this.deliver({ type: 'card.inserted', slot: st.slot });
      }
    }
  }
}

export function protocolDevice(p: ProtocolDeviceParts): ReaderDevice {
  const maxBatch = p.maxBatch ?? (p.hello.batch ? p.hello.maxBatch : 0);
  const slots = new SlotStateTracker(() => p.ops.slotStatus());

  let unsubscribe: (() => void) | undefined;
  const start = () => {
    if (unsubscribe) return;
    const offEvents = p.subscribe((e) => slots.event(e));
    const offGaps = p.subscribeGaps?.(() => slots.gap());
    unsubscribe = () => {
      offEvents();
      offGaps?.();
      unsubscribe = undefined;
    };
  };

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
      // A full answer is authoritative; one slot's too.
      slotStatus: (slot) => p.ops.slotStatus(slot).then((list) => slots.learn(list)),
      powerOn: (slot) =>
        p.ops.powerOn(slot).then((r) => {
          slots.powered(slot);
          return r;
        }),
      powerOff: (slot) => p.ops.powerOff(slot).then(() => slots.unpowered(slot)),
      transmit: (slot, apdu) => p.ops.transmit(slot, apdu),
      setParams: (slot, params) => p.ops.setParams(slot, params),
      ...(maxBatch > 1 ? { transmitBatch: (slot: number, commands: Parameters<ReaderOperations['transmitBatch']>[1]) => p.ops.transmitBatch(slot, commands) } : {}),
    },
    onEvent(listener) {
      slots.listeners.add(listener);
      start();
      return () => {
        slots.listeners.delete(listener);
        if (slots.listeners.size === 0) unsubscribe?.();
      };
    },
    ...(p.subscribeLoss ? { onLinkLoss: (listener: (n: LinkLossNotice) => void) => p.subscribeLoss!(listener) } : {}),
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
