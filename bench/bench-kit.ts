// Shared benchmark helpers. Every figure is a median of repeated runs and is reported next to an
// anchor measured in the same run, so that only ratios travel between machines.

export interface BenchRow {
  name: string;
  value: number;
  unit: string; // "ops/s", "MB/s", "ms", "µs", "MiB" …
  /** The reference this figure is compared with, measured in the same run. */
  anchor?: { name: string; value: number };
  note?: string;
}

export interface BenchSection {
  title: string;
  /** The command that reproduces this section alone. */
  command: string;
  rows: BenchRow[];
  notes?: string[];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs fn in batches for at least minMs per run, `runs` times; returns the median rate in ops/s. */
export function opsPerSecond(fn: () => void, options: { runs?: number; minMs?: number; batch?: number } = {}): number {
  const runs = options.runs ?? 5;
  const minMs = options.minMs ?? 300;
  const batch = options.batch ?? 1;
  for (let i = 0; i < Math.max(batch, 10); i++) fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    rates.push((ops * 1000) / elapsed);
  }
  return median(rates);
}

/** Async variant of opsPerSecond. */
export async function opsPerSecondAsync(fn: () => Promise<unknown>, options: { runs?: number; minMs?: number } = {}): Promise<number> {
  const runs = options.runs ?? 5;
  const minMs = options.minMs ?? 300;
  for (let i = 0; i < 10; i++) await fn();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await fn();
      ops++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    rates.push((ops * 1000) / elapsed);
  }
  return median(rates);
}

/** Median duration in ms of `runs` executions of an async operation. */
export async function medianMs(fn: () => Promise<unknown>, runs = 7): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}
