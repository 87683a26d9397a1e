// A small pool of worker threads for cold SM2 verifications. The verifier uses it only when load
// calls for it: while the main thread verifies fewer than `offloadAbovePerSecond` cold codes per
// second it verifies in-process (lowest latency, no message passing); above that, cold verifications
// go to the workers so that every core verifies and the main thread keeps serving HTTP and the cache.
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface VerifyPoolOptions {
  /** Worker count (default: cores − 1, at least 1, at most 4). */
  size?: number;
  /** Cold verifications per second above which work is offloaded (default 200). */
  offloadAbovePerSecond?: number;
  /** Offload everything (benchmarks, tests). */
  always?: boolean;
}

interface Slot {
  worker: Worker;
  pending: Map<number, (ok: boolean) => void>;
  dead: boolean;
}

/**
 * The compiled build (dist/, what is installed) loads the compiled worker directly: no tsx in
 * production. Only when this module itself runs as TypeScript (development, tests: the sources
 * through tsx) does the worker need tsx too: `--import tsx` does not reach a worker's entry on Node 20,
 * so a tiny eval'd bootstrap registers tsx's loader in the worker and then imports the worker module.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./verify-worker.js', import.meta.url));
  const url = new URL('./verify-worker.ts', import.meta.url);
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href; // the ESM entry of 'tsx/esm/api'
  const src = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(src, { eval: true });
}

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private seq = 0;
  private windowStart = 0;
  private windowCount = 0;
  private rate = 0;
  private readonly threshold: number;
  private readonly always: boolean;
  private closed = false;

  private readonly wanted: number;

  constructor(options: VerifyPoolOptions = {}) {
    this.wanted = options.size ?? Math.max(1, Math.min(4, cpus().length - 1));
    this.threshold = options.offloadAbovePerSecond ?? 200;
    this.always = options.always ?? false;
  }

  /** Workers start on first use: a daemon that never sees load never pays their start-up. */
  private start(): void {
    for (let i = 0; i < this.wanted; i++) {
      const worker = startWorker();
      const slot: Slot = { worker, pending: new Map(), dead: false };
      worker.on('message', (m: { id: number; ok: boolean }) => {
        const done = slot.pending.get(m.id);
        slot.pending.delete(m.id);
        done?.(m.ok);
      });
      worker.on('error', () => this.failAll(slot));
      worker.on('exit', () => this.failAll(slot));
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** Configured worker count (threads start on first offloaded verification). */
  get size(): number {
    return this.wanted;
  }

  /** A worker that dies fails its pending verifications closed (rejected as BAD_SIGNATURE, never accepted). */
  private failAll(slot: Slot): void {
    slot.dead = true;
    for (const [, done] of slot.pending) done(false);
    slot.pending.clear();
  }

  /** Called per cold verification: true when the recent cold rate is above the threshold. */
  shouldOffload(): boolean {
    if (this.closed || (this.slots.length > 0 && this.slots.every((s) => s.dead))) return false;
    if (this.always) return true;
    const now = performance.now();
    if (now - this.windowStart >= 100) {
      this.rate = (this.windowCount * 1000) / Math.max(100, now - this.windowStart);
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    return this.rate > this.threshold;
  }

  verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('verify pool closed'));
    if (!this.slots.length) this.start();
    // Least loaded of two round-robin picks among live workers.
    const live = this.slots.filter((s) => !s.dead);
    if (!live.length) return Promise.reject(new Error('no live verify worker'));
    const a = live[this.next++ % live.length];
    const b = live[this.next % live.length];
    const slot = b.pending.size < a.pending.size ? b : a;
    const id = ++this.seq;
    return new Promise<boolean>((resolve) => {
      slot.pending.set(id, resolve);
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ id, pub, message, signature });
    }).finally(() => {
      if (slot.pending.size === 0) slot.worker.unref();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
