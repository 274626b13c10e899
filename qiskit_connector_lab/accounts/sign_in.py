"""Check an API key with IBM and list its instances, store the chosen one, sign out; and which credential wins.

**Cost.** One IAM exchange, one Global Search per 100 instances and one Global Catalog call per instance: 2 + N
requests for N instances, and no ``/backends`` (no service is built: see
:func:`~qiskit_connector_lab.providers.runtime_internals.list_instances_without_service`). Every call runs under a
deadline (:func:`~qiskit_connector_lab.providers.bounded.call_with_deadline`), so a stalled IBM costs at most the
configured deadline (``QCONNECTOR_DEADLINE``, 10 s by default).

**Errors, one line each, nothing stored:** a key IBM refuses (IAM answers 400 or 401), IBM unreachable (not the
key's fault), a key with no instance, a rate limit with its retry time, the deadline. qiskit-ibm-runtime reports the
first two with the same message ("check that you are using a valid API token"); the cause it chains tells them
apart.

**Precedence.** The signed-in account is a saved qiskit-ibm-runtime account that the settings prefer to any other
saved account, after explicit arguments, the process environment and the ``.env``: a token set in one of those wins,
and :func:`account_status` says which one and why. The signed-in account is one unit: when its key is used, so
are its channel, instance and endpoints (never the ``.env``'s instance with the sign-in's key);
``instance_source`` in :func:`account_status` says where the instance in use comes from.

**Redaction.** A pasted key is registered with the log filter at once; a key IBM refused is dropped from it again
(the filter keeps the stored keys and the ones in use, at most :attr:`~..secret.RedactingFilter.LIMIT`), and a
failure's one line is scrubbed of the key even when the client's exception echoes it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import DEFAULT_CHANNEL, DEFAULT_DEADLINE, load_settings
from ..errors import ConfigError, ConnectorError, RateLimited, Unauthorized, Unreachable
from ..secret import Secret, redact, redacting_filter
from . import store

#: Where IBM creates API keys (IBM Quantum Platform's dashboard: "Create API key").
API_KEY_PAGE = "https://quantum.cloud.ibm.com/"
#: Where IBM creates instances.
INSTANCES_PAGE = "https://quantum.cloud.ibm.com/instances"
WHAT = "the API key check"
MAX_KEY_LENGTH = 512
_NOTHING_STORED = "Nothing was stored."
#: The keys stored by this process: they stay in the redacting filter even after a failed check.
_kept: set[str] = set()


class NoInstance(ConnectorError):
    """The key is valid but reaches no IBM Quantum instance with QPUs."""

    code = "no_instance"


@dataclass(frozen=True)
class Instance:
    """One instance the key can use, as the sign-in form lists it."""

    crn: str
    name: str
    plan: str
    pricing_type: str
    region: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "name": self.name,
            "plan": self.plan,
            "pricing_type": self.pricing_type,
            "region": self.region,
        }


def check_key(token: Any) -> Secret:
    """The pasted key as a :class:`Secret`, or one line saying what is wrong with it (never quoting it)."""
    if isinstance(token, Secret):
        token = token.reveal()
    if not isinstance(token, str):
        raise ConfigError("token", "must be the API key as a string.", f"Copy it from {API_KEY_PAGE}.")
    clean = token.strip()
    if not clean:
        raise ConfigError("token", "is empty.", f"Paste your IBM Quantum API key (create one at {API_KEY_PAGE}).")
    if len(clean) > MAX_KEY_LENGTH or any(ch.isspace() for ch in clean) or not clean.isprintable():
        raise ConfigError(
            "token",
            "holds spaces, control characters or too many characters, so it cannot be an API key.",
            "Paste the key again, as one unbroken string.",
        )
    secret = Secret(clean)
    redacting_filter.add(secret)  # from now on no log line may show it
    return secret


def _region(crn: str) -> str | None:
    parts = crn.split(":")
    return parts[5] or None if len(parts) > 5 else None


def _instances_from(raw: Any) -> list[Instance]:
    """IBM's instance entries, the unusable ones (no CRN) left out."""
    found = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("crn"), str) or not entry["crn"]:
            continue
        crn = entry["crn"]
        found.append(
            Instance(
                crn=crn,
                name=str(entry.get("name") or crn),
                plan=str(entry.get("plan") or "unknown"),
                pricing_type=str(entry.get("pricing_type") or "unknown"),
                region=_region(crn),
            )
        )
    return found


