"""2-D coordinates for drawing a QPU from its coupling map: the real lattice, never a random scatter.

IBM numbers the qubits of its lattices row by row. A run of consecutive qubits joined by couplers is a row;
between two rows sit either "bridge" qubits, each coupled to one qubit above and one below (heavy-hex: Eagle,
Heron, Egret), or direct vertical couplers (square lattice: Nighthawk). :func:`chip_layout` recovers that
geometry from the coupling map alone and checks it (unique positions, every coupler short). A map that does
not fit the pattern (e.g. Falcon's numbering) gets a deterministic force-directed layout of its graph.

The force-directed layout is rustworkx's (``spring_layout``, seeded). The lattice recovery is this module's own: no
graph library knows IBM's row-by-row numbering, and a generic planar or spring layout draws a heavy-hex chip as a
tangle rather than the rows users see on IBM Quantum Platform.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChipLayout:
    kind: str  # "heavy-hex", "square" or "graph"
    coordinates: tuple[tuple[float, float], ...]  # (x, y) per qubit; y grows downward, unit spacing
    edges: tuple[tuple[int, int], ...]  # undirected couplers, each once, (low, high)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "coordinates": [list(c) for c in self.coordinates],
            "edges": [list(e) for e in self.edges],
        }


def undirected_edges(coupling_map: Iterable[Sequence[int]]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({(min(a, b), max(a, b)) for a, b in coupling_map if a != b}))


def _rows(num_qubits: int, edges: set[tuple[int, int]]) -> list[list[int]]:
    runs, current = [], [0]
    for q in range(1, num_qubits):
        if (q - 1, q) in edges:
            current.append(q)
        else:
            runs.append(current)
            current = [q]
    runs.append(current)
    return runs


def _lattice(num_qubits: int, edges: tuple[tuple[int, int], ...]) -> ChipLayout | None:
    edge_set = set(edges)
    neighbours: dict[int, set[int]] = {q: set() for q in range(num_qubits)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    runs = _rows(num_qubits, edge_set)
    rows = [r for r in runs if len(r) >= 3]
    if len(rows) < 2:
        return None
    row_of = {q: i for i, row in enumerate(rows) for q in row}
    bridges = [q for r in runs if len(r) < 3 for q in r]
    x: dict[int, float] = {q: float(j) for j, q in enumerate(rows[0])}
    y_of_row = [0.0]
    for k in range(1, len(rows)):
        # Offsets that would line each link between row k-1 and row k up vertically; the most common wins.
        votes: Counter[float] = Counter()
        gap = 1.0
        for j, d in enumerate(rows[k]):
            for n in neighbours[d]:
                if row_of.get(n) == k - 1:
                    votes[x[n] - j] += 1
                elif n in bridges:
                    ups = [u for u in neighbours[n] if row_of.get(u) == k - 1]
                    if ups:
                        votes[x[ups[0]] - j] += 1
                        gap = 2.0
        if not votes:
            return None
        offset = votes.most_common(1)[0][0]
        x.update({q: offset + j for j, q in enumerate(rows[k])})
        y_of_row.append(y_of_row[-1] + gap)
    coords: dict[int, tuple[float, float]] = {q: (x[q], y_of_row[row_of[q]]) for q in row_of}
    for b in bridges:
        linked = sorted((n for n in neighbours[b] if n in coords), key=lambda n: coords[n][1])
        if not linked:
            return None
        above = linked[0]
        below = linked[-1] if len(linked) > 1 else None
        y = (coords[above][1] + coords[below][1]) / 2 if below is not None else coords[above][1] + 1
        coords[b] = (coords[above][0], y)
    points = [coords[q] for q in range(num_qubits)]
    if len(set(points)) != num_qubits:
        return None
    if any(math.dist(points[a], points[b]) > 1.01 for a, b in edges):
        return None
    min_x = min(p[0] for p in points)
    points = [(p[0] - min_x, p[1]) for p in points]
    return ChipLayout("heavy-hex" if bridges else "square", tuple(points), edges)


def _crossings(points: list[tuple[float, float]], edges: tuple[tuple[int, int], ...]) -> int:
    def orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    count = 0
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 1 :]:
            if len({a, b, c, d}) < 4:
                continue
            p, q, r, s = points[a], points[b], points[c], points[d]
            if orient(p, q, r) * orient(p, q, s) < 0 and orient(r, s, p) * orient(r, s, q) < 0:
                count += 1
    return count


def _graph_layout(num_qubits: int, edges: tuple[tuple[int, int], ...]) -> ChipLayout:
    """A deterministic force-directed layout of the coupling graph (fewest crossings of a few fixed seeds),
    scaled so the shortest coupler has length 1."""
    import rustworkx as rx

    graph = rx.PyGraph()
    graph.add_nodes_from(range(num_qubits))
    graph.add_edges_from_no_data(list(edges))
    if num_qubits <= 2:
        positions = [(float(q), 0.0) for q in range(num_qubits)]
    else:
        best: tuple[int, list[tuple[float, float]]] | None = None
        for seed in range(1, 17 if num_qubits <= 200 else 2):
            raw = rx.spring_layout(graph, seed=seed, num_iter=300)  # seeded: the same picture every time
            candidate = [(float(raw[q][0]), float(raw[q][1])) for q in range(num_qubits)]
            crossings = _crossings(candidate, edges) if num_qubits <= 200 else 0
            if best is None or crossings < best[0]:
                best = (crossings, candidate)
            if crossings == 0:
                break
        assert best is not None
        positions = best[1]
    lengths = [math.dist(positions[a], positions[b]) for a, b in edges] or [1.0]
    scale = 1.0 / max(min(lengths), 1e-9)
    xs = [p[0] * scale for p in positions]
    ys = [p[1] * scale for p in positions]
    points = tuple((round(px - min(xs), 4), round(py - min(ys), 4)) for px, py in zip(xs, ys, strict=True))
    return ChipLayout("graph", points, edges)


def chip_layout(num_qubits: int, coupling_map: Iterable[Sequence[int]]) -> ChipLayout:
    """Coordinates for every qubit: the recovered lattice if it fits, else a force-directed graph layout."""
    edges = undirected_edges(coupling_map)
    if num_qubits <= 0:
        return ChipLayout("graph", (), ())
    return _lattice(num_qubits, edges) or _graph_layout(num_qubits, edges)
