"""Every placement of a deflated circuit on a QPU (rustworkx VF2), scored all at once with NumPy.

The expected fidelity of a placement is the product, over every gate and measurement of the routed circuit, of
(1 − error) of that gate on the physical qubits it lands on. In logs that is a sum, computed for every placement
with array gathers: one (qubits × physical) table for the 1-qubit gates, measurements and resets, and one gather
per used coupler for the 2-qubit gates. No Python loop runs per placement.

The search is bounded: VF2 stops after :data:`CALL_LIMIT` state visits or :data:`MAX_LAYOUTS` placements,
whichever comes first (a 20-qubit chain has over 40,000 placements on a 156-qubit chip). VF2 walks the QPU's
qubits best first, so the placements a bound cuts off are the ones on the worst qubits. Qubits with no
2-qubit gate are placed afterwards, on the best free qubits (an optimal assignment, for the best placements of
the rest).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import rustworkx as rx
from scipy.optimize import linear_sum_assignment

from .calibration import Calibration
from .prepared import Prepared, Refused

#: VF2's bound on state visits per QPU (rustworkx ``call_limit``).
CALL_LIMIT = 3_000_000
#: The most placements scored per QPU.
MAX_LAYOUTS = 10_000
#: How many of the best placements get their 1-qubit-only qubits assigned optimally.
REFINE = 32


@dataclass(frozen=True)
class Scored:
    """The best placement on one QPU: physical qubit per deflated qubit, and its expected fidelity."""

    placement: tuple[int, ...]
    fidelity: float
    layouts: int  # how many placements were scored
    complete: bool  # False when the search stopped at its bound


def _per_qubit_table(prepared: Prepared, cal: Calibration) -> np.ndarray:
    """(deflated qubits × physical qubits): the log-fidelity of each qubit's 1-qubit work placed there."""
    table = np.zeros((prepared.size, cal.num_qubits))
    parts = [(counts, cal.one_qubit.get(name)) for name, counts in prepared.one_qubit.items()]
    parts += [(prepared.measures, cal.readout), (prepared.resets, cal.reset)]
    for counts, logs in parts:
        if not counts.any():
            continue
        if logs is None:
            raise Refused("uses a gate this QPU does not have")
        used = counts > 0
        with np.errstate(invalid="ignore"):
            table[used] += counts[used, None] * logs[None, :]
    return table


def _placements(prepared: Prepared, cal: Calibration, nodes: list[int]) -> tuple[np.ndarray, bool]:
    """VF2 placements of the coupled qubits ``nodes`` on the QPU's directed coupling graph."""
    pattern = rx.PyDiGraph(multigraph=False)
    pattern.add_nodes_from(range(len(nodes)))
    local = {d: i for i, d in enumerate(nodes)}
    pattern.add_edges_from_no_data([(local[a], local[b]) for a, b in prepared.edges()])
    # The graph is relabelled best qubits first and searched in that order (id_order): the first placements
    # found are on the best qubits, so the bound cuts off the worst ones.
    found = rx.vf2_mapping(
        cal.ordered_graph, pattern, subgraph=True, induced=False, id_order=True, call_limit=CALL_LIMIT
    )
    rows = np.empty((MAX_LAYOUTS, len(nodes)), dtype=np.intp)
    count = 0
    for mapping in itertools.islice(found, MAX_LAYOUTS):
        rows[count, list(mapping.values())] = list(mapping.keys())
        count += 1
    complete = count < MAX_LAYOUTS
    return cal.order[rows[:count]], complete


def best_placement(prepared: Prepared, cal: Calibration) -> Scored:
    """The best placement of ``prepared`` on ``cal``'s QPU (raises :class:`Refused` when there is none)."""
    if prepared.size > cal.num_qubits:
        raise Refused(f"the routed circuit uses {prepared.size} qubits; this QPU has {cal.num_qubits}")
    for _a, _b, gate in prepared.two_qubit:
        if gate not in cal.two_qubit:
            raise Refused(f"uses {gate}, which this QPU does not have")
    table = _per_qubit_table(prepared, cal)
    coupled = sorted({q for edge in prepared.edges() for q in edge})
    lonely = [d for d in range(prepared.size) if d not in set(coupled)]
    if coupled:
        rows, complete = _placements(prepared, cal, coupled)
        if not len(rows):
            raise Refused("its couplers do not fit this QPU's coupling map")
        local = {d: i for i, d in enumerate(coupled)}
        score = table[np.asarray(coupled)[None, :], rows].sum(axis=1)
        for (a, b, gate), count in prepared.two_qubit.items():
            score += count * cal.two_qubit[gate][rows[:, local[a]], rows[:, local[b]]]
    else:
        rows, complete, local = np.zeros((1, 0), dtype=np.intp), True, {}
        score = np.zeros(1)
    order = np.argsort(-score, kind="stable")[: REFINE if lonely else 1]
    best: tuple[float, tuple[int, ...]] | None = None
    for row in order:
        placement = np.full(prepared.size, -1, dtype=np.intp)
        for d in coupled:
            placement[d] = rows[row, local[d]]
        total = float(score[row])
        if lonely:
            free = np.setdiff1d(np.arange(cal.num_qubits), rows[row])
            if len(free) < len(lonely):
                continue
            gains = table[np.asarray(lonely)][:, free]
            cost = np.where(np.isfinite(gains), -gains, 1e12)
            pick_rows, pick_cols = linear_sum_assignment(cost)
            total += float(gains[pick_rows, pick_cols].sum())
            placement[np.asarray(lonely)[pick_rows]] = free[pick_cols]
        if best is None or total > best[0]:
            best = (total, tuple(int(p) for p in placement))
    if best is None:
        raise Refused(f"the routed circuit uses {prepared.size} qubits; this QPU has {cal.num_qubits}")
    fidelity = float(np.exp(best[0])) if np.isfinite(best[0]) else 0.0
    return Scored(placement=best[1], fidelity=fidelity, layouts=len(rows), complete=complete)
