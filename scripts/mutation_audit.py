#!/usr/bin/env python3
"""Mutation audit: can each test fail? Break the behaviour a test names, and see it fail.

Each mutation below names a product file, an exact text to find (it must occur exactly once), its replacement,
and the test node ids that must fail once it is applied. The script copies the checkout (tracked and untracked,
not ignored, files) to a temporary directory, applies ONE mutation at a time to that copy, runs only the named
tests there (``python -m pytest -x -q <ids>`` with ``PYTHONPATH=<copy>``, or jest for ``src/__tests__`` ids),
restores the file, and moves on. The working tree is never written.

Outcomes:
  killed    the named tests failed (or timed out) with the mutation applied: they can fail.
  survived  the named tests all passed with the behaviour broken: they cannot catch that break.
  stale     the find text is absent (or not unique) in the product file, or a named test no longer exists:
            the product or the tests moved on; refresh the mutation (this is not a test failure).

Usage (from the repository root; 2 shared cores: run it alone):
  PYTHONPATH=$PWD .venv/bin/python scripts/mutation_audit.py              # every mutation
  ... scripts/mutation_audit.py --only config,ranking                               # ids containing a word
  ... scripts/mutation_audit.py --list                                              # the table, no runs
  ... scripts/mutation_audit.py --baseline                                          # the named tests, unmutated
  ... scripts/mutation_audit.py --markdown docs/test-audit-results.md               # also write the table

The exit status is 1 when a mutation survived, else 0 (stale mutations are reported, not failed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900  # seconds per mutation run; a hang caused by a mutation counts as killed


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str


@dataclass
class Mutation:
    id: str
    behaviour: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]
    result: str = ""
    detail: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def M(
    id: str, behaviour: str, file: str, find: str, replace: str, *tests: str, also: tuple[Edit, ...] = ()
) -> Mutation:
    return Mutation(id, behaviour, (Edit(file, find, replace),) + also, tuple(tests))


P = "qiskit_connector_lab/"
CFG, RANK, SECRET, PICK = P + "config/settings.py", P + "ranking.py", P + "secret.py", P + "pick.py"
CFG_VALUES, CFG_SOURCES, CFG_DOTENV = P + "config/values.py", P + "config/sources.py", P + "config/dotenv_file.py"
CFG_ENDPOINTS, CFG_SAVED = P + "config/endpoints.py", P + "config/saved_account.py"
PLANS, CONN, MAGICS, COMPAT = P + "plans.py", P + "connection.py", P + "magics.py", P + "compat.py"
BASE, IBM, BOUNDED, FLEET = (
    P + "providers/base.py",
    P + "providers/ibm.py",
    P + "providers/bounded.py",
    P + "providers/local_fleet.py",
)
INTERNALS, REGISTRY = P + "providers/runtime_internals.py", P + "providers/__init__.py"
TABLES, LAYOUT = P + "render/tables.py", P + "render/chip_layout.py"
BACKOFF, FLIGHT, UPSTREAM = P + "server/backoff.py", P + "server/single_flight.py", P + "server/shared_upstream.py"
ROUTES, HTTPERR = P + "server/routes.py", P + "server/http_errors.py"
CACHE, UPSTREAM_CALLS, JOBS_UP = P + "server/cache.py", P + "server/upstream.py", P + "server/jobs_upstream.py"
FROM_IBM = P + "jobs/from_ibm.py"
EMU = "tests/emulator/"

TC, TFC, TFM, TFS = (
    "tests/test_config.py::",
    "tests/test_faults_core.py::",
    "tests/test_faults_magic.py::",
    "tests/test_faults_server.py::",
)
TIBM, TLF, TMAG, TNB = (
    "tests/test_ibm_path.py::",
    "tests/test_local_fleet.py::",
    "tests/test_magics.py::",
    "tests/test_notebooks.py::",
)
TRI, TSA, TSC, TSR = (
    "tests/test_runtime_internals.py::",
    "tests/test_secrets_audit.py::",
    "tests/test_server_cache.py::",
    "tests/test_server_routes.py::",
)
TEMU, TCF = "tests/test_emulator.py::", "tests/test_config_files.py::"
TSJ, TSK, TSW = (
    "tests/test_server_jobs.py::",
    "tests/test_server_kernel_config.py::",
    "tests/test_server_wire.py::",
)
BAD = TC + "test_bad_configuration_gives_one_line_naming_the_variable"
BADARG = TMAG + "test_bad_arguments_give_one_line"
JF, JM, JV, JA, JJ = (
    "src/__tests__/format.spec.ts::",
    "src/__tests__/model.spec.ts::",
    "src/__tests__/views.spec.ts::",
    "src/__tests__/art.spec.ts::",
    "src/__tests__/jobs.spec.ts::",
)

MUTATIONS: list[Mutation] = [
    # --- configuration: the seed's variables, precedence, one-line errors -----------------------------------
    M(
        "config.two-plans-on",
        "two plan switches on is an error",
        CFG_VALUES,
        "    if len(on) > 1:\n",
        "    if len(on) > 5:\n",
        BAD + "[two plans on]",
    ),
    M(
        "config.no-plan-on",
        "switches set but none on is an error",
        CFG,
        '    if (token_found.name == "IQP_API_TOKEN" or any_switch) and chosen is None:\n',
        "    if False:\n",
        BAD + "[no plan on]",
    ),
    M(
        "config.switch-value",
        "a switch that is neither on nor off is an error",
        CFG_VALUES,
        "    if text in _FALSE:\n        return False\n",
        "    return False\n",
        BAD + "[switch neither on nor off]",
    ),
    M(
        "config.missing-token-goes-local",
        "a seed .env without a token is an error, not a silent local fleet",
        CFG,
        "        or any_switch\n        or channel_found\n",
        "        or channel_found\n",
        BAD + "[only a plan switch]",
        TFM + "test_bad_env_file_through_the_magic[only a plan switch]",
    ),
    M(
        "config.empty-token",
        "an empty token is an error",
        CFG_VALUES,
        '    if not clean:\n        raise ConfigError(found.name, "is empty."',
        '    if False:\n        raise ConfigError(found.name, "is empty."',
        BAD + "[empty token]",
    ),
    M(
        "config.token-spaces",
        "a token with spaces is an error",
        CFG_VALUES,
        "    if any(ch.isspace() for ch in clean) or not clean.isprintable():",
        "    if not clean.isprintable():",
        BAD + "[token with a space]",
    ),
    M(
        "config.placeholder",
        "the README template's placeholders are errors",
        CFG_SOURCES,
        '_PLACEHOLDER = re.compile(r"^\\s*<[^<>]*>\\s*$")',
        '_PLACEHOLDER = re.compile(r"^\\s*<<[^<>]*>\\s*$")',
        BAD + "[template token placeholder]",
        BAD + "[template instance placeholder]",
        BAD + "[template channel placeholder]",
        BAD + "[template url placeholder]",
    ),
    M(
        "config.placeholders-at-once",
        "every placeholder left in is named in one error",
        CFG_VALUES,
        "    if len(placeholders) > 1:\n",
        "    if len(placeholders) > 99:\n",
        TC + "test_every_placeholder_left_in_is_named_at_once",
    ),
    M(
        "config.missing-instance",
        "a plan without its instance is an error",
        CFG_VALUES,
        "    if value is None and chosen is not None:\n        raise ConfigError(variables[0]",
        "    if False:\n        raise ConfigError(variables[0]",
        BAD + "[missing open instance]",
        BAD + "[missing paid instance]",
    ),
    M(
        "config.retired-channel",
        "the retired ibm_quantum channel is named as retired",
        CFG_VALUES,
        "    if value in RETIRED_CHANNELS:\n",
        "    if False:\n",
        BAD + "[retired channel]",
    ),
    M(
        "config.unknown-channel",
        "an unknown channel is an error",
        CFG_VALUES,
        "    if value not in (*CHANNELS, LOCAL_CHANNEL):\n",
        "    if False:\n",
        BAD + "[unknown channel]",
    ),
    M(
        "config.url",
        "a URL without http(s) is an error",
        CFG_ENDPOINTS,
        '    if parsed.scheme not in ("http", "https") or not host:',
        '    if parsed.scheme not in ("http", "https", ""):',
        BAD + "[url that is not a url]",
    ),
    M(
        "config.malformed-line",
        "a .env line python-dotenv cannot parse is an error",
        CFG_DOTENV,
        "        if binding.error:\n",
        "        if False:\n",
        BAD + "[malformed line]",
    ),
    M(
        "config.deadline-not-number",
        "a deadline that is not a number is an error",
        CFG_VALUES,
        '        raise ConfigError(name, f"is {src.quote(value)}, not a number of seconds.",',
        '        return 10.0\n        raise ConfigError(name, f"is {src.quote(value)}, not a number of seconds.",',
        BAD + "[bad deadline]",
    ),
    M(
        "config.deadline-positive",
        "a deadline must be positive",
        CFG_VALUES,
        '    if not 0 < number < float("inf"):',
        '    if not -float("inf") < number < float("inf"):',
        BAD + "[negative deadline]",
        TC + "test_bad_arguments",
    ),
    M(
        "config.unreadable-file",
        "an unreadable .env is named with its path",
        CFG_DOTENV,
        "    raw = read_bounded(path, variable=where, limit=ENV_FILE_LIMIT)\n",
        '    raw = path.read_bytes() if path.is_file() else b""\n',
        TC + "test_unreadable_files",
    ),
    M(
        "config.precedence-env-over-dotenv",
        "the environment beats .env",
        CFG_SOURCES,
        '("argument", arguments), ("environment", environ), (f".env {shown_path(env_path)}", dotenv)]',
        '("argument", arguments), (f".env {shown_path(env_path)}", dotenv), ("environment", environ)]',
        TC + "test_precedence_argument_over_environment_over_dotenv",
        TC + "test_environment_switch_beats_dotenv_switch",
    ),
    M(
        "config.precedence-layer-first",
        "an argument beats a more specific variable set lower down",
        CFG_SOURCES,
        "        for origin, values in self._layers:\n            for name in names:\n",
        "        for name in names:\n            for origin, values in self._layers:\n",
        TC + "test_precedence_argument_over_environment_over_dotenv",
    ),
    M(
        "config.no-environ-writes",
        "reading .env never changes os.environ",
        CFG_DOTENV,
        "    for binding in parse_stream(io.StringIO(text)):\n",
        "    for binding in parse_stream(io.StringIO(text)):\n        os.environ.update({binding.key: binding.value} if binding.key and binding.value else {})\n",
        TC + "test_loading_never_touches_os_environ",
    ),
    M(
        "config.dotenv-upward",
        ".env is found upward from the working directory",
        CFG_DOTENV,
        "    folders = [start]\n    while folders[-1] != ceiling",
        "    folders = [start]\n    while False and folders[-1] != ceiling",
        TC + "test_dotenv_is_found_upward_from_the_working_directory",
    ),
    M(
        "config.no-credentials-local",
        "no credentials at all means the local fleet",
        CFG,
        "    if by_channel or not (\n",
        "    if by_channel or False and not (\n",
        TC + "test_no_credentials_means_local_fleet",
        TLF + "test_seed_usage_snippet_runs_on_local_fleet_with_no_env",
    ),
    M(
        "config.saved-account-default",
        "the saved account used is the default one",
        CFG_SAVED,
        '    for candidate in ("default-ibm-quantum-platform", "default-ibm-cloud", "default"):',
        '    for candidate in ("default-ibm-cloud", "default"):',
        TC + "test_runtime_variables_and_saved_account",
    ),
    M(
        "config.saved-account-used",
        "a saved account supplies the token when none is set",
        CFG_SOURCES,
        "        if fields:\n            self.saved_name = name",
        "        if False:\n            self.saved_name = name",
        TC + "test_runtime_variables_and_saved_account",
    ),
    M(
        "config.describe-hides-token",
        "describe() never holds the token",
        CFG,
        '            "token": "set" if self.token else "not set",',
        '            "token": self.token.reveal() if self.token else "not set",',
        TC + "test_settings_repr_hides_token",
    ),
    M(
        "config.env-size-cap",
        "a .env larger than 1 MB is refused unread",
        CFG_DOTENV,
        "    raw = read_bounded(path, variable=where, limit=ENV_FILE_LIMIT)\n",
        "    raw = read_bounded(path, variable=where, limit=1 << 40)\n",
        TCF + "test_a_2_mb_env_is_refused_unread_in_under_a_second",
    ),
    M(
        "config.env-linear-expansion",
        "${NAME} references are expanded in one pass, not with a copy of the environment per line",
        CFG_DOTENV,
        "atom.resolve(scope) for atom in parse_variables(value)",
        "atom.resolve(ChainMap(dict(values), dict(environ))) for atom in parse_variables(value)",
        TCF + "test_a_large_env_is_read_in_linear_time",
    ),
    M(
        "config.env-bad-line-number",
        "a bad .env line is named by its own number, after any blank lines",
        CFG_DOTENV,
        "    line = binding.original.line + len(_NEWLINE.findall(original[: len(original) - len(body)]))\n",
        "    line = binding.original.line\n",
        TCF + "test_a_bad_line_after_blank_lines_is_named_by_its_own_number",
    ),
    M(
        "config.fleet-members",
        "QCONNECTOR_FLEET members must be fake backends",
        CFG_VALUES,
        "        if known and member not in known:\n",
        "        if False:\n",
        TCF + "test_fleet_members_must_be_fake_backends[fez,/tmp/x]",
        TCF + "test_fleet_members_from_a_dotenv_are_checked_too",
    ),
    M(
        "config.save-no-link",
        "save_account never writes through a symbolic link",
        CFG_SAVED,
        "    write_private(path, data, variable=where)\n",
        "    path.write_bytes(data)\n",
        TCF + "test_save_account_never_writes_through_a_symbolic_link",
    ),
    M(
        "config.save-no-allow-listed-url",
        "an endpoint only QCONNECTOR_ALLOW_HOSTS trusts is not saved in an account",
        CFG_SAVED,
        "        if url and not is_ibm_endpoint(url):\n",
        "        if False:\n",
        TCF + "test_save_account_refuses_an_endpoint_only_the_allow_list_trusts",
    ),
    M(
        "config.ignored-in-dotenv-note",
        "a process-only variable in a .env is noted as ignored (summary and %qplan)",
        CFG,
        "    notes.extend(_ignored_in_dotenv(dotenv, path))\n",
        "",
        "tests/test_trust_endpoints.py::test_process_only_variables_in_a_dotenv_are_noted_in_the_summary_and_qplan",
    ),
    M(
        "config.refusal-names-ignored-allow-list",
        "a refused endpoint names the QCONNECTOR_ALLOW_HOSTS line a .env holds as ignored",
        CFG_ENDPOINTS,
        "    if opt_in and in_dotenv is not None and host in allowed_hosts(",
        "    if False and in_dotenv is not None and host in allowed_hosts(",
        "tests/test_trust_endpoints.py::test_an_allow_list_in_the_dotenv_is_named_as_ignored_in_the_refusal",
    ),
    M(
        "ibm.sign-in-names-iam-url",
        "an endpoint override without IAM_URL makes the sign-in error name IAM_URL",
        IBM,
        '        if self.settings.endpoint is None or os.environ.get("IAM_URL"):\n',
        "        if True:\n",
        "tests/test_sign_in_hints.py::test_an_endpoint_override_without_iam_url_names_iam_url_and_local",
    ),
    M(
        "magics.argument-error-structured",
        "a bad number argument is reported from ArgumentError, whatever argparse's wording",
        MAGICS,
        "            if isinstance(bad, _NotANumber):",
        "            if False:",
        TMAG + "test_argument_errors_do_not_depend_on_argparse_wording",
    ),
    # --- secrets ------------------------------------------------------------------------------------------------
    M(
        "secret.repr",
        "a Secret's repr is a mask",
        SECRET,
        "        return f\"Secret('{_MASK}')\"",
        '        return f"Secret({self._value!r})"',
        TC + "test_secret_never_shows",
    ),
    M(
        "secret.no-pickle",
        "a Secret cannot be pickled",
        SECRET,
        "    def __reduce__(self):",
        "    def _no_reduce(self):",
        TC + "test_secret_never_shows",
    ),
    M(
        "secret.redact-given",
        "redact() removes the given secret",
        SECRET,
        "            text = text.replace(value, _MASK)\n",
        "            text = text\n",
        TC + "test_secret_never_shows",
    ),
    M(
        "secret.redact-jwt",
        "redact() removes a JWT",
        SECRET,
        "    return _JWT.sub(_MASK, text)\n",
        "    return text\n",
        TC + "test_secret_never_shows",
    ),
    M(
        "secret.save-account-0600",
        "a saved account file is mode 0600",
        CFG_SAVED,
        "    write_private(path, data, variable=where)\n",
        "    write_private(path, data, variable=where, mode=0o644)\n",
        TC + "test_saved_account_file_permissions_when_saving",
    ),
    M(
        "secret.notebook-describe",
        "no notebook output holds the API key",
        CFG,
        '            "token": "set" if self.token else "not set",',
        '            "token": self.token.reveal() if self.token else "not set",',
        TSA + "test_no_secret_in_any_notebook_output",
    ),
    # --- plans ----------------------------------------------------------------------------------------------
    M(
        "plans.label",
        "a paid plan is labelled Paid Plan",
        PLANS,
        "        return PAID_LABEL if self.is_paid else OPEN_LABEL",
        "        return OPEN_LABEL",
        TC + "test_paid_plan_uses_paid_plan_channel_and_instance",
    ),
    M(
        "plans.paid-default-session",
        "a paid plan's default mode is a Session",
        PLANS,
        '        return "session" if self.allows_session else "job"',
        '        return "job"',
        TC + "test_paid_plan_uses_paid_plan_channel_and_instance",
        TIBM + "test_paid_connect_gives_a_session_and_open_gives_none",
    ),
    M(
        "plans.mismatch",
        "an open/paid disagreement with IBM is an error",
        PLANS,
        "    if actual.is_paid != configured.is_paid:\n",
        "    if False:\n",
        TIBM + "test_plan_verified_against_the_instance",
        TSR + "test_a_plan_that_disagrees_with_ibm_is_a_409",
    ),
    M(
        "plans.paid-paid-note",
        "a disagreement between paid plans is a note",
        PLANS,
        "    if actual is not configured and configured is not Plan.STANDARD:\n",
        "    if False:\n",
        TIBM + "test_plan_verified_against_the_instance",
    ),
    M(
        "plans.detected",
        "with no switch, the plan is the instance's",
        PLANS,
        'treating it as the open plan (no Session).",))\n        return PlanCheck(actual, True)',
        'treating it as the open plan (no Session).",))\n        return PlanCheck(Plan.OPEN, True)',
        TIBM + "test_runtime_variables_work_too",
    ),
    # --- ranking: the least busy -------------------------------------------------------------------------------
    M(
        "ranking.tie-more-qubits",
        "on a tied queue, more qubits wins",
        RANK,
        "-q.qubits, q.name))",
        "q.qubits, q.name))",
        TLF + "test_selection_least_busy_filters_and_ties",
    ),
    M(
        "ranking.operational-first",
        "operational QPUs rank before paused ones",
        RANK,
        "key=lambda q: (not q.operational, q.queue is None,",
        "key=lambda q: (q.queue is None,",
        TLF + "test_selection_least_busy_filters_and_ties",
    ),
    M(
        "ranking.min-qubits-boundary",
        "--min-qubits N keeps a QPU of exactly N qubits",
        RANK,
        "q.qubits >= min_qubits]",
        "q.qubits > min_qubits]",
        TLF + "test_selection_least_busy_filters_and_ties",
    ),
    M(
        "ranking.exclude",
        "excluded QPUs are not picked",
        RANK,
        " and q.name not in set(exclude)]",
        "]",
        TLF + "test_selection_least_busy_filters_and_ties",
    ),
    M(
        "ranking.did-you-mean",
        "an unknown name suggests the closest",
        RANK,
        "    close = difflib.get_close_matches(name, names, n=1)",
        "    close = []",
        TLF + "test_selection_least_busy_filters_and_ties",
    ),
    M(
        "ranking.too-few-qubits",
        "asking for more qubits than any QPU has says so",
        RANK,
        "            if min_qubits and biggest < min_qubits\n",
        "            if False\n",
        TLF + "test_selection_least_busy_filters_and_ties",
        BADARG + "[%qconnect --min-qubits 100000-at least 100000 qubits]",
    ),
    M(
        "ranking.online-only",
        "a paused QPU is never the least busy",
        RANK,
        "    online = [q for q in candidates if q.operational]\n",
        "    online = candidates\n",
        TLF + "test_empty_or_all_paused_fleet_is_a_clear_error",
    ),
    M(
        "ranking.empty-fleet",
        "an empty fleet is a clear error",
        RANK,
        "    if not listing.qpus:\n",
        "    if False:\n",
        TLF + "test_empty_or_all_paused_fleet_is_a_clear_error",
        TFC + "test_warm_fault_on_the_listing[empty list]",
    ),
    # --- the local fleet, connect() -----------------------------------------------------------------------------
    M(
        "fleet.seeded",
        "another seed gives another fleet",
        FLEET,
        "        self.seed = 0 if seed is None else seed\n",
        "        self.seed = 0\n",
        TLF + "test_simulated_queues_move_over_time_and_are_seeded",
    ),
    M(
        "fleet.queues-move",
        "simulated queues change over time",
        FLEET,
        "        queue = max(0, round(load * wave + jitter))\n",
        "        queue = max(0, round(load))\n",
        TLF + "test_simulated_queues_move_over_time_and_are_seeded",
    ),
    M(
        "fleet.listing-ttl",
        "a listing is cached for the TTL",
        BASE,
        "            if self._listing is not None and self._clock() - self._listing_taken <= max_age:\n",
        "            if False:\n",
        TLF + "test_listing_is_cached_for_the_ttl",
        TMAG + "test_second_qconnect_reuses_the_provider",
    ),
    M(
        "fleet.provider-reused",
        "one provider per configuration",
        REGISTRY,
        "            _providers[key] = provider\n",
        "            pass\n",
        TMAG + "test_second_qconnect_reuses_the_provider",
        TIBM + "test_a_new_deadline_keeps_the_signed_in_service",
    ),
    M(
        "fleet.file-seen-at-once",
        "a changed fleet file is seen at once",
        FLEET,
        "                    max_age = 0  # the fleet file changed: show it now\n",
        "                    pass\n",
        TLF + "test_overrides_and_fleet_file",
    ),
    M(
        "fleet.bad-override",
        "a fleet file's unknown status is dropped",
        FLEET,
        '        if entry.get("status") in STATUSES:\n',
        '        if "status" in entry:\n',
        TLF + "test_a_fleet_file_with_bad_values_is_ignored_field_by_field",
    ),
    M(
        "fleet.outage",
        "a simulated outage fails the listing",
        FLEET,
        "        if self._outage:\n",
        "        if False:\n",
        TLF + "test_a_simulated_outage_fails_the_listing_until_removed",
    ),
    M(
        "fleet.clops",
        'a snapshot\'s "None" clops is None',
        FLEET,
        '        clops=whole_number(conf.get("clops_h")),',
        '        clops=conf.get("clops_h"),',
        TLF + "test_clops_is_a_number_or_none",
    ),
    M(
        "connect.summary-names-backend",
        "the summary describes the backend returned",
        CONN,
        '            ("QPU", q.name + (f" ({chosen})" if chosen else "")),',
        '            ("QPU", self.listing.qpus[0].name + (f" ({chosen})" if chosen else "")),',
        TLF + "test_connect_on_local_fleet_describes_the_backend_returned",
        TLF + "test_seed_usage_snippet_runs_on_local_fleet_with_no_env",
    ),
    M(
        "connect.others",
        "'others' excludes the chosen QPU",
        CONN,
        "        return [q for q in ranked(self.listing.qpus) if q.name != self.qpu.name]",
        "        return ranked(self.listing.qpus)",
        TLF + "test_connect_on_local_fleet_describes_the_backend_returned",
    ),
    M(
        "connect.local-badge",
        "the HTML summary says LOCAL FLEET",
        CONN,
        '        badge = local_badge_html() if self.local else ""',
        '        badge = ""',
        TLF + "test_connect_on_local_fleet_describes_the_backend_returned",
    ),
    M(
        "connect.session-on-open-plan",
        "a Session on the open plan becomes a Batch",
        CONN,
        '    if requested == "session" and not plan.allows_session:\n',
        "    if False:\n",
        TLF + "test_connect_named_and_batch",
        TMAG + "test_session_on_open_plan_falls_back_to_batch_with_one_line",
    ),
    M(
        "connect.min-qubits-argument",
        "connect(min_qubits=0) is a one-line error",
        CONN,
        "    if min_qubits is not None and (not isinstance(min_qubits, int) or min_qubits < 1):\n",
        "    if False:\n",
        TLF + "test_connect_named_and_batch",
    ),
    M(
        "compat.verified",
        "is_verified() is False until a listing was seen",
        COMPAT,
        "    return load_settings(**kwargs).fingerprint() in _verified\n",
        "    return True\n",
        TLF + "test_compat_helpers_on_local_fleet",
    ),
    # --- magics ---------------------------------------------------------------------------------------------
    M(
        "magics.min-qubits-arg",
        "--min-qubits 0 is refused",
        MAGICS,
        "        if args.min_qubits is not None and args.min_qubits < 1:\n",
        "        if False:\n",
        BADARG + "[%qconnect --min-qubits 0---min-qubits]",
    ),
    M(
        "magics.name-arg",
        "--name must be an identifier",
        MAGICS,
        "        if not name.isidentifier():\n",
        "        if False:\n",
        BADARG + "[%qconnect --name 9lives---name]",
    ),
    M(
        "magics.deadline-arg",
        "--deadline must be positive",
        MAGICS,
        "        if args.deadline is not None and args.deadline <= 0:\n",
        "        if False:\n",
        BADARG + "[%qconnect --deadline -1---deadline]",
    ),
    M(
        "magics.modes-exclusive",
        "--session and --batch exclude each other",
        MAGICS,
        "        if len(modes) > 1:\n",
        "        if len(modes) > 2:\n",
        BADARG + "[%qconnect --session --batch-exclude each other]",
    ),
    M(
        "magics.sidebar-pick",
        "a bare %qconnect uses the sidebar's pick",
        MAGICS,
        "            pick = read_pick(settings.provider_kind)\n",
        "            pick = None\n",
        TMAG + "test_bare_qconnect_honours_the_sidebar_pick",
    ),
    M(
        "magics.least-busy-ignores-pick",
        "--least-busy ignores the sidebar's pick",
        MAGICS,
        "        if backend is None and not (args.least_busy or args.min_qubits or args.exclude or args.circuits):\n",
        "        if backend is None:\n",
        TMAG + "test_bare_qconnect_honours_the_sidebar_pick",
    ),
    M(
        "magics.pick-other-provider",
        "a pick made on IBM is not used on the local fleet",
        PICK,
        "    if provider is not None and pick.provider != provider:\n",
        "    if False:\n",
        TMAG + "test_bare_qconnect_honours_the_sidebar_pick",
    ),
    M(
        "magics.unlisted-pick",
        "a pick no longer listed falls back to the least busy",
        MAGICS,
        "        except UnknownBackend:\n            if pick is None:\n",
        "        except ZeroDivisionError:\n            if pick is None:\n",
        TMAG + "test_a_pick_that_is_no_longer_listed_falls_back_to_the_least_busy",
    ),
    M(
        "magics.paused-pick-note",
        "a paused pick is used and said",
        MAGICS,
        "        if pick is not None and connection.qpu.name == pick.backend and not connection.qpu.operational:\n",
        "        if False:\n",
        TMAG + "test_a_paused_pick_is_used_and_said",
    ),
    M(
        "magics.quiet-note",
        "--quiet still says when the mode changed",
        MAGICS,
        '                if "instead" in note or "no longer listed" in note:\n',
        "                if False:\n",
        TMAG + "test_quiet_still_says_when_the_mode_changed",
    ),
    M(
        "magics.old-batch-removed",
        "a closed Batch is removed from the namespace",
        MAGICS,
        "            if stale not in values and isinstance(shell.user_ns.get(stale), _session_types()):\n",
        "            if False:\n",
        TMAG + "test_qconnect_named_min_qubits_name_and_batch",
    ),
    M(
        "magics.second-connect-works",
        "a second %qconnect succeeds (and reuses the provider)",
        MAGICS,
        "        previous, self._connection = self._connection, connection\n",
        "        previous, self._connection = self._connection, connection\n"
        '        if previous is not None:\n            raise UsageError("second connect broken")\n',
        TMAG + "test_second_qconnect_reuses_the_provider",
    ),
    M(
        "magics.completion",
        "completion offers the matching names only",
        MAGICS,
        "        return [name for name in listing.names() if name.startswith(prefix)]",
        "        return list(listing.names())",
        TMAG + "test_completion_offers_backend_names",
    ),
    M(
        "magics.namespace-kept",
        "a failed %qconnect keeps the namespace",
        MAGICS,
        "        except ConnectorError as exc:\n            raise UsageError(str(exc)) from None",
        '        except ConnectorError as exc:\n            self.shell.user_ns.pop("backend", None)\n'
        "            raise UsageError(str(exc)) from None",
        TMAG + "test_bad_config_gives_one_line_and_keeps_namespace",
        TFM + "test_fault_through_the_magic[500 repeated]",
    ),
    M(
        "magics.usage-error",
        "a connector error is one UsageError line, no traceback",
        MAGICS,
        "        except ConnectorError as exc:\n            raise UsageError(str(exc)) from None",
        "        except ZeroDivisionError:\n            raise",
        TMAG + "test_bad_config_gives_one_line_and_keeps_namespace",
        TFM + "test_bad_env_file_through_the_magic[two plans on]",
    ),
    M(
        "magics.qbackends-min-qubits",
        "%qbackends --min-qubits filters the table",
        TABLES,
        "        self.qpus = [q for q in ranked(listing.qpus) if not min_qubits or q.qubits >= min_qubits]",
        "        self.qpus = ranked(listing.qpus)",
        TMAG + "test_qbackends_and_qplan",
    ),
    M(
        "magics.qbackends-ranked",
        "%qbackends lists the least busy first",
        TABLES,
        "        self.qpus = [q for q in ranked(listing.qpus) if not min_qubits or q.qubits >= min_qubits]",
        "        self.qpus = [q for q in listing.qpus if not min_qubits or q.qubits >= min_qubits]",
        TMAG + "test_qbackends_and_qplan",
    ),
    M(
        "magics.qbackends-one-mark",
        "exactly one QPU is marked least busy",
        TABLES,
        '        if name == self.least_busy:\n            marks.append("least busy")',
        '        if True:\n            marks.append("least busy")',
        TMAG + "test_qbackends_and_qplan",
    ),
    M(
        "magics.qplan-usage",
        "%qplan shows the usage IBM reports",
        TABLES,
        ' used of {_hours(self.usage.limit_seconds)}"))',
        ' used"))',
        TIBM + "test_magic_open_plan_batch_and_paid_plan_session",
    ),
    M(
        "magics.close-previous",
        "a session that cannot be closed is one note, not a lost connection",
        MAGICS,
        '        except ConnectorError as exc:\n            print(f"Note: the previous',
        '        except ZeroDivisionError as exc:\n            print(f"Note: the previous',
        TIBM + "test_reconnect_when_the_old_session_cannot_be_closed",
    ),
    # --- fault classification and deadlines (core) ----------------------------------------------------------------
    M(
        "faults.401",
        "a 401 is Unauthorized",
        BOUNDED,
        '    if status == 401 or _is(exc, kinds, "unauthorized"):\n',
        "    if False:\n",
        TFC + "test_warm_fault_on_the_listing[401 persistent]",
    ),
    M(
        "faults.403",
        "a 403 is Unauthorized",
        BOUNDED,
        "    if status == 403:\n        return Unauthorized(",
        "    if False:\n        return Unauthorized(",
        TFC + "test_warm_fault_on_the_listing[403]",
    ),
    M(
        "faults.retry-after",
        "a 429's Retry-After is read",
        BOUNDED,
        "                try:\n                    return float(value)",
        "                try:\n                    return None",
        TFC + "test_warm_fault_on_the_listing[429 retry-after]",
    ),
    M(
        "faults.5xx",
        "a 5xx is a ServerError",
        BOUNDED,
        '    if (status is not None and status >= 500) or _is(exc, kinds, "retries_exhausted"):\n',
        '    if _is(exc, kinds, "retries_exhausted"):\n',
        TFC + "test_warm_fault_on_the_listing[500 repeated]",
        TFC + "test_cold_fault_while_connecting[iam 500]",
    ),
    M(
        "faults.unreachable",
        "a reset or refused connection is Unreachable",
        BOUNDED,
        '    if _is(exc, kinds, "unreachable"):\n',
        "    if False:\n",
        TFC + "test_warm_fault_on_the_listing[reset]",
        TFC + "test_connection_refused_is_unreachable",
    ),
    M(
        "faults.malformed",
        "an unreadable reply is BadResponse",
        BOUNDED,
        '    if _is(exc, kinds, "unreadable"):\n',
        "    if False:\n",
        TFC + "test_warm_fault_on_the_listing[malformed json]",
    ),
    M(
        "faults.vanished-qpu",
        "a QPU gone upstream is UnknownBackend",
        BOUNDED,
        '    if _is(exc, kinds, "backend_not_found") or (status == 404 and "/backends/" in text):\n',
        "    if False:\n",
        TFC + "test_qpu_vanishing_between_list_and_detail",
    ),
    M(
        "faults.deadline",
        "every blocking call ends within the deadline",
        BOUNDED,
        "        result = future.result(timeout=seconds)\n",
        "        result = future.result(timeout=seconds * 20)\n",
        TFC + "test_warm_fault_on_the_listing[stall]",
        also=(
            Edit(
                BOUNDED,
                "    return None if seconds is None else _bounded_adapter(seconds)",
                "    return None if seconds is None else _bounded_adapter(seconds * 20)",
            ),
        ),
    ),
    M(
        "faults.401-secrets",
        "the secrets test's error path is the injected 401",
        BOUNDED,
        '    if status == 401 or _is(exc, kinds, "unauthorized"):\n',
        "    if False:\n",
        TIBM + "test_token_never_in_logs_reprs_or_errors",
    ),
    M(
        "faults.reauth",
        "an expired IAM token signs in again once",
        IBM,
        "        except Unauthorized:\n            with self._service_lock:",
        "        except ZeroDivisionError:\n            with self._service_lock:",
        TFC + "test_expired_iam_token_mid_session_reauthenticates",
    ),
    M(
        "ibm.init-listing-reused",
        "the service's init listing is the first listing",
        IBM,
        "                devices = internals.first_listing(service)\n",
        "                devices = None\n",
        TIBM + "test_one_backends_request_per_connect_and_fresh_queues",
    ),
    M(
        "ibm.fallback-noted-once",
        "a missing private name is noted once",
        INTERNALS,
        "        if what in _noted:\n            return\n",
        "",
        TRI + "test_the_fallbacks_list_load_and_describe_with_the_public_api",
    ),
    # --- the server: backoff, single flight, cache, stale ----------------------------------------------------------
    M(
        "backoff.exponential",
        "backoff doubles: 2, 4, 8 ... capped",
        BACKOFF,
        "            delay = min(self.cap, self.base * 2 ** (self.failures - 1))",
        "            delay = min(self.cap, self.base * self.failures)",
        TSC + "test_backoff_is_exponential_capped_and_honours_retry_after",
    ),
    M(
        "backoff.retry-after",
        "a 429's Retry-After is the wait",
        BACKOFF,
        "        if retry_after is not None and retry_after > 0:\n",
        "        if False:\n",
        TSC + "test_backoff_is_exponential_capped_and_honours_retry_after",
        TSC + "test_a_429_is_honoured_with_its_retry_after",
    ),
    M(
        "backoff.reset",
        "a success resets the backoff",
        BACKOFF,
        "    def succeeded(self) -> None:\n        self.failures = 0\n",
        "    def succeeded(self) -> None:\n",
        TSC + "test_backoff_is_exponential_capped_and_honours_retry_after",
    ),
    M(
        "flight.coalesce",
        "concurrent callers share one call",
        FLIGHT,
        "        flight = self._flights.get(key)\n",
        "        flight = None\n",
        TSC + "test_single_flight_shares_one_call_and_outlives_a_cancelled_waiter",
        TSC + "test_fifty_concurrent_requests_one_listing_on_the_local_fleet",
    ),
    M(
        "flight.shield",
        "a cancelled waiter does not cancel the shared call",
        FLIGHT,
        "        return await asyncio.shield(flight)\n",
        "        return await flight\n",
        TSC + "test_single_flight_shares_one_call_and_outlives_a_cancelled_waiter",
    ),
    M(
        "flight.landed",
        "a finished call leaves the table",
        FLIGHT,
        "        if self._flights.get(key) is flight:\n",
        "        if False:\n",
        TSC + "test_single_flight_shares_one_call_and_outlives_a_cancelled_waiter",
    ),
    M(
        "upstream.ttl",
        "a cached value (the listing) is served from memory within its TTL",
        CACHE,
        "        if entry is not None and up.clock() <= entry.expires:\n",
        "        if False:\n",
        TSC + "test_cache_single_flight_with_a_slow_upstream",
    ),
    M(
        "upstream.stale-served",
        "after a failure the last good value is served",
        CACHE,
        "        except ConnectorError as error:\n            if entry is None:\n                raise\n"
        "            return self._serve(entry, error)\n",
        "        except ConnectorError as error:\n            raise\n",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
        TFS + "test_fault_after_good_data_serves_it_stale_and_keeps_serving[500 repeated]",
    ),
    M(
        "upstream.stale-flag",
        "the last good listing is marked stale",
        UPSTREAM,
        "        return served.value.marked_stale(served.stale_reason)\n",
        "        return served.value\n",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
    ),
    M(
        "upstream.backoff-respected",
        "nothing goes upstream during the backoff",
        CACHE,
        "        if up.backoff.active():\n            if entry is None:\n                raise up.blocking_error(self._error)\n"
        "            return self._serve(entry, self._error or up.backoff.last_error)\n",
        "",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
        TSC + "test_with_no_data_the_error_is_the_answer",
    ),
    M(
        "upstream.refetch-after-ttl",
        "after the server's TTL the provider is asked afresh",
        UPSTREAM,
        "        max_age = self.options.ttl if self.listing_value.value is None else 0.0\n",
        "        max_age = self.options.ttl\n",
        TSC + "test_fifty_concurrent_requests_one_backends_request_upstream",
    ),
    M(
        "upstream.history",
        "the queue history gains a point per listing",
        UPSTREAM,
        '            if not points or points[-1]["t"] != stamp:\n',
        "            if not points:\n",
        TSC + "test_a_failing_upstream_serves_the_last_data_marked_stale[500-server_traits0]",
    ),
    M(
        "upstream.detail-cache",
        "a QPU's detail is cached",
        UPSTREAM,
        'SharedValue(self.upstream, ("detail", name), ttl=self.options.detail_ttl)',
        'SharedValue(self.upstream, ("detail", name), ttl=-1.0)',
        TSC + "test_details_are_cached_per_qpu",
    ),
    M(
        "upstream.detail-live-fields",
        "a cached detail shows the listing's live queue and status",
        UPSTREAM,
        "        data.update(status=qpu.status, status_reason=qpu.status_reason, queue=qpu.queue)\n",
        "",
        TSC + "test_details_are_cached_per_qpu",
        TSC + "test_a_failing_upstream_serves_the_last_data_marked_stale[500-server_traits0]",
    ),
    M(
        "upstream.plan-cache",
        "the plan is cached for plan_ttl",
        UPSTREAM,
        'SharedValue(self.upstream, "plan", ttl=lambda plan: plan.ttl)',
        'SharedValue(self.upstream, "plan", ttl=lambda plan: -1.0)',
        TSR + "test_plan_on_the_local_fleet",
    ),
    M(
        "upstream.plan-without-usage",
        "the plan stands when the usage cannot be read",
        UPSTREAM,
        "            except UpstreamError as error:  # the plan stands without the usage\n",
        "            except KeyError as error:  # the plan stands without the usage\n",
        TSR + "test_the_plan_stands_when_the_usage_cannot_be_read",
    ),
    M(
        "upstream.refresher-pauses",
        "the background refresh pauses when idle",
        UPSTREAM,
        "            if not self.active():\n",
        "            if False:\n",
        TSC + "test_background_refresh_runs_while_asked_and_pauses_when_idle",
    ),
    M(
        "upstream.refresher-refreshes",
        "the background refresh refreshes",
        UPSTREAM,
        "                await self.listing_value.refresh(self._fetch_listing)\n"
        "                self.stats.background_refreshes += 1\n",
        "                self.stats.background_refreshes += 1\n",
        TSC + "test_background_refresh_runs_while_asked_and_pauses_when_idle",
    ),
    M(
        "upstream.internal-error",
        "an unexpected failure is one line, with the traceback in the log",
        UPSTREAM_CALLS,
        '            self.log.warning(\n                "qiskit-connector-lab: unexpected error while %s: %s", what,'
        " redact(traceback.format_exc())\n            )\n",
        '            self.log.warning("qiskit-connector-lab: unexpected error while %s: %s", what, "")\n',
        TSC + "test_an_unexpected_failure_is_one_line_and_logged",
    ),
    M(
        "upstream.stop",
        "the cache stops its thread pool with the server",
        UPSTREAM_CALLS,
        "        self._executor.shutdown(wait=False, cancel_futures=True)\n",
        "        pass\n",
        TSC + "test_the_cache_stops_with_the_server",
    ),
    M(
        "upstream.stale-reason",
        "the stale reason is one sentence",
        CACHE,
        '    return first_sentence(error.message).rstrip(".!? ") + "; showing the last good data."',
        "    return error.message",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
    ),
    M(
        "upstream.ibm-without-credentials",
        "provider ibm without credentials is a clear error",
        UPSTREAM_CALLS,
        '    if options.provider == "ibm" and settings.local:\n',
        "    if False:\n",
        TSR + "test_ibm_without_credentials_is_a_clear_error",
    ),
    M(
        "cache.one-flight",
        "a value's refresh is one shared fetch for every request meanwhile",
        CACHE,
        "        return await self.upstream.flight(self.key, lambda: self._fetch(fetch))\n",
        "        return await self._fetch(fetch)\n",
        TSC + "test_fifty_concurrent_requests_one_backends_request_upstream",
        TSJ + "test_one_upstream_request_per_refresh_however_many_tabs_poll",
    ),
    M(
        "cache.new-configuration",
        "a changed .env drops every value cached for the old one",
        UPSTREAM_CALLS,
        "        self._provider = None\n        self.generation += 1\n",
        "        self._provider = None\n",
        TSK + "test_a_changed_dotenv_drops_the_cached_job_pages",
    ),
    M(
        "cache.flight-per-generation",
        "a request after a configuration change never joins a call made for the old configuration",
        UPSTREAM_CALLS,
        "                result = await self.flights.run((generation, key), factory)\n",
        "                result = await self.flights.run(key, factory)\n",
        TSC + "test_a_configuration_change_mid_flight_is_answered_with_the_new_configuration[a listing-server_traits0]",
    ),
    M(
        "cache.build-overtaken-is-dropped",
        "a change of configuration while the provider is built makes it built again",
        UPSTREAM_CALLS,
        "        if self._provider is None:\n            if now:\n                self.generation += 1\n",
        "        if self._provider is None:\n            if False:\n                self.generation += 1\n",
        TSC + "test_a_configuration_change_while_the_provider_is_built_builds_it_again",
    ),
    M(
        "cache.cancel-forgets-pages",
        "after a cancel the next poll shows the job cancelled",
        JOBS_UP,
        "        self._forget_pages()  # the next poll must show it cancelled\n",
        "",
        TSJ + "test_cancel_a_queued_job_then_409_then_404",
    ),
    M(
        "jobs.pending-ttl",
        "a page with a pending job is fresh for jobs_pending_ttl only",
        JOBS_UP,
        "        if any(job.pending for job in page.jobs):\n",
        "        if False:\n",
        TSJ + "test_a_pending_job_is_seen_finished_within_two_seconds_while_final_pages_stay_cached",
    ),
    M(
        "jobs.final-ttl",
        "a page of finished jobs is kept for the TTL",
        JOBS_UP,
        "jobs_pending_ttl)\n        return options.ttl\n",
        "jobs_pending_ttl)\n        return options.jobs_pending_ttl\n",
        TSJ + "test_a_pending_job_is_seen_finished_within_two_seconds_while_final_pages_stay_cached",
    ),
    M(
        "jobs.bad-row-skipped",
        "a job row from IBM that cannot be read is left out, not the page",
        FROM_IBM,
        "        except BadJobRow as problem:\n",
        "        except KeyError as problem:\n",
        TSJ + "test_a_malformed_job_row_is_left_out_with_a_note_and_nothing_goes_stale[no id]",
    ),
    M(
        "jobs.bad-row-field-types",
        "a job field of the wrong type makes the row unreadable",
        FROM_IBM,
        '        raise BadJobRow(f"its {key} is not a string of at most {limit} characters")\n',
        "        return str(value)[:limit]\n",
        TSJ + "test_a_malformed_job_row_is_left_out_with_a_note_and_nothing_goes_stale[backend list]",
    ),
    M(
        "jobs.count-bounded",
        "a job count out of bounds is not the total",
        FROM_IBM,
        "    return number if 0 <= number <= high else None\n",
        "    return number\n",
        TSJ + "test_a_job_count_out_of_bounds_is_the_rows_read[10**40]",
    ),
    M(
        "jobs.public-bad-row-skipped",
        "on the public client path a job the record refuses is left out with a note, not the page",
        IBM,
        "            except BadJobRow as problem:\n                problems.append(",
        "            except KeyError as problem:\n                problems.append(",
        TSJ + "test_without_the_raw_page_a_bad_job_is_left_out_with_a_note_and_nothing_backs_off[tag number]",
    ),
    M(
        "jobs.record-refusal-is-a-bad-row",
        "a field the job record refuses makes that job unreadable, not the page",
        FROM_IBM,
        "    except (TypeError, ValueError) as problem:\n        raise BadJobRow(",
        "    except KeyError as problem:\n        raise BadJobRow(",
        TSJ + "test_without_the_raw_page_a_bad_job_is_left_out_with_a_note_and_nothing_backs_off[program number]",
    ),
    M(
        "jobs.bad-detail-no-backoff",
        "a job detail that cannot be read is that job's answer, not an upstream failure",
        IBM,
        "            except BadJobRow as problem:  # this job's answer: not an upstream failure, no backoff\n",
        "            except KeyError as problem:  # this job's answer: not an upstream failure, no backoff\n",
        TSJ + "test_a_bad_job_detail_is_one_line_and_nothing_backs_off[tag number]",
    ),
    M(
        "jobs.detail-count-bounded",
        "a circuit count in the metrics out of bounds is no count",
        FROM_IBM,
        '    pubs = bounded_count(metrics.get("num_circuits"))\n',
        '    pubs = metrics.get("num_circuits")\n',
        TSJ + "test_a_bad_circuit_count_in_the_metrics_is_no_count[10**40]",
    ),
    M(
        "jobs.wire-qpu",
        "a job on the wire says qpu, once",
        JOBS_UP,
        '    data["qpu"] = data.pop("backend")\n',
        '    data["qpu"] = data["backend"]\n',
        TSW + "test_every_answer_on_the_local_fleet_holds_to_the_schema",
    ),
    # --- the routes ------------------------------------------------------------------------------------------
    M(
        "http.503",
        "rate-limited / unreachable is a 503",
        HTTPERR,
        "    if isinstance(error, (RateLimited, Unreachable)):\n        return 503",
        "    if isinstance(error, (RateLimited, Unreachable)):\n        return 502",
        TSC + "test_a_429_with_no_data_is_a_503_with_retry_after",
        TFS + "test_fault_with_no_data_is_one_json_sentence[429]",
    ),
    M(
        "http.504",
        "a deadline is a 504",
        HTTPERR,
        "    if isinstance(error, DeadlineExceeded):\n        return 504",
        "    if isinstance(error, DeadlineExceeded):\n        return 502",
        TFS + "test_sign_in_faults_are_one_json_sentence[iam stall]",
    ),
    M(
        "http.404",
        "an unknown QPU is a 404",
        HTTPERR,
        "    if isinstance(error, (UnknownBackend, NoBackendAvailable, JobNotFound)):\n        return 404",
        "    if isinstance(error, (UnknownBackend, NoBackendAvailable, JobNotFound)):\n        return 500",
        TSR + "test_detail_of_an_unknown_or_malformed_name",
    ),
    M(
        "http.409",
        "a plan mismatch is a 409",
        HTTPERR,
        "    if isinstance(error, PlanMismatchError):\n        return 409",
        "    if isinstance(error, PlanMismatchError):\n        return 500",
        TSR + "test_a_plan_that_disagrees_with_ibm_is_a_409[server_traits0]",
    ),
    M(
        "http.retry-after-header",
        "an upstream error carries Retry-After",
        HTTPERR,
        "    if wait and status in (502, 503, 504):\n",
        "    if False:\n",
        TSR + "test_ibm_errors_are_json_with_the_right_status_and_no_secret[server_traits0]",
    ),
    M(
        "http.one-sentence",
        "an error message is one sentence",
        HTTPERR,
        "    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else text",
        "    return text",
        TSR + "test_detail_of_an_unknown_or_malformed_name",
    ),
    M(
        "routes.name-check",
        "a malformed QPU name is a 400",
        ROUTES,
        'NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")',
        'NAME_PATTERN = re.compile(r"^.{1,64}$")',
        TSR + "test_detail_of_an_unknown_or_malformed_name",
    ),
    M(
        "routes.ascii-digits",
        "a query number in other digits than ASCII is a 400",
        ROUTES,
        "        if not ASCII_NUMBER.fullmatch(text) or not low <= int(text) <= high:\n",
        "        if not text.isdigit() or not low <= int(text) <= high:\n",
        TSJ + "test_bad_filters_are_a_400_naming_the_argument[superscript 2]",
        TSJ + "test_bad_filters_are_a_400_naming_the_argument[arabic 3]",
    ),
    M(
        "routes.cross-origin",
        "a cross-origin write is a 403 that says so",
        P + "server/handler.py",
        "            if error.status_code == 404 and not self.check_origin():\n",
        "            if False:\n",
        TSR + "test_a_cross_origin_write_is_a_403_that_says_so",
    ),
    M(
        "routes.pick-former-body",
        "the pick still takes the former body {backend: name}",
        ROUTES,
        '        field = "qpu" if "qpu" in data else "backend"',
        '        field = "qpu"',
        TSR + "test_pick_round_trip_and_the_pick_file",
    ),
    M(
        "routes.body-limit",
        "an oversized body is a 413",
        ROUTES,
        "        if len(body) > MAX_BODY_BYTES:\n",
        "        if False:\n",
        TSR + "test_pick_rejects_bad_bodies",
    ),
    M(
        "routes.pick-must-be-listed",
        "only a listed QPU can be picked",
        ROUTES,
        "            await asyncio.get_running_loop().run_in_executor(None, select, listing, name)\n",
        "            pass\n",
        TSR + "test_pick_rejects_bad_bodies",
    ),
    M(
        "routes.least-busy-flag",
        "the least busy row is flagged",
        UPSTREAM,
        "least_busy=qpu.name == name)",
        "least_busy=False)",
        TSR + "test_backends_on_the_local_fleet",
    ),
    M(
        "routes.ranked",
        "the listing is ranked like the core ranks",
        UPSTREAM,
        " for qpu in ranked(listing.qpus)],",
        " for qpu in listing.qpus],",
        TSR + "test_backends_on_the_local_fleet",
    ),
    M(
        "routes.empty-fleet-is-an-answer",
        "an empty fleet is a 200 with no least busy",
        UPSTREAM,
        "    chosen = least_busy(listing)\n",
        "    chosen = least_busy(listing) or listing.qpus[0]\n",
        TFS + "test_fault_after_good_data_serves_it_stale_and_keeps_serving[empty list]",
    ),
    M(
        "routes.authenticated",
        "a route refuses a request without a token",
        ROUTES,
        "class StatusHandler(QConnectorHandler):\n    @web.authenticated\n",
        "class StatusHandler(QConnectorHandler):\n",
        TSR + "test_every_route_refuses_a_request_without_a_token[GET-status]",
    ),
    M(
        "routes.json-errors",
        "every error answer is JSON with a message and a code",
        P + "server/handler.py",
        '        self.clear_header("Content-Disposition")\n        self.set_header("Content-Type", "application/json")\n'
        "        self.finish(json.dumps(body))\n",
        "        self.finish()\n",
        TFS + "test_bad_requests_get_a_clear_status[PUT pick]",
        TFS + "test_bad_requests_get_a_clear_status[unknown route]",
    ),
    M(
        "pick.clear",
        "clearing the pick removes the file",
        PICK,
        "                    stored.unlink()\n",
        "                    pass\n",
        TSR + "test_pick_round_trip_and_the_pick_file",
    ),
    # --- render ----------------------------------------------------------------------------------------------
    M(
        "layout.heavy-hex",
        "an Eagle is drawn as a heavy-hex lattice",
        LAYOUT,
        '    return ChipLayout("heavy-hex" if bridges else "square", tuple(points), edges)',
        '    return ChipLayout("square", tuple(points), edges)',
        TSR + "test_detail_of_a_127_qubit_qpu",
    ),
    # --- notebooks (a real kernel) ---------------------------------------------------------------------------
    M(
        "notebooks.bell-good-qubits",
        "example 01 transpiles onto good qubits, and its stated agreement holds",
        "examples/01-connect-and-run-a-bell-circuit.ipynb",
        "generate_preset_pass_manager(optimization_level=2, backend=backend)",
        "generate_preset_pass_manager(optimization_level=1, backend=backend)",
        TNB + "test_bell_notebook[fake_torino]",
    ),
    M(
        "notebooks.chip-good-qubits",
        "example 03's Bell pair lands on qubits no worse than the chip's median",
        "examples/03-pick-a-qpu-by-size-and-see-its-chip.ipynb",
        "generate_preset_pass_manager(optimization_level=level, backend=big)",
        "generate_preset_pass_manager(optimization_level=1, backend=big)",
        TNB + "test_min_qubits_and_coupling_map_notebook",
    ),
    M(
        "notebooks.batch-note-once",
        "the open plan's Batch note is said once, in the summary",
        MAGICS,
        "        if not quiet:\n            if not shown:\n",
        "        if not quiet and not shown:\n            if True:\n",
        TNB + "test_each_note_once_no_empty_output_before_an_error_no_empty_table",
    ),
    M(
        "notebooks.error-alone",
        "a failing %qconnect leaves no empty output before its error",
        MAGICS,
        "        clear_output(wait=True)  #",
        "        pass  #",
        TNB + "test_each_note_once_no_empty_output_before_an_error_no_empty_table",
    ),
    M(
        "notebooks.no-empty-jobs-table",
        "%qjobs with no job says so in one line, with no empty table",
        P + "render/jobs_table.py",
        "        return self.empty if self.empty is not None else super().__str__()",
        "        return super().__str__()",
        TNB + "test_each_note_once_no_empty_output_before_an_error_no_empty_table",
        "tests/test_magics_jobs.py::test_qjobs_shows_a_job_queued_then_done_and_qjob_gets_it",
    ),
    M(
        "notebooks.progress-removed",
        "no dead progress widget stays in the saved notebook",
        MAGICS,
        "            self._handle.update(result)\n            return True\n",
        "            return False\n",
        TNB + "test_bell_notebook[None]",
    ),
    M(
        "notebooks.least-busy-marked",
        "the comparison notebook marks one least busy QPU",
        TABLES,
        '        if name == self.least_busy:\n            marks.append("least busy")',
        '        if False:\n            marks.append("least busy")',
        TNB + "test_fleet_comparison_notebook",
    ),
    # --- the emulator (test infrastructure the IBM path stands on) ----------------------------------------------
    M(
        "emulator.retry-after",
        "the emulator sends a 429's Retry-After",
        EMU + "emulator.py",
        '            headers["Retry-After"] = (',
        '            headers["X-Ignored"] = (',
        TEMU + "test_fault_429_with_retry_after_is_honoured",
    ),
    M(
        "emulator.executor-program",
        "the emulator runs the executor program (the executor Sampler and Estimator)",
        EMU + "jobs.py",
        '    if program == "executor":\n        return run_executor(params, seed)\n',
        "",
        "tests/test_emulator_jobs.py::test_executor_sampler_runs_the_executor_program_and_counts_come_back",
        "tests/test_emulator_jobs.py::test_executor_estimator_in_a_session",
    ),
    M(
        "emulator.executor-samplex-finalize",
        "a twirled executor Sampler's samplex items are finalized before sampling",
        EMU + "jobs.py",
        "            samplex.finalize()  #",
        "            pass  #",
        "tests/test_emulator_jobs.py::test_executor_sampler_twirled_in_a_batch",
    ),
    # --- the frontend (jest) ---------------------------------------------------------------------------------
    M(
        "ts.format-plural",
        "one job, not one jobs",
        "src/format.ts",
        "  const unit = n === 1 ? 'job' : 'jobs';",
        "  const unit = 'jobs';",
        JF + "pluralises jobs",
    ),
    M(
        "ts.format-age-minutes",
        "ages in minutes",
        "src/format.ts",
        "    return `${Math.floor(s / 60)} min ago`;",
        "    return `${Math.round(s / 60)} min ago`;",
        JF + "formats seconds, minutes, hours and days",
    ),
    M(
        "ts.model-stale",
        "a failed refresh keeps the data, marked stale",
        "src/polling.ts",
        "      (this._error !== null || this._freshness.stale)",
        "      this._freshness.stale",
        JM + "keeps the last good data, marked stale, when the server fails",
    ),
    M(
        "ts.model-standby",
        "the model stands by while hidden",
        "src/polling.ts",
        "      standby: () => !this.wanted || 'when-hidden'",
        "      standby: () => false",
        JM + "stands by while every view is hidden, and catches up when shown",
    ),
    M(
        "ts.poll-retry-floor",
        "after a failed refresh the poll retries no sooner than one interval (Poll's zero-wait backoff)",
        "src/polling.ts",
        "          state.interval < this._interval ||",
        "          false ||",
        JJ + "after a failed refresh, retries no sooner than one interval",
    ),
    M(
        "ts.jobs-pending-pace",
        "the jobs are polled faster while a followed job is pending",
        "src/jobs/model.ts",
        "      ? Math.min(this.interval, this._pendingInterval)",
        "      ? this.interval",
        JJ + "polls every pending interval while a job is pending",
    ),
    M(
        "ts.jobs-cancel-once",
        "a job cancelled here is not notified again when it turns CANCELLED",
        "src/jobs/model.ts",
        "      this._cancelledHere.add(id);",
        "",
        JJ + "notifies nothing for a job this browser cancelled",
    ),
    M(
        "ts.jobs-run-from-detail",
        "the list shows the run time the detail knows",
        "src/jobs/model.ts",
        "      return known && !job.started && known.started",
        "      return false",
        JJ + "shows the run time the detail knows when the list of IBM has no start",
    ),
    M(
        "ts.jobs-no-local-queue",
        "no queue next to a local job",
        "src/jobs/views.ts",
        "          job.status === 'QUEUED' && job.provider !== 'local'",
        "          job.status === 'QUEUED'",
        JJ + "shows loading, error, empty, then rows with chip, queue and tags",
    ),
    M(
        "ts.request-timeout",
        "a request that never ends is given up",
        "src/request.ts",
        "  const timer = setTimeout(() => controller.abort(), timeout);",
        "  const timer = 0;",
        JM + "gives up on a request that never ends, and polls on",
    ),
    M(
        "ts.filter-min-qubits",
        "the list filters by minimum qubits",
        "src/views/list.ts",
        "    if (filter.minQubits > 0 && q.qubits < filter.minQubits) {",
        "    if (false) {",
        JV + "filters by text and by minimum qubits",
    ),
    M(
        "ts.least-busy-class",
        "the least busy row is marked",
        "src/views/list.ts",
        "    row.item.classList.toggle('jp-mod-leastBusy', q.least_busy);",
        "",
        JV + "is never blank: loading, then the fleet with its queues",
    ),
    # --- after the review: endpoints two parsers read differently, %qjob's job object, jobs of a stopped kernel ---
    M(
        "trust.endpoint-parsers-agree",
        "an endpoint whose host two parsers read differently is refused",
        CFG_ENDPOINTS,
        "    reason = _ambiguity(value)\n    if reason is not None:\n        return reason\n",
        "",
        "tests/test_trust_endpoints.py::test_connect_refuses_an_endpoint_whose_host_parsers_disagree_on",
        also=(
            Edit(
                CFG_ENDPOINTS, '        return "parts that Python and the HTTP client read differently"', "        pass"
            ),
        ),
    ),
    M(
        "trust.endpoint-rebuilt",
        "the client gets the URL rebuilt from its parsed parts, never the raw string",
        CFG_ENDPOINTS,
        '    return _Endpoint(scheme, host, f"{scheme}://{shown_host}{port}{split.path}".rstrip("/"))',
        "    return _Endpoint(scheme, host, value)",
        "tests/test_trust_endpoints.py::test_an_accepted_endpoint_is_passed_on_rebuilt_from_its_parsed_parts",
    ),
    # --- sign-in: the key check, the stored account, the settings' precedence, the server's switch ---------------
    M(
        "signin.prefer-signed-in",
        "the settings take the signed-in account before any other saved account",
        CFG_SAVED,
        "    signed_in = store.ACCOUNT_NAME if isinstance(accounts.get(store.ACCOUNT_NAME), dict) else None\n",
        "    signed_in = None\n",
        "tests/test_accounts.py::test_the_settings_use_the_signed_in_account_before_other_saved_accounts",
    ),
    M(
        "signin.refused-line",
        "a key IAM refuses gets the 'IBM refused this API key' line",
        P + "accounts/sign_in.py",
        "    if status in (400, 401, 403):",
        "    if status in ():",
        "tests/test_accounts.py::test_a_bad_key_costs_one_iam_request_and_gets_the_refused_line",
    ),
    M(
        "signin.unreachable-line",
        "an unreachable IBM is 'could not reach', not the key's fault",
        P + "accounts/sign_in.py",
        '    if status is None and any(isinstance(link, kinds["unreachable"]) for link in _chain(exc)):',
        '    if False and any(isinstance(link, kinds["unreachable"]) for link in _chain(exc)):',
        "tests/test_accounts.py::test_an_unreachable_ibm_is_not_the_keys_fault",
    ),
    M(
        "signin.deadline",
        "the key check ends within the deadline when IAM stalls",
        P + "accounts/sign_in.py",
        "    raw = call_with_deadline(fetch, what=WHAT, seconds=seconds, secrets=(secret,))",
        "    raw = fetch()",
        "tests/test_accounts.py::test_a_stalled_iam_gets_the_deadline_line_within_the_deadline",
    ),
    M(
        "signin.file-0600",
        "the accounts file is written with mode 0600",
        P + "accounts/store.py",
        '    write_private(path, text.encode("utf-8"), variable=shown(path))',
        '    write_private(path, text.encode("utf-8"), variable=shown(path), mode=0o644)',
        "tests/test_accounts.py::test_sign_in_stores_0600_in_0700_and_keeps_the_other_accounts",
    ),
    M(
        "signin.folder-0700",
        "the accounts folder is made 0700",
        P + "accounts/store.py",
        "            os.chmod(folder, 0o700)",
        "            pass",
        "tests/test_accounts.py::test_sign_in_stores_0600_in_0700_and_keeps_the_other_accounts",
    ),
    M(
        "signin.others-kept",
        "the other saved accounts are kept by a sign-in",
        P + "accounts/store.py",
        "        data = _read_all(target)\n        data[ACCOUNT_NAME] = account\n",
        "        data = {ACCOUNT_NAME: account}\n",
        "tests/test_accounts.py::test_sign_in_stores_0600_in_0700_and_keeps_the_other_accounts",
    ),
    M(
        "signin.upstream-switches",
        "after a sign-in the server's listing comes from IBM at once (the stamp includes the account file)",
        UPSTREAM_CALLS,
        "    return (*_env_stamp(options), account_store.stamp())",
        "    return _env_stamp(options)",
        "tests/test_server_account.py::test_sign_in_lists_then_stores_and_the_sidebar_switches_to_ibm",
    ),
    M(
        "signin.signout-forgets",
        "a sign-out drops the cached service of the key, not only the file",
        P + "server/account_routes.py",
        "        forget_providers()  # the signed-out key's service goes too, not only the file\n",
        "",
        "tests/test_server_account.py::test_sign_in_lists_then_stores_and_the_sidebar_switches_to_ibm",
    ),
    M(
        "signin.one-unit",
        "the sign-in's key goes with the sign-in's own instance, channel and endpoints, never another layer's",
        CFG,
        "    unit = src.account_unit() if saved is not None else src\n",
        "    unit = src\n",
        "tests/test_accounts.py::test_a_signed_in_key_goes_with_its_own_instance_channel_and_endpoints",
    ),
    M(
        "signin.no-allow-listed-url-in-the-clients-account",
        "an endpoint only the allow-list trusts is not the url of the client's saved account",
        P + "accounts/sign_in.py",
        "            details[store.SETTINGS_ONLY_URL], cloud_url = cloud_url, None\n",
        "            details[store.SETTINGS_ONLY_URL] = cloud_url\n",
        "tests/test_accounts.py::test_an_endpoint_only_the_allow_list_trusts_is_not_in_the_clients_account",
    ),
    M(
        "signin.lock-without-fcntl",
        "the store, the settings and the server load on an OS without fcntl",
        P + "accounts/store.py",
        "import contextlib\nimport importlib\n",
        "import contextlib\nimport fcntl  # noqa: F401\nimport importlib\n",
        "tests/test_accounts.py::test_the_store_and_load_settings_import_on_an_os_without_fcntl",
    ),
    M(
        "signin.marker-lock-bounded",
        "without an OS lock, the marker lock is exclusive and waited on for a bounded time",
        P + "accounts/store.py",
        "                    fd = _try_marker(lock_path)\n",
        "                    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)\n",
        "tests/test_accounts.py::test_the_lock_works_without_fcntl_and_is_bounded",
    ),
    M(
        "signin.save-account-locked",
        "save_account writes qiskit-ibm.json under the sign-in's lock",
        CFG_SAVED,
        "    lock = store.locked(path, seconds)  #",
        "    lock = tempfile.TemporaryDirectory()  # no lock:",
        "tests/test_accounts.py::test_save_account_and_a_sign_in_share_one_lock",
    ),
    M(
        "signin.echoed-key-redacted",
        "a key-check failure that echoes the key never shows it (the redaction knows the key)",
        P + "accounts/sign_in.py",
        "    clean = redact(str(error), secrets)\n",
        "    clean = str(error)\n",
        "tests/test_accounts.py::test_an_exception_that_echoes_the_key_never_shows_it",
        also=(
            Edit(
                P + "accounts/sign_in.py",
                "    return classify(exc, what=WHAT, seconds=seconds, secrets=secrets)",
                "    return classify(exc, what=WHAT, seconds=seconds)",
            ),
        ),
    ),
    M(
        "signin.accounts-file-409",
        "an unusable qiskit-ibm.json (locked, not JSON) is a 409 with the fix, not a 500",
        P + "server/account_routes.py",
        "            if error.variable.startswith(store.shown(store.accounts_file())):",
        "            if False:",
        "tests/test_server_account.py::test_an_unusable_accounts_file_is_a_409_with_the_fix_not_a_500",
    ),
    M(
        "signin.qlogin-deadline-bounded",
        "%qlogin --deadline is checked by the settings' bounded seconds rule, naming --deadline",
        CFG_VALUES,
        "    if number > most:\n",
        "    if False:\n",
        "tests/test_login_magics.py::test_a_bad_or_unbounded_deadline_names_deadline_and_asks_for_no_key[1e9]",
    ),
    M(
        "signin.prompt-at-call-time",
        "%qlogin looks getpass.getpass up when it runs (the kernel's forwarder of the moment)",
        P + "login_magics.py",
        "            prompt = self.prompt or getpass.getpass\n",
        "            prompt = self.prompt or _GETPASS\n",
        "tests/test_login_magics.py::test_the_prompts_are_looked_up_when_qlogin_runs",
        also=(
            Edit(
                P + "login_magics.py",
                "_registered: dict[int, QLogin] = {}\n",
                "_registered: dict[int, QLogin] = {}\n_GETPASS = getpass.getpass\n",
            ),
        ),
    ),
    M(
        "signin.refused-key-forgotten",
        "a key IBM refused is not kept in the redacting filter",
        P + "accounts/sign_in.py",
        "            redacting_filter.discard(secret)\n",
        "            pass\n",
        "tests/test_accounts.py::test_the_redacting_filter_keeps_no_refused_key_and_is_capped",
    ),
    M(
        "signin.redacting-filter-capped",
        "the redacting filter keeps at most its limit of secrets",
        SECRET,
        "            while len(self._secrets) > self.LIMIT:\n",
        "            while False:\n",
        "tests/test_accounts.py::test_the_redacting_filter_keeps_no_refused_key_and_is_capped",
    ),
    M(
        "signin.key-forgotten",
        "the sidebar forgets a pasted key after its lifetime",
        "src/account/model.ts",
        "      this._timer = setTimeout(() => this._forgetKey(), KEY_LIFETIME);",
        "      this._timer = null;",
        "src/__tests__/account.spec.ts::AccountModel forgets the pasted key after its lifetime",
    ),
    M(
        "jobs.live-job-object",
        "%qjob in the kernel that ran a local job gives the job itself",
        P + "providers/local_jobs.py",
        "        return _live_jobs.get(job_id)",
        "        return None",
        "tests/test_magics_jobs.py::test_qjob_in_the_kernel_that_ran_a_local_job_gives_the_job_itself",
    ),
    M(
        "jobs.worker-process",
        "a local job runs in a worker process, so the kernel answers while it runs",
        P + "providers/local_jobs.py",
        "        payload: bytes | None = pickle.dumps(task)",
        "        payload: bytes | None = None",
        "tests/test_local_job_process.py::test_the_kernel_answers_during_a_long_job_and_a_cancel_ends_its_process",
    ),
    M(
        "jobs.cancel-kills-the-worker",
        "a cancel of a running local job ends its process",
        P + "providers/local_jobs.py",
        "        if self._stop.is_set():\n            worker.kill()\n",
        "        if self._stop.is_set():\n",
        "tests/test_local_job_process.py::test_the_kernel_answers_during_a_long_job_and_a_cancel_ends_its_process",
    ),
    M(
        "jobs.worker-dies-with-its-kernel",
        "the worker process ends when its kernel ends, even by kill -9",
        P + "providers/local_jobs.py",
        "    os._exit(0)  # the kernel is gone: so is its job",
        "    return",
        "tests/test_local_job_process.py::test_the_worker_dies_with_its_kernel",
    ),
    M(
        "jobs.time-bound",
        "a local job past QCONNECTOR_LOCAL_JOB_TIMEOUT is stopped and ends as ERROR",
        P + "providers/local_jobs.py",
        "        if now >= deadline:",
        "        if False:",
        "tests/test_local_job_process.py::test_a_job_past_its_time_bound_ends_as_error_in_one_line",
    ),
    M(
        "jobs.store-cancel-kills-a-running-job",
        "a cancel asked through the store (the server) ends a running job's process",
        P + "providers/local_jobs.py",
        "        if now >= self._next_store_check:",
        "        if False:",
        "tests/test_local_job_process.py::test_a_cancel_through_the_store_ends_a_running_job_and_its_process",
    ),
    M(
        "jobs.max-shots",
        "a local job over the backend's max_shots is refused at submission, as IBM does",
        P + "providers/local_jobs.py",
        "    if max_shots is not None and most > max_shots:",
        "    if False:",
        "tests/test_local_job_process.py::test_ten_million_shots_are_refused_in_one_line_before_the_job_exists",
    ),
    M(
        "jobs.max-experiments",
        "a local job over the backend's max_experiments is refused at submission",
        P + "providers/local_jobs.py",
        "    if max_experiments is not None and circuits > max_experiments:",
        "    if False:",
        "tests/test_local_job_process.py::test_more_circuits_than_max_experiments_are_refused",
    ),
    M(
        "jobs.run-time-note",
        "a long local job says its estimated run time at submission",
        P + "providers/local_jobs.py",
        "    if seconds < ANNOUNCE_SECONDS:",
        "    if True:",
        "tests/test_local_job_process.py::test_a_long_job_says_its_run_time_at_submission",
    ),
    M(
        "fleet.target-in-background",
        "loading a local-fleet backend builds its target off the calling thread (the connect returns first)",
        FLEET,
        "                self._backends[name].build_target_in_background()",
        "                self._backends[name].target  # noqa: B018",
        "tests/test_local_job_process.py::test_loading_a_backend_builds_its_target_once_off_the_calling_thread",
    ),
    M(
        "jobs.send-within-the-time-bound",
        "the task is sent from a helper thread: a worker that never reads cannot hold the job past a cancel or the bound",
        P + "providers/local_jobs.py",
        "        while sender.is_alive():\n            self._check_interrupts(worker, deadline, timeout)\n",
        "        sender.join()\n        while sender.is_alive():\n",
        "tests/test_local_job_process.py::"
        "test_a_worker_that_never_reads_cannot_block_the_send_past_the_time_bound_or_a_cancel",
    ),
    M(
        "jobs.store-final-status-stands",
        "a store cancel that lands as the job finishes: the job takes the stored CANCELLED (one truth)",
        P + "providers/local_jobs.py",
        "        if stored is not None and stored.status in FINAL_STATUSES and stored.status != status:",
        "        if False:",
        "tests/test_local_job_process.py::test_a_store_cancel_that_lands_as_the_job_finishes_gives_one_truth",
    ),
    M(
        "jobs.no-spare-worker",
        "no second worker process starts while one is busy",
        P + "providers/local_jobs.py",
        "            if self._busy:\n                return\n",
        "",
        "tests/test_local_job_process.py::test_no_spare_worker_is_started_while_one_is_busy_or_after_the_shutdown",
    ),
    M(
        "jobs.no-worker-after-shutdown",
        "no worker process starts after the kernel's exit shutdown",
        P + "providers/local_jobs.py",
        "            if self._closed:\n                return\n",
        "",
        "tests/test_local_job_process.py::test_no_spare_worker_is_started_while_one_is_busy_or_after_the_shutdown",
    ),
    M(
        "jobs.failed-start-closes-its-fds",
        "a worker that cannot start leaves its socket and pipe closed",
        P + "providers/local_jobs.py",
        "            ours.close()\n            os.close(alive_write)\n            raise\n",
        "            raise\n",
        "tests/test_local_job_process.py::test_a_worker_that_cannot_start_leaks_no_file_descriptor",
    ),
    M(
        "jobs.time-bound-upper-limit",
        "QCONNECTOR_LOCAL_JOB_TIMEOUT over a day is one line",
        P + "providers/local_jobs.py",
        "    if value is not None and value > MAX_TIMEOUT_SECONDS:",
        "    if False:",
        "tests/test_local_job_process.py::test_the_time_bound_has_an_upper_limit_in_one_line",
    ),
    M(
        "jobs.tags-refused-at-submission",
        "a job tag over the record's limit is refused at submission, not run unrecorded",
        P + "providers/local_jobs.py",
        "        if tags is not None and (len(tags) > MAX_TAGS or any(len(tag) > MAX_NAME for tag in tags)):",
        "        if False:",
        "tests/test_local_job_process.py::test_a_tag_over_the_record_limit_is_refused_at_submission",
    ),
    M(
        "files.stale-temporary-removed",
        "the next write removes a crashed write's old temporary file",
        P + "files.py",
        "            if stat.S_ISREG(info.st_mode) and info.st_mtime < oldest:",
        "            if False:",
        "tests/test_files.py::test_the_next_write_removes_a_crashed_writes_old_temporary_but_not_a_young_one",
    ),
    M(
        "fleet.target-built-once",
        "a caller that needs the target during its background build waits for it instead of building another",
        P + "providers/local_simulator.py",
        "        with _TARGET_LOCK:\n            return super().target",
        "        if True:\n            return super().target",
        "tests/test_local_job_process.py::test_loading_a_backend_builds_its_target_once_off_the_calling_thread",
    ),
    M(
        "fleet.member-path-from-listed-name",
        "the provider builds a member's path only from a name the client lists, never from a path",
        FLEET,
        "    listed = {name: name for name in fake_backend_names()}.get(folder) if isinstance(folder, str) else None\n",
        "    listed = folder\n",
        "tests/test_local_fleet_files.py::test_the_provider_refuses_a_member_that_is_a_path",
    ),
    M(
        "fleet.file-bounded",
        "the fleet file is read bounded: a FIFO or /dev/zero is one note, at once",
        FLEET,
        "                data = json.loads(read_bounded(path, variable=FLEET_FILE_VARIABLE))",
        "                data = json.loads(Path(path).read_text())",
        "tests/test_local_fleet_files.py::test_a_fifo_or_dev_zero_fleet_file_is_one_line_and_the_fleet_still_lists",
    ),
    M(
        "jobs.stopped-kernel",
        "a pending job of a kernel that stopped is an error, not pending for ever",
        P + "jobs/owners.py",
        "    except ProcessLookupError:\n        return True\n",
        "    except ProcessLookupError:\n        return False\n",
        "tests/test_local_job_store.py::test_a_pending_job_of_a_kernel_that_stopped_is_an_error",
    ),
    M(
        "jobs.keep-never-drops-pending",
        "the keep-N rule drops the oldest finished jobs only, never one still queued",
        P + "jobs/local_store.py",
        'finished = connection.execute(f"SELECT count(*) FROM jobs WHERE {_FINAL_SQL}")',
        'finished = connection.execute("SELECT count(*) FROM jobs")',
        "tests/test_local_job_store.py::test_ten_submissions_with_keep_five_lose_no_queued_job",
        also=(
            Edit(
                P + "jobs/local_store.py",
                "(SELECT seq FROM jobs WHERE {_FINAL_SQL} ORDER BY seq LIMIT ?)",
                "(SELECT seq FROM jobs ORDER BY seq LIMIT ?)",
            ),
        ),
    ),
    M(
        "jobs.unrecorded-refused",
        "a local job the busy or full store cannot record is refused in one line, never run unrecorded",
        P + "providers/local_jobs.py",
        '            raise type(error)(f"Local fleet: the job was not run. {error}") from None\n',
        "            self._store = None\n",
        "tests/test_local_jobs.py::test_a_job_the_busy_store_cannot_record_is_not_run",
        "tests/test_local_jobs.py::test_a_job_the_full_store_refuses_is_not_run",
    ),
    M(
        "jobs.busy-store-503",
        "a busy local job store answers 503 with its one line and a Retry-After, not 500",
        HTTPERR,
        "    if isinstance(error, (RateLimited, Unreachable, JobStoreBusy)):\n",
        "    if isinstance(error, (RateLimited, Unreachable)):\n",
        "tests/test_server_jobs.py::test_a_busy_local_job_store_is_503_with_its_one_line_and_retry_after",
    ),
    M(
        "jobs.keep-bounded",
        "QCONNECTOR_JOBS_KEEP above the table's 10000 is one line from the reader, not a slow store",
        P + "variables.py",
        "    if most is not None and value > most:\n",
        "    if False:\n",
        "tests/test_variables.py::test_the_job_store_keep_bound_is_the_tables_and_its_reader_enforces_it",
        "tests/test_local_job_store.py::test_the_keep_limit_is_bounded",
    ),
    M(
        "jobs.busy-bounded",
        "a change waits for a busy store at most the bound, then says so in one line",
        P + "jobs/local_store.py",
        'if ("locked" not in text and "busy" not in text) or time.monotonic() >= deadline:',
        'if "locked" not in text and "busy" not in text:',
        "tests/test_local_job_store.py::test_a_store_busy_too_long_is_a_one_line_error_not_a_hang",
    ),
    M(
        "jobs.damaged-kept-aside",
        "a damaged database is renamed aside, not discarded",
        P + "jobs/migration.py",
        '    moved = claim(source, source.with_name(f"{name or source.name}.{suffix}"))\n',
        "    moved = None\n    source.unlink()\n",
        "tests/test_local_job_store.py::test_a_damaged_database_is_kept_aside_with_a_note",
    ),
    M(
        "jobs.migrated-once",
        "an old jobs.json is imported once: a later process does not bring back what changed since",
        P + "jobs/local_store.py",
        '                connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"migrated:{identity}", str(source)))\n',
        "                pass\n",
        "tests/test_job_store_processes.py::test_an_old_jobs_json_is_migrated_once_then_renamed_aside",
        also=(Edit(P + "jobs/local_store.py", '"INSERT OR IGNORE INTO jobs', '"INSERT OR REPLACE INTO jobs'),),
    ),
    M(
        "jobs.huge-owner-pid",
        "a damaged owner pid (2**31) is not a process id: no OverflowError",
        P + "jobs/owners.py",
        "        and 0 < pid <= MAX_PID\n",
        "        and 0 < pid\n",
        "tests/test_local_job_store.py::test_damaged_records_are_skipped_never_raised",
        also=(Edit(P + "jobs/owners.py", "except (OSError, OverflowError):", "except OSError:"),),
    ),
    M(
        "jobs.no-symlink",
        "the job store is never written through a symbolic link",
        P + "jobs/local_store.py",
        "            if stat.S_ISLNK(info.st_mode):\n",
        "            if False:\n",
        "tests/test_local_job_store.py::test_a_symbolic_link_is_never_written_through",
    ),
    M(
        "jobs.record-tags-checked",
        "a record's tags must be a list of strings (a damaged entry is refused, not read as characters)",
        P + "jobs/records.py",
        "        if isinstance(self.tags, (str, bytes)) or not isinstance(self.tags, (list, tuple)):\n",
        "        if False:\n",
        "tests/test_local_job_store.py::test_a_record_checks_its_fields",
    ),
    M(
        "pick.private-write",
        "the pick is written 0600 and never through a symbolic link",
        PICK,
        '    write_private(path, json.dumps(pick.as_dict()).encode("utf-8"), variable=_variable(path))\n',
        "    path.parent.mkdir(parents=True, exist_ok=True)\n    path.write_text(json.dumps(pick.as_dict()))\n",
        "tests/test_pick_file.py::test_the_pick_is_never_written_through_a_symbolic_link",
        "tests/test_pick_file.py::test_the_pick_is_written_private_and_read_back",
    ),
    # --- the best QPU for a circuit: scorer, rule, faces --------------------------------------------------------
    M(
        "fit.readout-counted",
        "the expected fidelity counts every measurement's readout error",
        P + "circuit_fit/layouts.py",
        "    parts += [(prepared.measures, cal.readout), (prepared.resets, cal.reset)]\n",
        "    parts += [(prepared.resets, cal.reset)]\n",
        "tests/test_best_qpu.py::test_ranks_by_expected_fidelity_and_reports_an_exact_figure",
    ),
    M(
        "fit.best-placement",
        "the best-scoring placement is kept, not the worst",
        P + "circuit_fit/layouts.py",
        '    order = np.argsort(-score, kind="stable")[: REFINE if lonely else 1]\n',
        '    order = np.argsort(score, kind="stable")[: REFINE if lonely else 1]\n',
        "tests/test_best_qpu.py::test_the_chosen_layout_is_the_best_of_all_placements",
        "tests/test_best_qpu_mapomatic.py::test_no_worse_than_mapomatic",
    ),
    M(
        "fit.lonely-assignment",
        "qubits without 2-qubit gates go to the best free qubits",
        P + "circuit_fit/layouts.py",
        "            cost = np.where(np.isfinite(gains), -gains, 1e12)\n",
        "            cost = np.where(np.isfinite(gains), gains, 1e12)\n",
        "tests/test_best_qpu.py::test_no_two_qubit_gates_take_the_best_readout_qubits",
    ),
    M(
        "fit.calibration-cached",
        "a calibration is reused within the recheck interval (IBM: no second properties request)",
        P + "circuit_fit/calibration.py",
        "        if known is not None and now - known.checked <= self.recheck:\n",
        "        if False:\n",
        "tests/test_best_qpu.py::test_the_calibration_cache_rebuilds_only_for_a_new_calibration_date",
        "tests/test_best_qpu_faces.py::test_ibm_path_requests",
    ),
    M(
        "fit.tie-tolerance",
        "a near tie in expected fidelity goes to the shorter queue",
        RANK,
        "    near = [s for s in on_front if s[1] >= best - tolerance]\n",
        "    near = [s for s in on_front if s[1] >= best]\n",
        "tests/test_best_qpu.py::test_pareto_front_and_the_pick",
        "tests/test_best_qpu_faces.py::test_the_rule_with_the_fleet_files_queues",
    ),
    M(
        "fit.front-mark",
        "%qbackends --for marks only the Pareto front",
        TABLES,
        '        mark = f" {FRONT_MARK}" if name in self.ranking.front else ""\n',
        '        mark = f" {FRONT_MARK}"\n',
        "tests/test_best_qpu_faces.py::test_qbackends_for_shows_fidelity_layout_and_the_front",
    ),
    M(
        "fit.for-names-no-variable",
        "--for naming no variable is one line, and nothing changes",
        MAGICS,
        "        if not variable.isidentifier() or variable not in shell.user_ns:\n",
        "        if not variable.isidentifier():\n",
        "tests/test_best_qpu_faces.py::test_bad_input_is_one_line_and_changes_nothing",
    ),
    M(
        "fit.layout-landed",
        "the pass manager lands the circuit on the scored layout",
        P + "circuit_fit/pass_manager.py",
        "            placed = self._relabel(routed, item)\n",
        "            placed = None\n",
        "tests/test_best_qpu.py::test_ranks_by_expected_fidelity_and_reports_an_exact_figure",
        "tests/test_best_qpu_mapomatic.py::test_no_worse_than_mapomatic",
    ),
    M(
        "hub.listings-through-the-service",
        "on JupyterHub a student's server lists through the class's QPU service: one /backends per refresh",
        P + "providers/__init__.py",
        "                if url is not None:\n",
        "                if False:\n",
        "tests/test_hub.py::test_each_student_lists_the_class_qpus_with_one_upstream_request_per_refresh",
    ),
    M(
        "hub.service-checks-the-scope",
        "the class's QPU service refuses (403) a token without access:services!service=NAME",
        P + "hub/service.py",
        "            self._hub_auth_user_cache = self.check_hub_user(model)\n",
        "            self._hub_auth_user_cache = model\n",
        "tests/test_hub.py::test_a_token_without_the_scope_is_refused_by_the_service",
    ),
    M(
        "hub.fallback-says-so",
        "a server whose class service is down lists with the student's own key, and its listing says so",
        P + "providers/hub_service.py",
        "            return dataclasses.replace(own, notes=(*own.notes, self.fallback_note()))\n",
        "            return own\n",
        "tests/test_hub_provider.py::test_with_the_service_down_the_students_own_key_lists_and_says_so_once",
        "tests/test_hub.py::test_the_service_stopped_each_server_falls_back_with_its_note",
    ),
    M(
        "hub.class-key-to-the-service-only",
        "the example hub config hands the class's key to the service only, never to a student's server",
        "examples/classroom/jupyterhub_config.py",
        'c.Spawner.environment = {"QCONNECTOR_HUB_SERVICE_URL":',
        'c.Spawner.environment = {"IQP_API_TOKEN": os.environ["IQP_API_TOKEN"], "QCONNECTOR_HUB_SERVICE_URL":',
        "tests/test_hub.py::test_the_class_credential_never_reaches_a_student",
    ),
    M(
        "hub.sidebar-shows-the-listing-notes",
        "the sidebar shows the listing's notes (the class's QPU service being down, say), one line each",
        "src/views/panel.ts",
        "replaceChildren(this._notes, ...notes.map(note => h('li', {}, note)));",
        "replaceChildren(this._notes);",
        JV + "shows the listing’s notes, one line each, and nothing when there are none",
    ),
]


# --- running ----------------------------------------------------------------------------------------------------


def copy_tree(dest: Path, source: Path = ROOT) -> None:
    if (source / ".git").exists():
        listed = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=source,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
    else:  # e.g. an exported commit (git archive): every file
        listed = [
            str(p.relative_to(source))
            for p in source.rglob("*")
            if p.is_file() and not {"node_modules", ".venv", "__pycache__"} & set(p.parts)
        ]
    for rel in filter(None, listed):
        src = source / rel
        if not src.is_file():
            continue  # deleted in the work tree, not yet committed
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    modules = _node_modules()
    if modules is not None:
        (dest / "node_modules").symlink_to(modules)


def _node_modules() -> Path | None:
    """The jest tests' node_modules: this checkout's, else (in a git worktree) the main checkout's, found from git."""
    if (ROOT / "node_modules").is_dir():
        return ROOT / "node_modules"
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    main = Path(common).parent / "node_modules"
    return main if main.is_dir() else None


