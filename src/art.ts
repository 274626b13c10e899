/**
 * Processor art, as pure geometry: where each qubit and coupler of a chip
 * goes in an SVG view box, how big a qubit is drawn, and how error rates
 * map to the colour bins of one absolute scale per metric. No DOM here, so
 * it is unit tested directly.
 */
import { ILayout } from './wire';

/**
 * A qubit drawn in the view box.
 */
export interface IChipNode {
  index: number;
  x: number;
  y: number;
}

/**
 * A coupler drawn in the view box, between qubits `a` and `b`.
 */
export interface IChipEdge {
  a: number;
  b: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * A chip laid out in an SVG view box.
 */
export interface IChipGeometry {
  /**
   * The view box, `0 0 width height`.
   */
  viewBox: string;
  width: number;
  height: number;
  /**
   * The radius of a qubit; two qubits never overlap.
   */
  radius: number;
  /**
   * The stroke width of a coupler.
   */
  strokeWidth: number;
  nodes: IChipNode[];
  /**
   * The couplers between known qubits, each once.
   */
  edges: IChipEdge[];
}

/**
 * Options of `chipGeometry`.
 */
export interface IGeometryOptions {
  /**
   * View-box units per layout unit (default 24).
   */
  spacing?: number;
  /**
   * The radius of a qubit as a fraction of the shortest distance between
   * two qubits (default 0.32; below 0.5 they never touch).
   */
  radiusFraction?: number;
}

/**
 * The smallest distance between two distinct points (Infinity for fewer
 * than two points).
 */
export function minDistance(points: { x: number; y: number }[]): number {
  let best = Infinity;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const d = Math.hypot(
        points[i].x - points[j].x,
        points[i].y - points[j].y
      );
      if (d < best) {
        best = d;
      }
    }
  }
  return best;
}

/**
 * Lay out a chip in an SVG view box: the layout's coordinates are scaled by
 * `spacing`, moved so the chip starts at the padding, and the view box fits
 * the chip plus a margin of one qubit diameter.
 */
export function chipGeometry(
  layout: ILayout,
  options: IGeometryOptions = {}
): IChipGeometry {
  const spacing = options.spacing ?? 24;
  const fraction = Math.min(0.49, options.radiusFraction ?? 0.32);
  const coords = (layout.coordinates ?? []).map(([x, y]) => ({
    x: Number(x),
    y: Number(y)
  }));
  if (coords.length === 0) {
    return {
      viewBox: `0 0 ${spacing} ${spacing}`,
      width: spacing,
      height: spacing,
      radius: spacing * fraction,
      strokeWidth: spacing * fraction * 0.4,
      nodes: [],
      edges: []
    };
  }
  const minX = Math.min(...coords.map(p => p.x));
  const minY = Math.min(...coords.map(p => p.y));
  const maxX = Math.max(...coords.map(p => p.x));
  const maxY = Math.max(...coords.map(p => p.y));

  // Unit spacing is the contract, but never let qubits overlap if a layout
  // packs them closer.
  const closest = minDistance(coords);
  const unit = isFinite(closest) && closest > 0 ? Math.min(1, closest) : 1;
  const radius = round(spacing * unit * fraction);
  const pad = radius * 2;

  const nodes = coords.map((p, index) => ({
    index,
    x: round(pad + (p.x - minX) * spacing),
    y: round(pad + (p.y - minY) * spacing)
  }));
  const edges: IChipEdge[] = [];
  const seen = new Set<string>();
  for (const [rawA, rawB] of layout.edges ?? []) {
    const a = Math.min(rawA, rawB);
    const b = Math.max(rawA, rawB);
    const key = `${a}-${b}`;
    if (a === b || seen.has(key) || !nodes[a] || !nodes[b]) {
      continue;
    }
    seen.add(key);
    edges.push({
      a,
      b,
      x1: nodes[a].x,
      y1: nodes[a].y,
      x2: nodes[b].x,
      y2: nodes[b].y
    });
  }
  const width = round(2 * pad + (maxX - minX) * spacing);
  const height = round(2 * pad + (maxY - minY) * spacing);
  return {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    radius,
    strokeWidth: round(radius * 0.45),
    nodes,
    edges
  };
}

/**
 * The metrics the chip can be coloured by.
 */
export type ErrorMetric = 'readout' | 'two-qubit';

/**
 * One absolute colour scale per metric, the same for every QPU, in the
 * sidebar and in the notebook art (`qiskit_connector_lab/render/chip_art.py`
 * holds the same numbers; a test compares them). `edges` split the five bins;
 * values at or above `outlier` are clamped into the last bin and marked.
 */
export const ERROR_SCALES: Record<
  ErrorMetric,
  { edges: number[]; outlier: number }
> = {
  readout: { edges: [0.01, 0.02, 0.04, 0.08], outlier: 0.2 },
  'two-qubit': { edges: [0.003, 0.006, 0.012, 0.03], outlier: 0.1 }
};

/**
 * The colours of the bins, best (0) to worst (4): the same hex values as the
 * notebook art, so a colour means the same error everywhere.
 */
export const BIN_COLOURS = [
  '#1a9850',
  '#91cf60',
  '#fee08b',
  '#fc8d59',
  '#d73027'
];

