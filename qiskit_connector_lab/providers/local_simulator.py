"""How the local fleet simulates a job: only the qubits the circuit touches, with their own noise.

A local-fleet backend is the fake backend of the real chip (same ``target``, coupling map, calibration,
``configuration()`` and ``properties()``, so transpiling is unchanged), whose ``run()``:

1. finds the *active* physical qubits: those that an instruction other than a barrier or a delay touches (a qubit
   that only idles can change no measured bit);
2. takes the noise model of those qubits and the couplers between them, exactly as ``NoiseModel.from_backend`` of
   the whole chip gives it (built from a copy of the chip's target restricted to them), from a bounded LRU cache;
3. runs the unchanged circuit on an ``AerSimulator`` with that model: Aer drops the idle qubits itself, so the
   classical bits, and so the counts, are the circuit's own.

Where the active qubits are too many for a statevector in this machine's memory (:func:`statevector_limit`):

* a Clifford circuit runs on the stabilizer method, with every error replaced by its Pauli twirl (a Pauli channel
  with the same Pauli-diagonal: an approximation, named in the job's metadata and a one-line note);
* any other circuit runs on matrix-product states with a bounded bond dimension (an approximation too);
* a run that even so cannot fit fails at once with :class:`SimulationTooLarge`, one line naming the limit.

Imports qiskit and qiskit-aer only when used; no tornado, IPython or widgets.
"""

from __future__ import annotations

import math
import os
import pickle
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConnectorError

#: Instructions that touch a qubit without making it part of the computation.
IDLE_INSTRUCTIONS = frozenset({"barrier", "delay"})
#: Aer's stabilizer method runs these (``rz`` only at multiples of pi/2).
CLIFFORD_GATES = frozenset(
    {
        "cx",
        "cy",
        "cz",
        "ecr",
        "h",
        "id",
        "s",
        "sdg",
        "swap",
        "sx",
        "sxdg",
        "x",
        "y",
        "z",
        "pauli",
        "measure",
        "reset",
        "barrier",
        "delay",
        "rz",
    }
)
MAX_STATEVECTOR_VARIABLE = "QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS"
NOISE_CACHE_ENTRIES_VARIABLE = "QCONNECTOR_LOCAL_NOISE_CACHE"
MPS_MAX_BOND = 64
STATEVECTOR = "automatic"  # Aer's own choice among statevector/density matrix: what the full-chip simulator does
STABILIZER = "stabilizer"
MPS = "matrix_product_state"


class SimulationTooLarge(ConnectorError, MemoryError):
    """A local job cannot fit in this machine's memory, by any method the local fleet has."""

    code = "simulation_too_large"


class LocalSimulationNote(UserWarning):
    """The local fleet says how it simulated a job (an approximation of the noise, a method that scales)."""


# -- circuits ----------------------------------------------------------------------------------------------------
def active_qubits(circuits: Iterable[Any]) -> tuple[int, ...]:
    """The physical qubits that an instruction other than a barrier or a delay touches, in any of ``circuits``."""
    active: set[int] = set()
    for circuit in circuits:
        index = {bit: i for i, bit in enumerate(circuit.qubits)}
        for instruction in circuit.data:
            if instruction.operation.name not in IDLE_INSTRUCTIONS:
                active.update(index[q] for q in instruction.qubits)
    return tuple(sorted(active))


def _clifford_angle(value: Any) -> bool:
    try:
        turns = float(value) / (math.pi / 2)
    except (TypeError, ValueError):
        return False  # an unbound parameter
    return abs(turns - round(turns)) < 1e-8


def is_clifford(circuits: Iterable[Any]) -> bool:
    """Whether Aer's stabilizer method can run every circuit (control flow and other gates: no)."""
    for circuit in circuits:
        for instruction in circuit.data:
            operation = instruction.operation
            if operation.name not in CLIFFORD_GATES:
                return False
            if operation.name == "rz" and not _clifford_angle(operation.params[0]):
                return False
    return True


# -- memory and method -------------------------------------------------------------------------------------------
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def statevector_limit() -> int:
    """The most active qubits simulated exactly: a complex128 statevector within a quarter of the memory
    (``QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS`` lowers or raises it)."""
    from ..variables import count_from_environment

    value = count_from_environment(MAX_STATEVECTOR_VARIABLE, "24")
    if value is not None:
        return value
    return max(1, min(30, int(math.log2(_physical_memory() / 4 / 16))))


