// The shared store in Redis (ioredis): replay claims with the atomic `SET key 1 PX ttl NX` (exactly one
// desk wins the first use of a dynamic code) and verdicts with `SET … PX` / `GET`. Commands fail fast
// while Redis is unreachable (no offline queue, short command timeout) so that the verifier falls back
// to its local checks within milliseconds instead of holding a patient at the desk.
//
// Data loss: Redis may come back empty (restart without persistence, FLUSHALL, failover to an empty
// replica) and every claim in it is gone. An epoch key (`<prefix>epoch`, a random value created with
// SET NX by the first desk that finds it missing) tells: a desk that sees an epoch other than the one
// it knew emits 'reset' and re-pushes the claims it holds. The epoch is read on every (re)connection
// and every `epochCheckMs` while connected (a FLUSHALL does not drop connections).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
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
  /** How often the epoch key is checked while connected, ms (default 2000; 0 = only on connect). */
  epochCheckMs?: number;
  /** Extra ioredis options (tests). */
  redis?: RedisOptions;
}

export class RedisSharedStore implements SharedQrStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private up = false;
  private readonly emitter = new EventEmitter();
  /** The epoch this desk last saw (undefined before the first check). */
  private epoch: string | undefined;
  private readonly epochTimer?: NodeJS.Timeout;
  private checking: Promise<void> | undefined;
  /** Data losses detected (for stats and tests). */
  resets = 0;

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
    this.client.on('ready', () => {
      this.up = true;
      this.emitter.emit('ready');
      void this.checkEpoch();
    });
    this.client.on('close', () => (this.up = false));
    const every = options.epochCheckMs ?? 2000;
    if (every > 0) {
      this.epochTimer = setInterval(() => this.up && void this.checkEpoch(), every);
      this.epochTimer.unref();
    }
    // Errors surface through the commands that fail; the event itself must have a listener.
    this.client.on('error', () => (this.up = false));
  }

  get healthy(): boolean {
    return this.up;
  }

  on(event: 'ready' | 'reset', listener: () => void): void {
    this.emitter.on(event, listener);
  }

  /**
   * Reads the epoch (creating it if missing); emits 'reset' when it is not the one this desk knew —
   * also at the first check, so claims made before the first connection reach the store.
   */
  checkEpoch(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const key = this.prefix + 'epoch';
        let current = await this.client.get(key);
        if (current === null) {
          await this.client.set(key, randomBytes(8).toString('hex'), 'NX');
          current = await this.client.get(key); // a desk that raced us may have won: agree on its value
        }
        if (current !== null && current !== this.epoch) {
          const first = this.epoch === undefined;
          this.epoch = current;
          if (!first) this.resets++;
          this.emitter.emit('reset');
        }
      } catch {
        // Down again: the next 'ready' checks.
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
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
    clearInterval(this.epochTimer);
    this.emitter.removeAllListeners();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
