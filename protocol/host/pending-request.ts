// One request of the host session, from the call until its answer, timeout, cancel or the close.
import type { WireOperation } from '../messages.ts';

/** Receives the exact bytes of one exchange (the secure-channel transcript binds hello's bytes). */
export interface WireCapture {
  sent?: Uint8Array;
  received?: Uint8Array;
}

export interface PendingRequest {
  op: WireOperation;
  args: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timeoutMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  id?: number;
  timer?: ReturnType<typeof setTimeout>;
  sentAt?: number;
  capture?: WireCapture;
  /** Part of hello/handshake: the only requests sent while the session is (re-)establishing. */
  setup?: boolean;
  /** The encoded request (sent again, same id, by a retransmission). */
  bytes?: Uint8Array;
  /** Retransmission timer, current backoff interval, retransmissions since the last sign of life. */
  retryTimer?: ReturnType<typeof setTimeout>;
  retryMs?: number;
  retries?: number;
  /** Sent more than once, or a pending notice came: its round trip is no RTT sample (Karn). */
  noSample?: boolean;
  /** Send a second time (conformance). */
  repeat?: 'at-once' | 'after-answer';
}
