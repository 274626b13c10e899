"""The jobs routes through a real Jupyter server: on the IBM path (the REAL qiskit-ibm-runtime client against the
API emulator, which runs the jobs) and on the local fleet (the per-user local job store, written by other
processes). Counts what actually went upstream, in the emulator's request log."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

pytest.register_assert_rewrite("server_conftest")

import qiskit_ibm_runtime  # noqa: E402,F401 - a cold import inside a short deadline would eat it
from server_conftest import server_config, submit  # noqa: E402
from store_lock import write_lock_held  # noqa: E402
from test_faults_core import DEADLINE, MARGIN  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TTL = 0.3
JOBS = "/api/v1/jobs"
QPU = "ibm_perth"
TABS = 20


@pytest.fixture
def server_traits():
    return {"provider": "ibm", "ttl": TTL, "deadline": DEADLINE, "refresh_interval": 60}


@pytest.fixture
def jp_server_config(qc_env, server_traits, request):
    if server_traits.get("provider") == "ibm":
        request.getfixturevalue("ibm_env")
    return server_config(server_traits)


def assert_clean(answer, emulator) -> None:
    assert emulator.api_key not in answer.text
    assert "eyJ" not in answer.text  # no bearer JWT
    assert "Traceback" not in answer.text


async def test_a_job_shows_queued_then_done_with_its_detail(api, ibm_env):
    emulator = ibm_env
    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    pending = await api("GET", "jobs", params={"pending": "true"})
    assert pending.status == 200, pending
    rows = pending.json["jobs"]
    assert [(r["id"], r["status"], r["qpu"], r["primitive"], r["provider"]) for r in rows] == [
        (job_id, "QUEUED", QPU, "sampler", "ibm")
    ]
    assert pending.json["total"] == 1 and not pending.json["stale"] and not pending.json["local"]
    emulator.release_jobs()
    emulator.wait_jobs_simulated()
    while emulator.jobs[0]["status"] != "Completed":
        await asyncio.sleep(0.05)
    await asyncio.sleep(TTL + 0.05)
    assert (await api("GET", "jobs", params={"pending": "true"})).json["jobs"] == []
    done = await api("GET", "jobs")
    assert [(r["id"], r["status"]) for r in done.json["jobs"]] == [(job_id, "DONE")]
    detail = await api("GET", "jobs", job_id)
    assert detail.status == 200 and detail.json["status"] == "DONE"
    assert detail.json["created"] and detail.json["started"] and detail.json["finished"]
    assert detail.json["usage_seconds"] is not None and detail.json["pubs"] == 1
    for answer in (pending, done, detail):
        assert_clean(answer, emulator)


async def test_cancel_a_queued_job_then_409_then_404(api, ibm_env, all_logs):
    emulator = ibm_env
    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    assert (await api("GET", "jobs")).json["jobs"][0]["status"] == "QUEUED"  # now cached for the TTL
    cancelled = await api("POST", "jobs", job_id, "cancel")
    assert cancelled.status == 200 and cancelled.json == {"id": job_id, "status": "CANCELLED"}
    assert emulator.jobs[0]["status"] == "Cancelled"
    listed = await api("GET", "jobs")  # the cancel dropped the cached page: no waiting for the TTL
    assert listed.json["jobs"][0]["status"] == "CANCELLED"
    again = await api("POST", "jobs", job_id, "cancel")
    assert again.status == 409 and again.json["code"] == "job_not_cancellable", again
    assert "CANCELLED" in again.json["message"] and "\n" not in again.json["message"]
    unknown = await api("POST", "jobs", "d0000000000000000000", "cancel")
    assert unknown.status == 404 and unknown.json["code"] == "job_not_found", unknown
    assert (await api("GET", "jobs", "d0000000000000000000")).status == 404
    for answer in (cancelled, again, unknown):
        assert_clean(answer, emulator)
    logged = all_logs.text
    assert f"cancelled job {job_id}" in logged  # the server logged the cancel, and no secret with it
    assert emulator.api_key not in logged and "eyJ" not in logged


async def test_one_upstream_request_per_refresh_however_many_tabs_poll(api, ibm_env, shared_upstream):
    emulator = ibm_env
    submit(emulator, 3)
    emulator.wait_jobs_simulated()
    while any(j["status"] != "Completed" for j in emulator.jobs):
        await asyncio.sleep(0.05)
    assert (await api("GET", "jobs")).status == 200  # signs in; the final jobs are known from now on
    for _ in range(3):
        await asyncio.sleep(TTL + 0.05)
        emulator.reset_log()
        answers = await asyncio.gather(*(api("GET", "jobs") for _ in range(TABS)))
        assert all(a.status == 200 and len(a.json["jobs"]) == 3 for a in answers)
        assert emulator.count("GET", JOBS) == 1  # one list request for every tab
        assert len([r for r in emulator.requests if r.path.startswith("/api/v1/")]) == 1, [
            (r.method, r.path) for r in emulator.requests
        ]
    assert shared_upstream.jobs.list_calls == 4


async def test_pending_jobs_cost_one_request_per_refresh(api, ibm_env):
    """The page comes from ``runtime_internals.jobs_page``: one GET /api/v1/jobs carries every job's state."""
    emulator = ibm_env
    emulator.hold_jobs = True
    submit(emulator, 2)
    await api("GET", "jobs")
    await asyncio.sleep(TTL + 0.05)
    emulator.reset_log()
    await asyncio.gather(*(api("GET", "jobs") for _ in range(TABS)))
    assert emulator.count("GET", JOBS) == 1
    runtime = [r for r in emulator.requests if r.path.startswith("/api/v1/")]
    assert len(runtime) == 1, [(r.method, r.path) for r in runtime]


