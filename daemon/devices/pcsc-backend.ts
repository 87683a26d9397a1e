// PC/SC readers through pcscd (pcsclite, an optional native addon, loaded on the main thread only:
// it aborts inside worker threads). Each pcsc-lite reader name is one slot; the slots of one physical
// reader ("… 00 00" user card, "… 00 01" SAM1 …) are mapped to one logical reader by device-table.ts.
// Recovery: pcscd not running or restarted → the backend reports itself degraded, closes every
// context it had, and starts again with backoff; readers come back under their old ids. A card reset
// or powered down under our connection (another program's SCardDisconnect(RESET/UNPOWER), pcscd) is
// seen at the next exchange (SCARD_W_RESET_CARD/UNPOWERED_CARD): the backend drops its handle, the
// reader model marks the slot unpowered (new power epoch: SAM PIN verified again), and the
// health-card service runs the read again from a fresh power-on.
import { createRequire } from 'node:module';
import type { PowerOnResult, SlotStatus } from '../../protocol/operations.ts';
import { DeviceError } from '../../protocol/device-error.ts';
import { LinkClosedError } from '../../protocol/protocol-errors.ts';
import { Backoff } from './backoff.ts';
import { pcscMapping, splitPcscName } from './device-table.ts';
import type { PcscCardReader, PcscContext, PcscFactory } from './pcsclite-types.ts';
import type { BackendStatus, DeviceBackend, DeviceCardEvent, DeviceSink, ReaderDevice } from './reader-device.ts';

export const PCSC_FIX = 'apt-get install libpcsclite-dev pcscd && npm rebuild pcsclite';

let loaded: { factory?: PcscFactory; error?: string } | undefined;

/** Loads the addon once; returns why it is unavailable otherwise. */
export function loadPcsclite(): { factory?: PcscFactory; error?: string } {
  if (!loaded) {
    try {
      const require = createRequire(import.meta.url);
      loaded = { factory: require('pcsclite') as PcscFactory };
    } catch (e) {
      loaded = { error: `the pcsclite addon did not load (${(e as Error).message.split('\n')[0]})` };
    }
  }
  return loaded;
}

/** Maps a pcsclite error message (it carries the PC/SC return code) to a device error. */
export function pcscError(err: unknown, slot: number): DeviceError | LinkClosedError {
  const text = String((err as Error)?.message ?? err);
  const details = { slot };
  if (/0x80100069|removed/i.test(text)) return new DeviceError('CARD_REMOVED', 'The card was removed during the operation', details);
  if (/0x8010000C|No smart card|0x80100066|unresponsive/i.test(text)) {
    return /0x80100066|unresponsive/i.test(text) ? new DeviceError('CARD_MUTE', 'The card does not respond', details) : new DeviceError('NO_CARD', 'No card in the slot', details);
  }
  // SCARD_W_RESET_CARD / SCARD_W_UNPOWERED_CARD: another program (or pcscd) reset or powered down the
  // card under our connection; the backend reconnects and the operation starts again (powerLost).
  if (/0x80100068|0x80100067|reset|unpowered/i.test(text)) return new DeviceError('CARD_NOT_POWERED', 'The card was reset or powered down by another program', { ...details, powerLost: true });
  if (/not connected/i.test(text)) return new DeviceError('CARD_NOT_POWERED', 'The card is not powered', details);
  // pcscd stopped or the reader vanished: the reader is offline (503), not the card at fault and not an
  // internal error. LINK_CLOSED, like a pulled serial cable: a command in flight may have reached the card.
  if (/0x8010001D|0x80100017|0x8010002E|0x8010002F|0x80100009|Service not available|unavailable|No readers|Unknown reader/i.test(text)) {
    return new LinkClosedError('pcscd or the reader became unavailable during the exchange', details);
  }
  return new DeviceError('CARD_PROTOCOL_ERROR', 'PC/SC transmission error', details);
}

interface SlotEntry {
  reader: PcscCardReader;
  id: number;
  kind: 'contact' | 'contactless' | 'sam';
  protocol?: number;
  atr?: Buffer;
  present: boolean;
  mute: boolean;
}

