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
    elif name == "QCONNECTOR_FLEET":
        assert load_settings(local=True).fleet == ("not_a_backend",)
    else:
        with pytest.raises(ConfigError, match=name):
            load_settings()