async def test_without_the_raw_page_the_public_api_pays_a_status_per_pending_job(api, ibm_env, monkeypatch):
    """A client without the private one-request page: the public ``service.jobs()`` path still lists the jobs."""
    from qiskit_connector_lab.providers import runtime_internals

    monkeypatch.setattr(runtime_internals, "jobs_page", lambda service, **filters: None)
    emulator = ibm_env
    emulator.hold_jobs = True
    ids = submit(emulator, 2)
    first = await api("GET", "jobs")
    assert [(r["id"], r["status"]) for r in first.json["jobs"]] == [(ids[1], "QUEUED"), (ids[0], "QUEUED")]
    await asyncio.sleep(TTL + 0.05)
    emulator.reset_log()
    await asyncio.gather(*(api("GET", "jobs") for _ in range(TABS)))
    assert emulator.count("GET", JOBS) == 1
    runtime = [r for r in emulator.requests if r.path.startswith("/api/v1/")]
    assert len(runtime) == 1 + 2, [(r.method, r.path) for r in runtime]  # the list, one status per pending job


@pytest.mark.parametrize(
    "filters,problem",
    [
        ({"limit": "0"}, "bad_limit"),
        ({"limit": "101"}, "bad_limit"),
        ({"offset": "-1"}, "bad_offset"),
        ({"pending": "maybe"}, "bad_pending"),
        ({"qpu": "../x"}, "bad_name"),
        ({"backend": "../x"}, "bad_name"),
        # str.isdigit() takes these; int() refuses the first three and reads the fourth as 3
        ({"limit": "\u00b2"}, "bad_limit"),
        ({"limit": "\u2460"}, "bad_limit"),
        ({"offset": "\u00b9"}, "bad_offset"),
        ({"limit": "\u0663"}, "bad_limit"),
        ({"offset": "9" * 5000}, "bad_offset"),
        ({"offset": "0" * 7}, "bad_offset"),
    ],
    ids=[
        "0",
        "101",
        "-1",
        "maybe",
        "qpu",
        "backend",
        "superscript 2",
        "circled 1",
        "superscript 1",
        "arabic 3",
        "5000 digits",
        "7 digits",
    ],
)
async def test_bad_filters_are_a_400_naming_the_argument(api, ibm_env, filters, problem):
    answer = await api("GET", "jobs", params=filters)
    assert answer.status == 400 and answer.json["code"] == problem, answer
    assert "\n" not in answer.json["message"] and len(answer.json["message"]) < 120
    assert ibm_env.count("GET", JOBS) == 0


