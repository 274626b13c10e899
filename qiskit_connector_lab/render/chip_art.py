"""Processor art for notebooks: draw a QPU's chip from its real coupling map (matplotlib).

``plot_chip(backend)`` draws every qubit at its lattice position (see :mod:`.layout`), every coupler as a line,
and colours qubits by readout error and couplers by 2-qubit error when calibration data is available.
``plot_chip(backend, highlight=conn)`` (a connection made with ``for_circuit``, a ranking's fit, or a list of qubits)
rings the layout's qubits, labels them with the circuit's qubit numbers and underlines the couplers it uses.

The colours follow ONE absolute scale per metric, the same for every QPU and the same as the sidebar's
(``src/art.ts``: ``ERROR_SCALES`` and ``BIN_COLOURS``; a test checks they agree), so two chips can be compared by
colour. An error at or above the scale's outlier mark is clamped into the last colour and marked (a dashed ring
or a dashed coupler), and the colour bar says how many there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The bins of each metric's scale (upper edges of bins 0-3; bin 4 is everything above) and the outlier mark.
ERROR_SCALES: dict[str, dict[str, Any]] = {
    "readout": {"edges": (0.01, 0.02, 0.04, 0.08), "outlier": 0.2, "label": "readout error"},
    "two_qubit": {"edges": (0.003, 0.006, 0.012, 0.03), "outlier": 0.1, "label": "2-qubit error"},
}
#: Best (bin 0) to worst (bin 4): the sidebar's colours.
BIN_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
NO_DATA_COLOUR = "#9e9e9e"
#: The colour of a highlighted layout (rings and coupler underlines): blue, apart from the error scale's colours.
HIGHLIGHT_COLOUR = "#1f4fd8"


def highlighted(highlight: Any) -> tuple[list[list[int]], set[tuple[int, int]]]:
    """The layouts (physical qubits in circuit order) and couplers to highlight, from a connection, a fit or qubits."""
    fit = getattr(highlight, "fit", highlight)  # a Connection carries its fit
    if fit is None:
        return [], set()
    if hasattr(fit, "layouts"):
        couplers = {(min(a, b), max(a, b)) for a, b in getattr(fit, "couplers", ())}
        return [list(layout) for layout in fit.layouts], couplers
    return [[int(q) for q in fit]], set()


def error_bin(value: float | None, metric: str) -> int | None:
    """The colour bin of an error on ``metric``'s absolute scale (None for no data)."""
    if value is None:
        return None
    edges = ERROR_SCALES[metric]["edges"]
    return next((i for i, edge in enumerate(edges) if value < edge), len(edges))


def is_outlier(value: float | None, metric: str) -> bool:
    return value is not None and value >= ERROR_SCALES[metric]["outlier"]


def _percent(value: float) -> str:
    return f"{value * 100:.2g} %"


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


