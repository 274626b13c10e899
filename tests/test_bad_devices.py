"""Bad upstream data is contained (bad devices, unknown queues): the REAL client against the emulator, whose
``GET /api/v1/backends`` answer is rewritten per case. Also the deadline's hand-off of a late result."""

from __future__ import annotations

import threading
import time

import pytest
from IPython.core.error import UsageError

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would fail it
from server_conftest import server_config  # noqa: E402

from qiskit_connector_lab.connection import connect  # noqa: E402
from qiskit_connector_lab.errors import BadResponse, DeadlineExceeded  # noqa: E402
from qiskit_connector_lab.providers.bounded import call_with_deadline  # noqa: E402
from qiskit_connector_lab.qpus import QPU, Listing, listing_from_devices, utcnow  # noqa: E402
from qiskit_connector_lab.ranking import least_busy, ranked, select  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")


def first(change):
    """A hook that changes the first device only."""
    return lambda devices: [change(dict(d)) if i == 0 else d for i, d in enumerate(devices)]


def without(key):
    def drop(device):
        device.pop(key, None)
        return device

    return drop


# (case, hook, the reason the skip note gives)
SKIPPED = [
    ("missing name", first(without("name")), "without a usable name"),
    ("bad qubits", first(lambda d: dict(d, qubits="abc")), "unreadable qubit count"),
    ("bad processor type", first(lambda d: dict(d, processor_type="Heron r2")), "unreadable processor type"),
    ("device not an object", lambda devices: ["ibm_fake", *devices], "not an object"),
]


@pytest.mark.parametrize(("case", "hook", "reason"), SKIPPED, ids=[c[0] for c in SKIPPED])
def test_an_invalid_device_is_skipped_with_a_note(emulator, ibm_dotenv, case, hook, reason):
    ibm_dotenv("open")
    emulator.devices_hook = hook  # the first listing comes from the client's own init: validated too
    connection = connect(mode="job")
    listed = len(emulator.backend_names)
    note = next(n for n in connection.notes if n.startswith("Skipped"))
    assert reason in note and "1 of the" in note and "\n" not in note
    assert len(connection.listing.qpus) == listed - (0 if case == "device not an object" else 1)
    connection = connect(mode="job", backend=connection.listing.qpus[-1].name)  # the client's backend() still works
    assert connection.backend.name == connection.qpu.name


def test_a_devices_field_that_is_not_a_list_is_one_line(emulator, ibm_dotenv, shell):
    ibm_dotenv("open")
    emulator.devices_hook = lambda devices: {"oops": devices}
    with pytest.raises(BadResponse) as info:
        connect(mode="job")
    assert "\n" not in str(info.value) and "not a list of devices" in str(info.value)
    with pytest.raises(UsageError) as magic:
        shell.run_line_magic("qconnect", "--job")
    assert "\n" not in str(magic.value) and "not a list of devices" in str(magic.value)


@pytest.mark.parametrize("queue", [None, -3, "many"], ids=["null", "negative", "text"])
def test_an_unknown_queue_is_never_least_busy(emulator, ibm_dotenv, queue):
    ibm_dotenv("open")
    names = emulator.backend_names
    for name in names:
        emulator.set_queue(name, 50)
    emulator.set_queue(names[1], 40)
    emulator.devices_hook = lambda devices: [
        dict(d, queue_length=queue) if d["name"] == names[0] else d for d in devices
    ]
    connection = connect(mode="job")
    assert connection.qpu.name == names[1]  # the known queue of 40, not the unknown one (0 if unknown were empty)
    unknown = connection.listing.by_name(names[0])
    assert unknown.queue is None
    order = ranked(connection.listing.qpus)
    position = [q.name for q in order].index(names[0])
    known = [i for i, q in enumerate(order) if q.operational and q.queue is not None]
    assert known and all(i < position for i in known)  # after every operational QPU with a known queue
    assert least_busy(connection.listing).name == names[1]
    assert connection.listing.by_name(names[0]).as_dict()["queue"] is None  # null in the API JSON
    assert "None" not in connection.summary()
    named = connect(names[0], mode="job")
    assert ("Queue", "? (unknown)") in named.summary_rows() and "None" not in named.summary()


