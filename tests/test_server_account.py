"""The sign-in routes through a real Jupyter server (jp_fetch) and the real client against the emulator.

Signing in switches the server's listing from the local fleet to IBM's QPUs with no restart; signing out switches
back. The key is in no answer and no log line; the stored file is 0600 in a 0700 folder outside the root folder, and
the contents API cannot reach it even with ``allow_hidden`` on; the other saved accounts stay intact; a kernel the
server starts after the sign-in connects to IBM with a bare ``%qconnect``.
"""

from __future__ import annotations

import json
import stat

import pytest

pytest.register_assert_rewrite("server_conftest")

from server_conftest import BACKENDS, notebook_kernel, run_in_kernel, server_config  # noqa: E402

from qiskit_connector_lab.accounts import store  # noqa: E402

pytest_plugins = ("pytest_jupyter.jupyter_server", "server_conftest")

#: Two accounts of the user's own, neither of them a default one: before the sign-in the server is on the local fleet.
OTHERS = {
    "work": {"channel": "ibm_quantum_platform", "token": "other-key-1", "instance": "crn:a"},
    "class": {"channel": "ibm_cloud", "token": "other-key-2", "instance": "crn:b"},
}


@pytest.fixture
def server_traits():
    return {}


@pytest.fixture
def jp_server_config(qc_env, server_traits):
    config = server_config({"provider": "auto", **server_traits})
    config.ContentsManager.allow_hidden = True
    return config


@pytest.fixture
def endpoints(qc_env, emulator, monkeypatch):
    """The emulator's endpoints, and no token anywhere: the server starts on the local fleet."""
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    monkeypatch.setenv("IQP_RUNTIME_API_URL", emulator.base_url + "/api/v1")
    return emulator


def accounts_path(qc_env):
    """qiskit-ibm-runtime's file in the test's HOME (pytest-jupyter gives the server a HOME of its own)."""
    return store.accounts_file()


async def provider_of(api) -> str:
    answer = await api("GET", "plan")
    assert answer.status == 200, answer
    return answer.json["provider"] if "provider" in answer.json else answer.json.get("channel")


async def backend_names(api) -> set[str]:
    answer = await api("GET", "backends")
    assert answer.status == 200, answer
    return {row["name"] for row in answer.json["qpus"]}


async def test_sign_in_lists_then_stores_and_the_sidebar_switches_to_ibm(
    api, endpoints, qc_env, jp_root_dir, all_logs, jp_logging_stream
):
    emulator = endpoints
    saved = accounts_path(qc_env)
    saved.parent.mkdir(mode=0o755)
    saved.write_text(json.dumps(OTHERS))

    before = await api("GET", "account")
    assert before.status == 200 and before.json["signed_in"] is False and before.json["source"] == "none"
    fleet = await backend_names(api)
    assert fleet and not fleet & set(emulator.backend_names)

    emulator.reset_log()
    listed = await api("POST", "account", body={"token": emulator.api_key})
    assert listed.status == 200, listed
    assert {i["name"] for i in listed.json["instances"]} == {i["name"] for i in emulator.instances}
    assert len(emulator.requests) == 2 + len(emulator.instances)
    assert emulator.count(path=BACKENDS, prefix=True) == 0

    signed = await api("POST", "account", body={"token": emulator.api_key, "instance": "open-instance"})
    assert signed.status == 200, signed
    assert signed.json["signed_in"] and signed.json["source"] == "sign-in"
    assert signed.json["instance_name"] == "open-instance" and signed.json["plan"] == "open"
    assert signed.json["stored_at"] == f"~/.qiskit/qiskit-ibm.json (account {store.ACCOUNT_NAME})"

    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert not saved.resolve().is_relative_to(jp_root_dir.resolve())
    data = json.loads(saved.read_text())
    assert {k: v for k, v in data.items() if k != store.ACCOUNT_NAME} == OTHERS

    assert await backend_names(api) == set(emulator.backend_names)  # no reload, no restart

    # Switch instance: the key signed in already is used, never sent back
    listed = await api("POST", "account", body={})
    assert listed.status == 200 and len(listed.json["instances"]) == len(emulator.instances), listed
    switched = await api("POST", "account", body={"instance": "premium-instance"})
    assert switched.status == 200 and switched.json["instance_name"] == "premium-instance", switched
    assert (await api("GET", "plan")).json["instance"] == "premium-instance"

    out = await api("DELETE", "account")
    assert out.status == 200 and out.json["signed_in"] is False
    from qiskit_connector_lab import providers as registry

    assert all(p.settings.token is None for p in registry._providers.values())  # no service of the key is cached
    assert json.loads(saved.read_text()) == OTHERS
    assert await backend_names(api) == fleet

    everything = "\n".join(a.text for a in api.answers) + "\n".join(r.getMessage() for r in all_logs.records)
    everything += jp_logging_stream.getvalue()
    assert emulator.api_key not in everything
    assert "eyJ" not in everything  # no bearer JWT either


