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
CFG, RANK, SECRET, PICK = P + "config.py", P + "ranking.py", P + "secret.py", P + "pick.py"
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
TEMU = "tests/test_emulator.py::"
BAD = TC + "test_bad_configuration_gives_one_line_naming_the_variable"
BADARG = TMAG + "test_bad_arguments_give_one_line"
JF, JM, JV, JA = (
    "src/__tests__/format.spec.ts::",
    "src/__tests__/model.spec.ts::",
    "src/__tests__/views.spec.ts::",
    "src/__tests__/art.spec.ts::",
)

MUTATIONS: list[Mutation] = [
    # --- configuration: the seed's variables, precedence, one-line errors -----------------------------------
    M(
        "config.two-plans-on",
        "two plan switches on is an error",
        CFG,
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
        CFG,
        "    if text in _FALSE:\n        return False\n",
        "    return False\n",
        BAD + "[switch neither on nor off]",
    ),
    M(
        "config.missing-token-goes-local",
        "a seed .env without a token is an error, not a silent local fleet",
        CFG,
        "    if wants_local or not (token_found or any_switch or channel_found or src.is_set(*instance_vars)):",
        "    if wants_local or not (token_found or channel_found or src.is_set(*instance_vars)):",
        BAD + "[only a plan switch]",
        TFM + "test_bad_env_file_through_the_magic[only a plan switch]",
    ),
    M(
        "config.empty-token",
        "an empty token is an error",
        CFG,
        '    if not clean:\n        raise ConfigError(found.name, "is empty."',
        '    if False:\n        raise ConfigError(found.name, "is empty."',
        BAD + "[empty token]",
    ),
    M(
        "config.token-spaces",
        "a token with spaces is an error",
        CFG,
        "    if any(ch.isspace() for ch in clean) or not clean.isprintable():",
        "    if not clean.isprintable():",
        BAD + "[token with a space]",
    ),
    M(
        "config.placeholder",
        "the README template's placeholders are errors",
        CFG,
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
        CFG,
        "    if len(placeholders) > 1:\n",
        "    if len(placeholders) > 99:\n",
        TC + "test_every_placeholder_left_in_is_named_at_once",
    ),
    M(
        "config.missing-instance",
        "a plan without its instance is an error",
        CFG,
        "    if value is None and chosen is not None:\n        raise ConfigError(variables[0]",
        "    if False:\n        raise ConfigError(variables[0]",
        BAD + "[missing open instance]",
        BAD + "[missing paid instance]",
    ),
    M(
        "config.retired-channel",
        "the retired ibm_quantum channel is named as retired",
        CFG,
        "    if channel in RETIRED_CHANNELS:\n",
        "    if False:\n",
        BAD + "[retired channel]",
    ),
    M(
        "config.unknown-channel",
        "an unknown channel is an error",
        CFG,
        "    if channel not in (*CHANNELS, LOCAL_CHANNEL):\n",
        "    if False:\n",
        BAD + "[unknown channel]",
    ),
    M(
        "config.url",
        "a URL without http(s) is an error",
        CFG,
        '    if parsed.scheme not in ("http", "https") or not host:',
        '    if parsed.scheme not in ("http", "https", ""):',
        BAD + "[url that is not a url]",
    ),
    M(
        "config.malformed-line",
        "a .env line python-dotenv cannot parse is an error",
        CFG,
        "    if bad_lines:\n",
        "    if False:\n",
        BAD + "[malformed line]",
    ),
    M(
        "config.deadline-not-number",
        "a deadline that is not a number is an error",
        CFG,
        '        raise ConfigError(name, f"is {src.quote(value)}, not a number of seconds.",',
        '        return DEFAULT_DEADLINE\n        raise ConfigError(name, f"is {src.quote(value)}, not a number of seconds.",',
        BAD + "[bad deadline]",
    ),
    M(
        "config.deadline-positive",
        "a deadline must be positive",
        CFG,
        '    if not 0 < number < float("inf"):',
        '    if not -float("inf") < number < float("inf"):',
        BAD + "[negative deadline]",
        TC + "test_bad_arguments",
    ),
    M(
        "config.unreadable-file",
        "an unreadable .env is named with its path",
        CFG,
        '        raise ConfigError(where, f"cannot be read ({exc.strerror}).",\n                          "Fix its permissions (chmod 600 is right for a .env).") from None',
        "        return {}",
        TC + "test_unreadable_files",
    ),
    M(
        "config.precedence-env-over-dotenv",
        "the environment beats .env",
        CFG,
        '("argument", arguments), ("environment", environ), (f".env {shown_path(env_path)}", dotenv)]',
        '("argument", arguments), (f".env {shown_path(env_path)}", dotenv), ("environment", environ)]',
        TC + "test_precedence_argument_over_environment_over_dotenv",
        TC + "test_environment_switch_beats_dotenv_switch",
    ),
    M(
        "config.precedence-layer-first",
        "an argument beats a more specific variable set lower down",
        CFG,
        "        for origin, values in self._layers:\n            for name in names:\n",
        "        for name in names:\n            for origin, values in self._layers:\n",
        TC + "test_precedence_argument_over_environment_over_dotenv",
    ),
    M(
        "config.no-environ-writes",
        "reading .env never changes os.environ",
        CFG,
        "            values = dotenv_values(stream=io.StringIO(text), interpolate=True)\n",
        "            values = dotenv_values(stream=io.StringIO(text), interpolate=True)\n"
        "            os.environ.update({k: v for k, v in values.items() if v is not None})\n",
        TC + "test_loading_never_touches_os_environ",
    ),
    M(
        "config.dotenv-upward",
        ".env is found upward from the working directory",
        CFG,
        "    folders = [start]\n    while folders[-1] != ceiling",
        "    folders = [start]\n    while False and folders[-1] != ceiling",
        TC + "test_dotenv_is_found_upward_from_the_working_directory",
    ),
    M(
        "config.no-credentials-local",
        "no credentials at all means the local fleet",
        CFG,
        "    if wants_local or not (token_found or any_switch or channel_found or src.is_set(*instance_vars)):",
        "    if wants_local:",
        TC + "test_no_credentials_means_local_fleet",
        TLF + "test_seed_usage_snippet_runs_on_local_fleet_with_no_env",
    ),
    M(
        "config.saved-account-default",
        "the saved account used is the default one",
        CFG,
        '    for candidate in ("default-ibm-quantum-platform", "default-ibm-cloud", "default"):',
        '    for candidate in ("default-ibm-cloud", "default"):',
        TC + "test_runtime_variables_and_saved_account",
    ),
    M(
        "config.saved-account-used",
        "a saved account supplies the token when none is set",
        CFG,
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
        COMPAT,
        "    os.chmod(path, 0o600)\n    return path",
        "    return path",
        TC + "test_saved_account_file_permissions_when_saving",
        also=(
            Edit(COMPAT, "    os.chmod(path, 0o600)\n    from qiskit_ibm_runtime", "    from qiskit_ibm_runtime"),
            Edit(COMPAT, "os.O_EXCL, 0o600)", "os.O_EXCL, 0o644)"),
        ),
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
        "        if backend is None and not (args.least_busy or args.min_qubits or args.exclude):\n",
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
        "a listing is served from memory within the TTL",
        UPSTREAM,
        "        if self._listing is not None and self._clock() - self._listing_at <= self.options.ttl:\n",
        "        if False:\n",
        TSC + "test_cache_single_flight_with_a_slow_upstream",
    ),
    M(
        "upstream.stale-served",
        "after a failure the last good listing is served",
        UPSTREAM,
        "            if self._listing is None:\n                raise\n        return self._serve_listing()",
        "            raise\n        return self._serve_listing()",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
        TFS + "test_fault_after_good_data_serves_it_stale_and_keeps_serving[500 repeated]",
    ),
    M(
        "upstream.stale-flag",
        "the last good listing is marked stale",
        UPSTREAM,
        "        return self._listing.marked_stale(stale_reason(error))\n",
        "        return self._listing\n",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
    ),
    M(
        "upstream.backoff-respected",
        "nothing goes upstream during the backoff",
        UPSTREAM,
        "        if self.backoff.active():\n            if self._listing is None:\n                raise self._blocking_error()\n"
        "            return self._serve_listing()\n",
        "",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
        TSC + "test_with_no_data_the_error_is_the_answer",
    ),
    M(
        "upstream.refetch-after-ttl",
        "after the server's TTL the provider is asked afresh",
        UPSTREAM,
        "        max_age = self.options.ttl if self._listing is None else 0.0\n",
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
        "        if entry is None or self._clock() > entry.expires:\n",
        "        if True:\n",
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
        "        if cached is not None and self._clock() <= cached.expires:\n",
        "        if False:\n",
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
        "                await self._refresh_listing()\n                self.stats.background_refreshes += 1\n",
        "                self.stats.background_refreshes += 1\n",
        TSC + "test_background_refresh_runs_while_asked_and_pauses_when_idle",
    ),
    M(
        "upstream.internal-error",
        "an unexpected failure is one line, with the traceback in the log",
        UPSTREAM,
        '            self.log.warning("qiskit-connector-lab: unexpected error while %s: %s", what,\n'
        "                             redact(traceback.format_exc()))\n",
        '            self.log.warning("qiskit-connector-lab: unexpected error while %s: %s", what, "")\n',
        TSC + "test_an_unexpected_failure_is_one_line_and_logged",
    ),
    M(
        "upstream.stop",
        "the cache stops its thread pool with the server",
        UPSTREAM,
        "        self._executor.shutdown(wait=False, cancel_futures=True)\n",
        "        pass\n",
        TSC + "test_the_cache_stops_with_the_server",
    ),
    M(
        "upstream.stale-reason",
        "the stale reason is one sentence",
        UPSTREAM,
        '    return first_sentence(error.message).rstrip(".!? ") + "; showing the last good data."',
        "    return error.message",
        TSC + "test_stale_data_during_backoff_then_fresh_again",
    ),
    M(
        "upstream.ibm-without-credentials",
        "provider ibm without credentials is a clear error",
        UPSTREAM,
        '    if options.provider == "ibm" and settings.local:\n',
        "    if False:\n",
        TSR + "test_ibm_without_credentials_is_a_clear_error",
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
        ROUTES,
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
        "notebooks.progress-removed",
        "no dead progress widget stays in the saved notebook",
        MAGICS,
        "            self._handle.update(result)\n            return True\n",
        "            return False\n",
        TNB + "test_bell_notebook",
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
        "src/model.ts",
        "this._backends !== null && (this._error !== null || this._backends.stale)",
        "this._backends !== null && this._backends.stale",
        JM + "keeps the last good data, marked stale, when the server fails",
    ),
    M(
        "ts.model-standby",
        "the model stands by while hidden",
        "src/model.ts",
        "      standby: () => this.hidden || 'when-hidden'",
        "      standby: () => false",
        JM + "stands by while every view is hidden, and catches up when shown",
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
        CFG,
        "    reason = _ambiguity(value)\n    if reason is not None:\n        return reason\n",
        "",
        "tests/test_trust_endpoints.py::test_connect_refuses_an_endpoint_whose_host_parsers_disagree_on",
        also=(Edit(CFG, '        return "parts that Python and the HTTP client read differently"', "        pass"),),
    ),
    M(
        "trust.endpoint-rebuilt",
        "the client gets the URL rebuilt from its parsed parts, never the raw string",
        CFG,
        '    return _Endpoint(scheme, host, f"{scheme}://{shown_host}{port}{split.path}".rstrip("/"))',
        "    return _Endpoint(scheme, host, value)",
        "tests/test_trust_endpoints.py::test_an_accepted_endpoint_is_passed_on_rebuilt_from_its_parsed_parts",
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
        "jobs.stopped-kernel",
        "a pending job of a kernel that stopped is an error, not pending for ever",
        P + "jobs/owners.py",
        "    except ProcessLookupError:\n        return True\n",
        "    except ProcessLookupError:\n        return False\n",
        "tests/test_local_job_store.py::test_a_pending_job_of_a_kernel_that_stopped_is_an_error",
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
