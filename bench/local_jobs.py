"""Local-fleet jobs: the project's local fleet against bare qiskit-ibm-runtime local mode, in one run.

1. **Bell, 1024 shots, on every fleet member.** For each member, fresh interpreters in turn (project, bare, ...):
   * project: ``LocalFleet(...).backend(name)``, transpile, ``SamplerV2(mode=backend).run(...).result()``; also
     ``executor_sampler.Sampler`` (warm);
   * bare: ``SamplerV2(mode=FakeX()).run(...).result()`` on the same transpiled circuit.
   *Cold* is the first run in the interpreter (after the backend is built and the circuit transpiled); *warm* is
   the median of the next runs in the same interpreter. Ratios are bare / project.
2. **VQE, 20 optimizer steps** (COBYLA, maxiter=20), the public Qiskit VQE tutorial's Hamiltonian and
   ``efficient_su2`` ansatz, ``EstimatorV2`` in a Batch, on a 156-qubit member; bare: its first 3 jobs, to give the
   time per job next to ours.
3. **GHZ on 100 qubits** (IBM's "hello world"): ``EstimatorV2`` job of <Z0 Zi>, i = 1..99, on 127- and 156-qubit
   members; bare: the same job on ``FakeX()``.

Writes ``bench/results/local_jobs.json`` and the section between the ``bench/local_jobs.py`` markers of
``BENCHMARKS.md``. Run from the repository root, alone (it times things): ``python bench/local_jobs.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, ChildFailed, clean_env, machine_info, package_versions, run_child

BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- bench/local_jobs.py: begin -->", "<!-- bench/local_jobs.py: end -->"
MEMBERS = ("fez", "torino", "aachen", "nighthawk", "brisbane", "sherbrooke", "kyiv", "prague", "kolkata", "manila")

PRELUDE = textwrap.dedent("""
    import json, sys, time, warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # SamplerV2/EstimatorV2: what is compared
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    def fake(name):
        from qiskit_ibm_runtime import fake_provider
        for value in vars(fake_provider).values():
            if isinstance(value, type) and getattr(value, "backend_name", None) == name:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return value()
        raise SystemExit(f"no fake backend {name}")

    def backend_for(side, name):
        if side == "bare":
            return fake(name)
        from qiskit_connector_lab.config import load_settings
        from qiskit_connector_lab.providers.local_fleet import LocalFleet
        return LocalFleet(load_settings(environ={}, local=True)).backend(name)
""")

BELL = PRELUDE + textwrap.dedent("""
    side, name, warm_runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from qiskit_ibm_runtime import SamplerV2
    t = time.perf_counter(); backend = backend_for(side, name); build = time.perf_counter() - t
    qc = QuantumCircuit(2); qc.h(0); qc.cx(0, 1); qc.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)
    def once():
        t = time.perf_counter()
        counts = SamplerV2(mode=backend).run([isa], shots=1024).result()[0].data.meas.get_counts()
        assert sum(counts.values()) == 1024
        return time.perf_counter() - t
    cold = once()
    warm = [once() for _ in range(warm_runs)]
    out = {"build_s": build, "cold_s": cold, "warm_s": warm}
    if side == "project":
        from qiskit_ibm_runtime.executor_sampler import Sampler
        def executor_once():
            t = time.perf_counter()
            Sampler(mode=backend).run([isa], shots=1024).result()
            return time.perf_counter() - t
        executor_once()
        out["executor_warm_s"] = [executor_once() for _ in range(warm_runs)]
        from qiskit_connector_lab.providers.local_simulator import NOISE_MODELS
        out["noise_cache"] = NOISE_MODELS.info()
    print(json.dumps(out))
""")

VQE = PRELUDE + textwrap.dedent("""
    side, name, steps, max_jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    import statistics
    import numpy as np
    from scipy.optimize import minimize
    from qiskit.circuit.library import efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import Batch, EstimatorV2 as Estimator
    t0 = time.perf_counter()
    backend = backend_for(side, name)
    # The public Qiskit VQE tutorial's Hamiltonian and ansatz.
    hamiltonian = SparsePauliOp.from_list([("YZ", 0.3980), ("ZI", -0.3980), ("ZZ", -0.0113), ("XX", 0.1810)])
    ansatz = efficient_su2(hamiltonian.num_qubits)
    pm = generate_preset_pass_manager(optimization_level=3, backend=backend, seed_transpiler=1)
    ansatz_isa = pm.run(ansatz)
    hamiltonian_isa = hamiltonian.apply_layout(layout=ansatz_isa.layout)
    x0 = 2 * np.pi * np.random.default_rng(0).random(ansatz.num_parameters)
    energies, job_times = [], []
    class Enough(Exception):
        pass
    def cost_func(params, ansatz, hamiltonian, estimator):
        if max_jobs and len(job_times) >= max_jobs:
            raise Enough  # bare: a few jobs give the time per job
        t = time.perf_counter()
        energy = estimator.run([(ansatz, [hamiltonian], [params])]).result()[0].data.evs[0]
        job_times.append(time.perf_counter() - t)
        energies.append(float(energy))
        return energy
    t1 = time.perf_counter()
    with Batch(backend=backend) as batch:
        estimator = Estimator(mode=batch)
        estimator.options.default_shots = 10000
        try:
            minimize(cost_func, x0, args=(ansatz_isa, hamiltonian_isa, estimator), method="cobyla",
                     options={"maxiter": steps})
        except Enough:
            pass
    print(json.dumps({"total_s": time.perf_counter() - t0, "loop_s": time.perf_counter() - t1, "jobs": len(job_times),
                      "job_median_s": statistics.median(job_times) if job_times else None,
                      "energy": energies[-1] if energies else None}))
