"""The sidebar and the notebooks read the same configuration.

A real Jupyter server starts a real kernel for a notebook in a subfolder, as the frontend does (``POST
/api/sessions``). The server's root holds one ``.env`` and the notebook's subfolder a different one. Expected
(README, Configuration): the kernel resolves what the server resolves, the ``.env`` in the server's root, because
the server passes its rule to the kernels it starts (``QCONNECTOR_SERVER_ROOT``); the subfolder's ``.env`` is read
only when named (``%qconnect --env class/.env``). An edit of the root ``.env`` is seen by both without a restart.
"""

from __future__ import annotations

import os

import pytest

pytest.register_assert_rewrite("server_conftest")

from server_conftest import notebook_kernel, run_in_kernel, server_config  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

PROBE = """
import json
from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.providers import provider_for
settings = load_settings({env})
print("RESULT" + json.dumps({{"env_file": settings.env_file_shown,
                             "names": sorted(provider_for(settings).listing().names())}}))
"""


@pytest.fixture
def jp_server_config(qc_env):
    return server_config({"provider": "auto"})


async def kernel_result(client, code: str) -> dict:
    return (await run_in_kernel(client, code, timeout=120))["result"]


async def test_sidebar_and_kernel_read_the_same_dotenv(jp_serverapp, jp_fetch, jp_root_dir, api, shared_upstream):
    (jp_root_dir / ".env").write_text('QCONNECTOR_FLEET="fez,brisbane"\n')
    (jp_root_dir / "class").mkdir()
    (jp_root_dir / "class" / ".env").write_text('QCONNECTOR_FLEET="manila"\n')

    async with notebook_kernel(jp_fetch, jp_serverapp, "class/lesson.ipynb") as client:
        cwd = await kernel_result(client, 'import os, json; print("RESULT" + json.dumps({"cwd": os.getcwd()}))')
        assert cwd["cwd"].endswith("class")  # the kernel runs in the notebook's folder...

        kernel = await kernel_result(client, PROBE.format(env=""))
        sidebar = (await api("GET", "backends")).json
        plan = (await api("GET", "plan")).json
        # ... yet reads the server root's .env, as the sidebar does
        assert kernel["names"] == sorted(q["name"] for q in sidebar["qpus"]) == ["fake_brisbane", "fake_fez"]
        assert plan["env_file"] == kernel["env_file"] and plan["env_file"].endswith(".env")
        assert "class" not in plan["env_file"]
        assert plan["endpoint"] is None  # the local fleet: no endpoint

        # The subfolder's .env only when named.
        named = await kernel_result(client, PROBE.format(env="'.env'"))
        assert named["names"] == ["fake_manila"]

        # An edit of the root .env is seen by both, without a restart.
        (jp_root_dir / ".env").write_text('QCONNECTOR_FLEET="kyiv"\n')
        shared_upstream.upstream.check_config(now=True)  # the server looks at most once a second: look now
        sidebar = (await api("GET", "backends")).json
        kernel = await kernel_result(client, PROBE.format(env=""))
        assert kernel["names"] == [q["name"] for q in sidebar["qpus"]] == ["fake_kyiv"]


async def test_a_dotenv_added_while_the_server_runs_is_seen(api, jp_root_dir, shared_upstream):
    before = (await api("GET", "plan")).json
    assert before["env_file"] is None
    (jp_root_dir / ".env").write_text('QCONNECTOR_FLEET="fez"\n')
    shared_upstream.upstream.check_config(now=True)
    after = (await api("GET", "backends")).json
    assert [q["name"] for q in after["qpus"]] == ["fake_fez"]
    assert (await api("GET", "plan")).json["env_file"].endswith(".env")


async def test_a_configuration_error_carries_the_dotenv_stamp_and_ends_when_the_dotenv_changes(
    jp_root_dir, api, shared_upstream
):
    """The sidebar retries a configuration error when the .env changes, not on a timer: the error answers and
    ``GET plan`` say which .env was read and when it last changed (``config.changed_at``)."""
    import os

    env = jp_root_dir / ".env"
    env.write_text('OPEN_PLAN="on"\nPREMIUM_PLAN="on"\n')  # two plans on: a configuration error
    os.utime(env, (1_700_000_000, 1_700_000_000))
    for route in ("backends", "plan"):
        broken = await api("GET", route)
        assert broken.status == 500 and broken.json["code"] == "config_error", broken
        assert broken.json["config"]["env_file"].endswith(".env"), broken.json
        assert broken.json["config"]["changed_at"] == "2023-11-14T22:13:20+00:00"

    env.write_text('QCONNECTOR_FLEET="manila"\n')  # fixed: a new mtime
    os.utime(env, (1_700_000_100, 1_700_000_100))
    shared_upstream.upstream.check_config(now=True)  # the server looks at the .env at most once a second
    fixed = await api("GET", "backends")
    assert fixed.status == 200 and [q["name"] for q in fixed.json["qpus"]] == ["fake_manila"], fixed
    plan = (await api("GET", "plan")).json
    assert plan["config"] == {"env_file": plan["env_file"], "endpoint": None, "changed_at": "2023-11-14T22:15:00+00:00"}


async def test_a_changed_dotenv_drops_the_cached_job_pages(jp_root_dir, api, shared_upstream):
    """Another .env may be another account or provider: its jobs are not the ones cached."""
    env = jp_root_dir / ".env"
    env.write_text('QCONNECTOR_FLEET="manila"\n')
    assert (await api("GET", "jobs")).status == 200
    assert (await api("GET", "jobs")).status == 200  # within the TTL: the cached page
    assert shared_upstream.jobs.list_calls == 1
    env.write_text('QCONNECTOR_FLEET="fez"\n')
    os.utime(env, (1_700_000_200, 1_700_000_200))
    shared_upstream.upstream.check_config(now=True)  # the server looks at the .env at most once a second
    assert (await api("GET", "jobs")).status == 200
    assert shared_upstream.jobs.list_calls == 2  # asked again, not served from the old configuration's cache
