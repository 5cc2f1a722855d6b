// Reads the Prometheus text exposition format back into numbers, so tests compare values rather
// than strings. Series keys are `name{a="x",b="y"}` with the labels sorted by name.

export interface ParsedMetrics {
  /** every sample, by series key */
  samples: Map<string, number>;
  /** HELP text per metric family */
  help: Map<string, string>;
  /** TYPE per metric family */
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

export function parsePromText(text: string): ParsedMetrics {
  const samples = new Map<string, number>();
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const key = seriesKey(m[1]!, labels);
    if (samples.has(key)) throw new Error(`duplicate series ${key}`);
    samples.set(key, Number(m[3] === '+Inf' ? Infinity : m[3]));
  }
  return { samples, help, types };
}

/** The samples of one family (histograms: name_bucket/_sum/_count), as an object for deepEqual. */
export function family(p: ParsedMetrics, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of p.samples) {
    const base = k.split('{')[0]!;
    if (base === name || base === `${name}_bucket` || base === `${name}_sum` || base === `${name}_count`) out[k] = v;
  }
  return out;
}
