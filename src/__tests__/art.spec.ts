import {
  BIN_COLOURS,
  chipGeometry,
  ERROR_SCALES,
  errorScale,
  formatError,
  formatMicroseconds,
  minDistance,
  sparkline
} from '../art';
import { ILayout, IQPUDetail } from '../wire';

// GET backends/fake_brisbane from the running server extension (local fleet).
import brisbane from './fixtures/fake_brisbane.json';

/**
 * IBM Eagle r3's heavy-hex lattice, built from its known shape: seven rows
 * of qubits numbered left to right (14, 15, 15, 15, 15, 15, 14), joined by
 * six rows of four bridge qubits, each coupled to the qubit above and below.
 * Bridges sit at columns 0, 4, 8, 12 and 2, 6, 10, 14 in turn.
 */
function eagleLayout(): ILayout {
  const coordinates: [number, number][] = [];
  const edges: [number, number][] = [];
  const rows: number[][] = [];
  const rowSpecs: [number, number][] = [
    [0, 13], // [first column, last column]
    [0, 14],
    [0, 14],
    [0, 14],
    [0, 14],
    [0, 14],
    [1, 14]
  ];
  const at = new Map<string, number>();
  let q = 0;
  rowSpecs.forEach(([first, last], r) => {
    const row: number[] = [];
    for (let x = first; x <= last; x++) {
      coordinates.push([x, 2 * r]);
      at.set(`${x},${2 * r}`, q);
      if (row.length) {
        edges.push([q - 1, q]);
      }
      row.push(q++);
    }
    rows.push(row);
    if (r < rowSpecs.length - 1) {
      const columns = r % 2 === 0 ? [0, 4, 8, 12] : [2, 6, 10, 14];
      for (const x of columns) {
        coordinates.push([x, 2 * r + 1]);
        at.set(`${x},${2 * r + 1}`, q);
        q++;
      }
    }
  });
  // Couple each bridge to the row qubits above and below it.
  coordinates.forEach(([x, y], index) => {
    if (y % 2 === 1) {
      edges.push([at.get(`${x},${y - 1}`)!, index]);
      edges.push([index, at.get(`${x},${y + 1}`)!]);
    }
  });
  return { kind: 'heavy-hex', coordinates, edges };
}

function edgeKey([a, b]: [number, number]): string {
  return `${Math.min(a, b)}-${Math.max(a, b)}`;
}

function assertNoOverlap(geometry: ReturnType<typeof chipGeometry>): void {
  const d = minDistance(geometry.nodes);
  // Two circles of radius r overlap when their centres are closer than 2r.
  expect(d).toBeGreaterThan(2 * geometry.radius);
  const seen = new Set(geometry.nodes.map(n => `${n.x},${n.y}`));
  expect(seen.size).toBe(geometry.nodes.length);
}

function assertInsideViewBox(geometry: ReturnType<typeof chipGeometry>): void {
  const [x0, y0, w, h] = geometry.viewBox.split(' ').map(Number);
  expect([x0, y0]).toEqual([0, 0]);
  for (const n of geometry.nodes) {
    expect(n.x - geometry.radius).toBeGreaterThanOrEqual(0);
    expect(n.y - geometry.radius).toBeGreaterThanOrEqual(0);
    expect(n.x + geometry.radius).toBeLessThanOrEqual(w);
    expect(n.y + geometry.radius).toBeLessThanOrEqual(h);
  }
}

describe('chipGeometry', () => {
  it('draws a 127-qubit heavy-hex (Eagle) map: 127 nodes, 144 edges, no overlap', () => {
    const layout = eagleLayout();
    expect(layout.coordinates).toHaveLength(127);
    const geometry = chipGeometry(layout);
    expect(geometry.nodes).toHaveLength(127);
    expect(geometry.edges).toHaveLength(144);
    assertNoOverlap(geometry);
    assertInsideViewBox(geometry);
    // Every coupler joins neighbours one layout unit apart.
    for (const e of geometry.edges) {
      expect(Math.hypot(e.x2 - e.x1, e.y2 - e.y1)).toBeCloseTo(24, 5);
    }
    // Heavy-hex degrees: never more than 3 couplers per qubit.
    const degree = new Array(127).fill(0);
    geometry.edges.forEach(e => {
      degree[e.a]++;
      degree[e.b]++;
    });
    expect(Math.max(...degree)).toBe(3);
    expect(Math.min(...degree)).toBe(1);
  });

  it('draws the server’s fake_brisbane the same: the real Eagle coupling map', () => {
    const detail = brisbane as unknown as IQPUDetail;
    expect(detail.layout.kind).toBe('heavy-hex');
    const geometry = chipGeometry(detail.layout);
    expect(geometry.nodes).toHaveLength(detail.qubits);
    expect(geometry.nodes).toHaveLength(127);
    expect(geometry.edges).toHaveLength(144);
    assertNoOverlap(geometry);
    assertInsideViewBox(geometry);
    // Same couplers as the lattice built from Eagle's shape.
    const mine = new Set(eagleLayout().edges.map(edgeKey));
    const theirs = new Set(detail.layout.edges.map(edgeKey));
    expect(theirs).toEqual(mine);
    // And the same positions.
    expect(detail.layout.coordinates).toEqual(eagleLayout().coordinates);
    // One error per coupler.
    expect(detail.edge_errors).toHaveLength(144);
  });

  it('fits the view box to the chip with a margin', () => {
    const geometry = chipGeometry(
      {
        kind: 'graph',
        coordinates: [
          [5, 5],
          [6, 5],
          [6, 7]
        ],
        edges: [
          [0, 1],
          [1, 0],
          [1, 2],
          [2, 9],
          [2, 2]
        ]
      },
      { spacing: 10 }
    );
    // Duplicates, self loops and unknown qubits are dropped.
    expect(geometry.edges.map(e => [e.a, e.b])).toEqual([
      [0, 1],
      [1, 2]
    ]);
    expect(geometry.radius).toBeCloseTo(3.2);
    const pad = geometry.radius * 2;
    expect(geometry.nodes[0]).toEqual({ index: 0, x: pad, y: pad });
    expect(geometry.width).toBeCloseTo(2 * pad + 10);
    expect(geometry.height).toBeCloseTo(2 * pad + 20);
    expect(geometry.viewBox).toBe(`0 0 ${geometry.width} ${geometry.height}`);
  });

  it('shrinks qubits when a layout packs them closer than unit spacing', () => {
    const geometry = chipGeometry({
      kind: 'graph',
      coordinates: [
        [0, 0],
        [0.4, 0],
        [3, 3]
      ],
      edges: [[0, 1]]
    });
    assertNoOverlap(geometry);
  });

  it('handles an empty layout', () => {
    const geometry = chipGeometry({
      kind: 'graph',
      coordinates: [],
      edges: []
    });
    expect(geometry.nodes).toEqual([]);
    expect(geometry.edges).toEqual([]);
    expect(geometry.viewBox).toBe('0 0 24 24');
  });
});

