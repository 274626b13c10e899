"""Configuration: the seed's variables, precedence, and one-line errors for bad configurations."""

from __future__ import annotations

import json
import os
import stat

import pytest

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.errors import ConfigError
from qiskit_connector_lab.plans import Plan
from qiskit_connector_lab.secret import Secret, redact

TOKEN = "sEcReT-ToKeN-0123456789abcdefghijklmnopqrstuv"


def write_env(tmp_path, text: str):
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def settings_from(tmp_path, text: str, **kwargs):
    return load_settings(write_env(tmp_path, text), environ={}, saved_accounts_file=tmp_path / "none.json", **kwargs)


OPEN_ENV = f'''
IQP_API_TOKEN="{TOKEN}"
OPEN_PLAN_CHANNEL="ibm_quantum_platform"
OPEN_PLAN_INSTANCE="my-open-instance"
OPEN_PLAN="on"
PAYGO_PLAN="off"
'''

PAID_ENV = f'''
IQP_API_TOKEN="{TOKEN}"
PAID_PLAN_CHANNEL="ibm_cloud"
PAID_PLAN_INSTANCE="crn:v1:bluemix:public:quantum-computing:us-east:a/abc::"
OPEN_PLAN="off"
PREMIUM_PLAN="on"
'''


def test_open_plan_env_is_read(tmp_path):
    s = settings_from(tmp_path, OPEN_ENV)
    assert not s.local
    assert s.plan is Plan.OPEN and s.plan.label == "Open Plan"
    assert s.channel == "ibm_quantum_platform"
    assert s.instance == "my-open-instance"
    assert isinstance(s.token, Secret) and s.token.reveal() == TOKEN
    assert s.origins["token"].startswith(".env")


def test_paid_plan_uses_paid_plan_channel_and_instance(tmp_path):
    s = settings_from(tmp_path, PAID_ENV)
    assert s.plan is Plan.PREMIUM and s.plan.label == "Paid Plan"
    assert s.channel == "ibm_cloud"
    assert s.instance.startswith("crn:v1:")
    assert s.plan.allows_session and s.plan.default_mode == "session"


@pytest.mark.parametrize(
    "switch,plan",
    [
        ("PAYGO_PLAN", Plan.PAYGO),
        ("FLEX_PLAN", Plan.FLEX),
        ("DEDICATED_PLAN", Plan.DEDICATED),
        ("STANDARD_PLAN", Plan.STANDARD),
    ],
)
def test_every_paid_switch_works(tmp_path, switch, plan):
    s = settings_from(tmp_path, f'IQP_API_TOKEN="{TOKEN}"\nPAID_PLAN_INSTANCE="paid"\n{switch}="on"\n')
    assert s.plan is plan and s.plan.is_paid and s.plan_switch == switch


def test_plan_specific_variables_from_older_connectors(tmp_path):
    s = settings_from(
        tmp_path,
        f'IQP_API_TOKEN="{TOKEN}"\nFLEX_PLAN="on"\nFLEX_PLAN_INSTANCE="flexy"\nFLEX_PLAN_CHANNEL="ibm_cloud"\n',
    )
    assert (s.instance, s.channel) == ("flexy", "ibm_cloud")


def test_plan_names_and_urls(tmp_path):
    s = load_settings(
        write_env(
            tmp_path,
            OPEN_ENV + 'OPEN_PLAN_NAME="Open"\nCLOUD_API_URL="http://127.0.0.1:9/"\n'
            'IQP_RUNTIME_API_URL="http://127.0.0.1:9/api/v1"\n',
        ),
        environ={"QCONNECTOR_ALLOW_HOSTS": "127.0.0.1"},
        saved_accounts_file=tmp_path / "none.json",
    )
    assert s.plan_names[Plan.OPEN] == "Open"
    assert s.cloud_url == "http://127.0.0.1:9"
    assert s.runtime_url == "http://127.0.0.1:9/api/v1"


@pytest.mark.parametrize("var", ["QUANTUM_API_URL", "IQP_API_URL"])
def test_platform_url_variables_point_at_the_runtime_api(tmp_path, var):
    s = settings_from(tmp_path, OPEN_ENV + f'{var}="https://quantum.ibm.com"\n')
    assert s.runtime_url == "https://quantum.ibm.com/api/v1"


def test_precedence_argument_over_environment_over_dotenv(tmp_path):
    path = write_env(tmp_path, OPEN_ENV)
    env = {"OPEN_PLAN_INSTANCE": "from-environment"}
    assert load_settings(path, environ=env).instance == "from-environment"
    assert load_settings(path, environ=env, instance="from-argument").instance == "from-argument"
    assert load_settings(path, environ={}).instance == "my-open-instance"


