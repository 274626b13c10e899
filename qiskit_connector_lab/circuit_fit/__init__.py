"""The best QPU for a circuit: each QPU's best layout and expected fidelity, ranked with the queue.

* :mod:`.calibration`: a QPU's calibration as arrays of log-fidelities, cached per QPU and calibration date;
* :mod:`.prepared`: the circuit transpiled once per basis family and deflated to the qubits it uses;
* :mod:`.layouts`: every placement (rustworkx VF2, bounded) scored at once with NumPy;
* :mod:`.pass_manager`: a pass manager that lands the circuit on the chosen layout;
* :mod:`.rank`: the fleet's ranking and :func:`rank_for_circuit`; the rule itself is in ``ranking``.

No Jupyter import here: the faces (``%qconnect --for``, ``%qbackends --for``) call this.
"""

from __future__ import annotations

from .rank import Fit, Ranking, rank_for_circuit

__all__ = ["Fit", "Ranking", "rank_for_circuit"]
