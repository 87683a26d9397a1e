// Events in order, and the events lost on the line (PROTOCOL.md 7, 9.1). Events carry a seq (0 after
// each hello); a gap (or a ping result whose nextEvent is ahead) is reported as an `eventGap` so that
// the owner can re-read the slot states. Events that arrive while the session opens wait until the
// caller had a chance to subscribe.
import type { DeviceEvent } from '../operations.ts';
import type { SessionStats } from './session-stats.ts';

/** Events lost on the line: the next event (or a ping's nextEvent) was `lost` ahead of the expected seq. */
export interface EventGap {
  expected: number;
  received: number;
  lost: number;
}

export interface EventSequencerOutput {
  event(event: DeviceEvent): void;
  gap(gap: EventGap): void;
  isClosed(): boolean;
}

export class EventSequencer {
  /** The seq the next event should carry (undefined until hello has been answered). */
  private nextSeq: number | undefined;
  /** Events held until the session is open (null: delivered at once). */
  private buffer: DeviceEvent[] | null = [];

  constructor(
    private readonly stats: SessionStats,
    private readonly out: EventSequencerOutput,
  ) {}

  /** A new hello is on its way: no seq is expected until it is answered. */
  forget(): void {
    this.nextSeq = undefined;
  }

  /** Hello was answered: events of this connection count from 0. */
  restart(): void {
    this.nextSeq = 0;
  }

  onEvent(seq: number, event: DeviceEvent): void {
    this.stats.events++;
    this.check(seq, true);
    if (this.buffer) this.buffer.push(event);
    else this.out.event(event);
  }

  /** A ping result's nextEvent: the seq of the device's next event. */
  onNextEvent(seq: number): void {
    this.check(seq, false);
  }

  /** The session is open: deliver what arrived meanwhile, then every event at once. */
  flush(): void {
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const e of buffered) if (!this.out.isClosed()) this.out.event(e);
  }

  /** The session closed: nothing held is delivered any more. */
  stop(): void {
    this.buffer = null;
  }

  /**
   * Compares an event's seq (or a ping's nextEvent) with the seq expected next. Ahead = events lost on
   * the line: counted and reported (`eventGap`). Behind = an old ping answer repeated: ignored.
   */
  private check(seq: number, isEvent: boolean): void {
    const expected = this.nextSeq;
    if (expected !== undefined) {
      const ahead = (seq - expected) >>> 0;
      if (ahead !== 0 && ahead < 0x8000_0000) {
        this.stats.eventGaps++;
        this.stats.eventsLost += ahead;
        if (!this.buffer) this.out.gap({ expected, received: seq, lost: ahead });
      } else if (ahead !== 0 && !isEvent) {
        return; // a stale nextEvent
      }
    }
    this.nextSeq = isEvent ? (seq + 1) >>> 0 : seq;
  }
}