def test_environment_switch_beats_dotenv_switch(tmp_path):
    path = write_env(tmp_path, OPEN_ENV + 'PAID_PLAN_INSTANCE="paid"\n')
    s = load_settings(path, environ={"OPEN_PLAN": "off", "FLEX_PLAN": "on"})
    assert s.plan is Plan.FLEX and s.instance == "paid"


def test_loading_never_touches_os_environ(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, OPEN_ENV)
    before = dict(os.environ)
    s = load_settings(saved_accounts_file=tmp_path / "none.json")
    assert s.env_file == tmp_path / ".env"  # found from the working directory
    assert dict(os.environ) == before


def test_dotenv_is_found_upward_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the search stops at the home directory
    write_env(tmp_path, OPEN_ENV)
    nested = tmp_path / "course" / "week1"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert load_settings(environ={}).instance == "my-open-instance"


def test_no_credentials_means_local_fleet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={}, saved_accounts_file=tmp_path / "none.json")
    assert s.local and s.provider_kind == "local" and s.plan is Plan.OPEN


def test_runtime_variables_and_saved_account(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(
        environ={"QISKIT_IBM_TOKEN": TOKEN, "QISKIT_IBM_INSTANCE": "inst"}, saved_accounts_file=tmp_path / "none.json"
    )
    assert not s.local and s.plan is None and s.instance == "inst"
    saved = tmp_path / "qiskit-ibm.json"
    saved.write_text(
        json.dumps(
            {
                "other": {"channel": "ibm_cloud", "token": "other-token", "instance": "other-inst"},
                "default-ibm-quantum-platform": {
                    "channel": "ibm_quantum_platform",
                    "token": TOKEN,
                    "instance": "saved-inst",
                    "url": "https://cloud.ibm.com",
                },
            }
        )
    )
    s = load_settings(environ={}, saved_accounts_file=saved)
    assert s.saved_account == "default-ibm-quantum-platform" and s.instance == "saved-inst"
    assert s.token.reveal() == TOKEN


def test_secret_never_shows():
    secret = Secret(TOKEN)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert TOKEN not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    # redact() scrubs a given secret and any JWT from text (what the server's log filter and the errors use)
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdHVkZW50In0.c2lnbmF0dXJl"
    scrubbed = redact(f"token {TOKEN}, Authorization: Bearer iam-0123456789, id token {jwt}", [secret])
    assert TOKEN not in scrubbed and "iam-0123456789" not in scrubbed and "eyJ" not in scrubbed
    assert scrubbed.startswith("token ") and "id token" in scrubbed


def test_settings_repr_hides_token(tmp_path):
    s = settings_from(tmp_path, OPEN_ENV)
    assert TOKEN not in repr(s) and TOKEN not in str(s.describe())


PLACEHOLDER_TEMPLATE = """
IQP_API_TOKEN="<PROVIDE_YOUR_API_TOKEN>"
OPEN_PLAN_CHANNEL="<PROVIDE_YOUR_CHANNEL>"
OPEN_PLAN_INSTANCE="<PROVIDE_YOUR_OPEN_PLAN_INSTANCE>"
OPEN_PLAN="on"
"""

# (name, .env text, variable the message must name, a phrase of the fix)
BAD_CONFIGS = [
    ("two plans on", OPEN_ENV + 'FLEX_PLAN="on"\n', "OPEN_PLAN, FLEX_PLAN", "only one plan"),
    ("no plan on", OPEN_ENV.replace('OPEN_PLAN="on"', 'OPEN_PLAN="off"'), "OPEN_PLAN", "no plan switch is on"),
    (
        "switch neither on nor off",
        OPEN_ENV.replace('OPEN_PLAN="on"', 'OPEN_PLAN="maybe"'),
        "OPEN_PLAN",
        'OPEN_PLAN="on" or OPEN_PLAN="off"',
    ),
    ("missing token", OPEN_ENV.replace(f'IQP_API_TOKEN="{TOKEN}"', ""), "IQP_API_TOKEN", "--local"),
    ("only a plan switch", 'OPEN_PLAN="on"\n', "IQP_API_TOKEN", "--local"),  # never a silent local fleet
    ("empty token", OPEN_ENV.replace(f'IQP_API_TOKEN="{TOKEN}"', 'IQP_API_TOKEN=""'), "IQP_API_TOKEN", "is empty"),
    ("token with a space", OPEN_ENV.replace(TOKEN, "abc def"), "IQP_API_TOKEN", "spaces"),
    ("template token placeholder", PLACEHOLDER_TEMPLATE, "IQP_API_TOKEN", "placeholder"),
    (
        "template instance placeholder",
        OPEN_ENV.replace("my-open-instance", "<PROVIDE_YOUR_OPEN_PLAN_INSTANCE>"),
        "OPEN_PLAN_INSTANCE",
        "placeholder",
    ),
    (
        "template channel placeholder",
        OPEN_ENV.replace('"ibm_quantum_platform"', '"<PROVIDE_YOUR_CHANNEL>"'),
        "OPEN_PLAN_CHANNEL",
        "placeholder",
    ),
    ("template url placeholder", OPEN_ENV + "IQP_API_URL=<PROVIDE_YOUR_API_URL>\n", "IQP_API_URL", "placeholder"),
    (
        "missing open instance",
        OPEN_ENV.replace('OPEN_PLAN_INSTANCE="my-open-instance"', ""),
        "OPEN_PLAN_INSTANCE",
        "instance",
    ),
    (
        "missing paid instance",
        PAID_ENV.replace('PAID_PLAN_INSTANCE="crn:v1:bluemix:public:quantum-computing:us-east:a/abc::"', ""),
        "PAID_PLAN_INSTANCE",
        "instance",
    ),
    (
        "retired channel",
        OPEN_ENV.replace('"ibm_quantum_platform"', '"ibm_quantum"'),
        "OPEN_PLAN_CHANNEL",
        'retired. Set OPEN_PLAN_CHANNEL="ibm_quantum_platform"',
    ),
    (
        "unknown channel",
        OPEN_ENV.replace('"ibm_quantum_platform"', '"ibm_qantum_cloud"'),
        "OPEN_PLAN_CHANNEL",
        "not a known channel",
    ),
    ("url that is not a url", OPEN_ENV + 'CLOUD_API_URL="cloud.ibm.com"\n', "CLOUD_API_URL", "http"),
    ("malformed line", OPEN_ENV + 'BROKEN LINE WITHOUT EQUALS "\n', ".env line", "KEY="),
    ("bad deadline", OPEN_ENV + 'QCONNECTOR_DEADLINE="soon"\n', "QCONNECTOR_DEADLINE", "seconds"),
    ("negative deadline", OPEN_ENV + 'QCONNECTOR_DEADLINE="-3"\n', "QCONNECTOR_DEADLINE", "positive"),
]


@pytest.mark.parametrize("name,text,variable,fix", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_configuration_gives_one_line_naming_the_variable(tmp_path, name, text, variable, fix):
    with pytest.raises(ConfigError) as info:
        settings_from(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    assert variable in message
    assert fix in message
    assert TOKEN not in message


def test_unreadable_files(tmp_path):
    cases = []
    missing = tmp_path / "missing.env"
    cases.append(missing)
    directory = tmp_path / "adir"
    directory.mkdir()
    cases.append(directory)
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"\xff\xfe\x00\x01IQP_API_TOKEN=x")
    cases.append(binary)
    cases.append(binary / ".env")  # under a file: an OSError that is not a missing file, even for root
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.env"
        locked.write_text(OPEN_ENV)
        locked.chmod(0)
        cases.append(locked)
    for path in cases:
        with pytest.raises(ConfigError) as info:
            load_settings(path, environ={})
        assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="plan"):
        settings_from(tmp_path, OPEN_ENV, plan="gold")
    with pytest.raises(ConfigError, match="deadline"):
        settings_from(tmp_path, OPEN_ENV, deadline=0)


def test_saved_account_file_permissions_when_saving(tmp_path, monkeypatch):
    from qiskit_connector_lab import save_account

    monkeypatch.setenv("HOME", str(tmp_path))
    path = save_account(
        env_file=write_env(tmp_path, OPEN_ENV),
        filename=tmp_path / "acct" / "qiskit-ibm.json",
        name="course",
        environ={},
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["course"]["instance"] == "my-open-instance"


def test_every_placeholder_left_in_is_named_at_once(tmp_path):
    template = (
        PLACEHOLDER_TEMPLATE + 'IQP_API_URL=<PROVIDE_YOUR_API_URL>\nCLOUD_API_URL="<PROVIDE_YOUR_CLOUD_API_URL>"\n'
    )
    with pytest.raises(ConfigError) as info:
        settings_from(tmp_path, template)
    message = str(info.value)
    for name in ("IQP_API_TOKEN", "OPEN_PLAN_CHANNEL", "OPEN_PLAN_INSTANCE", "IQP_API_URL", "CLOUD_API_URL"):
        assert name in message
    assert "\n" not in message and "PAID_PLAN" not in message  # unused variables are not reported