def plot_chip(
    backend: Any,
    *,
    color_by: str = "readout",
    ax: Any = None,
    annotate: bool | None = None,
    highlight: Any = None,
    highlight_couplers: Sequence[tuple[int, int]] = (),
) -> Any:
    """Draw ``backend``'s chip. ``color_by`` is "readout", "two_qubit" or "none". ``highlight`` (a connection made
    with ``for_circuit``, a fit of its ranking, or physical qubits in circuit order) and ``highlight_couplers`` mark a
    layout. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from .chip_layout import chip_layout

    if color_by not in ("readout", "two_qubit", "none"):
        raise ValueError(f"color_by is {color_by!r}; use 'readout', 'two_qubit' or 'none'.")
    coupling = [tuple(edge) for edge in (backend.coupling_map or [])]
    layout = chip_layout(backend.num_qubits, coupling)
    readout, couplers = _errors(backend) if color_by != "none" else ([None] * backend.num_qubits, {})
    if ax is None:
        width = max(4.0, min(12.0, 0.45 * (max((p[0] for p in layout.coordinates), default=1) + 2)))
        height = max(3.0, min(12.0, 0.45 * (max((p[1] for p in layout.coordinates), default=1) + 2)))
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure

    def colour(value: float | None, metric: str) -> str:
        index = error_bin(value, metric)
        return NO_DATA_COLOUR if index is None else BIN_COLOURS[index]

    outliers = 0
    for a, b in layout.edges:
        (x0, y0), (x1, y1) = layout.coordinates[a], layout.coordinates[b]
        value = couplers.get((a, b)) if color_by == "two_qubit" else None
        marked = is_outlier(value, "two_qubit")
        outliers += marked
        ax.plot(
            [x0, x1],
            [y0, y1],
            color=colour(value, "two_qubit") if color_by == "two_qubit" else NO_DATA_COLOUR,
            linewidth=3.5 if color_by == "two_qubit" else 2.5,
            linestyle=(0, (2, 1)) if marked else "-",
            zorder=1,
        )
    values = readout if color_by == "readout" else [None] * backend.num_qubits
    colors = [colour(v, "readout") if color_by == "readout" else "#6f42c1" for v in values]
    marked_qubits = [is_outlier(v, "readout") for v in values]
    outliers += sum(marked_qubits)
    xs = [p[0] for p in layout.coordinates]
    ys = [p[1] for p in layout.coordinates]
    size = 160 if backend.num_qubits <= 40 else 70
    ax.scatter(xs, ys, s=size, c=colors, zorder=2, edgecolors="white", linewidths=0.8)
    if any(marked_qubits):
        ax.scatter(
            [x for x, m in zip(xs, marked_qubits, strict=True) if m],
            [y for y, m in zip(ys, marked_qubits, strict=True) if m],
            s=size * 2.2,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            linestyles="--",
            zorder=3,
        )
    if annotate if annotate is not None else backend.num_qubits <= 40:
        for q, (x, y) in enumerate(layout.coordinates):
            ax.text(x, y, str(q), ha="center", va="center", fontsize=7, color="black", zorder=4)
    if color_by != "none":
        scale = ERROR_SCALES[color_by]
        bounds = [0.0, *scale["edges"], scale["outlier"]]
        norm = BoundaryNorm(bounds, len(BIN_COLOURS))
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=ListedColormap(BIN_COLOURS))
        label = f"{scale['label']} (one scale for every QPU)"
        if outliers:
            label += f"\n{outliers} outlier{'s' if outliers != 1 else ''} ≥ {_percent(scale['outlier'])}, dashed"
        bar = fig.colorbar(mappable, ax=ax, shrink=0.7, spacing="uniform", extend="max", label=label)
        bar.set_ticks(bounds[1:-1])
        bar.set_ticklabels([_percent(edge) for edge in bounds[1:-1]])
    title = f"{backend.name}: {backend.num_qubits} qubits, {len(layout.edges)} couplers ({layout.kind} layout)"
    layouts, lit = highlighted(highlight)
    lit |= {(min(a, b), max(a, b)) for a, b in highlight_couplers}
    if layouts or lit:
        _draw_highlight(ax, layout.coordinates, layouts, lit, size)
        qubits = sorted({q for one in layouts for q in one})
        title += f"\nlayout highlighted: {len(qubits)} qubits, {len(lit)} couplers"
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.axis("off")
    ax.set_title(title)
    return fig


def _draw_highlight(
    ax: Any, coordinates: Sequence[tuple[float, float]], layouts: list[list[int]], lit: set[tuple[int, int]], size: int
) -> None:
    """Rings on the layout's qubits (labelled q0, q1... in circuit order) and a wide underline on its couplers."""
    for a, b in sorted(lit):
        if a < len(coordinates) and b < len(coordinates):
            (x0, y0), (x1, y1) = coordinates[a], coordinates[b]
            ax.plot([x0, x1], [y0, y1], color=HIGHLIGHT_COLOUR, linewidth=8, alpha=0.45, zorder=0.5, gid="qcl-coupler")
    qubits = [q for q in dict.fromkeys(q for one in layouts for q in one) if q < len(coordinates)]
    if not qubits:
        return
    ax.scatter(
        [coordinates[q][0] for q in qubits],
        [coordinates[q][1] for q in qubits],
        s=size * 2.0,
        facecolors="none",
        edgecolors=HIGHLIGHT_COLOUR,
        linewidths=2.4,
        zorder=3,
        gid="qcl-layout",
    )
    if len(layouts) == 1:
        for virtual, q in enumerate(layouts[0]):
            if q < len(coordinates):
                x, y = coordinates[q]
                ax.text(x + 0.35, y - 0.35, f"q{virtual}", fontsize=7, color=HIGHLIGHT_COLOUR, zorder=5)