@dataclass(frozen=True)
class SimulationPlan:
    """How a job is simulated: the Aer method, the active qubits, and the approximation made (None: exact)."""

    method: str
    active: tuple[int, ...]
    approximation: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def pauli_noise(self) -> bool:
        return self.method == STABILIZER

    def metadata(self) -> dict[str, Any]:
        return {
            "method": "statevector" if self.method == STATEVECTOR else self.method,
            "active_qubits": len(self.active),
            "noise": "exact (the chip's noise on the active qubits)" if self.approximation is None else "approximated",
            "approximation": self.approximation,
        }

    def note(self, backend_name: str) -> str | None:
        if self.approximation is None:
            return None
        return f"Local fleet: {backend_name}: {self.approximation}."


def plan_simulation(active: tuple[int, ...], clifford: bool, num_qubits: int | None = None) -> SimulationPlan:
    """Choose the method for ``active`` qubits: statevector when it fits, else stabilizer (Clifford) or MPS."""
    limit = statevector_limit()
    k = len(active)
    if k <= limit:
        return SimulationPlan(STATEVECTOR, active)
    if clifford:
        return SimulationPlan(
            STABILIZER,
            active,
            f"{k} active qubits exceed the statevector limit of {limit} ({MAX_STATEVECTOR_VARIABLE}); ran on the "
            "stabilizer method with the noise approximated as a Pauli channel (Pauli twirl of each error)",
        )
    # An MPS tensor per qubit, 2 x bond x bond complex128 numbers at most: bound the bond to fit the memory.
    budget = _physical_memory() / 4
    bond = min(MPS_MAX_BOND, int(math.sqrt(budget / (k * 2 * 16 * 4))))  # x4: working copies while contracting
    if bond < 2:
        raise SimulationTooLarge(
            f"A local job with {k} active qubits cannot fit in this machine's memory: over the statevector limit of "
            f"{limit} qubits ({MAX_STATEVECTOR_VARIABLE}), not Clifford, and too large for matrix-product states. "
            "Use fewer qubits, or a Clifford circuit."
        )
    return SimulationPlan(
        MPS,
        active,
        f"{k} active qubits exceed the statevector limit of {limit} ({MAX_STATEVECTOR_VARIABLE}); ran on "
        f"matrix-product states with the bond dimension capped at {bond} (entanglement beyond it is truncated)",
        {"matrix_product_state_max_bond_dimension": bond},
    )


# -- the noise of the active qubits --------------------------------------------------------------------------------
def used_instructions(circuits: Iterable[Any]) -> frozenset[tuple[str, tuple[int, ...]]]:
    """The (name, physical qubits) of every instruction of ``circuits``."""
    used: set[tuple[str, tuple[int, ...]]] = set()
    for circuit in circuits:
        index = {bit: i for i, bit in enumerate(circuit.qubits)}
        for instruction in circuit.data:
            used.add((instruction.operation.name, tuple(index[q] for q in instruction.qubits)))
    return frozenset(used)


def restricted_target(
    target: Any, active: Iterable[int], used: frozenset[tuple[str, tuple[int, ...]]] | None = None
) -> Any:
    """A copy of ``target`` that keeps every qubit but only the instruction properties of ``active`` qubits (and,
    given ``used``, only those of the instructions a circuit uses: noise on the others never fires)."""
    from qiskit.transpiler import Target

    keep = set(active)
    reduced = Target(
        num_qubits=target.num_qubits,
        dt=target.dt,
        qubit_properties=target.qubit_properties,
        description=f"{target.description or 'target'} (qubits {sorted(keep)})",
    )
    for name in target.operation_names:
        operation = target.operation_from_name(name)
        properties = target[name]
        if isinstance(operation, type) or properties is None or None in properties:
            reduced.add_instruction(operation, name=name)  # global (control flow, ideal ops)
        else:
            reduced.add_instruction(
                operation,
                {q: p for q, p in properties.items() if keep.issuperset(q) and (used is None or (name, q) in used)},
                name=name,
            )
    return reduced


def _chip_view(target: Any, name: str) -> Any:
    """A bare BackendV2 around ``target``: what ``NoiseModel.from_backend`` reads (public API only)."""
    from qiskit.providers import BackendV2, Options

    class _ChipView(BackendV2):
        @property
        def target(self):
            return target

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options()

        def run(self, run_input, **options):  # pragma: no cover - never run
            raise NotImplementedError

    return _ChipView(name=name)


