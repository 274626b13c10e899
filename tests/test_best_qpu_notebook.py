"""Example 04 runs end to end on a real kernel: least busy against best for the circuit, measured."""

from __future__ import annotations

import re

from test_notebooks import EXAMPLES, code_cells, has_image, matplotlib_config, run_notebook, texts

__all__ = ["matplotlib_config", "run_notebook"]  # the fixtures, shared with the other notebook tests


def test_best_qpu_notebook_measures_the_difference(run_notebook):
    nb = run_notebook(EXAMPLES / "04_best_qpu_for_my_circuit.ipynb")
    cells = code_cells(nb)
    table = texts(cells[3], mimes=("text/plain",))
    assert "for ghz: most faithful first" in table and "◆" in table and "Expected fidelity" in table
    assert re.search(r"fake_torino .* ← least busy", table)
    quick = texts(cells[4])
    assert "fake_torino (least busy)" in quick
    best = texts(cells[5])
    assert "(best for the circuit)" in best and "Why" in best and "least busy fake_torino" in best
    layout = re.search(r"layout: \(([\d, ]+)\)", best)
    assert layout and len(layout.group(1).split(",")) == 8
    assert has_image(cells[6])  # the chip art with the layout highlighted
    results = texts(cells[7])
    measured = dict(
        re.findall(r"^(least busy|best for the circuit)\s+fake_\w+\s+.*GHZ population ([\d.]+)$", results, re.M)
    )
    assert set(measured) == {"least busy", "best for the circuit"}, results
    gain = float(measured["best for the circuit"]) - float(measured["least busy"])
    assert gain > 0.05, results  # the best QPU for the circuit measurably keeps more of the GHZ state
    assert f"kept {gain:.3f} more" in results