def _layout_free(find: str) -> re.Pattern[str]:
    """A pattern for ``find`` that ignores layout: any whitespace between characters, either quote, and an optional
    trailing comma before a closing bracket (what a formatter changes), so a reformatted file still matches."""
    parts: list[str] = []
    for char in find.strip():
        if char.isspace():
            continue
        if char in "'\"":
            parts.append("['\"]")
        elif char in ")]}":
            parts.append(",?" + r"\s*" + re.escape(char))
        else:
            parts.append(re.escape(char))
    return re.compile(r"\s*".join(parts))


def _locate(current: str, find: str) -> tuple[int, int] | str:
    """The span of ``find`` in ``current``: exact, else layout-free; or why it cannot be found once."""
    count = current.count(find)
    if count == 1:
        start = current.index(find)
        return start, start + len(find)
    if count > 1:
        return f"found {count} times in"
    matches = list(_layout_free(find).finditer(current))
    if len(matches) != 1:
        return "absent from" if not matches else f"found {len(matches)} times (ignoring layout) in"
    return matches[0].span()


def _replacement(find: str, replace: str) -> str:
    """``replace`` for a layout-free match, which spans ``find`` without its leading and trailing whitespace."""
    lead = find[: len(find) - len(find.lstrip())]
    trail = find[len(find.rstrip()) :]
    body = replace[len(lead) :] if replace.startswith(lead) else replace.lstrip()
    return body[: len(body) - len(trail)] if trail and body.endswith(trail) else body.rstrip()


