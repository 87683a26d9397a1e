// Timing rules of protocol v1 (PROTOCOL.md §Timing). Host defaults; every one can be overridden per
// session. Transmit timeouts are generous: some card commands (key generation, long reads through a
// slow T=0 card at 9600 bd) legitimately take seconds.
import type { WireOperation } from './messages.ts';

export const DEFAULT_TIMEOUTS_MS: Readonly<Record<WireOperation, number>> = {
  hello: 2_000,
  slotStatus: 2_000,
  powerOn: 5_000,
  powerOff: 2_000,
  resetCard: 5_000,
  setParams: 3_000,
  transmit: 30_000,
  transmitBatch: 60_000,
  ping: 1_000,
  deviceReset: 10_000,
  deviceInfo: 2_000,
  scOpen: 5_000,
  scFinish: 5_000,
  diagHold: 15_000,
};

/** The host pings an idle device after this much silence. */
export const DEFAULT_KEEPALIVE_MS = 2_000;
/** A device must answer ping within this time while idle; otherwise the host declares it dead. */
export const DEFAULT_PING_TIMEOUT_MS = 1_000;
/** Largest frame payload the host accepts by default: an extended APDU plus headroom. */
export const DEFAULT_HOST_MAX_FRAME = 66_560;
/** Requests the host keeps outstanding at most (further capped by the device's maxInFlight). */
export const DEFAULT_MAX_IN_FLIGHT = 4;
/** Requests waiting for an in-flight slot before new calls fail with PROTOCOL_QUEUE_FULL. */
export const DEFAULT_MAX_QUEUE = 64;

// ---- loss and retransmission (PROTOCOL.md §Loss and retransmission) ----------------------------------
/** The retransmission timeout (RTO) is adaptive (SRTT + 4·RTTVAR, RFC 6298) but never below this… */
export const RTO_MIN_MS = 50;
/** …nor above this (also the cap of the exponential backoff between retransmissions). */
export const RTO_MAX_MS = 1_000;
/** RTO before the first round trip has been measured. */
export const RTO_INITIAL_MS = 250;
/** Retransmissions of a request (same id) without any sign of life before the host gives up on it. */
export const DEFAULT_MAX_RETRANSMITS = 4;
/**
 * A device sends a `pending` notice for every request it holds unanswered this long, and again at
 * this interval until it answers; it also sends one at once for a repeat of a request it still holds.
 */
export const PENDING_NOTICE_MS = 200;
/** Line rate assumed for the transmission time of a frame (115200 bd 8N1), bytes per second. */
export const DEFAULT_LINE_BYTES_PER_S = 11_520;