/** One APDU on a connected slot; a stale handle (card reset or unpowered by another program) is dropped. */
function pcscTransmit(group: PcscGroup, s: SlotEntry, slot: number, apdu: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (!s.present) return reject(new DeviceError('NO_CARD', 'No card in the slot', { slot }));
    if (!s.reader.connected || s.protocol === undefined) return reject(new DeviceError('CARD_NOT_POWERED', 'Power the card on first', { slot }));
    // No copies either way: the addon copies the command before queueing it, and every
    // response arrives in a fresh buffer of its own (Nan::CopyBuffer), so a view is safe.
    s.reader.transmit(Buffer.from(apdu.buffer, apdu.byteOffset, apdu.byteLength), 65_538, s.protocol, (err, data) => {
      if (err) {
        const e = pcscError(err, slot);
        if (e instanceof DeviceError && e.details?.powerLost) {
          // Our handle is stale: drop it (leave the card as it is) and tell the reader model the
          // card needs a new power-on; the command was not executed by the card.
          s.protocol = undefined;
          s.reader.disconnect(s.reader.SCARD_LEAVE_CARD, () => {
            group.emit({ type: 'card.unpowered', slot });
            reject(e);
          });
          return;
        }
        return reject(e);
      }
      // No status word: the reader got nothing from the card (vpcd answers so when its card hangs up).
      if (data.length < 2) return reject(new DeviceError('CARD_MUTE', 'The card gave no answer', { slot }));
      resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
  });
}

/** One logical reader: the pcsc slots sharing a base name. */
class PcscGroup {
  readonly slots = new Map<number, SlotEntry>();
  private readonly listeners = new Set<(e: DeviceCardEvent) => void>();
  attachedVersion = 0;

  constructor(readonly base: string) {}

  emit(e: DeviceCardEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  device(): ReaderDevice {
    const map = pcscMapping(this.base);
    const group = this;
    const entry = (slot: number): SlotEntry => {
      const s = group.slots.get(slot);
      if (!s) throw new DeviceError('BAD_SLOT', `no slot ${slot}`, { slot });
      return s;
    };
    return {
      kind: 'pcsc',
      key: this.base,
      name: this.base,
      vendor: map.vendor,
      model: map.model,
      firmware: 'pcscd',
      slots: [...this.slots.values()].sort((a, b) => a.id - b.id).map((s) => ({ id: s.id, kind: s.kind })),
      secure: { policy: 'off', state: 'unsupported' },
      maxBatch: 0,
      ops: {
        async slotStatus(slot?: number): Promise<SlotStatus[]> {
          const list = slot === undefined ? [...group.slots.values()] : [entry(slot)];
          return list.map((s): SlotStatus => {
            if (!s.present) return { slot: s.id, card: 'absent' };
            if (s.mute) return { slot: s.id, card: 'mute' };
            if (s.reader.connected && s.atr) return { slot: s.id, card: 'powered', atr: Uint8Array.from(s.atr), protocol: s.protocol === s.reader.SCARD_PROTOCOL_T1 ? 1 : 0 };
            return { slot: s.id, card: 'present' };
          });
        },
        powerOn(slot: number): Promise<PowerOnResult> {
          const s = entry(slot);
          return new Promise((resolve, reject) => {
            const finish = (protocol: number) => {
              s.protocol = protocol;
              if (!s.atr) return reject(new DeviceError('CARD_MUTE', 'The card gave no ATR', { slot }));
              resolve({ atr: Uint8Array.from(s.atr), protocol: protocol === s.reader.SCARD_PROTOCOL_T1 ? 1 : 0 });
            };
            const connect = () =>
              s.reader.connect({ share_mode: s.reader.SCARD_SHARE_SHARED, protocol: s.reader.SCARD_PROTOCOL_T0 | s.reader.SCARD_PROTOCOL_T1 }, (err, protocol) => {
                if (err) return reject(pcscError(err, slot));
                finish(protocol);
              });
            // A fresh power-on: reset the card if we were connected (cold reset semantics).
            if (s.reader.connected) s.reader.disconnect(s.reader.SCARD_UNPOWER_CARD, () => connect());
            else connect();
          });
        },
        powerOff(slot: number): Promise<void> {
          const s = entry(slot);
          return new Promise((resolve) => {
            if (!s.reader.connected) return resolve();
            s.reader.disconnect(s.reader.SCARD_UNPOWER_CARD, () => resolve());
          });
        },
        transmit: (slot: number, apdu: Uint8Array) => pcscTransmit(group, entry(slot), slot, apdu),
      },
      onEvent(listener) {
        group.listeners.add(listener);
        return () => group.listeners.delete(listener);
      },
      close: async () => {},
    };
  }
}

export interface PcscBackendOptions {
  /** Debounce before a new logical reader is reported, so all its slots are known (ms). */
  settleMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** For tests: a different addon. */
  factory?: PcscFactory;
}

export class PcscBackend implements DeviceBackend {
  readonly kind = 'pcsc' as const;
  private context: PcscContext | undefined;
  private sink: DeviceSink | undefined;
  private readonly groups = new Map<string, PcscGroup>();
  private readonly backoff = new Backoff(500, 10_000);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private state: BackendStatus = { backend: 'pcsc', available: false, detail: 'not started' };

  constructor(private readonly options: PcscBackendOptions = {}) {}

  status(): BackendStatus {
    return { ...this.state };
  }