/**
 * The number of colour bins of an error scale.
 */
export const BIN_COUNT = BIN_COLOURS.length;

/**
 * A legend entry: the values of one colour bin.
 */
export interface ILegendStop {
  bin: number;
  from: number;
  to: number;
  label: string;
}

/**
 * An error-rate colour scale: fixed bins per metric (see `ERROR_SCALES`).
 * Bin 0 is the best (lowest error), bin `count - 1` the worst.
 */
export interface IErrorScale {
  metric: ErrorMetric;
  /**
   * The number of bins (0 without data).
   */
  count: number;
  stops: ILegendStop[];
  /**
   * The value from which an error is an outlier (clamped and marked).
   */
  outlier: number;
  /**
   * How many of the values are outliers.
   */
  outliers: number;
  /**
   * The bin of a value; null for a missing value.
   */
  bin(value: number | null | undefined): number | null;
  isOutlier(value: number | null | undefined): boolean;
}

/**
 * The colour scale of a metric, with the outliers among `values` counted.
 */
export function errorScale(
  values: (number | null | undefined)[],
  metric: ErrorMetric = 'readout'
): IErrorScale {
  const { edges, outlier } = ERROR_SCALES[metric];
  const clean = values.filter(
    (v): v is number => typeof v === 'number' && isFinite(v) && v >= 0
  );
  const bin = (v: number | null | undefined): number | null => {
    if (typeof v !== 'number' || !isFinite(v)) {
      return null;
    }
    const i = edges.findIndex(edge => v < edge);
    return i < 0 ? edges.length : i;
  };
  const isOutlier = (v: number | null | undefined): boolean =>
    typeof v === 'number' && isFinite(v) && v >= outlier;
  const stops: ILegendStop[] = [];
  for (let i = 0; i <= edges.length; i++) {
    const from = i === 0 ? 0 : edges[i - 1];
    const to = i === edges.length ? outlier : edges[i];
    const label =
      i === 0
        ? `< ${formatError(to)}`
        : i === edges.length
          ? `≥ ${formatError(from)}`
          : `${formatError(from)}–${formatError(to)}`;
    stops.push({ bin: i, from, to, label });
  }
  return {
    metric,
    count: clean.length === 0 ? 0 : edges.length + 1,
    stops: clean.length === 0 ? [] : stops,
    outlier,
    outliers: clean.filter(isOutlier).length,
    bin,
    isOutlier
  };
}

/**
 * An error rate for people: `2.01e-2` style below 0.1 %, a percentage above.
 */
export function formatError(value: number | null | undefined): string {
  if (typeof value !== 'number' || !isFinite(value)) {
    return '—';
  }
  if (value === 0) {
    return '0';
  }
  if (value >= 0.001) {
    const pct = value * 100;
    return `${pct >= 10 ? pct.toFixed(0) : pct.toPrecision(2)} %`;
  }
  return value.toExponential(1).replace('e-', 'e−');
}

/**
 * A duration in microseconds for people, e.g. `231 µs`.
 */
export function formatMicroseconds(value: number | null | undefined): string {
  if (typeof value !== 'number' || !isFinite(value)) {
    return '—';
  }
  return `${value >= 100 ? Math.round(value) : value.toPrecision(3)} µs`;
}

/**
 * A sparkline of a time series in a `width` × `height` box.
 */
export interface ISparkline {
  /**
   * The SVG path of the line.
   */
  line: string;
  /**
   * The SVG path of the area under the line.
   */
  area: string;
  min: number;
  max: number;
  last: number;
  /**
   * The last point, for a marker.
   */
  end: { x: number; y: number };
}

/**
 * Lay out a queue history as a sparkline; null with no points. Time runs
 * left to right, the queue grows upward from zero.
 */
export function sparkline(
  points: { t: string; queue: number }[],
  width: number,
  height: number,
  margin = 2
): ISparkline | null {
  const series = points
    .map(p => ({ t: Date.parse(p.t), v: Number(p.queue) }))
    .filter(p => isFinite(p.t) && isFinite(p.v))
    .sort((a, b) => a.t - b.t);
  if (series.length === 0) {
    return null;
  }
  const t0 = series[0].t;
  const t1 = series[series.length - 1].t;
  const max = Math.max(...series.map(p => p.v));
  const min = Math.min(...series.map(p => p.v));
  const top = Math.max(1, max);
  const w = width - 2 * margin;
  const h = height - 2 * margin;
  const xy = series.map((p, i) => ({
    x: round(
      margin +
        (t1 > t0
          ? ((p.t - t0) / (t1 - t0)) * w
          : series.length > 1
            ? (i / (series.length - 1)) * w
            : w)
    ),
    y: round(margin + h - (p.v / top) * h)
  }));
  if (xy.length === 1) {
    // One point: a flat line across the box.
    xy.unshift({ x: margin, y: xy[0].y });
  }
  const line = xy.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ');
  const base = round(margin + h);
  const area = `${line} L${xy[xy.length - 1].x} ${base} L${xy[0].x} ${base} Z`;
  return {
    line,
    area,
    min,
    max,
    last: series[series.length - 1].v,
    end: xy[xy.length - 1]
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
