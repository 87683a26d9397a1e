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

type RateOptions = { runs?: number; minMs?: number; batch?: number };

/** Milliseconds elapsed since a start mark, by wall clock or by this process's CPU time. */
const wallClock = () => {
  const start = performance.now();
  return () => performance.now() - start;
};
const cpuClock = () => {
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
};

/** Runs fn in batches for at least minMs per run on `clock`, `runs` times; the median rate per second. */
function rate(fn: () => void, clock: () => () => number, options: RateOptions): number {
  const runs = options.runs ?? 5;
  const minMs = options.minMs ?? 300;
  const batch = options.batch ?? 1;
  for (let i = 0; i < Math.max(batch, 10); i++) fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let ops = 0;
    const elapsed = clock();
    let ms = 0;
    do {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
      ms = elapsed();
    } while (ms < minMs);
    rates.push((ops * 1000) / ms);
  }
  return median(rates);
}

/** Runs fn in batches for at least minMs per run, `runs` times; returns the median rate in ops/s. */
export function opsPerSecond(fn: () => void, options: RateOptions = {}): number {
  return rate(fn, wallClock, options);
}

/**
 * Like opsPerSecond, but per CPU-second of this process (user + system time of all its threads, from
 * process.cpuUsage) instead of per wall-clock second: the divisor `openssl speed` uses by default (user
 * time), and one that time slices taken by other processes on a shared machine do not inflate.
 */
export function opsPerCpuSecond(fn: () => void, options: RateOptions = {}): number {
  return rate(fn, cpuClock, options);
}

/**
 * Several operations measured together, per CPU-second each: they run in alternating chunks of `chunk`
 * calls (the order rotating, so that none always pays for the garbage of another) until each has used
 * `minMs` of CPU time. A shared machine's changing load then hits them alike and their ratio holds.
 */
export function interleavedOpsPerCpuSecond(fns: Array<() => void>, options: { minMs?: number; chunk?: number } = {}): number[] {
  const minUs = (options.minMs ?? 1000) * 1000;
  const chunk = options.chunk ?? 20;
  for (const fn of fns) for (let i = 0; i < chunk; i++) fn(); // warm-up
  const ops = fns.map(() => 0);
  const used = fns.map(() => 0);
  for (let round = 0; used.some((u) => u < minUs); round++) {
    for (let k = 0; k < fns.length; k++) {
      const j = (k + round) % fns.length;
      const start = process.cpuUsage();
      for (let i = 0; i < chunk; i++) fns[j]();
      const d = process.cpuUsage(start);
      used[j] += d.user + d.system;
      ops[j] += chunk;
    }
  }
  return ops.map((n, j) => (n * 1e6) / used[j]);
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