  async start(sink: DeviceSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    const factory = this.options.factory ?? loadPcsclite().factory;
    if (!factory) {
      this.state = { backend: 'pcsc', available: false, detail: loadPcsclite().error ?? 'pcsclite is not installed', fix: PCSC_FIX };
      this.options.log?.warn({ fix: PCSC_FIX }, `PC/SC unavailable: ${this.state.detail}`);
      return;
    }
    this.open(factory);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.teardown('daemon stopping');
  }

  private open(factory: PcscFactory): void {
    if (this.stopped) return;
    let ctx: PcscContext;
    try {
      ctx = factory();
    } catch (e) {
      this.retry(factory, `pcscd is not running (${(e as Error).message})`);
      return;
    }
    this.context = ctx;
    this.state = { backend: 'pcsc', available: true };
    ctx.on('error', (err) => {
      if (this.context !== ctx) return; // the one error that follows close()
      this.retry(factory, `pcscd connection lost (${String((err as Error)?.message ?? err)})`);
    });
    ctx.on('reader', (r) => this.onReader(r));
  }

  private retry(factory: PcscFactory, detail: string): void {
    this.teardown(detail);
    if (this.stopped) return;
    this.state = { backend: 'pcsc', available: false, detail, fix: 'start pcscd (systemctl start pcscd, or pcscd --foreground)' };
    const delay = this.backoff.next();
    if (this.backoff.attempts <= 1 || this.backoff.attempts % 10 === 0) this.options.log?.warn({ delayMs: delay }, `PC/SC: ${detail}; retrying`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(factory), delay);
    this.timer.unref?.();
  }

  /** Closes every reader, then the context (pcsc.close() alone hangs the process). */
  private teardown(reason: string): void {
    const ctx = this.context;
    this.context = undefined;
    for (const g of this.groups.values()) {
      for (const s of g.slots.values()) {
        s.reader.removeAllListeners();
        s.reader.on('error', () => {});
        try {
          s.reader.close();
        } catch {
          // already gone
        }
      }
      if (g.attachedVersion) this.sink?.detached('pcsc', g.base, reason);
      g.slots.clear();
      g.attachedVersion = 0;
    }
    if (ctx) {
      ctx.removeAllListeners();
      ctx.on('error', () => {});
      try {
        ctx.close();
      } catch {
        // already closed
      }
    }
  }

  private onReader(r: PcscCardReader): void {
    this.backoff.reset();
    const { base, slotIndex } = splitPcscName(r.name);
    const map = pcscMapping(base);
    const slotDef = map.slots[slotIndex];
    if (!slotDef) {
      this.options.log?.warn({ reader: r.name }, 'PC/SC slot not mapped in device-table.ts; ignored');
      return;
    }
    let group = this.groups.get(base);
    if (!group) this.groups.set(base, (group = new PcscGroup(base)));
    const g = group;
    const entry: SlotEntry = { reader: r, id: slotDef.id, kind: slotDef.kind, present: false, mute: false };
    g.slots.set(slotDef.id, entry);
    r.on('error', (err) => this.options.log?.warn({ reader: r.name, err: String((err as Error)?.message ?? err) }, 'PC/SC reader error'));
    r.on('status', (status) => {
      const present = (status.state & r.SCARD_STATE_PRESENT) !== 0;
      const mute = (status.state & r.SCARD_STATE_MUTE) !== 0;
      entry.mute = mute;
      if (present && !entry.present) {
        entry.present = true;
        entry.atr = status.atr && status.atr.length ? status.atr : undefined;
        g.emit({ type: 'card.inserted', slot: entry.id });
      } else if (!present && entry.present) {
        entry.present = false;
        entry.atr = undefined;
        entry.protocol = undefined;
        if (r.connected) r.disconnect(r.SCARD_LEAVE_CARD, () => {});
        g.emit({ type: 'card.removed', slot: entry.id });
      } else if (present && status.atr && status.atr.length) {
        entry.atr = status.atr;
      }
    });
    r.on('end', () => {
      g.slots.delete(entry.id);
      if (g.slots.size === 0) {
        this.groups.delete(base);
        if (g.attachedVersion) this.sink?.detached('pcsc', base, 'reader removed from pcscd');
      } else this.scheduleAttach(g);
    });
    this.scheduleAttach(g);
  }

  private readonly pending = new Map<string, NodeJS.Timeout>();

  private scheduleAttach(g: PcscGroup): void {
    clearTimeout(this.pending.get(g.base));
    const t = setTimeout(() => {
      this.pending.delete(g.base);
      if (this.groups.get(g.base) !== g || g.slots.size === 0) return;
      g.attachedVersion++;
      this.sink?.attached(g.device());
    }, this.options.settleMs ?? 300);
    t.unref?.();
    this.pending.set(g.base, t);
  }
}