def apply(copy: Path, mutation: Mutation) -> dict[Path, str] | str:
    """Apply the edits to the copy; the original texts to restore, or why the mutation is stale."""
    originals: dict[Path, str] = {}

    def stale(why: str) -> str:
        for p, t in originals.items():
            p.write_text(t, encoding="utf-8")
        return why

    for edit in mutation.edits:
        path = copy / edit.file
        if not path.is_file():
            return stale(f"{edit.file} is gone")
        current = path.read_text(encoding="utf-8")
        span = _locate(current, edit.find)
        if isinstance(span, str):
            return stale(f"find text {span} {edit.file}")
        start, end = span
        exact = current[start:end] == edit.find
        replacement = edit.replace if exact else _replacement(edit.find, edit.replace)
        mutated = current[:start] + replacement + current[end:]
        if path.suffix == ".py":
            try:
                compile(mutated, str(path), "exec")
            except SyntaxError:  # the layout-free match does not fit this layout: refresh the find text
                return stale(f"the mutation no longer fits the layout of {edit.file}")
        originals.setdefault(path, current)
        path.write_text(mutated, encoding="utf-8")
    return originals


def restore(originals: dict[Path, str]) -> None:
    for path, text in originals.items():
        path.write_text(text, encoding="utf-8")


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[int | None, str]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out


