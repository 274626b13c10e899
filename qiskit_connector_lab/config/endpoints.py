"""Which hosts the API key may be sent to.

An endpoint override must be an ``https://`` URL on an IBM Quantum or IBM Cloud host, unless the host is named in
``QCONNECTOR_ALLOW_HOSTS`` in the *process environment* (a ``.env`` cannot widen trust). A refused override is a
one-line error naming the variable, the file and the opt-in; nothing is sent anywhere.

A URL whose host two parsers could read differently (a backslash, ``@`` userinfo, whitespace, a control character,
a percent-escape in the host part, a query or fragment) is refused whatever its host: ``urlsplit`` and urllib3's
``parse_url`` (what requests sends with) must agree on scheme, host, port and path, and the URL passed on (to the
client, its ``url_resolver``, ``Settings.endpoint``) is rebuilt from those parts, never the raw string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ..errors import ConfigError
from ..variables import CLIENT_HOST_VARIABLES
from .sources import Found, Sources, check_placeholder

#: IBM Quantum and IBM Cloud hosts: an endpoint override may point at these (or a subdomain), over https.
IBM_HOSTS = ("quantum.ibm.com", "quantum-computing.ibm.com", "cloud.ibm.com")
ALLOW_HOSTS_VARIABLE = "QCONNECTOR_ALLOW_HOSTS"
#: The runtime API base, most specific first; ``QISKIT_IBM_URL`` is a cloud base unless it names an ``/api/`` path.
RUNTIME_URL_VARIABLES = ("IQP_RUNTIME_API_URL", "QUANTUM_API_URL", "IQP_API_URL", "QISKIT_IBM_URL")


def allowed_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The hosts the user trusts besides IBM's: ``QCONNECTOR_ALLOW_HOSTS`` from the process environment."""
    return tuple(h.strip().lower() for h in (environ.get(ALLOW_HOSTS_VARIABLE) or "").split(",") if h.strip())


def _is_ibm_host(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in IBM_HOSTS)


#: Characters no endpoint URL may hold anywhere: HTTP clients disagree on where a host ends around them.
_AMBIGUOUS = (
    ("\\", "a backslash"),
    ("@", "a user name or password (@)"),
)


def _ambiguity(value: str) -> str | None:
    """Why ``value`` cannot be trusted to name one host for every URL parser (None: it can)."""
    for char, what in _AMBIGUOUS:
        if char in value:
            return what
    if any(c.isspace() for c in value):
        return "whitespace"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "a control character"
    if not value.isascii():
        return "a character outside ASCII"
    if re.search(r"%(?:5c|40|2[05]|[01][0-9a-f]|7f)", value, re.IGNORECASE):
        return "a percent-escaped backslash, @, space or control character"
    return None


class _Endpoint(NamedTuple):
    scheme: str
    host: str  # lower case, without IPv6 brackets: what the allow-list and the IBM suffixes are compared with
    url: str  # rebuilt from the parsed parts: scheme://host[:port]/path, never the raw string


def _parse_endpoint(value: str) -> _Endpoint | str:
    """``value`` parsed by both urllib and urllib3, which must agree; or why it is refused."""
    reason = _ambiguity(value)
    if reason is not None:
        return reason
    try:
        split = urlsplit(value)
        split_port = split.port
        third = parse_url(value)
    except (ValueError, LocationParseError):
        return "a host or port that Python or the HTTP client cannot read"
    if split.scheme.lower() not in ("http", "https") or not split.hostname:
        return _Endpoint(split.scheme.lower(), "", "")  # not an http(s) URL: refused as such
    if "%" in split.netloc:
        return "a percent-escape in its host part"
    if split.query or split.fragment or "?" in value or "#" in value:
        return "a query or fragment (? or #)"
    host = (split.hostname or "").lower()
    other = (third.host or "").lower().removeprefix("[").removesuffix("]")
    if (
        split.username is not None
        or third.auth is not None
        or (split.scheme.lower(), host, split_port) != ((third.scheme or "").lower(), other, third.port)
        or (split.path or "") != (third.path or "")
    ):
        return "parts that Python and the HTTP client read differently"
    scheme = split.scheme.lower()
    shown_host = f"[{host}]" if ":" in host else host
    port = f":{split_port}" if split_port is not None else ""
    return _Endpoint(scheme, host, f"{scheme}://{shown_host}{port}{split.path}".rstrip("/"))