def pauli_twirl(error: Any) -> Any:
    """The Pauli channel with the same Pauli-transfer-matrix diagonal as ``error`` (its Pauli twirl)."""
    import numpy as np
    from qiskit.quantum_info import SuperOp, pauli_basis
    from qiskit_aer.noise import pauli_error

    n = error.num_qubits
    paulis = pauli_basis(n)
    superop = SuperOp(error.to_quantumchannel())
    dim = 2**n
    # lambda_P = Tr(P E(P)) / 2^n: how much of each Pauli survives the channel.
    survived = []
    for pauli in paulis:
        matrix = pauli.to_matrix()
        image = (superop.data @ matrix.reshape(-1, order="F")).reshape(dim, dim, order="F")
        survived.append(float(np.real(np.trace(matrix.conj().T @ image))) / dim)
    lambdas = np.array(survived)
    signs = np.array([[1.0 if p.commutes(q) else -1.0 for p in paulis] for q in paulis])
    probabilities = np.clip(signs @ lambdas / dim**2, 0.0, None)
    probabilities /= probabilities.sum()
    return pauli_error([(paulis[i].to_label(), float(p)) for i, p in enumerate(probabilities) if p > 1e-15])


def _twirled(noise_model: Any) -> Any:
    from qiskit_aer.utils import transform_noise_model

    return transform_noise_model(noise_model, pauli_twirl)


