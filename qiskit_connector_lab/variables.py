"""Every variable the connector reads, described once.

Each :class:`Variable` says its name, its aliases, its type, its default, what a valid value is, whether it is a
secret, and where it may come from. :mod:`.config` reads and validates through this table, the error messages name
what it says, and the README's variables table is generated from it (``python -m qiskit_connector_lab.variables``;
``tests/test_variables.py`` checks the README matches).

Where a value may come from, highest first (one rule for every variable):

1. an explicit argument (``connect(instance=...)``, ``%qconnect --instance ...``), where one exists;
2. the process environment;
3. the ``.env`` file, unless the variable is marked *process only*;
4. a saved qiskit-ibm-runtime account, for the variables it holds (token, channel, instance, url);
5. the default.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Value types, with what a valid value is (the README's "Valid values" column starts from these).
TYPES = {
    "secret": "one unbroken string (no spaces)",
    "switch": '`"on"` / `"off"` (also true/false, yes/no, 1/0)',
    "channel": "`ibm_quantum_platform`, `ibm_cloud`, or `local` (`ibm_quantum` is retired)",
    "text": "any text",
    "url": "an `https://` URL on an IBM Quantum or IBM Cloud host, or a host allowed in `QCONNECTOR_ALLOW_HOSTS`",
    "seconds": "a positive number",
    "integer": "a whole number",
    "count": "a whole number, 1 or more",
    "path": "a file path (`~` is expanded)",
    "hosts": "comma-separated host names",
    "names": "comma-separated fake backend names (`fez,brisbane`)",
}


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    meaning: str
    aliases: tuple[str, ...] = ()
    default: str | None = None
    secret: bool = False
    #: False: read from the process environment only, never from a .env file (a .env must not widen trust).
    dotenv: bool = True
    #: The seed's plan-specific channel/instance names and the like: listed, read as documented in ``meaning``.
    group: str = "ibm"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


PLAN_SWITCH_NAMES = ("OPEN_PLAN", "PAYGO_PLAN", "FLEX_PLAN", "PREMIUM_PLAN", "DEDICATED_PLAN", "STANDARD_PLAN")
ENDPOINT_VARIABLES = ("CLOUD_API_URL", "IQP_RUNTIME_API_URL", "QUANTUM_API_URL", "IQP_API_URL")
#: Hosts the IBM client derives from the cloud URL, overridable (by the client) from the process environment only.
CLIENT_HOST_VARIABLES = ("IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL")

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "IQP_API_TOKEN", "secret", "Your IBM Quantum Platform API key.", aliases=("QISKIT_IBM_TOKEN",), secret=True
    ),
    *(
        Variable(
            name,
            "switch",
            "The plan switch: exactly one on. `STANDARD_PLAN` is the older name of a paid plan.",
            default="off",
        )
        for name in PLAN_SWITCH_NAMES
    ),
    Variable(
        "OPEN_PLAN_CHANNEL",
        "channel",
        "The channel on the open plan; `local` selects the local fleet.",
        aliases=("QISKIT_IBM_CHANNEL",),
        default="ibm_quantum_platform",
    ),
    Variable(
        "PAID_PLAN_CHANNEL",
        "channel",
        "The channel on a paid plan (older `FLEX_PLAN_CHANNEL`-style names too).",
        aliases=("QISKIT_IBM_CHANNEL",),
        default="ibm_quantum_platform",
    ),
    Variable(
        "OPEN_PLAN_INSTANCE",
        "text",
        "The open plan's instance name or CRN (required with OPEN_PLAN on).",
        aliases=("QISKIT_IBM_INSTANCE",),
    ),
    Variable(
        "PAID_PLAN_INSTANCE",
        "text",
        "A paid plan's instance name or CRN (older `FLEX_PLAN_INSTANCE`-style names too).",
        aliases=("QISKIT_IBM_INSTANCE",),
    ),
    *(
        Variable(
            f"{plan}_PLAN_NAME",
            "text",
            "The plan name IBM reports for the instance, to verify the plan.",
            default=default,
        )
        for plan, default in (
            ("OPEN", "open"),
            ("PAYGO", "pay-as-you-go"),
            ("FLEX", "flex"),
            ("PREMIUM", "premium"),
            ("DEDICATED", "dedicated"),
        )
    ),
    Variable(
        "CLOUD_API_URL",
        "url",
        "The IBM Cloud base URL; the client derives its IAM, search and catalog hosts from it.",
        default="IBM's",
    ),
    Variable(
        "IQP_RUNTIME_API_URL",
        "url",
        "The runtime API base (`…/api/v1`), used as given. `QISKIT_IBM_URL` "
        "(also in a saved account) is read as a cloud URL unless it names an `/api/` path.",
        aliases=("QISKIT_IBM_URL",),
        default="IBM's",
    ),
    Variable(
        "QUANTUM_API_URL",
        "url",
        "The IBM Quantum Platform base URL; the runtime API is its `/api/v1`.",
        aliases=("IQP_API_URL",),
        default="IBM's",
    ),
    *(
        Variable(
            name, "url", "Read by the IBM client itself; checked like the URLs above.", dotenv=False, default="IBM's"
        )
        for name in CLIENT_HOST_VARIABLES
    ),
    Variable(
        "QCONNECTOR_ALLOW_HOSTS",
        "hosts",
        "Hosts you trust besides IBM's (http allowed there), e.g. `127.0.0.1` for a test emulator.",
        dotenv=False,
        group="connector",
    ),
    Variable("QCONNECTOR_DEADLINE", "seconds", "Seconds to wait for IBM per call.", default="10", group="connector"),
    Variable("QCONNECTOR_LISTING_TTL", "seconds", "Seconds a QPU listing is reused.", default="10", group="connector"),
    Variable("QCONNECTOR_ENV_FILE", "path", "The `.env` to read (skips the search).", dotenv=False, group="connector"),
    Variable(
        "QCONNECTOR_SERVER_ROOT",
        "path",
        "Set by the Jupyter server for the kernels it starts: they search "
        "the `.env` from the server's root, as the sidebar does.",
        dotenv=False,
        group="connector",
    ),
    Variable(
        "QCONNECTOR_FLEET",
        "names",
        "The local fleet's members.",
        default="10 chips: Heron r1-r3, Nighthawk, Eagle r3, Egret, Falcon",
        group="local",
    ),
    Variable(
        "QCONNECTOR_FLEET_SEED",
        "integer",
        "The seed of the local fleet's simulated queues.",
        default="0",
        group="local",
    ),
    Variable(
        "QCONNECTOR_FLEET_FILE",
        "path",
        "A JSON file of local fleet overrides, re-read when it changes: "
        '`{"fake_fez": {"queue": 3, "status": "paused"}}`; `{"_outage": "reason"}` simulates an outage.',
        group="local",
    ),
    Variable(
        "QCONNECTOR_PICK_FILE",
        "path",
        "Where the sidebar's pick is stored. Shared by the server and every kernel, so it never depends on a `.env`.",
        default="Jupyter's data folder",
        dotenv=False,
        group="connector",
    ),
    Variable(
        "QCONNECTOR_JOBS_FILE",
        "path",
        "Where the local fleet's jobs are recorded. Shared by the server and every kernel, so it never depends on "
        "a `.env`.",
        default="`jobs.sqlite3` next to the pick",
        dotenv=False,
        group="local",
    ),
    Variable(
        "QCONNECTOR_JOBS_KEEP",
        "count",
        "How many local jobs the job store keeps (the newest). The one store of the server and every kernel, so "
        "never from a `.env`.",
        default="200",
        dotenv=False,
        group="local",
    ),
    Variable(
        "QCONNECTOR_LOCAL_MAX_STATEVECTOR_QUBITS",
        "count",
        "The most active qubits a local job simulates exactly; beyond, its noise is approximated. Read by the "
        "kernel's simulator at each job, outside the settings a `.env` feeds.",
        default="what a quarter of the memory holds (at most 30)",
        dotenv=False,
        group="local",
    ),
    Variable(
        "QCONNECTOR_LOCAL_NOISE_CACHE",
        "count",
        "How many reduced noise models the local simulator keeps in memory. Read by the kernel's simulator, "
        "outside the settings a `.env` feeds.",
        default="64",
        dotenv=False,
        group="local",
    ),
    Variable(
        "QCONNECTOR_LOCAL_JOB_TIMEOUT",
        "count",
        "Seconds a local job may run; then its process is stopped and the job ends as ERROR. Read by the kernel "
        "at each job, outside the settings a `.env` feeds.",
        default="600",
        dotenv=False,
        group="local",
    ),
)

BY_NAME = {v.name: v for v in VARIABLES}
SECRET_NAMES = tuple(name for v in VARIABLES if v.secret for name in v.names)
PROCESS_ONLY = tuple(v.name for v in VARIABLES if not v.dotenv)


def variable(name: str) -> Variable:
    return BY_NAME[name]


def count_from_environment(name: str, example: str) -> int | None:
    """The whole number >= 1 in the process environment's ``name`` (a *count* variable read outside the settings),
    None when unset or blank; anything else is a one-line :class:`~.errors.ConfigError` naming it and the fix."""
    import os

    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from .errors import ConfigError

        raise ConfigError(name, f"is {raw!r}, not a whole number >= 1.", f"Set it to e.g. {example}, or unset it.")
    return value


def rows() -> list[tuple[str, ...]]:
    """The README table's rows: variables that differ only in name (and default) share one row."""
    groups: list[list[Variable]] = []
    for v in VARIABLES:
        last = groups[-1][0] if groups else None
        if last is not None and (last.meaning, last.type, last.dotenv, last.secret, last.aliases) == (
            v.meaning,
            v.type,
            v.dotenv,
            v.secret,
            v.aliases,
        ):
            groups[-1].append(v)
        else:
            groups.append([v])
    out: list[tuple[str, ...]] = []
    for group in groups:
        first = group[0]
        names = ", ".join(f"`{v.name}`" for v in group)
        if first.aliases:
            names += f" (also {', '.join(f'`{a}`' for a in first.aliases)})"
        defaults = ", ".join(dict.fromkeys(v.default or "-" for v in group))
        source = "process environment only" if not first.dotenv else "environment or `.env`"
        out.append((names, first.meaning, TYPES[first.type], defaults, source, "yes" if first.secret else "no"))
    return out


HEADER = ("Variable", "Meaning", "Valid values", "Default", "Read from", "Secret")


def markdown_table() -> str:
    """The README's variables table (``tests/test_variables.py`` checks the README holds these rows)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows())
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the README table
    print(markdown_table())