describe('errorScale', () => {
  it('uses one absolute scale per metric: the same bins for every QPU', () => {
    const a = errorScale([0.005, 0.015], 'readout');
    const b = errorScale([0.03, 0.09], 'readout');
    expect(a.stops.map(s => s.label)).toEqual(b.stops.map(s => s.label));
    expect(a.stops.map(s => s.label)).toEqual([
      '< 1.0 %',
      '1.0 %–2.0 %',
      '2.0 %–4.0 %',
      '4.0 %–8.0 %',
      '≥ 8.0 %'
    ]);
    // The same error gets the same bin whatever else the QPU has.
    expect(a.bin(0.015)).toBe(1);
    expect(b.bin(0.015)).toBe(1);
    expect(a.bin(null)).toBeNull();
    expect(a.bin(0)).toBe(0);
    const twoQubit = errorScale([0.004], 'two-qubit');
    expect(twoQubit.stops.map(s => s.label)).toEqual([
      '< 0.30 %',
      '0.30 %–0.60 %',
      '0.60 %–1.2 %',
      '1.2 %–3.0 %',
      '≥ 3.0 %'
    ]);
    // Monotonic: a larger error never gets a better bin.
    const values = [0.001, 0.004, 0.008, 0.02, 0.05, 0.5];
    const bins = values.map(v => twoQubit.bin(v));
    expect([...bins].sort()).toEqual(bins);
    expect(ERROR_SCALES.readout.edges).toHaveLength(BIN_COLOURS.length - 1);
  });

  it('clamps an outlier into the last bin and counts it', () => {
    const values = Array.from({ length: 100 }, (_, i) => 0.002 + i * 0.00005);
    values.push(1.0);
    const scale = errorScale(values, 'two-qubit');
    expect(scale.bin(1.0)).toBe(4);
    expect(scale.isOutlier(1.0)).toBe(true);
    expect(scale.isOutlier(0.05)).toBe(false);
    expect(scale.outliers).toBe(1);
    // One broken coupler does not change the colour of the others.
    const without = errorScale(values.slice(0, -1), 'two-qubit');
    expect(values.slice(0, -1).map(v => scale.bin(v))).toEqual(
      values.slice(0, -1).map(v => without.bin(v))
    );
  });

  it('has no stops without data', () => {
    expect(errorScale([null, undefined]).count).toBe(0);
    expect(errorScale([]).stops).toEqual([]);
  });

  it('colours fake_brisbane’s readout and 2-qubit errors', () => {
    const detail = brisbane as unknown as IQPUDetail;
    const readout = errorScale(detail.qubit_errors.readout, 'readout');
    expect(readout.count).toBe(5);
    const twoQubit = errorScale(
      detail.edge_errors.map(e => e.error),
      'two-qubit'
    );
    expect(twoQubit.count).toBe(5);
    expect(twoQubit.bin(detail.medians.two_qubit_error)).toBe(2);
  });
});

describe('formatters', () => {
  it('formats error rates and microseconds', () => {
    expect(formatError(0.0201)).toBe('2.0 %');
    expect(formatError(0.25)).toBe('25 %');
    expect(formatError(0.00024)).toBe('2.4e−4');
    expect(formatError(0)).toBe('0');
    expect(formatError(null)).toBe('—');
    expect(formatMicroseconds(231.95)).toBe('232 µs');
    expect(formatMicroseconds(42.123)).toBe('42.1 µs');
    expect(formatMicroseconds(undefined)).toBe('—');
  });
});

describe('sparkline', () => {
  const t = (s: number) =>
    new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

  it('lays a queue history out left to right, growing upward', () => {
    const line = sparkline(
      [
        { t: t(20), queue: 10 },
        { t: t(0), queue: 0 },
        { t: t(10), queue: 5 }
      ],
      100,
      50,
      0
    )!;
    expect(line.line).toBe('M0 50 L50 25 L100 0');
    expect(line.area).toBe('M0 50 L50 25 L100 0 L100 50 L0 50 Z');
    expect([line.min, line.max, line.last]).toEqual([0, 10, 10]);
    expect(line.end).toEqual({ x: 100, y: 0 });
  });

  it('draws one point as a flat line and nothing as null', () => {
    const line = sparkline([{ t: t(0), queue: 4 }], 100, 50, 0)!;
    expect(line.line).toBe('M0 0 L100 0');
    expect(sparkline([], 100, 50)).toBeNull();
    expect(sparkline([{ t: 'not a date', queue: 1 }], 100, 50)).toBeNull();
  });
});