class NoiseModelCache:
    """Reduced noise models by (chip, active qubits, Pauli or exact): LRU, bounded in entries and in bytes.

    The size of an entry is its pickled size (what it holds, without Python's object overhead).

    Why not a library: ``functools.lru_cache`` bounds entries only, and ``cachetools.LRUCache(getsizeof=...)`` bounds
    one measure (bytes or entries, not both), is not thread-safe, and has no per-key build lock; what is needed here
    is both bounds and "two jobs on the same qubits build the model once", which an ``OrderedDict`` and a lock per
    key in the making give in a few lines, with no new dependency.
    """

    def __init__(self, max_entries: int = 64, max_bytes: int = 256 * 2**20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(
        self,
        backend: Any,
        active: tuple[int, ...],
        pauli: bool = False,
        used: frozenset[tuple[str, tuple[int, ...]]] | None = None,
    ) -> Any:
        """The model for ``active`` qubits; ``pauli=True``: its Pauli twirl, for the instructions ``used`` only
        (twirling costs per error, and a large Clifford circuit uses a fraction of its qubits' instructions)."""
        used = used if pauli else None
        key = (backend.name, backend.num_qubits, active, pauli, used)  # one chip per name
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key][0]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # two jobs on the same qubits build the model once
            with self._lock:
                if key in self._entries:
                    self.hits += 1
                    return self._entries[key][0]
                self.misses += 1
            model = self._build(backend, active, pauli, used)
            size = len(pickle.dumps(model))
            with self._lock:
                self._entries[key] = (model, size)
                self._building.pop(key, None)
                while self._entries and (len(self._entries) > self.max_entries or self.bytes > self.max_bytes):
                    if len(self._entries) == 1:
                        break  # keep the one just built, whatever its size
                    self._entries.popitem(last=False)
        return model

    @staticmethod
    def _build(
        backend: Any, active: tuple[int, ...], pauli: bool, used: frozenset[tuple[str, tuple[int, ...]]] | None
    ) -> Any:
        from qiskit_aer.noise import NoiseModel

        view = _chip_view(restricted_target(backend.target, active, used), backend.name)
        with warnings.catch_warnings():
            # Aer notes the chip's non-physical T2 > 2 T1 values it clips, once per qubit: true of the full-chip
            # model as well, and not the user's to fix.
            warnings.filterwarnings("ignore", module="qiskit_aer.noise")
            model = NoiseModel.from_backend(view)
        return _twirled(model) if pauli else model

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def info(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self.bytes,
                "hits": self.hits,
                "misses": self.misses,
                "max_entries": self.max_entries,
                "max_bytes": self.max_bytes,
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


def noise_cache_entries() -> int:
    """``QCONNECTOR_LOCAL_NOISE_CACHE``, else 64 (a bad value: one-line ConfigError)."""
    from ..variables import count_from_environment

    value = count_from_environment(NOISE_CACHE_ENTRIES_VARIABLE, "64")
    return 64 if value is None else value


def _cache_entries() -> int:
    """At import: a bad value is said when a job is submitted (:func:`noise_cache_entries`), not by the import."""
    try:
        return noise_cache_entries()
    except ValueError:
        return 64


#: The process-wide cache of reduced noise models.
NOISE_MODELS = NoiseModelCache(max_entries=_cache_entries())


# -- the backend ---------------------------------------------------------------------------------------------------
def plan_for_circuits(circuits: list[Any], backend: Any | None = None) -> SimulationPlan:
    return plan_simulation(active_qubits(circuits), is_clifford(circuits))


def simulator_for(
    backend: Any, plan: SimulationPlan, seed: int | None = None, circuits: list[Any] | None = None
) -> Any:
    """An AerSimulator for ``plan`` with the reduced (cached) noise model of ``backend``'s chip."""
    from qiskit_aer import AerSimulator

    used = used_instructions(circuits) if plan.pauli_noise and circuits is not None else None
    noise_model = NOISE_MODELS.get(backend, plan.active, plan.pauli_noise, used) if plan.active else None
    options: dict[str, Any] = {"method": plan.method, **plan.options}
    if noise_model is not None:
        options["noise_model"] = noise_model
    if seed is not None:
        options["seed_simulator"] = seed
    simulator = AerSimulator(**options)
    if plan.method != STATEVECTOR:
        simulator.set_max_qubits(max(backend.num_qubits, 1))  # stabilizer and MPS scale; Aer checks memory itself
    return simulator


_TARGET_LOCK = threading.RLock()  # one target built at a time: a second caller waits for it, never builds it twice


class LocalRunMixin:
    """Mixed into a fake backend's class: ``run()`` simulates only the active qubits (see the module doc)."""

    #: Marks the backends whose jobs the local fleet runs (see :mod:`.local_jobs`).
    qcl_local_fleet = True

    @property
    def target(self) -> Any:
        """The fake backend's target, built once: the local fleet starts building it in the background when the
        backend is loaded (so ``%qconnect`` returns first), and a caller that needs it sooner waits for that build
        instead of starting a second one."""
        with _TARGET_LOCK:
            return super().target  # type: ignore[misc]

    def build_target_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=lambda: self.target, name="qcl-build-target", daemon=True)
        thread.start()
        return thread

    def __deepcopy__(self, memo: dict) -> Any:
        # The runtime's local mode deep-copies its options, which hold the backend, for every job: a whole chip's
        # target each time. A local-fleet backend is shared instead, as an IBM backend is reached by name.
        return self

    def run(self: Any, run_input: Any, **options: Any) -> Any:
        from qiskit import QuantumCircuit

        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        defaults = dict(self._default_options().items())
        run_options = {k: v for k, v in self.options.items() if v is not None and v != defaults.get(k)}
        run_options.update(options)  # the options the user set on the backend, then this run's
        if run_options.get("noise_model") is not None:
            # The user's own noise model (the runtime's simulator.noise_model option): run it as given.
            from qiskit_aer import AerSimulator

            return AerSimulator().run(circuits, **run_options)
        run_options.pop("noise_model", None)
        run_options.pop("method", None)
        plan = plan_for_circuits(circuits, self)
        simulator = simulator_for(self, plan, circuits=circuits)
        job = simulator.run(circuits, **run_options)
        job.qcl_plan = plan  # for a caller that wants to know how it ran
        return job


_classes: dict[type, type] = {}
_classes_lock = threading.Lock()


def local_backend_class(fake_class: type) -> type:
    """The local fleet's subclass of a fake backend class (same chip, reduced ``run()``)."""
    with _classes_lock:
        if fake_class not in _classes:
            _classes[fake_class] = type(
                fake_class.__name__,
                (LocalRunMixin, fake_class),
                {
                    "__module__": __name__,
                    "__doc__": f"{fake_class.__name__} of the local fleet: the same chip; runs simulate only the "
                    "qubits a circuit touches.",
                },
            )
        return _classes[fake_class]


def local_backend_class_named(name: str) -> type | None:
    """The local fleet's class of the fake backend named ``name`` (e.g. ``"fake_fez"``), None when there is none."""
    from qiskit_ibm_runtime import fake_provider

    for value in vars(fake_provider).values():
        if isinstance(value, type) and getattr(value, "backend_name", None) == name:
            return local_backend_class(value)
    return None