def run_tests(copy: Path, tests: tuple[str, ...], python: str) -> tuple[str, str]:
    """('passed' | 'failed' | 'timeout' | 'missing', last lines of output)."""
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    py_tests = [t for t in tests if t.startswith("tests/")]
    js_tests = [t for t in tests if t.startswith("src/")]
    outcome, tail = "passed", ""
    if py_tests:
        code, out = _run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *py_tests], copy, env)
        tail = "\n".join(out.strip().splitlines()[-3:])
        if code is None:
            return "timeout", tail
        if code == 4 or "ERROR: not found" in out or "no tests ran" in out:
            return "missing", tail
        if code != 0:
            return "failed", tail
    for test in js_tests:
        spec, _, name = test.partition("::")
        jest = copy / "node_modules" / ".bin" / "jest"
        code, out = _run([str(jest), "--ci", "--coverage=false", spec, "-t", name], copy, env)
        tail = "\n".join(out.strip().splitlines()[-5:])
        if code is None:
            return "timeout", tail
        if code != 0:
            return "failed", tail
        if " passed" not in out:  # the name matched no test: every test was skipped
            return "missing", tail
    return outcome, tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated words; run the mutations whose id contains one")
    parser.add_argument("--list", action="store_true", help="print the mutations and their tests, run nothing")
    parser.add_argument("--baseline", action="store_true", help="run the named tests once with no mutation")
    parser.add_argument("--verbose", action="store_true", help="show the last lines of each test run")
    parser.add_argument("--markdown", help="also write the results table to this file")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest")
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="the tree to copy and mutate (default: this checkout), e.g. a `git archive` export",
    )
    args = parser.parse_args()

    chosen = MUTATIONS
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        chosen = [m for m in MUTATIONS if any(w in m.id for w in words)]
    if args.list:
        for m in chosen:
            print(f"{m.id:40} {m.edits[0].file:45} {', '.join(m.tests)}")
        print(f"{len(chosen)} mutations")
        return 0

    with tempfile.TemporaryDirectory(prefix="qcl-mutation-") as tmp:
        copy = Path(tmp) / "repo"
        copy_tree(copy, args.source.resolve())
        if args.baseline:
            tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            outcome, tail = run_tests(copy, tests, args.python)
            print(f"baseline over {len(tests)} tests: {outcome}\n{tail}")
            return 0 if outcome == "passed" else 1
        for m in chosen:
            started = time.perf_counter()
            applied = apply(copy, m)
            if isinstance(applied, str):
                m.result, m.detail = "stale", applied
            else:
                try:
                    outcome, tail = run_tests(copy, m.tests, args.python)
                finally:
                    restore(applied)
                m.result = {"failed": "killed", "timeout": "killed", "passed": "survived", "missing": "stale"}[outcome]
                m.detail = {"timeout": "timed out", "missing": "a named test is gone"}.get(outcome, "")
            m.seconds = time.perf_counter() - started
            print(f"{m.result:8} {m.seconds:6.1f}s  {m.id}  {m.detail}", flush=True)
            if args.verbose and m.result != "stale":
                print("    " + tail.replace("\n", "\n    "), flush=True)

    rows = [
        f"| {m.id} | {m.behaviour} | {'<br>'.join(m.tests)} | {m.result}{' (' + m.detail + ')' if m.detail else ''} |"
        for m in chosen
    ]
    counts = {r: sum(m.result == r for m in chosen) for r in ("killed", "survived", "stale")}
    summary = (
        f"{len(chosen)} mutations: {counts['killed']} killed, {counts['survived']} survived, {counts['stale']} stale"
    )
    table = "\n".join(["| mutation | behaviour broken | tests expected to fail | result |", "|---|---|---|---|", *rows])
    print()
    print(table)
    print()
    print(summary)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n\n" + summary + "\n", encoding="utf-8")
    return 1 if counts["survived"] else 0


if __name__ == "__main__":
    sys.exit(main())