async def test_the_contents_api_cannot_reach_the_stored_file_even_with_allow_hidden(
    api, endpoints, jp_fetch, jp_serverapp, qc_env, jp_root_dir
):
    assert jp_serverapp.contents_manager.allow_hidden is True
    signed = await api("POST", "account", body={"token": endpoints.api_key, "instance": "open-instance"})
    assert signed.status == 200, signed
    relative = accounts_path(qc_env).relative_to(jp_root_dir.parent)
    for path in (
        str(relative),
        f"../{relative}",
        f"../{relative}".replace("/", "%2F"),
        str(accounts_path(qc_env)).lstrip("/"),
    ):
        response = await jp_fetch("api", "contents", path, method="GET", raise_error=False)
        assert response.code in (400, 404), (path, response.code)
        assert endpoints.api_key not in response.body.decode("utf-8", "replace")


@pytest.mark.parametrize("server_traits", [{}])
async def test_signing_in_refuses_a_file_inside_the_root_folder_when_hidden_files_are_served(
    api, endpoints, jp_serverapp, qc_env, monkeypatch
):
    home = str(accounts_path(qc_env).parent.parent)  # the server started in the home folder itself
    monkeypatch.setattr(jp_serverapp.contents_manager, "root_dir", home)
    monkeypatch.setitem(jp_serverapp.web_app.settings, "server_root_dir", home)
    answer = await api("POST", "account", body={"token": endpoints.api_key, "instance": "open-instance"})
    assert answer.status == 409 and answer.json["code"] == "stored_in_root", answer
    assert not accounts_path(qc_env).exists()


async def test_bad_keys_and_bodies_are_json_errors_without_the_key(api, endpoints, qc_env):
    wrong = "wrong-key-0123456789abcdef"
    endpoints.reset_log()
    refused = await api("POST", "account", body={"token": wrong})
    assert refused.status == 502 and refused.json["code"] == "unauthorized", refused
    assert refused.json["message"].startswith("IBM refused this API key")
    assert [r.path for r in endpoints.requests] == ["/identity/token"]
    assert wrong not in refused.text

    for body, code in (
        ({"token": "two words here"}, "bad_token"),
        ({"token": endpoints.api_key, "instance": "nope"}, "bad_instance"),
        ({"nothing": 1}, "bad_request"),
        ({}, "bad_token"),  # not signed in: no key to switch with
        ("{not json", "invalid_json"),
    ):
        answer = await api("POST", "account", body=body)
        assert answer.status == 400 and answer.json["code"] == code, (body, answer)
        assert endpoints.api_key not in answer.text and "Traceback" not in answer.text
    assert not accounts_path(qc_env).exists()


async def test_a_stalled_iam_is_a_504_within_the_deadline(api, endpoints, qc_env, monkeypatch):
    import time

    monkeypatch.setenv("QCONNECTOR_DEADLINE", "1")
    endpoints.inject("stall", "/identity/token", seconds=20)
    started = time.monotonic()
    answer = await api("POST", "account", body={"token": endpoints.api_key})
    assert time.monotonic() - started < 3
    assert answer.status == 504 and answer.json["code"] == "deadline_exceeded", answer


KERNEL_PROBE = """
import json
%load_ext qiskit_connector_lab
%qconnect
print("RESULT" + json.dumps({"provider": qconnection.provider_kind, "instance": qconnection.instance.crn,
                              "notes": list(qconnection.notes)}))
"""


async def test_a_kernel_started_after_signing_in_connects_to_ibm_with_a_bare_qconnect(
    api, endpoints, jp_fetch, jp_serverapp, qc_env
):
    signed = await api("POST", "account", body={"token": endpoints.api_key, "instance": "open-instance"})
    assert signed.status == 200, signed
    async with notebook_kernel(jp_fetch, jp_serverapp, "lesson.ipynb") as client:
        answer = await run_in_kernel(client, KERNEL_PROBE)
    result = answer["result"]
    assert result["provider"] == "ibm", answer["text"]
    assert result["instance"] == endpoints.instance_crn("open-instance")
    assert any(f"saved account {store.ACCOUNT_NAME}" in note for note in result["notes"]), result["notes"]
    assert endpoints.api_key not in answer["text"]


async def test_an_unusable_accounts_file_is_a_409_with_the_fix_not_a_500(api, endpoints, qc_env):
    saved = accounts_path(qc_env)
    saved.parent.mkdir(mode=0o700, exist_ok=True)
    saved.write_text("{not json")
    out = await api("DELETE", "account")
    assert out.status == 409, out
    assert out.json["code"] == "accounts_file" and "not a JSON file" in out.json["message"]
    assert out.json["hint"] and "\n" not in out.json["message"]
    signed = await api("POST", "account", body={"token": endpoints.api_key, "instance": "open-instance"})
    assert signed.status == 409 and endpoints.api_key not in signed.text, signed
    assert saved.read_text() == "{not json"  # left as it was