async def test_filters_reach_ibm(api, ibm_env):
    emulator = ibm_env
    emulator.hold_jobs = True
    ids = submit(emulator, 3)
    page = await api("GET", "jobs", params={"limit": "2", "offset": "1", "qpu": QPU})
    assert [r["id"] for r in page.json["jobs"]] == [ids[1], ids[0]]
    # the filters went upstream, not applied here
    listed = next(r for r in emulator.requests if r.path == JOBS and r.method == "GET")
    assert {"limit=2", "offset=1", f"backend={QPU}"} <= set(listed.query.split("&"))
    assert (await api("GET", "jobs", params={"qpu": "ibm_fez"})).json["jobs"] == []
    assert (await api("GET", "jobs", params={"backend": "ibm_fez"})).json["jobs"] == []  # the former name


# --- bad rows from IBM -----------------------------------------------------------------------------------------
BAD_ROWS = [
    ("no id", {"id": None}, "no id"),
    ("numeric id", {"id": 12345}, "no id"),
    ("backend list", {"backend": ["ibm_perth"]}, "backend"),
    ("tags number", {"tags": 5}, "tags"),
    ("status number", {"state": {"status": 7}}, "status"),
    ("created infinite", {"created": float("inf")}, "created"),
    ("huge reason code", {"state": {"status": "Failed", "reason_code": 10**40}}, "reason_code"),
]


