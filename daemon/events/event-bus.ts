// In-order fan-out of daemon events with a bounded history, so that a client that reconnects can
// resume from the last sequence number it saw and miss nothing recent.
import type { DeliveredEvent, YikaEvent, YikaEventType } from './event-types.ts';

/**
 * `transient`: extra fields for this live delivery only (a scanned payment code for a subscriber that
 * asked for it with the API token). Never kept in the history, so a resume never replays them.
 */
export type EventListener = (event: DeliveredEvent, transient?: Readonly<Record<string, unknown>>) => void;

export interface Subscription {
  unsubscribe(): void;
}

export class EventBus {
  private seq = 0;
  private readonly history: DeliveredEvent[] = [];
  private readonly listeners = new Set<{ types?: ReadonlySet<YikaEventType>; fn: EventListener }>();

  constructor(private readonly historySize = 1000) {}

  publish(event: YikaEvent, transient?: Readonly<Record<string, unknown>>): DeliveredEvent {
    const delivered = { ...event, seq: ++this.seq, at: new Date().toISOString() } as DeliveredEvent;
    this.history.push(delivered);
    if (this.history.length > this.historySize) this.history.shift();
    for (const l of [...this.listeners]) {
      if (l.types && !l.types.has(delivered.type)) continue;
      try {
        l.fn(delivered, transient);
      } catch {
        // A faulty subscriber must not stop delivery to the others; it is dropped.
        this.listeners.delete(l);
      }
    }
    return delivered;
  }

  /** The last sequence number published (0 before the first event). */
  get position(): number {
    return this.seq;
  }

  /** Oldest sequence number still replayable. */
  get oldest(): number {
    return this.history.length ? this.history[0].seq : this.seq + 1;
  }

  /**
   * Subscribes; with `after`, first replays the retained events with seq > after (in order).
   * Returns whether the replay was complete (false when events after `after` were already dropped).
   */
  subscribe(
    fn: EventListener,
    options: { types?: ReadonlyArray<YikaEventType>; after?: number } = {},
  ): Subscription & { complete: boolean } {
    const types = options.types?.length ? new Set(options.types) : undefined;
    let complete = true;
    if (options.after !== undefined) {
      complete = options.after >= this.oldest - 1;
      for (const e of this.history) {
        if (e.seq > options.after && (!types || types.has(e.type))) fn(e);
      }
    }
    const entry = { types, fn };
    this.listeners.add(entry);
    return { complete, unsubscribe: () => this.listeners.delete(entry) };
  }
}
