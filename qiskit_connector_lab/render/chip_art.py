"""Processor art for notebooks: draw a QPU's chip from its real coupling map (matplotlib).

``plot_chip(backend)`` draws every qubit at its lattice position (see :mod:`.layout`), every coupler as a line,
and colours qubits by readout error and couplers by 2-qubit error when calibration data is available.
"""

from __future__ import annotations

from typing import Any


def _errors(backend: Any) -> tuple[list[float | None], dict[tuple[int, int], float]]:
    readout: list[float | None] = [None] * backend.num_qubits
    couplers: dict[tuple[int, int], float] = {}
    target = backend.target
    if "measure" in target:
        for (qubit,), props in target["measure"].items():
            if props is not None and props.error is not None:
                readout[qubit] = props.error
    for gate in ("cz", "ecr", "cx"):
        if gate in target:
            for qubits, props in target[gate].items():
                if props is not None and props.error is not None and len(qubits) == 2:
                    key = (min(qubits), max(qubits))
                    couplers[key] = min(props.error, couplers.get(key, props.error))
    return readout, couplers


def plot_chip(backend: Any, *, color_by: str = "readout", ax: Any = None, annotate: bool | None = None) -> Any:
    """Draw ``backend``'s chip. ``color_by`` is "readout", "two_qubit" or "none". Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    from .chip_layout import chip_layout

    coupling = [tuple(edge) for edge in (backend.coupling_map or [])]
    layout = chip_layout(backend.num_qubits, coupling)
    readout, couplers = _errors(backend) if color_by != "none" else ([None] * backend.num_qubits, {})
    if ax is None:
        width = max(4.0, min(12.0, 0.45 * (max((p[0] for p in layout.coordinates), default=1) + 2)))
        height = max(3.0, min(12.0, 0.45 * (max((p[1] for p in layout.coordinates), default=1) + 2)))
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    cmap = colormaps["viridis_r"]
    edge_values = [couplers.get(edge) for edge in layout.edges]
    known_edges = [v for v in edge_values if v is not None]
    edge_norm = Normalize(min(known_edges), max(known_edges)) if known_edges and color_by == "two_qubit" else None
    for (a, b), value in zip(layout.edges, edge_values):
        (x0, y0), (x1, y1) = layout.coordinates[a], layout.coordinates[b]
        color = cmap(edge_norm(value)) if edge_norm is not None and value is not None else "#9e9e9e"
        ax.plot([x0, x1], [y0, y1], color=color, linewidth=2.5, zorder=1)
    known = [v for v in readout if v is not None]
    node_norm = Normalize(min(known), max(known)) if known and color_by == "readout" else None
    colors = [cmap(node_norm(v)) if node_norm is not None and v is not None else "#6f42c1" for v in readout]
    xs = [p[0] for p in layout.coordinates]
    ys = [p[1] for p in layout.coordinates]
    ax.scatter(xs, ys, s=160 if backend.num_qubits <= 40 else 70, c=colors, zorder=2, edgecolors="white", linewidths=0.8)
    if annotate if annotate is not None else backend.num_qubits <= 40:
        for q, (x, y) in enumerate(layout.coordinates):
            ax.text(x, y, str(q), ha="center", va="center", fontsize=7, color="white", zorder=3)
    norm = node_norm or edge_norm
    if norm is not None:
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(mappable, ax=ax, shrink=0.7, label="readout error" if node_norm else "2-qubit error")
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.axis("off")
    ax.set_title(f"{backend.name}: {backend.num_qubits} qubits, {len(layout.edges)} couplers ({layout.kind} layout)")
    return fig