@pytest.mark.parametrize("name,damage,field", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
async def test_a_malformed_job_row_is_left_out_with_a_note_and_nothing_goes_stale(
    api, ibm_env, monkeypatch, name, damage, field
):
    from emulator.jobs import EmulatedJob

    emulator = ibm_env
    emulator.hold_jobs = True
    good, bad = submit(emulator, 2)
    view = EmulatedJob.view

    def damaged(job):
        data = view(job)
        return {**data, **damage} if job.id == bad else data

    monkeypatch.setattr(EmulatedJob, "view", damaged)
    page = await api("GET", "jobs")
    assert page.status == 200, page
    assert [r["id"] for r in page.json["jobs"]] == [good] and not page.json["stale"]
    [note] = page.json["notes"]
    assert "could not be read" in note and field in note and "\n" not in note
    assert page.json["total"] == 2  # IBM's count: the job exists, it is only unreadable
    backends = await api("GET", "backends")
    assert backends.status == 200 and not backends.json["stale"]
    status = (await api("GET", "status")).json["upstream"]
    assert status["consecutive_failures"] == 0 and status["backoff_remaining"] == 0


PUBLIC_BAD_ROWS = [
    ("tag number", {"tags": [5]}, "tags"),
    ("long tag", {"tags": ["x" * 300]}, "tags"),
    ("tags number", {"tags": 5}, "tags"),
    ("too many tags", {"tags": ["t"] * 1001}, "tags"),
    ("program number", {"program": {"id": 5}}, "primitive"),
]


def damage_job(monkeypatch, job_id, damage) -> None:
    """The emulator answers job ``job_id`` (in lists and on its own) with ``damage`` merged in."""
    from emulator.jobs import EmulatedJob

    view = EmulatedJob.view

    def damaged(job):
        data = view(job)
        return {**data, **damage} if job.id == job_id else data

    monkeypatch.setattr(EmulatedJob, "view", damaged)


async def assert_no_backoff(api) -> None:
    backends = await api("GET", "backends")
    assert backends.status == 200 and not backends.json["stale"], backends
    status = (await api("GET", "status")).json["upstream"]
    assert status["consecutive_failures"] == 0 and status["backoff_remaining"] == 0, status


@pytest.mark.parametrize("name,damage,field", PUBLIC_BAD_ROWS, ids=[b[0] for b in PUBLIC_BAD_ROWS])
async def test_without_the_raw_page_a_bad_job_is_left_out_with_a_note_and_nothing_backs_off(
    api, ibm_env, monkeypatch, name, damage, field
):
    """The public ``service.jobs()`` path: a job the record refuses is skipped and said, the others still show."""
    from qiskit_connector_lab.providers import runtime_internals

    monkeypatch.setattr(runtime_internals, "jobs_page", lambda service, **filters: None)
    emulator = ibm_env
    emulator.hold_jobs = True
    good, bad = submit(emulator, 2)
    damage_job(monkeypatch, bad, damage)
    page = await api("GET", "jobs")
    assert page.status == 200, page
    assert [r["id"] for r in page.json["jobs"]] == [good] and not page.json["stale"]
    [note] = page.json["notes"]
    assert "could not be read" in note and field in note and bad in note and "\n" not in note, note
    await assert_no_backoff(api)


@pytest.mark.parametrize("name,damage,field", PUBLIC_BAD_ROWS, ids=[b[0] for b in PUBLIC_BAD_ROWS])
async def test_a_bad_job_detail_is_one_line_and_nothing_backs_off(api, ibm_env, monkeypatch, name, damage, field):
    emulator = ibm_env
    emulator.hold_jobs = True
    [bad] = submit(emulator)
    damage_job(monkeypatch, bad, damage)
    detail = await api("GET", "jobs", bad)
    assert detail.status == 502 and detail.json["code"] == "unreadable_job", detail
    message = detail.json["message"]
    assert bad in message and field in message and "\n" not in message and len(message) < 200, message
    assert_clean(detail, emulator)
    await assert_no_backoff(api)


@pytest.mark.parametrize("count", ["many", 10**40, -1, 2.5, [1]], ids=["many", "10**40", "-1", "2.5", "list"])
async def test_a_bad_circuit_count_in_the_metrics_is_no_count(api, ibm_env, monkeypatch, count):
    from emulator.jobs import JobsAPI

    emulator = ibm_env
    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    metrics = JobsAPI._metrics
    monkeypatch.setattr(JobsAPI, "_metrics", lambda self, job: {**metrics(self, job), "num_circuits": count})
    detail = await api("GET", "jobs", job_id)
    assert detail.status == 200 and detail.json["id"] == job_id and detail.json["pubs"] == 0, detail
    await assert_no_backoff(api)


@pytest.mark.parametrize(
    "count",
    [10**40, -3, "many", float("nan"), float("inf"), True, None],
    ids=["10**40", "-3", "many", "nan", "inf", "True", "None"],
)
def test_a_job_count_out_of_bounds_is_the_rows_read(count):
    from qiskit_connector_lab.jobs.from_ibm import records_from_api

    row = {"id": "d1", "backend": "ibm_perth", "state": {"status": "Completed"}, "created": "2026-11-30T20:00:00Z"}
    records, total, notes = records_from_api({"jobs": [row, {"id": None}], "count": count})
    assert [r.id for r in records] == ["d1"] and total == 1 and len(notes) == 1
    assert records_from_api({"jobs": [row], "count": 7})[1] == 7


def test_many_bad_rows_make_a_bounded_note_list():
    from qiskit_connector_lab.jobs.from_ibm import MAX_NOTES, records_from_api

    records, total, notes = records_from_api({"jobs": [{"id": None}] * 500, "count": 500})
    assert records == () and total == 500 and len(notes) == MAX_NOTES + 1
    assert notes[-1] == f"{500 - MAX_NOTES} more jobs could not be read and are left out."


# --- a job the browser saw pending is seen finished at the next poll ----------------------------------------
@pytest.mark.parametrize(
    "server_traits", [{"provider": "ibm", "ttl": 10, "deadline": DEADLINE, "refresh_interval": 60}]
)
async def test_a_pending_job_is_seen_finished_within_two_seconds_while_final_pages_stay_cached(api, ibm_env):
    emulator = ibm_env
    emulator.hold_jobs = True
    emulator.job_queue_seconds = emulator.job_run_seconds = 0.0
    submit(emulator)
    assert (await api("GET", "jobs")).json["jobs"][0]["status"] == "QUEUED"  # the browser saw it pending
    emulator.release_jobs()
    emulator.wait_jobs_simulated()
    while emulator.jobs[0]["status"] != "Completed":
        await asyncio.sleep(0.02)
    finished = time.perf_counter()
    while (await api("GET", "jobs")).json["jobs"][0]["status"] != "DONE":
        assert time.perf_counter() - finished < 2.0, "the finished job still shows pending after 2 s"
        await asyncio.sleep(0.1)
    # Every job final: the page is kept for the TTL (10 s), not asked for again every second.
    emulator.reset_log()
    await asyncio.sleep(1.5)
    assert (await api("GET", "jobs")).json["jobs"][0]["status"] == "DONE"
    assert emulator.count("GET", JOBS) == 0


# --- the fault table --------------------------------------------------------------------------------------
COLD = [
    ("401", 401, {"times": None}, 502, "unauthorized"),
    ("429", 429, {"retry_after": 9}, 503, "rate_limited"),
    ("500", 500, {"times": None}, 502, "server_error"),
    ("stall", "stall", {"seconds": 30}, 504, "deadline_exceeded"),
    ("malformed", "malformed", {}, 502, "bad_response"),
]


@pytest.mark.parametrize("name,fault,kwargs,status,code", COLD, ids=[c[0] for c in COLD])
async def test_fault_with_no_jobs_yet_is_one_json_sentence(api, ibm_env, name, fault, kwargs, status, code):
    emulator = ibm_env
    assert (await api("GET", "backends")).status == 200  # signed in
    emulator.inject(fault, path=JOBS, method="GET", **kwargs)
    start = time.perf_counter()
    answer = await api("GET", "jobs")
    assert time.perf_counter() - start < DEADLINE + MARGIN
    assert answer.status == status and answer.json["code"] == code, answer
    assert "\n" not in answer.json["message"] and answer.json["message"].endswith(".")
    assert_clean(answer, emulator)
    assert (await api("GET", "pick")).status == 200  # the server keeps serving
    emulator.clear_faults()


@pytest.mark.parametrize("name,fault,kwargs,status,code", COLD, ids=[c[0] for c in COLD])
async def test_fault_after_good_jobs_serves_them_stale(api, ibm_env, name, fault, kwargs, status, code):
    emulator = ibm_env
    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    first = await api("GET", "jobs")
    assert first.status == 200 and first.json["jobs"][0]["id"] == job_id
    await asyncio.sleep(TTL + 0.05)
    emulator.inject(fault, path=JOBS, method="GET", **kwargs)
    start = time.perf_counter()
    answer = await api("GET", "jobs")
    assert time.perf_counter() - start < DEADLINE + MARGIN
    assert answer.status == 200 and answer.json["stale"], answer
    assert [r["id"] for r in answer.json["jobs"]] == [job_id]
    assert answer.json["stale_reason"] and "\n" not in answer.json["stale_reason"]
    assert_clean(answer, emulator)
    # the backoff is the QPU list's: nothing goes upstream for the jobs or the QPUs until it ends
    emulator.reset_log()
    await asyncio.sleep(TTL + 0.05)
    again = await api("GET", "jobs")
    assert again.json["stale"] and emulator.count("GET", JOBS) == 0
    emulator.clear_faults()


# --- auth ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "route"), [("GET", "jobs"), ("GET", "jobs/d123"), ("POST", "jobs/d123/cancel")])
async def test_every_jobs_route_refuses_a_request_without_a_token(api, ibm_env, method, route):
    answer = await api(method, *route.split("/"), headers={"Authorization": ""})
    assert answer.status == 403, answer
    assert ibm_env.count("GET", JOBS) == 0 and ibm_env.count("POST", prefix=True, path=JOBS) == 0


async def test_a_cookie_authenticated_cancel_needs_the_xsrf_token(browser, ibm_env):
    emulator = ibm_env
    emulator.hold_jobs = True
    [job_id] = submit(emulator)
    await browser.login()
    url = f"qiskit-connector-lab/jobs/{job_id}/cancel"
    refused = await browser(url, method="POST", body="")
    assert refused.code == 403 and json.loads(refused.body)["code"] == "xsrf_failed"
    assert emulator.jobs[0]["status"] == "Queued"
    accepted = await browser(url, method="POST", body="", headers={"X-XSRFToken": browser.jar["_xsrf"]})
    assert accepted.code == 200 and emulator.jobs[0]["status"] == "Cancelled"


# --- the local fleet: jobs that other processes (kernels) recorded -----------------------------------------
RECORD_SNIPPET = """
import sys
from qiskit_connector_lab.jobs import JobRecord, LocalJobStore
store = LocalJobStore()
job_id, status = sys.argv[1], sys.argv[2]
store.record(JobRecord(id=job_id, backend="fake_fez", primitive="sampler", status="QUEUED",
                       created="2026-11-30T20:00:0%s+00:00" % job_id[-1], shots=100, pubs=1, tags=("kernel",)))
if status != "QUEUED":
    store.update(job_id, status=status, started="2026-11-30T20:01:00+00:00", finished="2026-11-30T20:02:00+00:00")
else:  # a kernel with a job still queued runs until told to stop (the job of a kernel that stopped is ERROR)
    print("recorded", flush=True)
    sys.stdin.read()
"""


@pytest.mark.parametrize("server_traits", [{"provider": "local", "ttl": TTL}])
async def test_local_jobs_from_two_processes_are_listed_and_cancellable(api, qc_env):
    env = {**__import__("os").environ, "PYTHONPATH": __import__("os").pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", RECORD_SNIPPET, "local-1", "DONE"], check=True, timeout=60, env=env)
    kernel = subprocess.Popen(
        [sys.executable, "-c", RECORD_SNIPPET, "local-2", "QUEUED"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert kernel.stdout.readline().strip() == "recorded"
        await _local_jobs_are_listed_and_cancellable(api)
    finally:
        kernel.communicate("", timeout=60)


async def _local_jobs_are_listed_and_cancellable(api):
    listed = await api("GET", "jobs")
    assert listed.status == 200 and listed.json["local"], listed
    assert [(r["id"], r["status"], r["provider"]) for r in listed.json["jobs"]] == [
        ("local-2", "QUEUED", "local"),
        ("local-1", "DONE", "local"),
    ]
    assert [r["id"] for r in (await api("GET", "jobs", params={"pending": "true"})).json["jobs"]] == ["local-2"]
    assert (await api("POST", "jobs", "local-2", "cancel")).json["status"] == "CANCELLED"
    refused = await api("POST", "jobs", "local-1", "cancel")
    assert refused.status == 409 and refused.json["code"] == "job_not_cancellable"
    assert (await api("GET", "jobs", "local-2")).json["status"] == "CANCELLED"
    assert (await api("GET", "jobs", "nope")).status == 404


@pytest.mark.parametrize("server_traits", [{"provider": "local", "ttl": TTL}])
async def test_a_busy_local_job_store_is_503_with_its_one_line_and_retry_after(api, qc_env, monkeypatch):
    """Another process holds the store's write lock (a hung kernel): a cancel answers 503 with the store's one line
    and a Retry-After, not 500; the listing still answers (reads need no lock); once free, the cancel works."""
    from qiskit_connector_lab.jobs import JobRecord, LocalJobStore, local_store

    monkeypatch.setattr(local_store, "BUSY_TIMEOUT_SECONDS", 0.3)
    store = LocalJobStore()
    store.record(JobRecord(id="local-1", backend="fake_fez", primitive="sampler", status="QUEUED"))
    with write_lock_held(store.path):
        busy = await api("POST", "jobs", "local-1", "cancel")
        assert busy.status == 503, busy
        assert busy.json["code"] == "job_store_busy" and busy.headers["Retry-After"] == "1"
        assert str(store.path) in busy.json["message"] and "QCONNECTOR_JOBS_FILE" in busy.json["message"]
        assert "\n" not in busy.json["message"] and "Traceback" not in busy.text
        listed = await api("GET", "jobs")
        assert listed.status == 200 and [r["status"] for r in listed.json["jobs"]] == ["QUEUED"]
    cancelled = await api("POST", "jobs", "local-1", "cancel")
    assert cancelled.status == 200 and cancelled.json["status"] == "CANCELLED"


async def test_with_the_raw_page_a_refresh_is_one_request_even_with_pending_jobs(api, ibm_env):
    emulator = ibm_env
    emulator.hold_jobs = True
    ids = submit(emulator, 2)
    first = await api("GET", "jobs")
    assert [(r["id"], r["status"]) for r in first.json["jobs"]] == [(ids[1], "QUEUED"), (ids[0], "QUEUED")]
    assert first.json["total"] == 2
    await asyncio.sleep(TTL + 0.05)
    emulator.reset_log()
    answers = await asyncio.gather(*(api("GET", "jobs") for _ in range(TABS)))
    assert all(a.json["total"] == 2 for a in answers)
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", JOBS)]
    paged = await api("GET", "jobs", params={"limit": "1", "offset": "1", "pending": "true"})
    assert [r["id"] for r in paged.json["jobs"]] == [ids[0]] and paged.json["total"] == 2
