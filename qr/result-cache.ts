// The verdict cache: normalised text → what the expensive part of a verification concluded (decode,
// key lookup, claims parse, SM2 verify, revocation lookup). Bounded by entry count and by bytes,
// each entry expiring with its code (negative verdicts after a few seconds). Eviction is CLOCK
// (second chance), an LRU approximation whose hit path only sets a flag: a hit costs one Map.get,
// which is what keeps cached lookups above a million per second.

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
  evictions: number;
}

interface Entry<V> {
  value: V;
  expiresAtMs: number;
  bytes: number;
  used: boolean;
}

export class ResultCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  private totalBytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(
    readonly maxEntries = 100_000,
    readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  get(key: string, nowMs: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (e.expiresAtMs <= nowMs) {
      this.remove(key, e);
      this.misses++;
      return undefined;
    }
    e.used = true;
    this.hits++;
    return e.value;
  }

  /** `bytes`: the caller's estimate of the entry's footprint (key + value). */
  set(key: string, value: V, expiresAtMs: number, bytes: number): void {
    if (bytes > this.maxBytes || this.maxEntries <= 0) return;
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    while (this.map.size >= this.maxEntries || this.totalBytes + bytes > this.maxBytes) this.evictOne();
    this.map.set(key, { value, expiresAtMs, bytes, used: false });
    this.totalBytes += bytes;
  }

  private evictOne(): void {
    // Second chance: a used entry moves to the back once; an unused or expired one goes.
    for (;;) {
      const first = this.map.entries().next();
      if (first.done) return;
      const [k, e] = first.value;
      if (e.used) {
        e.used = false;
        this.map.delete(k);
        this.map.set(k, e);
        continue;
      }
      this.remove(k, e);
      this.evictions++;
      return;
    }
  }

  private remove(key: string, e: Entry<V>): void {
    this.map.delete(key);
    this.totalBytes -= e.bytes;
  }

  clear(): void {
    this.map.clear();
    this.totalBytes = 0;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.map.size, bytes: this.totalBytes, evictions: this.evictions };
  }
}
