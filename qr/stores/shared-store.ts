// What a store shared between desks must offer: an atomic "first use" claim for the replay guard and
// a small verdict cache. The embedded store needs neither (the verifier's local guard and cache
// serve one process); Redis implements both for many desks. Every method may reject when the store
// is down: the verifier then degrades to its local checks (see QR.md, "Shared store").

export interface SharedQrStore {
  /** Atomically records `key` for ttlMs; resolves true when this call was the first use. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** A cached verdict (opaque string) or null. */
  getVerdict(key: string): Promise<string | null>;
  putVerdict(key: string, value: string, ttlMs: number): Promise<void>;
  /** Whether the store looked reachable at its last operation. */
  readonly healthy: boolean;
  /**
   * Store life events, so a desk acts without waiting for traffic: 'ready' when the connection is
   * (re)established (push what was claimed during the outage), 'reset' when the store is found to
   * have lost its data (restart without persistence, FLUSHALL, failover to an empty replica): push
   * every claim still alive. Optional: a store without them only syncs on the next operation.
   */
  on?(event: 'ready' | 'reset', listener: () => void): void;
  close(): Promise<void>;
}