def _iam_status(exc: BaseException) -> tuple[int | None, str]:
    """(HTTP status, URL) of the first HTTP answer in the chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "http_response", None)
        if response is None:  # not `or`: a requests.Response for a 4xx/5xx is falsy
            response = getattr(current, "response", None)
        code = getattr(current, "status_code", None)  # ibm_cloud_sdk_core.ApiException (its `code` is deprecated)
        if isinstance(code, int) and 100 <= code < 600:
            return code, str(getattr(response, "url", "") or "")
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status, str(getattr(response, "url", "") or "")
        current = current.__cause__ or current.__context__
    return None, ""


def _scrubbed(error: ConnectorError, secrets: tuple[Any, ...]) -> ConnectorError:
    """``error`` with every secret (and any bearer token or JWT) taken out of its one line."""
    clean = redact(str(error), secrets)
    if clean != str(error):
        error.args = (clean, *error.args[1:])
    return error


def explain(exc: BaseException, *, seconds: float, secrets: tuple[Any, ...] = ()) -> ConnectorError:
    """The one line for a failed key check (the client's own message does not tell a bad key from no network);
    ``secrets`` (the key being checked) are never in it, even when the exception echoes them."""
    return _scrubbed(_explain(exc, seconds=seconds, secrets=secrets), secrets)


def _explain(exc: BaseException, *, seconds: float, secrets: tuple[Any, ...]) -> ConnectorError:
    from ..providers.bounded import _chain, _client_error_types, _retry_after, classify

    if isinstance(exc, ConnectorError):
        return exc
    status, url = _iam_status(exc)
    if status in (400, 401, 403):  # IAM refuses a wrong key with 400; a revoked one may get 401 or 403
        at = " at IBM Cloud IAM" if "/identity/token" in url else ""
        return Unauthorized(
            f"IBM refused this API key (HTTP {status}{at}). Copy the whole key again, or create a new one at "
            f"{API_KEY_PAGE} (API key). {_NOTHING_STORED}"
        )
    if status == 429:
        retry = _retry_after(exc)
        wait = f"Retry after {retry:g} s." if retry is not None else "Wait a minute and retry."
        return RateLimited(f"IBM Quantum is rate-limiting sign-in requests (HTTP 429). {wait} {_NOTHING_STORED}", retry)
    kinds = _client_error_types()
    if status is None and any(isinstance(link, kinds["unreachable"]) for link in _chain(exc)):
        return Unreachable(
            "Could not reach IBM Quantum to check the API key (the connection failed): this is not the key's fault. "
            f"Check the network, a proxy, or CLOUD_API_URL, and retry. {_NOTHING_STORED}"
        )
    return classify(exc, what=WHAT, seconds=seconds, secrets=secrets)


def sign_in_endpoints(
    env_file: Any = None, environ: Mapping[str, str] | None = None, *, deadline: Any = None
) -> tuple[str | None, str | None, float]:
    """(cloud URL, runtime API URL, deadline) of the configuration in use, for the key check and the stored
    account: its endpoint overrides (checked against the allowed hosts like every endpoint) and deadline (or
    ``deadline``, checked by the settings' rule for seconds: a ConfigError naming ``deadline``), whatever token it
    holds."""
    environ = dict(os.environ if environ is None else environ)
    environ.setdefault("QISKIT_IBM_TOKEN", "qconnector-sign-in-check")  # not a secret: lets the IBM side resolve
    settings = load_settings(env_file, environ=environ, deadline=deadline)
    if settings.local:
        return None, None, settings.deadline
    return settings.cloud_url, settings.runtime_url, settings.deadline


def sign_in_settings(env_file: Any = None, environ: Mapping[str, str] | None = None) -> tuple[str | None, float]:
    """(cloud URL, deadline) the key check uses (see :func:`sign_in_endpoints`)."""
    cloud_url, _, deadline = sign_in_endpoints(env_file, environ)
    return cloud_url, deadline


def list_instances(
    token: Any,
    *,
    cloud_url: str | None = None,
    channel: str = DEFAULT_CHANNEL,
    seconds: float = DEFAULT_DEADLINE,
) -> list[Instance]:
    """Validate ``token`` with IBM and return its instances (2 + N requests), within ``seconds``."""
    from ..providers.bounded import call_with_deadline
    from ..providers.runtime_internals import list_instances_without_service

    secret = check_key(token)
    # A cold import of the IBM client takes seconds: pay it here, not inside the deadline of the key check.
    importlib.import_module("qiskit_ibm_runtime.accounts")

    def fetch() -> list[Any]:
        try:
            return list_instances_without_service(secret.reveal(), url=cloud_url, channel=channel)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            raise explain(exc, seconds=seconds, secrets=(secret,)) from None

    try:
        raw = call_with_deadline(fetch, what=WHAT, seconds=seconds, secrets=(secret,))
    except ConnectorError as error:
        if secret.reveal() not in _kept:  # a key that is neither stored nor in use is not kept in the filter
            redacting_filter.discard(secret)
        raise _scrubbed(error, (secret,)) from None
    instances = _instances_from(raw)
    if not instances:
        raise NoInstance(
            "IBM accepted this API key, but it reaches no IBM Quantum instance with QPUs. Create one at "
            f"{INSTANCES_PAGE} (the open plan is free), then sign in again. {_NOTHING_STORED}"
        )
    return instances


def choose(instances: list[Instance], wanted: Any) -> Instance:
    """The instance named by ``wanted`` (its CRN or its name), or one line listing the choices."""
    if not isinstance(wanted, str) or not wanted.strip():
        raise ConfigError("instance", "must be the CRN or the name of one of the key's instances.", _choices(instances))
    wanted = wanted.strip()
    for instance in instances:
        if wanted in (instance.crn, instance.name):
            return instance
    raise ConfigError("instance", "is not one of this API key's instances.", _choices(instances))


def _choices(instances: list[Instance]) -> str:
    names = ", ".join(i.name for i in instances[:10])
    return f"Pick one of: {names}." + (" (and more)" if len(instances) > 10 else "")


def sign_in(
    token: Any,
    instance: Any,
    *,
    cloud_url: str | None = None,
    runtime_url: str | None = None,
    channel: str = DEFAULT_CHANNEL,
    seconds: float = DEFAULT_DEADLINE,
    path: Any = None,
) -> store.StoredAccount:
    """Validate the key, check that ``instance`` is one of its instances, and store both (nothing otherwise)."""
    secret = check_key(token)
    chosen = choose(list_instances(secret, cloud_url=cloud_url, channel=channel, seconds=seconds), instance)
    return keep(secret, chosen, cloud_url=cloud_url, runtime_url=runtime_url, channel=channel, path=path)


def keep(
    token: Secret,
    chosen: Instance,
    *,
    cloud_url: str | None = None,
    runtime_url: str | None = None,
    channel: str = DEFAULT_CHANNEL,
    path: Any = None,
) -> store.StoredAccount:
    """Store a key that :func:`list_instances` just validated, with the instance chosen among its instances, and
    the endpoints it was checked at (one unit: the settings use them with this key, and no other layer's).

    The saved-accounts file's one rule (:func:`~..config.saved_account.check_savable_endpoint`): an endpoint only
    ``QCONNECTOR_ALLOW_HOSTS`` trusts is not the account's ``url`` (a plain ``QiskitRuntimeService(name=...)`` would
    send the key there); it is kept among the facts only the settings read, and check against the allow-list again.
    The runtime API base has no place in the client's account: it is always kept that way."""
    from ..config.saved_account import check_savable_endpoint

    details: dict[str, Any] = {
        "name": chosen.name,
        "plan": chosen.plan,
        "pricing_type": chosen.pricing_type,
        "region": chosen.region,
    }
    if cloud_url:
        try:
            check_savable_endpoint("CLOUD_API_URL", cloud_url, "")
        except ConfigError:
            details[store.SETTINGS_ONLY_URL], cloud_url = cloud_url, None
    if runtime_url:
        details[store.SETTINGS_ONLY_RUNTIME_URL] = runtime_url
    redacting_filter.add(token)  # stored: never in a log line
    _kept.add(token.reveal())
    return store.save(token, chosen.crn, channel=channel, url=cloud_url, details=details, path=path)


def sign_out(path: Any = None) -> bool:
    """Remove the signed-in account (True if there was one)."""
    return store.remove(path)


def _source(origin: str | None) -> str:
    if not origin:
        return "none"
    if origin == f"saved account {store.ACCOUNT_NAME}":
        return "sign-in"
    if origin.startswith(".env"):
        return ".env"
    if origin.startswith("saved account"):
        return "saved account"
    return origin  # "environment" or "argument"


def account_status(env_file: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Signed in or not, the stored account (never its key), and which credential source the settings use."""
    problems: list[str] = []
    try:
        stored = store.load()
    except ConfigError as error:
        stored, problems = None, [str(error)]
    origin = instance_origin = None
    try:
        settings = load_settings(env_file, environ=environ)
        if not settings.local:
            origin = settings.origins.get("token")
            instance_origin = settings.origins.get("instance")
    except ConfigError as error:
        problems.append(str(error))
    source = _source(origin)
    answer: dict[str, Any] = {
        "signed_in": stored is not None,
        **(stored.describe() if stored is not None else {"stored_at": None, "instance": None}),
        "source": source,
        "source_detail": origin,
        # where the instance in use comes from: with the sign-in's key, the sign-in's own instance (one unit)
        "instance_source": _source(instance_origin),
        "api_key_page": API_KEY_PAGE,
        "note": None,
        "problems": problems,
    }
    if stored is not None and source not in ("sign-in", "none"):
        answer["note"] = (
            f"The token from {origin} is used, not the sign-in: explicit arguments, the environment and the .env come "
            "first. Remove the token there to use the signed-in account."
        )
    return answer