""")

GHZ = PRELUDE + textwrap.dedent("""
    side, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import EstimatorV2 as Estimator
    t0 = time.perf_counter()
    backend = backend_for(side, name)
    qc = QuantumCircuit(n); qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    observables = [SparsePauliOp("I" * (n - 1 - i) + "Z" + "I" * (i - 1) + "Z") for i in range(1, n)]
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)
    observables = [o.apply_layout(isa.layout) for o in observables]
    notes = []
    t1 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            job = Estimator(mode=backend).run([(isa, observables)])
        notes = [str(w.message) for w in caught if "LocalSimulationNote" in w.category.__name__]
        evs = job.result()[0].data.evs
        outcome = {"ok": True, "z0z1": float(evs[0]), "z0z99": float(evs[-1]),
                   "method": (job.result().metadata.get("local_fleet") or {}).get("method")}
    except Exception as error:
        outcome = {"ok": False, "error": " ".join(str(error).split())[:200]}
    if side == "project":
        from qiskit_connector_lab.providers.local_simulator import NOISE_MODELS
        outcome["noise_cache"] = NOISE_MODELS.info()
    print(json.dumps({"total_s": time.perf_counter() - t0, "job_s": time.perf_counter() - t1, "notes": notes,
                      **outcome}))
""")


def child(code: str, *args: str, home: str, timeout: float = 1800) -> dict:
    env = clean_env(home, pythonpath=[str(ROOT)], QCONNECTOR_JOBS_FILE=str(Path(home) / "jobs.json"))
    return run_child(sys.executable, code, env=env, cwd=home, timeout=timeout, args=args).value


def med(values: list[float]) -> float:
    return statistics.median(values)


def bell_section(members, cold_runs: int, warm_runs: int, home: str, log) -> list[dict]:
    rows = []
    for folder in members:
        name = f"fake_{folder}"
        samples: dict[str, list[dict]] = {"project": [], "bare": []}
        for _ in range(cold_runs):
            for side in ("project", "bare"):  # interleaved, in fresh interpreters
                try:
                    samples[side].append(child(BELL, side, name, str(warm_runs), home=home))
                except ChildFailed as failed:
                    log(f"  {name} {side}: {failed.text}")
        project, bare = samples["project"], samples["bare"]
        if not project or not bare:
            rows.append({"member": name, "error": "a side failed"})
            continue
        row = {
            "member": name,
            "project_build_s": med([s["build_s"] for s in project]),
            "project_cold_s": med([s["cold_s"] for s in project]),
            "project_warm_s": med([w for s in project for w in s["warm_s"]]),
            "project_executor_warm_s": med([w for s in project for w in s["executor_warm_s"]]),
            "bare_build_s": med([s["build_s"] for s in bare]),
            "bare_cold_s": med([s["cold_s"] for s in bare]),
            "bare_warm_s": med([w for s in bare for w in s["warm_s"]]),
            "cold_runs": cold_runs,
            "warm_runs_per_interpreter": warm_runs,
            "noise_cache": project[-1]["noise_cache"],
        }
        row["cold_ratio"] = row["bare_cold_s"] / row["project_cold_s"]
        row["warm_ratio"] = row["bare_warm_s"] / row["project_warm_s"]
        log(
            f"  {name:16} project cold {row['project_cold_s']:.3f} warm {row['project_warm_s']:.3f} | bare cold "
            f"{row['bare_cold_s']:.2f} warm {row['bare_warm_s']:.2f} | x{row['cold_ratio']:.0f} cold, "
            f"x{row['warm_ratio']:.0f} warm"
        )
        rows.append(row)
    return rows


def qubits_of(folder: str) -> int:
    from qiskit_connector_lab.providers.local_fleet import _read_member

    return _read_member(folder).qubits


def markdown(data: dict) -> str:
    runs = data.get("runs") or {"bell": data["machine"], "vqe": data["machine"], "ghz": data["machine"]}
    when = "; ".join(
        f"{part} {m.get('when_utc')} (load at start {m.get('loadavg_at_start')})" for part, m in sorted(runs.items())
    )
    out = [
        BEGIN,
        "## Local fleet: Bell, VQE and GHZ jobs, project against bare local mode",
        "",
        (
            f"`python bench/local_jobs.py` on {data['machine'].get('cpus')} cores "
            f"({data['machine'].get('cpu_model', '?')}), shared with other work: {when}; "
            f"qiskit {data['versions'].get('qiskit')}, "
            f"qiskit-ibm-runtime {data['versions'].get('qiskit-ibm-runtime')}, "
            f"qiskit-aer {data['versions'].get('qiskit-aer')}."
        ),
        "",
        (
            "Bell pair, 1024 shots, `SamplerV2(mode=backend).run(...).result()`; the project's backend comes from the "
            "local fleet, bare is `FakeX()`. Cold: the first run in a fresh interpreter (after building the backend "
            "and transpiling); warm: the median of the next runs. Medians over "
            f"{data['bell'][0].get('cold_runs', '?')} interpreters per side."
        ),
        "",
        (
            "| QPU | qubits | project cold | project warm | project warm, executor Sampler | bare cold | bare warm "
            "| bare/project cold | bare/project warm |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["bell"]:
        if "error" in row:
            out.append(f"| {row['member']} | | {row['error']} | | | | | | |")
            continue
        out.append(
            f"| {row['member']} | {row['qubits']} | {row['project_cold_s']:.3f} s | {row['project_warm_s']:.3f} s "
            f"| {row['project_executor_warm_s']:.3f} s | {row['bare_cold_s']:.2f} s | {row['bare_warm_s']:.2f} s "
            f"| {row['cold_ratio']:.0f}× | {row['warm_ratio']:.0f}× |"
        )
    goals = data["goals"]
    out += [
        "",
        (
            f"Goals: warm ≤ 0.3 s on every member: **{'met' if goals['warm_le_0_3'] else 'NOT met'}**; "
            f"≥ 20× faster than bare (warm) on the 127- and 156-qubit chips: "
            f"**{'met' if goals['ratio_ge_20_big'] else 'NOT met'}**."
        ),
        "",
    ]
    cache = data["bell"][0].get("noise_cache") if data["bell"] and "noise_cache" in data["bell"][0] else None
    if cache:
        out.append(
            f"Noise-model cache after a Bell job's runs: {cache['entries']} entry, {cache['bytes'] / 1024:.0f} kB "
            f"(bounded to {cache['max_entries']} entries and {cache['max_bytes'] // 2**20} MB)."
        )
    vqe = data.get("vqe")
    if vqe:
        p, b = vqe["project"], vqe.get("bare")
        line = (
            f"\n**VQE** ({vqe['member']}, the Qiskit VQE tutorial's Hamiltonian and `efficient_su2` ansatz, "
            f"`EstimatorV2` in a Batch, 10,000 shots, COBYLA maxiter={vqe['steps']}): "
            f"project {p['total_s']:.1f} s for {p['jobs']} jobs, everything included (goal ≤ 20 s: "
            f"**{'met' if p['total_s'] <= 20 else 'NOT met'}**), {p['job_median_s']:.3f} s per job."
        )
        if b and b.get("job_median_s"):
            line += (
                f" Bare: {b['job_median_s']:.2f} s per job over {b['jobs']} jobs ({b['total_s']:.1f} s in all), "
                f"so about {b['total_s'] - b['loop_s'] + b['job_median_s'] * p['jobs']:.0f} s for the same "
                f"{p['jobs']} jobs."
            )
        out.append(line)
    for ghz in data.get("ghz", []):
        p, b = ghz["project"], ghz.get("bare") or {}
        text = (
            f"\n**GHZ, {ghz['qubits']} qubits, <Z0 Zi> for i = 1..{ghz['qubits'] - 1}** on {ghz['member']} "
            f"(`EstimatorV2`): project {p['total_s']:.1f} s in all, the job {p['job_s']:.1f} s "
            f"(goal ≤ 30 s: **{'met' if p['total_s'] <= 30 else 'NOT met'}**), "
            f"<Z0 Z1> = {p.get('z0z1', float('nan')):.3f}, <Z0 Z99> = {p.get('z0z99', float('nan')):.3f}; "
            f'the approximation named: "{(p.get("notes") or ["none"])[0]}"'
        )
        cache = p.get("noise_cache")
        if cache:
            text += f" Noise-model cache after the job: {cache['entries']} entry, {cache['bytes'] / 1024:.0f} kB."
        if b:
            text += (
                f" Bare: {'ok' if b.get('ok') else 'failed'} after {b.get('total_s', 0):.1f} s"
                + (f' ("{b.get("error")}")' if not b.get("ok") else "")
                + "."
            )
        out.append(text)
    out += ["", END]
    return "\n".join(out) + "\n"


def write_markdown(section: str) -> None:
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    BENCHMARKS_MD.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", default=",".join(MEMBERS), help="fleet members (folders), comma-separated")
    parser.add_argument("--cold-runs", type=int, default=2, help="fresh interpreters per side and member")
    parser.add_argument("--warm-runs", type=int, default=3, help="warm runs per interpreter")
    parser.add_argument("--vqe-member", default="fake_fez")
    parser.add_argument("--vqe-steps", type=int, default=20)
    parser.add_argument("--bare-vqe-jobs", type=int, default=3, help="bare VQE: stop after this many jobs (0: none)")
    parser.add_argument("--ghz-members", default="fake_brisbane,fake_fez")
    parser.add_argument("--ghz-qubits", type=int, default=100)
    parser.add_argument("--no-bare-ghz", action="store_true")
    parser.add_argument("--skip", default="", help="parts to skip: bell,vqe,ghz")
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument("--markdown-only", action="store_true", help="rewrite BENCHMARKS.md from the results file")
    args = parser.parse_args()
    out_file = RESULTS / "local_jobs.json"
    if args.markdown_only:
        write_markdown(markdown(json.loads(out_file.read_text())))
        return
    skip = set(filter(None, args.skip.split(",")))
    data: dict = {
        "machine": machine_info(),
        "versions": package_versions(sys.executable, ["qiskit", "qiskit-ibm-runtime", "qiskit-aer"]),
    }
    with tempfile.TemporaryDirectory(prefix="qcl-bench-") as home:
        if "bell" not in skip:
            print("Bell, 1024 shots, per member:", flush=True)
            members = [m.strip().removeprefix("fake_") for m in args.members.split(",") if m.strip()]
            data["bell"] = bell_section(members, args.cold_runs, args.warm_runs, home, lambda s: print(s, flush=True))
            for row in data["bell"]:
                row["qubits"] = qubits_of(row["member"].removeprefix("fake_"))
            ok = [r for r in data["bell"] if "error" not in r]
            data["goals"] = {
                "warm_le_0_3": all(r["project_warm_s"] <= 0.3 for r in ok),
                "ratio_ge_20_big": all(r["warm_ratio"] >= 20 for r in ok if r["qubits"] >= 127),
            }
        if "vqe" not in skip:
            print(f"VQE, {args.vqe_steps} steps on {args.vqe_member}:", flush=True)
            vqe = {
                "member": args.vqe_member,
                "steps": args.vqe_steps,
                "project": child(VQE, "project", args.vqe_member, str(args.vqe_steps), "0", home=home),
            }
            print(f"  project {vqe['project']}", flush=True)
            if args.bare_vqe_jobs:
                try:
                    vqe["bare"] = child(
                        VQE, "bare", args.vqe_member, str(args.vqe_steps), str(args.bare_vqe_jobs), home=home
                    )
                except ChildFailed as failed:
                    vqe["bare"] = {"error": failed.text}
                print(f"  bare {vqe['bare']}", flush=True)
            data["vqe"] = vqe
        if "ghz" not in skip:
            data["ghz"] = []
            for member in filter(None, args.ghz_members.split(",")):
                print(f"GHZ {args.ghz_qubits} qubits on {member}:", flush=True)
                entry = {
                    "member": member,
                    "qubits": args.ghz_qubits,
                    "project": child(GHZ, "project", member, str(args.ghz_qubits), home=home),
                }
                print(f"  project {entry['project']}", flush=True)
                if not args.no_bare_ghz:
                    try:
                        entry["bare"] = child(GHZ, "bare", member, str(args.ghz_qubits), home=home)
                    except ChildFailed as failed:
                        entry["bare"] = {"ok": False, "error": failed.text}
                    print(f"  bare {entry['bare']}", flush=True)
                data["ghz"].append(entry)
    previous = json.loads(out_file.read_text()) if out_file.exists() else {}
    data["runs"] = {part: data["machine"] for part in ("bell", "vqe", "ghz") if part not in skip}
    for key in ("bell", "goals", "vqe", "ghz"):  # a partial run keeps the other parts' last figures
        if key not in data and key in previous:
            data[key] = previous[key]
    for part, machine in (previous.get("runs") or {}).items():
        data["runs"].setdefault(part, machine)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(data, indent=2) + "\n")
    if not args.no_markdown and "bell" in data:
        write_markdown(markdown(data))
    print(f"wrote {out_file.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
