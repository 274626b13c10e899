"""The best QPU for a circuit, against mapomatic, in one run: quality (cost per circuit) and speed (cold, warm).

    python bench/best_qpu.py              # every circuit of the comparison, the default local fleet
    python bench/best_qpu.py --quick      # three small circuits (a minute or two)

Quality: for each circuit, our most faithful (QPU, layout), scored by mapomatic's own ``evaluate_layouts`` on the
circuit our pass manager produces, against mapomatic's ``best_overall_layout`` over the same QPUs. mapomatic needs
one gate set per circuit, so it runs per basis family on the circuit transpiled for the family's largest QPU
(the same transpile as ours: level 3, the same seed): the same work on both sides. Cost = 1 - expected fidelity.

Speed: ranking every QPU of the default local fleet for a 10-qubit QFT and a 20-qubit GHZ:
* cold: a fresh interpreter, imports and calibration loading included (and the call alone);
* warm: the same circuit again (calibration and transpile cached), median of 5;
* warm, new circuit: calibrations cached, the transpile cache emptied first (each family transpiled again);
* mapomatic on the same QPUs: transpile per family + ``best_overall_layout`` (call limit
  :data:`MAPOMATIC_CALL_LIMIT`, ten times under ours: its default, 3e7, does not end on this machine for GHZ 12).
Memory: the cold child's peak RSS, and the peak Python allocation of a warm call (tracemalloc).

Writes ``bench/results/best_qpu.json``. Not a test: it prints medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore")


# -- the circuits of the comparison ------------------------------------------------------------------------------
def circuits() -> dict[str, Any]:
    from qiskit import QuantumCircuit
    from qiskit.synthesis import synth_qft_full

    def ghz(n: int) -> QuantumCircuit:
        qc = QuantumCircuit(n)
        qc.h(0)
        for i in range(n - 1):
            qc.cx(i, i + 1)
        qc.measure_all()
        return qc

    def qft(n: int) -> QuantumCircuit:
        qc = synth_qft_full(n)
        qc.measure_all()
        return qc

    def random_circuit(n: int = 4, depth: int = 10, seed: int = 5) -> QuantumCircuit:
        rng = random.Random(seed)
        qc = QuantumCircuit(n)
        for _ in range(depth):
            for q in range(n):
                qc.rx(rng.uniform(0, 3), q)
            a, b = rng.sample(range(n), 2)
            qc.cx(a, b)
        qc.measure_all()
        return qc

    def trotter_ising(n: int = 7, j: float = 1.0, h: float = 0.7, dt: float = 0.2) -> QuantumCircuit:
        qc = QuantumCircuit(n)
        for i in range(n - 1):
            qc.rzz(2 * j * dt, i, i + 1)
        for i in range(n):
            qc.rx(2 * h * dt, i)
        qc.measure_all()
        return qc

    def qaoa_ring(n: int = 8, gamma: float = 0.4, beta: float = 0.3) -> QuantumCircuit:
        qc = QuantumCircuit(n)
        qc.h(range(n))
        for i in range(n):
            qc.rzz(2 * gamma, i, (i + 1) % n)
        for i in range(n):
            qc.rx(2 * beta, i)
        qc.measure_all()
        return qc

    return {
        "GHZ 5": ghz(5),
        "GHZ 12": ghz(12),
        "GHZ 20": ghz(20),
        "QFT 6": qft(6),
        "QFT 10": qft(10),
        "random 4q depth 10": random_circuit(),
        "Trotter step, Ising chain 7q": trotter_ising(),
        "QAOA layer, 8q ring": qaoa_ring(),
    }


# -- both sides --------------------------------------------------------------------------------------------------
def settings() -> Any:
    from qiskit_connector_lab.config import load_settings

    path = Path(os.environ.get("TMPDIR", "/tmp")) / "qcl-bench-fleet.json"
    from qiskit_connector_lab.providers.local_fleet import DEFAULT_MEMBERS

    path.write_text(json.dumps({f"fake_{m}": {"status": "online", "queue": 0} for m in DEFAULT_MEMBERS}))
    return load_settings(environ={"QCONNECTOR_FLEET_FILE": str(path)}, local=True)


def ours(circuit: Any) -> Any:
    from qiskit_connector_lab.circuit_fit import rank_for_circuit

    return rank_for_circuit(circuit, settings=settings())


def our_cost(ranking: Any, circuit: Any) -> tuple[str, float, float]:
    import mapomatic as mm

    fit = ranking.fits[0]
    out = ranking.pass_manager(fit.name).run(circuit)
    active = sorted(
        {
            out.find_bit(q).index
            for inst in out.data
            if inst.operation.name not in ("barrier", "delay")
            for q in inst.qubits
        }
    )
    cost = mm.evaluate_layouts(mm.deflate_circuit(out), [active], ranking.calibrations[fit.name].backend)[0][1]
    return fit.name, float(cost), 1 - float(fit.fidelity)


#: mapomatic's VF2 call limit here (its default is 3e7): a 12-qubit chain has 1.8 million placements on the
#: 120-qubit Nighthawk, which mapomatic would hold as Python lists and score one by one (hours, gigabytes).
MAPOMATIC_CALL_LIMIT = 300_000


def mapomatic_best(ranking: Any, circuit: Any, call_limit: int = MAPOMATIC_CALL_LIMIT) -> tuple[str, float]:
    import mapomatic as mm

    from qiskit_connector_lab.circuit_fit.prepared import pass_manager_for

    families: dict[Any, list[Any]] = {}
    for cal in ranking.calibrations.values():
        families.setdefault(cal.basis, []).append(cal)
    best: tuple[str, float] = ("-", 1.0)
    for members in families.values():
        anchor = max(members, key=lambda c: (c.num_qubits, c.name))
        small = mm.deflate_circuit(pass_manager_for(anchor.target).run(circuit))
        found = mm.best_overall_layout(small, [c.backend for c in members], call_limit=call_limit)
        if found and found[2] < best[1]:
            best = (found[1], float(found[2]))
    return best


# -- speed -------------------------------------------------------------------------------------------------------
COLD = """
import time, warnings, resource, sys, json
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import best_qpu
circuit = best_qpu.circuits()[{name!r}]
t1 = time.perf_counter()
ranking = best_qpu.ours(circuit)
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"total": t2 - t0, "call": t2 - t1, "rss_mb": rss}}))
"""


def cold(name: str) -> dict[str, float]:
    code = COLD.format(root=str(ROOT), bench=str(ROOT / "bench"), name=name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QCONNECTOR_", "IQP_", "QISKIT_IBM_"))}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, env=env)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def speed(name: str, circuit: Any, mapomatic_runs: int) -> dict[str, Any]:
    from qiskit_connector_lab.circuit_fit.rank import forget_prepared

    first = cold(name)
    ranking = ours(circuit)  # this process: calibrations loaded
    warm = timed(lambda: ours(circuit), 5)

    def new_circuit() -> None:
        forget_prepared()
        ours(circuit)

    warm_new = timed(new_circuit, 3)
    tracemalloc.start()
    ours(circuit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    theirs = timed(lambda: mapomatic_best(ranking, circuit), mapomatic_runs)
    return {
        "cold_total_s": first["total"],
        "cold_call_s": first["call"],
        "cold_rss_mb": first["rss_mb"],
        "warm_median_s": statistics.median(warm),
        "warm_new_circuit_median_s": statistics.median(warm_new),
        "warm_peak_alloc_mb": peak / 2**20,
        "mapomatic_median_s": statistics.median(theirs),
        "ratio_mapomatic_over_warm": statistics.median(theirs) / statistics.median(warm),
        "ratio_mapomatic_over_warm_new_circuit": statistics.median(theirs) / statistics.median(warm_new),
        "qpus": len([f for f in ranking.fits if f.scored]),
        "layouts_scored": sum(f.scored_layouts for f in ranking.fits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="three small circuits, no speed runs of GHZ 20")
    parser.add_argument("--mapomatic-runs", type=int, default=1, help="timed mapomatic runs per speed circuit")
    parser.add_argument("--speed-only", action="store_true", help="only the speed runs")
    args = parser.parse_args()
    pool = circuits()
    names = ["GHZ 5", "QFT 6", "random 4q depth 10"] if args.quick else list(pool)
    if args.speed_only:
        names = []
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    quality = []
    print("Quality: cost = 1 - expected fidelity (mapomatic's evaluate_layouts on both sides); lower is better")
    print(f"{'circuit':32} {'ours (QPU)':18} {'ours':>8} {'mapomatic (QPU)':18} {'mapomatic':>9} {'diff':>8}")
    for name in names:
        circuit = pool[name]
        ranking = ours(circuit)
        qpu, cost, estimate = our_cost(ranking, circuit)
        their_qpu, their_cost = mapomatic_best(ranking, circuit)
        quality.append(
            {
                "circuit": name,
                "ours_qpu": qpu,
                "ours_cost": cost,
                "ours_estimate": estimate,
                "mapomatic_qpu": their_qpu,
                "mapomatic_cost": their_cost,
                "difference": cost - their_cost,
                "within_0.005": cost <= their_cost + 0.005,
            }
        )
        print(f"{name:32} {qpu:18} {cost:8.4f} {their_qpu:18} {their_cost:9.4f} {cost - their_cost:+8.4f}", flush=True)
    timing = {}
    speed_names = ["QFT 10"] if args.quick else ["QFT 10", "GHZ 20"]
    print("\nSpeed: every QPU of the default local fleet (seconds; medians)")
    for name in speed_names:
        timing[name] = row = speed(name, pool[name], args.mapomatic_runs)
        print(
            f"{name}: cold {row['cold_total_s']:.2f} (call {row['cold_call_s']:.2f}, RSS {row['cold_rss_mb']:.0f} MB); "
            f"warm {row['warm_median_s']:.3f}; warm, new circuit {row['warm_new_circuit_median_s']:.3f}; "
            f"mapomatic {row['mapomatic_median_s']:.2f}; mapomatic / warm = {row['ratio_mapomatic_over_warm']:.0f}x, "
            f"/ warm new circuit = {row['ratio_mapomatic_over_warm_new_circuit']:.0f}x; "
            f"warm peak allocation {row['warm_peak_alloc_mb']:.1f} MB; {row['layouts_scored']} layouts on "
            f"{row['qpus']} QPUs",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "quality": quality,
        "speed": timing,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average": os.getloadavg()},
        "bench_rss_mb_at_start": rss / 1024,
    }
    target = RESULTS / (
        "best_qpu_quick.json" if args.quick else "best_qpu_speed.json" if args.speed_only else "best_qpu.json"
    )
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nWrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
