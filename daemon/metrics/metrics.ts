// A small Prometheus text-format registry: counters, gauges and histograms with labels.
// Metric names follow Prometheus conventions (yika_*_total for counters, *_seconds for durations).

type Labels = Record<string, string | number>;

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram {
  buckets: number[];
  counts: number[];
  sum: number;
  count: number;
}

function labelKey(labels?: Labels): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  if (!keys.length) return '';
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

export class Metrics {
  private readonly help = new Map<string, { type: 'counter' | 'gauge' | 'histogram'; help: string }>();
  private readonly values = new Map<string, Map<string, number>>();
  private readonly histograms = new Map<string, Map<string, Histogram>>();

  /** Declares a metric's type and help text (optional; undeclared metrics default to untyped help). */
  describe(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.help.set(name, { type, help });
  }

  inc(name: string, labels?: Labels, by = 1): void {
    const series = this.series(name);
    const key = labelKey(labels);
    series.set(key, (series.get(key) ?? 0) + by);
  }

  set(name: string, value: number, labels?: Labels): void {
    this.series(name).set(labelKey(labels), value);
  }

  get(name: string, labels?: Labels): number {
    return this.values.get(name)?.get(labelKey(labels)) ?? 0;
  }

  observe(name: string, value: number, labels?: Labels, buckets = DEFAULT_BUCKETS): void {
    let byLabels = this.histograms.get(name);
    if (!byLabels) this.histograms.set(name, (byLabels = new Map()));
    const key = labelKey(labels);
    let h = byLabels.get(key);
    if (!h) byLabels.set(key, (h = { buckets, counts: new Array(buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < h.buckets.length; i++) if (value <= h.buckets[i]) h.counts[i]++;
    h.sum += value;
    h.count++;
  }

  render(): string {
    const out: string[] = [];
    const names = new Set([...this.values.keys(), ...this.histograms.keys()]);
    for (const name of [...names].sort()) {
      const meta = this.help.get(name);
      if (meta) out.push(`# HELP ${name} ${meta.help}`, `# TYPE ${name} ${meta.type}`);
      for (const [key, v] of this.values.get(name) ?? []) out.push(`${name}${key ? `{${key}}` : ''} ${v}`);
      for (const [key, h] of this.histograms.get(name) ?? []) {
        const sep = key ? ',' : '';
        h.buckets.forEach((b, i) => out.push(`${name}_bucket{${key}${sep}le="${b}"} ${h.counts[i]}`));
        out.push(`${name}_bucket{${key}${sep}le="+Inf"} ${h.count}`);
        out.push(`${name}_sum${key ? `{${key}}` : ''} ${h.sum}`);
        out.push(`${name}_count${key ? `{${key}}` : ''} ${h.count}`);
      }
    }
    return out.join('\n') + '\n';
  }

  private series(name: string): Map<string, number> {
    let s = this.values.get(name);
    if (!s) this.values.set(name, (s = new Map()));
    return s;
  }
}
