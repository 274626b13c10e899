"""The wire, described once: every route's real answer holds to ``qiskit_connector_lab/server/wire.schema.json``.

A real Jupyter server answers; on the local fleet, and on the IBM path (the REAL qiskit-ibm-runtime client against
the API emulator). Each answer is validated with ``jsonschema`` against the schema's ``$defs`` entry for it, errors
included, so a field renamed or added on one side only fails here (the sidebar's TypeScript is checked against the
same file).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib.resources import files

import jsonschema
import pytest

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would eat it
from server_conftest import server_config, submit  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCHEMA = json.loads(files("qiskit_connector_lab.server").joinpath("wire.schema.json").read_text(encoding="utf-8"))


def holds(answer, name: str, status: int = 200) -> dict:
    """The answer has ``status`` and its body holds to ``$defs/name``."""
    assert answer.status == status, answer
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}, format_checker=jsonschema.FormatChecker()
    )
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answer.json)]
    assert problems == [], f"{name}: {problems}"
    return answer.json


@pytest.fixture
def jp_server_config(qc_env, server_traits, request):
    if server_traits.get("provider") == "ibm":
        request.getfixturevalue("ibm_env")
    return server_config({"provider": "local", **server_traits})


def test_the_schema_is_a_valid_draft_2020_12_schema_and_can_refuse():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    expected = {"backends", "qpu", "qpu_detail", "plan", "pick", "job", "jobs_page", "job_detail", "job_cancel"}
    assert expected | {"error"} <= set(SCHEMA["$defs"])
    old_pick = {"backend": "fake_fez", "provider": "local", "updated_at": None}  # the word before "qpu"
    pick = jsonschema.Draft202012Validator({"$ref": "#/$defs/pick", "$defs": SCHEMA["$defs"]})
    assert not pick.is_valid(old_pick) and pick.is_valid({"qpu": "fake_fez", "provider": "local", "updated_at": None})


RECORD = """
from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
store = LocalJobStore()
store.record(JobRecord(id="local-1", backend="fake_fez", primitive="sampler", status="QUEUED",
                       created="2026-11-30T20:00:00+00:00", shots=100, pubs=1, tags=("kernel",)))
store.update("local-1", status="DONE", started="2026-11-30T20:01:00+00:00", finished="2026-11-30T20:02:00+00:00")
"""


async def test_every_answer_on_the_local_fleet_holds_to_the_schema(api, qc_env):
    listing = holds(await api("GET", "backends"), "backends")
    name = listing["least_busy"]
    holds(await api("GET", "backends", name), "qpu_detail")
    holds(await api("GET", "plan"), "plan")
    holds(await api("GET", "pick"), "pick")
    assert holds(await api("POST", "pick", body={"qpu": name}), "pick")["qpu"] == name
    assert holds(await api("POST", "pick", body={"qpu": None}), "pick")["qpu"] is None

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", RECORD], check=True, timeout=60, env=env)
    page = holds(await api("GET", "jobs"), "jobs_page")
    assert [(job["id"], job["qpu"]) for job in page["jobs"]] == [("local-1", "fake_fez")]
    holds(await api("GET", "jobs", params={"qpu": "fake_fez", "pending": "true"}), "jobs_page")
    assert holds(await api("GET", "jobs", "local-1"), "job_detail")["qpu"] == "fake_fez"

    holds(await api("POST", "jobs", "local-1", "cancel"), "error", 409)
    holds(await api("GET", "jobs", "nothing-here"), "error", 404)
    holds(await api("GET", "backends", "fake_nowhere"), "error", 404)
    holds(await api("GET", "backends", "q" * 65), "error", 400)
    holds(await api("GET", "jobs", params={"limit": "²"}), "error", 400)
    holds(await api("POST", "pick", body="{not json"), "error", 400)
    holds(await api("GET", "nothing-here"), "error", 404)


@pytest.mark.parametrize("server_traits", [{"provider": "auto"}])
async def test_a_configuration_error_holds_to_the_schema(api, jp_root_dir):
    (jp_root_dir / ".env").write_text('OPEN_PLAN="on"\nPREMIUM_PLAN="on"\n')  # two plans on
    error = holds(await api("GET", "plan"), "error", 500)
    assert error["code"] == "config_error" and error["config"]["env_file"].endswith(".env")


@pytest.mark.parametrize("server_traits", [{"provider": "ibm", "ttl": 0.2}])
async def test_every_answer_on_the_ibm_path_holds_to_the_schema(api, ibm_env):
    emulator = ibm_env
    listing = holds(await api("GET", "backends"), "backends")
    assert listing["provider"] == "ibm" and len(listing["qpus"]) == len(emulator.backend_names)
    holds(await api("GET", "backends", "ibm_perth"), "qpu_detail")
    plan = holds(await api("GET", "plan"), "plan")
    assert plan["plan_display_name"] and plan["usage"] is not None
    assert holds(await api("POST", "pick", body={"qpu": "ibm_perth"}), "pick")["provider"] == "ibm"

    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    page = holds(await api("GET", "jobs"), "jobs_page")
    assert [(job["id"], job["qpu"], job["status"]) for job in page["jobs"]] == [(job_id, "ibm_perth", "QUEUED")]
    holds(await api("GET", "jobs", job_id), "job_detail")
    assert holds(await api("POST", "jobs", job_id, "cancel"), "job_cancel")["status"] == "CANCELLED"

    holds(await api("GET", "backends", "ibm_nowhere"), "error", 404)
    assert holds(await api("GET", "jobs"), "jobs_page")["jobs"][0]["status"] == "CANCELLED"
    emulator.inject(429, path="/api/v1/jobs", retry_after=9)
    limited = holds(await api("GET", "jobs", params={"limit": "5"}), "error", 503)  # no page yet for this filter
    assert limited["code"] == "rate_limited" and limited["hint"] == "Retry after 9 s."
    await asyncio.sleep(0.25)  # past the TTL
    stale = holds(await api("GET", "jobs"), "jobs_page")  # the page from before: served stale during the backoff
    assert stale["stale"] and stale["stale_reason"]
