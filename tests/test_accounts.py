"""Signing in with an API key: the real qiskit-ibm-runtime client against the loopback emulator (nothing mocked).

A good key costs 2 + N requests (IAM, one search, one catalog call per instance) and no ``/backends``; a bad key one
IAM request and the "refused" line; a stalled IAM the deadline line within the deadline. The stored account is a
named account in qiskit-ibm-runtime's file (the test's own HOME), mode 0600 in a 0700 folder, the other accounts
intact; the settings then use it, after the environment and the .env.
"""

from __future__ import annotations

import json
import stat
import time

import pytest

from qiskit_connector_lab.accounts import sign_in as signin
from qiskit_connector_lab.accounts import store
from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.errors import (
    ConfigError,
    ConnectorError,
    DeadlineExceeded,
    RateLimited,
    Unauthorized,
    Unreachable,
)

BACKENDS = "/api/v1/backends"
OTHERS = {
    "default-ibm-quantum-platform": {"channel": "ibm_quantum_platform", "token": "other-key-1", "instance": "crn:a"},
    "work": {"channel": "ibm_cloud", "token": "other-key-2", "instance": "crn:b", "is_default_account": True},
}


@pytest.fixture
def accounts_path(clean_env):
    return clean_env / ".qiskit" / "qiskit-ibm.json"


@pytest.fixture
def two_accounts(accounts_path):
    accounts_path.parent.mkdir(mode=0o755)
    accounts_path.write_text(json.dumps(OTHERS))
    accounts_path.chmod(0o644)
    return accounts_path


def paths(emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emulator.requests]


def test_a_good_key_costs_two_plus_n_requests_and_no_backends(emulator):
    emulator.reset_log()
    instances = signin.list_instances(emulator.api_key, cloud_url=emulator.base_url, seconds=10)
    n = len(emulator.instances)
    assert {i.name for i in instances} == {i["name"] for i in emulator.instances}
    assert len(emulator.requests) == 2 + n, paths(emulator)
    assert emulator.count("POST", "/identity/token") == 1
    assert emulator.count(path="/v3/resources/search") == 1
    assert emulator.count(path=BACKENDS, prefix=True) == 0
    open_instance = next(i for i in instances if i.name == "open-instance")
    assert (open_instance.plan, open_instance.pricing_type, open_instance.region) == ("open", "free", "us-east")


