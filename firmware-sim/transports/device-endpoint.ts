// Where the reader meets a host link: wraps the link with the fault injector's line noise, serves
// the reader on it with a DeviceSession, and forwards the reader's events to the host. One host at a
// time. A rebooting reader (fault) forgets the host: the session is replaced, so the host's next
// request gets NOT_READY and it must say hello again, as with real firmware.
import type { ByteLink, LinkCloseReason } from '../../protocol/link.ts';
import { DeviceSession } from '../../protocol/device-session.ts';
import type { DeviceSecureConfig } from '../../protocol/secure/device-handshake.ts';
import type { FaultInjector } from '../faults/fault-injector.ts';
import { noisyLink } from '../faults/noisy-link.ts';
import type { SimulatedReader } from '../reader/simulated-reader.ts';

export interface DeviceEndpointOptions {
  secure?: DeviceSecureConfig;
  maxFrame?: number;
  /** Called for handler errors that were not DeviceError (bugs): logs without data. */
  onInternalError?: (error: unknown) => void;
}

/** A link view that can be cut off: a replaced session keeps its subscription but hears nothing. */
function gatedLink(inner: ByteLink): { link: ByteLink; cut(): void } {
  let open = true;
  const link: ByteLink = {
    get name() {
      return inner.name;
    },
    get closed() {
      return !open || inner.closed;
    },
    write(bytes) {
      if (open) inner.write(bytes);
    },
    onData(listener) {
      return inner.onData((b) => {
        if (open) listener(b);
      });
    },
    onClose(listener: (reason: LinkCloseReason) => void) {
      return inner.onClose((r) => {
        if (open) listener(r);
      });
    },
    close(reason) {
      if (open) inner.close(reason);
    },
  };
  return { link, cut: () => (open = false) };
}

export class DeviceEndpoint {
  #reader: SimulatedReader;
  #faults: FaultInjector;
  #options: DeviceEndpointOptions;
  #raw?: ByteLink;
  #gate?: { link: ByteLink; cut(): void };
  #session?: DeviceSession;
  #totals: Record<string, number> = {};
  #offEvents: () => void;
  #offCounters: () => void;

  constructor(reader: SimulatedReader, faults: FaultInjector, options: DeviceEndpointOptions = {}) {
    this.#reader = reader;
    this.#faults = faults;
    this.#options = options;
    this.#offEvents = reader.on((event) => this.#session?.emit(event));
    this.#offCounters = reader.addCounterSource(() => this.counters());
  }

  get session(): DeviceSession | undefined {
    return this.#session;
  }

  get link(): ByteLink | undefined {
    return this.#raw;
  }

  /** True while a host link is attached and open. */
  get attached(): boolean {
    return !!this.#raw && !this.#raw.closed;
  }

  /** Serves the reader on a new host link (replacing any previous one, which is closed). */
  attach(link: ByteLink): DeviceSession {
    this.detach('replaced by a new host link');
    this.#raw = link;
    link.onClose(() => {
      if (this.#raw === link) this.#retire();
    });
    return this.#serve();
  }

  /** The reader rebooted: forget the host on the current link (it must say hello again). */
  restartSession(): void {
    if (!this.#raw || this.#raw.closed) return;
    this.#retire();
    this.#serve();
  }

  /** Closes the current host link. */
  detach(reason = 'detached'): void {
    const raw = this.#raw;
    this.#retire();
    this.#raw = undefined;
    raw?.close(reason);
  }

  counters(): Record<string, number> {
    const live = this.#session?.counters as unknown as Record<string, number> | undefined;
    const out: Record<string, number> = { ...this.#faults.counters() };
    const keys = new Set([...Object.keys(this.#totals), ...Object.keys(live ?? {})]);
    for (const k of keys) {
      const v = (this.#totals[k] ?? 0) + (typeof live?.[k] === 'number' ? live[k] : 0);
      out[`link.${k}`] = v;
    }
    return out;
  }

  close(): void {
    this.detach('simulator closed');
    this.#offEvents();
    this.#offCounters();
  }

  #serve(): DeviceSession {
    const gate = gatedLink(noisyLink(this.#raw!, this.#faults));
    this.#gate = gate;
    this.#session = new DeviceSession(gate.link, this.#reader, {
      maxFrame: this.#options.maxFrame,
      secure: this.#options.secure,
      // A simulator is a test device: it offers diagHold so suites can exercise the slow paths (PROTOCOL.md 1.2).
      diagnostics: true,
      onInternalError: this.#options.onInternalError ? (e) => this.#options.onInternalError!(e) : undefined,
    });
    return this.#session;
  }

  #retire(): void {
    const live = this.#session?.counters as unknown as Record<string, number> | undefined;
    if (live) for (const [k, v] of Object.entries(live)) if (typeof v === 'number') this.#totals[k] = (this.#totals[k] ?? 0) + v;
    this.#gate?.cut();
    this.#gate = undefined;
    this.#session = undefined;
  }
}

