// Parts of the host session on their own, with known answers: the RTO estimator (RFC 6298, PROTOCOL.md
// 9.1) and the event sequencer (seq gaps, stale ping nextEvent, events held until the session is open).
import { describe, expect, it } from 'vitest';
import { EventSequencer, type EventGap } from '../../../protocol/host/event-sequencer.ts';
import { RttEstimator } from '../../../protocol/host/rtt-estimator.ts';
import { createSessionStats } from '../../../protocol/host/session-stats.ts';
import type { DeviceEvent } from '../../../protocol/operations.ts';

describe('RttEstimator', () => {
  it('starts at 250 ms, then SRTT + max(10, 4·RTTVAR) as RFC 6298 computes it', () => {
    const e = new RttEstimator(50, 1000);
    expect(e.rtoMs).toBe(250);
    e.sample(100); // srtt 100, rttvar 50
    expect(e.rtoMs).toBe(300);
    e.sample(20); // rttvar 0.75·50 + 0.25·80 = 57.5; srtt 0.875·100 + 0.125·20 = 90
    expect(e.rtoMs).toBe(320);
  });

  it('stays within its bounds, the initial value too', () => {
    const fast = new RttEstimator(50, 1000);
    for (let i = 0; i < 100; i++) fast.sample(1);
    expect(fast.rtoMs).toBe(50);
    const slow = new RttEstimator(50, 1000);
    slow.sample(5000);
    expect(slow.rtoMs).toBe(1000);
    expect(new RttEstimator(300, 400).rtoMs).toBe(300);
    expect(new RttEstimator(10, 100).rtoMs).toBe(100);
  });
});

describe('EventSequencer', () => {
  function sequencer() {
    const stats = createSessionStats();
    const events: DeviceEvent[] = [];
    const gaps: EventGap[] = [];
    let closed = false;
    const seq = new EventSequencer(stats, { event: (e) => events.push(e), gap: (g) => gaps.push(g), isClosed: () => closed });
    return { seq, stats, events, gaps, close: () => (closed = true) };
  }
  const inserted = (slot: number): DeviceEvent => ({ type: 'card.inserted', slot });

  it('reports events lost ahead of the expected seq, from events and from a ping nextEvent; ignores a stale nextEvent', () => {
    const { seq, stats, events, gaps } = sequencer();
    seq.restart();
    seq.flush();
    seq.onEvent(0, inserted(1));
    seq.onEvent(3, inserted(2)); // 1 and 2 lost
    seq.onNextEvent(4); // in step: nothing lost
    seq.onNextEvent(2); // an old ping answer repeated: behind, ignored
    seq.onEvent(4, inserted(3));
    seq.onNextEvent(7); // 5 and 6 lost at the end of a burst
    expect(events).toEqual([inserted(1), inserted(2), inserted(3)]);
    expect(gaps).toEqual([
      { expected: 1, received: 3, lost: 2 },
      { expected: 5, received: 7, lost: 2 },
    ]);
    expect(stats).toMatchObject({ events: 3, eventGaps: 2, eventsLost: 4 });
  });

  it('counts from 0 after each hello, across the 2^32 wrap', () => {
    const { seq, gaps } = sequencer();
    seq.restart();
    seq.flush();
    seq.onEvent(0xffff_fffe, inserted(1)); // two behind the expected 0 (serial arithmetic): no gap
    seq.onEvent(0xffff_ffff, inserted(1));
    seq.onEvent(0, inserted(1));
    expect(gaps).toEqual([]);
    seq.restart();
    seq.onEvent(1, inserted(1));
    expect(gaps).toEqual([{ expected: 0, received: 1, lost: 1 }]);
  });

  it('holds events until the session is open and drops them if it closed meanwhile; knows no seq before hello', () => {
    const open = sequencer();
    open.seq.onEvent(5, inserted(1)); // before hello is answered: no seq expected, no gap
    open.seq.restart();
    open.seq.onEvent(2, inserted(2)); // a gap while held: counted, not reported (the owner reads the slots after open)
    expect(open.events).toEqual([]);
    open.seq.flush();
    expect(open.events).toEqual([inserted(1), inserted(2)]);
    expect(open.gaps).toEqual([]);
    expect(open.stats).toMatchObject({ eventGaps: 1, eventsLost: 2 });

    const closing = sequencer();
    closing.seq.onEvent(0, inserted(1));
    closing.close();
    closing.seq.flush();
    expect(closing.events).toEqual([]);
  });
});
