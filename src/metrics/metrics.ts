/** Label values of one series. */
export type Labels = Record<string, string>;

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function renderLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** A monotonically increasing per-process count. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

/** Observations bucketed for Prometheus histograms (seconds). */
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** A value read from elsewhere (e.g. the database) when /metrics is scraped. */
export type GaugeCollector = () => Promise<{ labels: Labels; value: number }[]>;

/** The process's metrics and their Prometheus text rendering. */
export interface Metrics {
  commandsTotal: Counter;
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: number[]): Histogram;
  gauge(name: string, help: string, collect: GaugeCollector): void;
  render(): Promise<string>;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

/** A small in-process registry; enough for counters, histograms and collected gauges. */
export function createMetrics(prefix = 'chatops_'): Metrics {
  const sections: (() => Promise<string[]>)[] = [];

  const counter = (name: string, help: string): Counter => {
    const values = new Map<string, { labels: Labels; value: number }>();
    sections.push(async () => [
      `# HELP ${prefix}${name} ${help}`,
      `# TYPE ${prefix}${name} counter`,
      ...[...values.values()].map((v) => `${prefix}${name}${renderLabels(v.labels)} ${v.value}`),
    ]);
    return {
      inc(labels = {}, by = 1) {
        const k = key(labels);
        const cur = values.get(k) ?? { labels, value: 0 };
        cur.value += by;
        values.set(k, cur);
      },
    };
  };

  const histogram = (name: string, help: string, buckets = DEFAULT_BUCKETS): Histogram => {
    const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    sections.push(async () => {
      const lines = [`# HELP ${prefix}${name} ${help}`, `# TYPE ${prefix}${name} histogram`];
      for (const s of series.values()) {
        for (const [i, b] of buckets.entries())
          lines.push(`${prefix}${name}_bucket${renderLabels({ ...s.labels, le: String(b) })} ${s.counts[i]}`);
        lines.push(`${prefix}${name}_bucket${renderLabels({ ...s.labels, le: '+Inf' })} ${s.count}`);
        lines.push(`${prefix}${name}_sum${renderLabels(s.labels)} ${s.sum}`);
        lines.push(`${prefix}${name}_count${renderLabels(s.labels)} ${s.count}`);
      }
      return lines;
    });
    return {
      observe(labels, value) {
        const k = key(labels);
        let s = series.get(k);
        if (!s) {
          s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
          series.set(k, s);
        }
        for (const [i, b] of buckets.entries()) if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
        s.sum += value;
        s.count += 1;
      },
    };
  };

  const gauge = (name: string, help: string, collect: GaugeCollector) => {
    sections.push(async () => [
      `# HELP ${prefix}${name} ${help}`,
      `# TYPE ${prefix}${name} gauge`,
      ...(await collect()).map((v) => `${prefix}${name}${renderLabels(v.labels)} ${v.value}`),
    ]);
  };

  const commandsTotal = counter('commands_total', 'Commands run, by command and outcome.');
  return {
    commandsTotal,
    counter,
    histogram,
    gauge,
    async render() {
      const parts = await Promise.all(sections.map((s) => s()));
      return `${parts.flat().join('\n')}\n`;
    },
  };
}
