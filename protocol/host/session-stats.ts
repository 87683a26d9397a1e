// The host session's own counters (the frame channel's come on top). One object, shared by the
// session's parts: each counts what it sees, the session reports them together.
export function createSessionStats() {
  return {
    requests: 0,
    responses: 0,
    deviceErrors: 0,
    timeouts: 0,
    cancelled: 0,
    lateResponses: 0,
    unexpectedResponses: 0,
    badMessages: 0,
    events: 0,
    eventGaps: 0,
    eventsLost: 0,
    pings: 0,
    roundTripMsTotal: 0,
    retransmits: 0,
    retransmitFailures: 0,
    duplicateAnswers: 0,
    pendingNotices: 0,
    strayRecords: 0,
  };
}

export type SessionStats = ReturnType<typeof createSessionStats>;
