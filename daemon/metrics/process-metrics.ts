// Process metrics in the names Prometheus' own client libraries use (process_*, nodejs_*), so the
// usual dashboards work. Sampled into the shared Metrics registry at scrape time.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Metrics } from './metrics.ts';

export class ProcessMetrics {
  private readonly startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  private readonly loop: IntervalHistogram;

  constructor(private readonly metrics: Metrics) {
    metrics.describe('process_cpu_seconds_total', 'counter', 'User and system CPU time spent in seconds');
    metrics.describe('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes');
    metrics.describe('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds');
    metrics.describe('nodejs_heap_used_bytes', 'gauge', 'V8 heap used in bytes');
    metrics.describe('nodejs_eventloop_delay_p99_seconds', 'gauge', 'Event loop delay, 99th percentile since the last scrape');
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
  }

  sample(): void {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    this.metrics.set('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6);
    this.metrics.set('process_resident_memory_bytes', mem.rss);
    this.metrics.set('process_start_time_seconds', this.startSeconds);
    this.metrics.set('nodejs_heap_used_bytes', mem.heapUsed);
    this.metrics.set('nodejs_eventloop_delay_p99_seconds', this.loop.percentile(99) / 1e9);
    this.loop.reset();
  }

  stop(): void {
    this.loop.disable();
  }
}