def test_a_bad_key_costs_one_iam_request_and_gets_the_refused_line(emulator, accounts_path):
    emulator.reset_log()
    key = "not-the-key-0123456789abcdef"
    with pytest.raises(Unauthorized) as caught:
        signin.list_instances(key, cloud_url=emulator.base_url, seconds=10)
    assert paths(emulator) == ["POST /identity/token"]
    message = str(caught.value)
    assert message.startswith("IBM refused this API key (HTTP 400 at IBM Cloud IAM)")
    assert "Nothing was stored" in message and "\n" not in message
    assert key not in message and key[:8] not in repr(caught.value)
    with pytest.raises(Unauthorized):
        signin.sign_in(key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    assert not accounts_path.exists()


def test_a_stalled_iam_gets_the_deadline_line_within_the_deadline(emulator):
    emulator.inject("stall", "/identity/token", seconds=20)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        signin.list_instances(emulator.api_key, cloud_url=emulator.base_url, seconds=1.0)
    assert time.monotonic() - started < 1.5
    assert "did not answer the API key check within 1 s" in str(caught.value)


def test_an_unreachable_ibm_is_not_the_keys_fault(emulator, monkeypatch):
    monkeypatch.setenv("IAM_URL", emulator.refused_url())
    with pytest.raises(Unreachable) as caught:
        signin.list_instances(emulator.api_key, cloud_url=emulator.base_url, seconds=10)
    assert "Could not reach IBM Quantum" in str(caught.value)
    assert "not the key's fault" in str(caught.value)
    assert "refused" not in str(caught.value)


def test_a_rate_limit_says_when_to_retry(emulator):
    emulator.inject(429, "/v3/resources/search", retry_after=7)
    with pytest.raises(RateLimited) as caught:
        signin.list_instances(emulator.api_key, cloud_url=emulator.base_url, seconds=10)
    assert caught.value.retry_after == 7
    assert "Retry after 7 s" in str(caught.value)


def test_a_key_with_no_instance_is_told_where_to_create_one(emulator, accounts_path):
    emulator.inject("empty", "/v3/resources/search", times=None)
    with pytest.raises(signin.NoInstance) as caught:
        signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    assert signin.INSTANCES_PAGE in str(caught.value)
    assert not accounts_path.exists()


def test_an_unknown_instance_lists_the_choices_and_stores_nothing(emulator, accounts_path):
    with pytest.raises(ConfigError) as caught:
        signin.sign_in(emulator.api_key, "nope", cloud_url=emulator.base_url, seconds=10)
    assert str(caught.value).startswith("instance: is not one of this API key's instances")
    assert "open-instance" in str(caught.value)
    assert not accounts_path.exists()


@pytest.mark.parametrize("key", ["", "   ", "two words", "x" * 600, "tab\tkey"])
def test_a_key_that_cannot_be_one_is_refused_before_any_request(emulator, key):
    emulator.reset_log()
    with pytest.raises(ConfigError) as caught:
        signin.list_instances(key, cloud_url=emulator.base_url)
    assert str(caught.value).startswith("token: ")
    assert emulator.requests == []


def test_sign_in_stores_0600_in_0700_and_keeps_the_other_accounts(emulator, two_accounts):
    account = signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    assert stat.S_IMODE(two_accounts.stat().st_mode) == 0o600
    assert stat.S_IMODE(two_accounts.parent.stat().st_mode) == 0o700
    data = json.loads(two_accounts.read_text())
    assert {k: v for k, v in data.items() if k != store.ACCOUNT_NAME} == OTHERS
    assert data[store.ACCOUNT_NAME]["token"] == emulator.api_key
    assert data[store.ACCOUNT_NAME]["instance"] == emulator.instance_crn("open-instance")
    assert emulator.api_key not in repr(account)
    assert account.describe()["plan"] == "open" and "token" not in json.dumps(account.describe())
    assert [p.name for p in two_accounts.parent.iterdir() if p.name.endswith(".tmp")] == []

    assert signin.sign_out() is True
    assert json.loads(two_accounts.read_text()) == OTHERS
    assert signin.sign_out() is False
    assert store.load() is None


def test_sign_out_of_the_only_account_removes_the_file(emulator, accounts_path):
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    assert accounts_path.is_file()
    signin.sign_out()
    assert not accounts_path.exists()


def test_a_file_that_is_not_json_is_never_overwritten(emulator, accounts_path):
    accounts_path.parent.mkdir()
    accounts_path.write_text("{not json")
    with pytest.raises(ConfigError):
        signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    assert accounts_path.read_text() == "{not json"


def test_the_lock_is_waited_on_for_a_bounded_time(accounts_path):
    import fcntl
    import os

    accounts_path.parent.mkdir(mode=0o700)
    fd = os.open(accounts_path.parent / ".qiskit-ibm.json.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(ConfigError) as caught, store.locked(accounts_path, seconds=0.3):
            pass
        assert time.monotonic() - started < 1.0
        assert "locked by another program" in str(caught.value)
    finally:
        os.close(fd)


def ibm_endpoints(emulator, monkeypatch) -> None:
    monkeypatch.setenv("CLOUD_API_URL", emulator.base_url)
    monkeypatch.setenv("IQP_RUNTIME_API_URL", emulator.base_url + "/api/v1")


def test_the_settings_use_the_signed_in_account_before_other_saved_accounts(emulator, two_accounts, monkeypatch):
    ibm_endpoints(emulator, monkeypatch)
    assert load_settings().saved_account == "work"  # the file's default account, before signing in
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    settings = load_settings()
    assert not settings.local
    assert settings.token is not None and settings.token.reveal() == emulator.api_key
    assert settings.instance == emulator.instance_crn("open-instance")
    assert settings.origins["token"] == f"saved account {store.ACCOUNT_NAME}"
    status = signin.account_status()
    assert status["signed_in"] and status["source"] == "sign-in" and status["note"] is None
    assert status["stored_at"] == f"~/.qiskit/qiskit-ibm.json (account {store.ACCOUNT_NAME})"
    assert emulator.api_key not in json.dumps(status)


def test_a_token_in_the_environment_or_the_dotenv_wins_and_the_status_says_so(emulator, clean_env, monkeypatch):
    ibm_endpoints(emulator, monkeypatch)
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    (clean_env / ".env").write_text('IQP_API_TOKEN="dotenv-key-123456789"\nOPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="x"\n')
    status = signin.account_status()
    assert status["source"] == ".env" and status["signed_in"]
    assert "is used, not the sign-in" in status["note"]
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "environment-key-123456789")
    status = signin.account_status()
    assert status["source"] == "environment"
    assert "environment-key" not in json.dumps(status) and "dotenv-key" not in json.dumps(status)


def test_not_signed_in_means_the_local_fleet(clean_env):
    status = signin.account_status()
    assert status["signed_in"] is False and status["source"] == "none"
    assert load_settings().local


def test_the_near_public_listing_the_sign_in_uses_is_there_with_its_shape():
    import inspect

    from qiskit_ibm_runtime.accounts import Account

    assert {"channel", "token", "url"} <= set(inspect.signature(Account.create_account).parameters)
    assert callable(Account.list_instances)
    assert list(inspect.signature(Account.list_instances).parameters) == ["self"]


def test_without_it_the_fallback_builds_a_service_and_still_lists_the_instances(emulator, monkeypatch):
    from qiskit_ibm_runtime.accounts import Account

    from qiskit_connector_lab.providers import runtime_internals

    runtime_internals.reset_fallbacks()
    original = Account.create_account

    def changed(*args, **kwargs):  # a newer client whose signature no longer names channel, token, url
        return original(*args, **kwargs)

    monkeypatch.setattr(Account, "create_account", changed)
    found = runtime_internals.list_instances_without_service(
        emulator.api_key, url=emulator.base_url + "/experimental/api/v1", channel="ibm_quantum_platform"
    )
    assert {i["name"] for i in found} == {i["name"] for i in emulator.instances}
    assert "accounts.Account.list_instances" in runtime_internals.fallbacks_used()
    runtime_internals.reset_fallbacks()


def test_a_signed_in_key_goes_with_its_own_instance_channel_and_endpoints(emulator, clean_env, monkeypatch):
    # The .env names another instance and endpoint for the open plan, but holds no token: the sign-in's key is used,
    # so its own instance and endpoints are too (never the sign-in's key with the .env's instance).
    signin.sign_in(
        emulator.api_key,
        "paygo-instance",
        cloud_url=emulator.base_url,
        runtime_url=emulator.base_url + "/api/v1",
        seconds=10,
    )
    (clean_env / ".env").write_text(
        'OPEN_PLAN="on"\nOPEN_PLAN_INSTANCE="crn:v1:bluemix:public:quantum-computing:us-east:a/x:instance-a::"\n'
        'QISKIT_IBM_CHANNEL="ibm_cloud"\nCLOUD_API_URL="https://cloud.ibm.com"\n'
    )
    settings = load_settings()
    assert settings.token is not None and settings.token.reveal() == emulator.api_key
    assert settings.instance == emulator.instance_crn("paygo-instance")
    assert settings.channel == "ibm_quantum_platform"
    assert (settings.cloud_url, settings.runtime_url) == (emulator.base_url, emulator.base_url + "/api/v1")
    own = f"saved account {store.ACCOUNT_NAME}"
    assert {settings.origins[k] for k in ("token", "instance", "channel", "cloud_url")} == {own}
    status = signin.account_status()
    assert status["source"] == "sign-in" and status["instance_source"] == "sign-in"
    assert status["instance"] == settings.instance and status["note"] is None


def test_an_endpoint_only_the_allow_list_trusts_is_not_in_the_clients_account(emulator, clean_env, accounts_path):
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    entry = json.loads(accounts_path.read_text())[store.ACCOUNT_NAME]
    assert "url" not in entry  # a plain QiskitRuntimeService(name=...) would send the key there, without the opt-in
    assert entry[store.DETAILS_KEY][store.SETTINGS_ONLY_URL] == emulator.base_url  # only the settings read it
    assert load_settings().cloud_url == emulator.base_url  # checked against the allow-list, as any endpoint
    ibm = "https://cloud.ibm.com"
    signin.keep(signin.check_key(emulator.api_key), signin.Instance("crn:x", "x", "open", "free", None), cloud_url=ibm)
    assert json.loads(accounts_path.read_text())[store.ACCOUNT_NAME]["url"] == ibm  # an IBM host is the client's


def test_an_allow_listed_endpoint_of_the_sign_in_is_refused_without_the_allow_list(emulator, clean_env, monkeypatch):
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    for name in ("QCONNECTOR_ALLOW_HOSTS", *emulator.client_env()):  # the emulator's client hosts too
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.variable == "CLOUD_API_URL in saved account qiskit-connector-lab", caught.value
    assert emulator.api_key not in str(caught.value)


def test_the_lock_works_without_fcntl_and_is_bounded(accounts_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on an OS without fcntl (nor msvcrt)
    monkeypatch.setitem(sys.modules, "msvcrt", None)
    assert store._os_lock() is None
    key = signin.check_key("a-key-for-the-marker-lock")
    store.save(key, "crn:one")  # the marker lock: taken and released
    marker = accounts_path.parent / f".{accounts_path.name}.lock"
    assert not marker.exists()
    with store.locked(accounts_path):
        started = time.monotonic()
        with pytest.raises(ConfigError) as caught, store.locked(accounts_path, seconds=0.3):
            pass
        assert time.monotonic() - started < 1.0 and "locked by another program" in str(caught.value)
    assert store.load() is not None and store.remove() and not accounts_path.exists()


def test_the_store_and_load_settings_import_on_an_os_without_fcntl(clean_env, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; sys.modules['fcntl'] = None; sys.modules['msvcrt'] = None\n"
        "from qiskit_connector_lab.accounts import sign_in, store\n"
        "from qiskit_connector_lab.config import load_settings\n"
        "import qiskit_connector_lab.server.upstream\n"
        "store.save(sign_in.check_key('k-123456789'), 'crn:one'); print(load_settings().instance)\n"
    )
    root = str(Path(store.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": root, "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("crn:one")


def test_save_account_and_a_sign_in_share_one_lock(emulator, clean_env, accounts_path):
    from qiskit_connector_lab.config.saved_account import save_account

    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    settings = load_settings(environ={"IQP_API_TOKEN": "other-key-123456789", "OPEN_PLAN": "on"}, instance="crn:o")
    with store.locked(accounts_path), pytest.raises(ConfigError) as caught:  # a sign-in is writing
        save_account(settings, name="mine", filename=None, set_as_default=False, overwrite=True, seconds=0.3)
    assert "locked by another program" in str(caught.value)
    save_account(settings, name="mine", filename=None, set_as_default=False, overwrite=True)
    data = json.loads(accounts_path.read_text())
    assert set(data) >= {"mine", store.ACCOUNT_NAME}  # neither writer lost the other's account


def test_an_exception_that_echoes_the_key_never_shows_it(emulator, monkeypatch):
    from qiskit_connector_lab.providers import runtime_internals

    def echoing(token, **_):
        raise ValueError(f"apikey {token} rejected")

    monkeypatch.setattr(runtime_internals, "list_instances_without_service", echoing)
    key = "an-echoed-key-1234567890"
    with pytest.raises(ConnectorError) as caught:
        signin.list_instances(key, cloud_url=emulator.base_url, seconds=10)
    assert key not in str(caught.value) and "rejected" in str(caught.value)
    explained = signin.explain(RuntimeError(f"bad {key}"), seconds=1, secrets=(key,))
    assert key not in str(explained)


def test_the_redacting_filter_keeps_no_refused_key_and_is_capped(emulator, accounts_path):
    from qiskit_connector_lab.secret import redacting_filter

    wrong = [f"wrong-key-{n:04d}-abcdefgh" for n in range(5)]
    for key in wrong:
        with pytest.raises(Unauthorized):
            signin.list_instances(key, cloud_url=emulator.base_url, seconds=10)
    assert not any(key in redacting_filter._secrets for key in wrong)  # refused: neither stored nor in use
    signin.sign_in(emulator.api_key, "open-instance", cloud_url=emulator.base_url, seconds=10)
    with pytest.raises(ConfigError):
        signin.sign_in(emulator.api_key, "no-such-instance", cloud_url=emulator.base_url, seconds=10)
    assert emulator.api_key in redacting_filter._secrets  # stored: kept
    for n in range(redacting_filter.LIMIT * 3):
        redacting_filter.add(f"posted-key-{n}")
    assert len(redacting_filter) == redacting_filter.LIMIT
