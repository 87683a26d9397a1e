// The embedded replay guard: kid‖jti → expiry (ms). Lookups and inserts are one Map operation; expired
// entries are swept incrementally (a bounded slice per insert), so no timer is needed and a long-lived
// process never grows beyond the codes alive within ttl + skew.

export class MemoryReplayGuard {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 1_000_000) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string, nowMs: number): boolean {
    const exp = this.entries.get(key);
    return exp !== undefined && exp > nowMs;
  }

  /** Records the key; returns false when it was already present and unexpired. */
  claimOnce(key: string, ttlMs: number, nowMs: number): boolean {
    if (this.has(key, nowMs)) return false;
    this.sweep(nowMs, 8);
    if (this.entries.size >= this.maxEntries) this.sweep(nowMs, this.entries.size);
    // Still full of live codes: drop the oldest insert. At 1 M live dynamic codes (> 5,000 scans/s for
    // 3 min) this is a capacity limit, documented in QR.md, not a silent path in normal operation.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.delete(key);
    this.entries.set(key, nowMs + ttlMs);
    return true;
  }

  /** Removes up to `budget` expired entries from the oldest end (inserts are roughly in expiry order). */
  private sweep(nowMs: number, budget: number): void {
    for (const [k, exp] of this.entries) {
      if (budget-- <= 0 || exp > nowMs) return;
      this.entries.delete(k);
    }
  }

  /** Every live claim as [key, remaining ms] (to re-push to a shared store that lost its data). */
  *live(nowMs: number): IterableIterator<[string, number]> {
    for (const [k, exp] of this.entries) if (exp > nowMs) yield [k, exp - nowMs];
  }

  clear(): void {
    this.entries.clear();
  }
}
