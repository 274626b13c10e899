"""Configuration described once: the README's variables table is the one ``variables.py`` generates, and the
code reads what the table says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qiskit_connector_lab.config import DEFAULT_DEADLINE, DEFAULT_LISTING_TTL, TOKEN_VARIABLES, load_settings
from qiskit_connector_lab.errors import ConfigError
from qiskit_connector_lab.variables import HEADER, PROCESS_ONLY, VARIABLES, rows, variable

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_rows() -> list[tuple[str, ...]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- variables:start -->", 1)[1].split("<!-- variables:end -->", 1)[0]
    lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
    cells = [tuple(c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]) for line in lines]
    assert cells[0] == HEADER
    return list(cells[2:])  # past the header and its --- line


def test_the_readme_table_is_the_generated_one():
    assert readme_rows() == rows(), "run: python -m qiskit_connector_lab.variables, and paste it into the README"


def test_the_code_reads_what_the_table_says(clean_env, monkeypatch):
    assert variable("IQP_API_TOKEN").names == TOKEN_VARIABLES
    assert float(variable("QCONNECTOR_DEADLINE").default) == DEFAULT_DEADLINE
    assert float(variable("QCONNECTOR_LISTING_TTL").default) == DEFAULT_LISTING_TTL
    names = {v.name for v in VARIABLES}
    assert {"QCONNECTOR_ALLOW_HOSTS", "QCONNECTOR_ENV_FILE"} <= set(PROCESS_ONLY) and set(PROCESS_ONLY) <= names


@pytest.mark.parametrize("name", [v.name for v in VARIABLES if v.dotenv and v.name.startswith("QCONNECTOR_")])
def test_every_qconnector_variable_may_come_from_the_dotenv(clean_env, monkeypatch, name):
    """A bad value of each QCONNECTOR_* variable the table says a .env may set is read from the .env."""
    bad = {
        "QCONNECTOR_DEADLINE": "soon",
        "QCONNECTOR_LISTING_TTL": "soon",
        "QCONNECTOR_FLEET_SEED": "x",
        "QCONNECTOR_FLEET": "not_a_backend",
        "QCONNECTOR_FLEET_FILE": str(clean_env / "fleet.json"),
    }[name]
    (clean_env / ".env").write_text(f'{name}="{bad}"\n')
    if name == "QCONNECTOR_FLEET_FILE":
        assert load_settings(local=True).fleet_file == clean_env / "fleet.json"
    else:  # a fleet member that is not a fake backend fails even for the local fleet
        with pytest.raises(ConfigError, match=name):
            load_settings(local=name == "QCONNECTOR_FLEET")


LOCAL_PROCESS_VARIABLES = (
    "QCONNECTOR_JOBS_FILE",
    "QCONNECTOR_JOBS_KEEP",
    "QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS",
    "QCONNECTOR_LOCAL_NOISE_CACHE",
)


def test_the_local_fleet_variables_are_in_the_table_process_only():
    """The variables the job store and the simulator read straight from the process environment are listed, as
    process-environment-only (a .env would make the server and a kernel disagree)."""
    from qiskit_connector_lab.jobs import local_store
    from qiskit_connector_lab.providers import local_simulator

    assert {
        local_store.JOBS_FILE_VARIABLE,
        local_store.JOBS_KEEP_VARIABLE,
        local_simulator.MAX_STATEVECTOR_VARIABLE,
        local_simulator.NOISE_CACHE_ENTRIES_VARIABLE,
    } == set(LOCAL_PROCESS_VARIABLES)
    assert set(LOCAL_PROCESS_VARIABLES) <= set(PROCESS_ONLY)
    assert variable("QCONNECTOR_JOBS_KEEP").default == str(local_store.DEFAULT_KEEP)
    assert variable("QCONNECTOR_JOBS_KEEP").most == local_store.MAX_KEEP
    readme = {row[0] for row in readme_rows()}
    assert {f"`{name}`" for name in LOCAL_PROCESS_VARIABLES} <= readme


def test_the_job_store_keep_bound_is_the_tables_and_its_reader_enforces_it(clean_env, monkeypatch):
    """The table says "a whole number from 1 to 10000" and the reader refuses 10001 in one line saying the same."""
    from qiskit_connector_lab.variables import count_from_environment

    keep = next(row for row in readme_rows() if row[0] == "`QCONNECTOR_JOBS_KEEP`")
    assert keep[2] == "a whole number from 1 to 10000"
    assert "finished" in keep[1] and "not finished is always kept" in keep[1]
    jobs_file = next(row for row in readme_rows() if row[0] == "`QCONNECTOR_JOBS_FILE`")
    assert jobs_file[3].startswith("`jobs.sqlite3` next to the pick") and "`jobs.json`" in jobs_file[3]
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "10000")
    assert count_from_environment("QCONNECTOR_JOBS_KEEP", "200") == 10_000
    monkeypatch.setenv("QCONNECTOR_JOBS_KEEP", "10001")
    with pytest.raises(ConfigError) as caught:
        count_from_environment("QCONNECTOR_JOBS_KEEP", "200")
    text = str(caught.value)
    assert text.startswith("QCONNECTOR_JOBS_KEEP: is 10001") and "\n" not in text
    assert "a whole number from 1 to 10000" in text


def _keep():
    from qiskit_connector_lab.jobs import LocalJobStore

    return LocalJobStore().keep


def _statevector():
    from qiskit_connector_lab.providers.local_simulator import plan_simulation

    return plan_simulation((0,), clifford=False)


def _noise_cache():
    """A real local job's submission reads the noise-cache size (the cache follows it)."""
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import SamplerV2

    from qiskit_connector_lab.providers.local_fleet import LocalFleet
    from qiskit_connector_lab.providers.local_simulator import NOISE_MODELS

    backend = LocalFleet(load_settings(environ={}, local=True), members=("manila",)).backend("fake_manila")
    qc = QuantumCircuit(1)
    qc.measure_all()
    SamplerV2(mode=backend).run([qc], shots=10).result()
    return NOISE_MODELS.max_entries


@pytest.mark.parametrize(
    "name, read, good",
    [
        ("QCONNECTOR_JOBS_KEEP", _keep, 7),
        ("QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS", _statevector, None),
        ("QCONNECTOR_LOCAL_NOISE_CACHE", _noise_cache, 5),
    ],
)
@pytest.mark.parametrize("bad", ["lots", "0", "-3", "2.5"])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_bad_local_fleet_count_is_one_line_naming_it_and_the_fix(clean_env, monkeypatch, name, read, good, bad):
    monkeypatch.setenv("QCONNECTOR_JOBS_FILE", str(clean_env / "jobs.json"))
    monkeypatch.setenv(name, bad)
    with pytest.raises(ConfigError) as caught:
        read()
    text = str(caught.value)
    assert text.startswith(f"{name}: ") and "\n" not in text and "Set it to e.g." in text and repr(bad) in text
    monkeypatch.setenv(name, "5" if good is None else str(good))
    value = read()
    if good is not None:
        assert value == good
    monkeypatch.setenv("QCONNECTOR_LOCAL_NOISE_CACHE", "64")  # leave the process-wide cache as it was
    if name == "QCONNECTOR_LOCAL_NOISE_CACHE":
        _noise_cache()