def test_only_unknown_queues_means_no_least_busy_but_a_qpu_and_a_note():
    listing = Listing(
        qpus=(QPU("a", "online", 5, None), QPU("b", "online", 7, None)), fetched_at=utcnow(), provider="ibm"
    )
    assert least_busy(listing) is None
    assert select(listing).name == "b"  # still a choice, by qubits


def test_a_qpu_that_vanishes_on_load_gives_way_to_the_next(emulator, ibm_dotenv):
    ibm_dotenv("open")
    names = emulator.backend_names
    for rank, name in enumerate(names):
        emulator.set_queue(name, 10 + rank)
    connect(mode="job", backend=names[2])  # the listing (with names[0] least busy) is cached
    emulator.remove_backend(names[0])  # ... and it is gone before it is loaded
    connection = connect(mode="job")
    assert connection.qpu.name == names[1]
    assert any(f"{names[0]} could not be loaded" in n and f"using {names[1]} instead" in n for n in connection.notes)


def test_the_listing_is_validated_without_the_emulator():
    listing = listing_from_devices(
        [{"name": "ok", "qubits": 5, "queue_length": 2}, {"name": "ok", "qubits": 5}, {"name": "x" * 80}, None], "ibm"
    )
    assert listing.names() == ["ok"]
    assert "Skipped 3 of the 4" in listing.notes[0]
    with pytest.raises(BadResponse):
        listing_from_devices("oops", "ibm")


# --- the server ------------------------------------------------------------------------------------------
@pytest.fixture
def jp_server_config(qc_env, ibm_env):
    return server_config({"provider": "ibm"})


async def test_the_server_serves_the_readable_devices_with_the_note(api, ibm_env):
    names = ibm_env.backend_names
    ibm_env.devices_hook = lambda devices: (
        [dict(d, queue_length=None) if d["name"] == names[0] else d for d in devices if d["name"] != names[1]]
        + [{"qubits": "abc"}]
    )
    answer = await api("GET", "backends")
    assert answer.status == 200, answer
    rows = {row["name"]: row for row in answer.json["qpus"]}
    assert rows[names[0]]["queue"] is None and answer.json["least_busy"] != names[0]
    order = [row["name"] for row in answer.json["qpus"]]
    known = [i for i, row in enumerate(answer.json["qpus"]) if row["status"] == "online" and row["queue"] is not None]
    assert known and all(i < order.index(names[0]) for i in known)  # after every online QPU with a known queue
    assert any(n.startswith("Skipped 1 of the") for n in answer.json["notes"])
    plan = (await api("GET", "plan")).json  # the sidebar can show the endpoint that is not IBM's default
    assert plan["endpoint"] == ibm_env.base_url + "/api/v1" and plan["env_file"] is None


async def test_the_server_answers_an_unreadable_listing_with_bad_response(api, ibm_env):
    ibm_env.devices_hook = lambda devices: "oops"
    answer = await api("GET", "backends")
    assert answer.status == 502 and answer.json["code"] == "bad_response", answer
    assert "\n" not in answer.json["message"]


# --- the deadline ---------------------------------------------------------------------------------------------
def test_the_deadline_holds_and_a_late_result_is_handed_on():
    """The deadline is a DeadlineExceeded, and a result that arrives late is handed to ``on_late_result``."""
    late = threading.Event()
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "session"

    with pytest.raises(DeadlineExceeded):
        call_with_deadline(slow, what="opening a session", seconds=0.05, on_late_result=lambda _: late.set())
    release.set()
    assert late.wait(5)  # the late Session is closed, not leaked
    time.sleep(0)
