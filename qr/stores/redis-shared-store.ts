// The shared store in Redis (ioredis): replay claims with the atomic `SET key 1 PX ttl NX` (exactly one
// desk wins the first use of a dynamic code) and verdicts with `SET … PX` / `GET`. Commands fail fast
// while Redis is unreachable (no offline queue, short command timeout) so that the verifier falls back
// to its local checks within milliseconds instead of holding a patient at the desk.
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import type { SharedQrStore } from './shared-store.ts';

export interface RedisSharedStoreOptions {
  /** redis://host:port/db, or a unix socket path (starting with '/'). */
  url: string;
  /** Key prefix (default "yika:qr:"); several hospitals may share one Redis. */
  prefix?: string;
  /** Per-command timeout in ms (default 250). */
  commandTimeoutMs?: number;
  /** Extra ioredis options (tests). */
  redis?: RedisOptions;
}

export class RedisSharedStore implements SharedQrStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private up = false;

  constructor(options: RedisSharedStoreOptions) {
    const base: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: 1000,
      // Keep reconnecting in the background, at most every 2 s.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: false,
      ...options.redis,
    };
    // ioredis is loaded only when a Redis URL is configured (a daemon without one never pays for it).
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.client = options.url.startsWith('/') ? new RedisClient({ ...base, path: options.url }) : new RedisClient(options.url, base);
    this.prefix = options.prefix ?? 'yika:qr:';
    this.client.on('ready', () => (this.up = true));
    this.client.on('close', () => (this.up = false));
    // Errors surface through the commands that fail; the event itself must have a listener.
    this.client.on('error', () => (this.up = false));
  }

  get healthy(): boolean {
    return this.up;
  }

  /** Resolves when connected (or rejects after timeoutMs): for start-up checks and tests. */
  async waitReady(timeoutMs = 3000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('redis not ready')), timeoutMs);
      this.client.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.client.set(this.prefix + 'rp:' + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return r === 'OK';
  }

  async getVerdict(key: string): Promise<string | null> {
    return this.client.get(this.prefix + key);
  }

  async putVerdict(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