def is_ibm_endpoint(url: str) -> bool:
    """True when ``url`` is an https URL on an IBM Quantum or IBM Cloud host (trusted without any allow-list)."""
    parsed = _parse_endpoint(url)
    return not isinstance(parsed, str) and parsed.scheme == "https" and _is_ibm_host(parsed.host)


def check_endpoint(src: Sources, found: Found, allow: tuple[str, ...]) -> str:
    """``found.value`` as a URL the API key may be sent to, or a one-line ConfigError naming the opt-in.

    The URL returned is rebuilt from its parsed parts, so the client sends to exactly the host checked here.
    """
    name, value = found.name, found.value
    check_placeholder(name, value)
    value = value.strip()
    parsed = _parse_endpoint(value)
    if isinstance(parsed, str):  # never quoted: the value may hold the API key
        raise ConfigError(
            src.where(found),
            f"holds {parsed}, so its host is ambiguous; the API key was not sent anywhere.",
            f"Set {name}=https://host/path with nothing else, or delete the line to use IBM's default.",
        )
    host = parsed.host
    if parsed.scheme not in ("http", "https") or not host:
        raise ConfigError(
            src.where(found),
            f"is {src.quote(value)}, which is not an http(s) URL.",
            f"Set {name}=https://host/..., or delete the line to use IBM's default.",
        )
    if host in allow:
        return parsed.url
    if parsed.scheme == "https" and _is_ibm_host(host):
        return parsed.url
    shown = src.quote(host)
    problem = (
        f"points at {shown} over http, not https"
        if _is_ibm_host(host)
        else f"points at {shown}, which is not an IBM Quantum or IBM Cloud host"
    )
    opt_in = (
        f" or, if you trust that host, allow it in the process environment (a .env cannot): "
        f"{ALLOW_HOSTS_VARIABLE}={host}"
        if shown.startswith("'")
        else ""
    )
    in_dotenv = src.ignored_in_dotenv(ALLOW_HOSTS_VARIABLE)
    if opt_in and in_dotenv is not None and host in allowed_hosts({ALLOW_HOSTS_VARIABLE: in_dotenv.value}):
        opt_in += f" (the {ALLOW_HOSTS_VARIABLE} line in {in_dotenv.origin.removeprefix('.env ')} is ignored)"
    raise ConfigError(
        src.where(found),
        problem + "; the API key was not sent anywhere.",
        f"Delete the line to use IBM's endpoint{opt_in}.",
    )


def endpoints(src: Sources, origins: dict[str, str]) -> tuple[str | None, str | None]:
    """(cloud_url, runtime_url), each checked against the allowed hosts; the client's own host variables too."""
    allow = allowed_hosts(src.environ)
    for name in CLIENT_HOST_VARIABLES:  # the client reads these from the process environment itself
        value = os.environ.get(name)
        if value:
            check_endpoint(src, Found(value, name, "environment"), allowed_hosts(os.environ))
    cloud = src.get("CLOUD_API_URL")
    cloud_url = check_endpoint(src, cloud, allow) if cloud else None
    if cloud:
        origins["cloud_url"] = cloud.origin
    runtime = src.get(*RUNTIME_URL_VARIABLES)
    if runtime is None:
        return cloud_url, None
    runtime_url = check_endpoint(src, runtime, allow)
    if runtime.name in ("QUANTUM_API_URL", "IQP_API_URL") and not runtime_url.split("/")[-1].startswith("v"):
        runtime_url += "/api/v1"  # a platform base URL: its runtime API lives under /api/v1
    origins["url"] = runtime.origin
    if runtime.name == "QISKIT_IBM_URL" and "/api/" not in runtime_url:
        return cloud_url or runtime_url, None  # the runtime's own variable is a cloud base URL here
    return cloud_url, runtime_url
