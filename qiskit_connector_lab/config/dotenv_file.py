"""Which ``.env`` is read, whether it may be trusted, and what it says.

**Which.** The one given (``env_file=`` / ``--env``), else ``QCONNECTOR_ENV_FILE``, else a bounded search: from
``QCONNECTOR_SERVER_ROOT`` (set by the Jupyter server for the kernels it starts, so they read the same file as the
sidebar) or else the working directory, upward, never above the home directory (or the server root). Outside the
home directory only the starting folder is looked at. A ``.env`` in a folder every user may write to, or owned by
another user, or writable by every user, is skipped with a note.

**Reading.** Through :func:`~qiskit_connector_lab.files.read_bounded` (a regular file only, opened without blocking,
at most :data:`ENV_FILE_LIMIT` bytes), then python-dotenv's parser (``dotenv.parser.parse_stream``): a binding it
marks as an error is reported by file, line number and variable only (the line may hold the token). ``${NAME}``
references are expanded as ``dotenv_values`` does (earlier lines of the file first, then the environment), but
in one pass: ``dotenv_values`` copies the whole environment for every line, which takes minutes on a large file.
Reading never changes ``os.environ``.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path

from dotenv.parser import Binding, parse_stream
from dotenv.variables import parse_variables

from ..errors import ConfigError
from ..files import SMALL_FILE_LIMIT, read_bounded

SERVER_ROOT_VARIABLE = "QCONNECTOR_SERVER_ROOT"
#: The most a .env may hold; a larger file is refused in one line, unread.
ENV_FILE_LIMIT = SMALL_FILE_LIMIT

_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")
_NEWLINE = re.compile(r"\r\n|\n|\r")


def shown_path(path: Path | None) -> str | None:
    """``path`` with the home directory written as ``~``."""
    if path is None:
        return None
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def _unsafe_reason(path: Path) -> str | None:
    """Why a .env found by the search must not be trusted (None: it may be read)."""
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError:
        return None  # reading it reports the problem
    if folder.st_mode & stat.S_IWOTH:
        return "its folder is writable by every user"
    if info.st_mode & stat.S_IWOTH:
        return "it is writable by every user"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return "it belongs to another user"
    return None


def _search_folders(start: Path, ceiling: Path) -> list[Path]:
    """``start`` and its parents up to ``ceiling``; only ``start`` when it is not inside ``ceiling``."""
    try:
        start.relative_to(ceiling)
    except ValueError:
        return [start]
    folders = [start]
    while folders[-1] != ceiling and folders[-1].parent != folders[-1]:
        folders.append(folders[-1].parent)
    return folders


def find_env_file(
    env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> tuple[Path | None, tuple[str, ...]]:
    """The .env in use and notes about .env files skipped on the way (see the module docstring for the rule)."""
    if env_file is not None and str(env_file) != "":
        return Path(env_file).expanduser(), ()
    named = environ.get("QCONNECTOR_ENV_FILE")
    if named:
        return Path(named).expanduser(), ()
    root = environ.get(SERVER_ROOT_VARIABLE)
    start = Path(root).expanduser() if root else Path.cwd()
    try:
        start = start.resolve()
        ceiling = start if root else Path.home().resolve()
    except (OSError, RuntimeError):
        return None, ()
    notes: list[str] = []
    for folder in _search_folders(start, ceiling):
        candidate = folder / ".env"
        if not candidate.is_file():
            continue
        reason = _unsafe_reason(candidate)
        if reason is None:
            return candidate, tuple(notes)
        notes.append(
            f"{shown_path(candidate)} was not read: {reason}. Name it with --env / env_file= / "
            "QCONNECTOR_ENV_FILE if you trust it."
        )
    return None, tuple(notes)


def read_env_file(path: Path, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The values of a .env (``${NAME}`` expanded); unreadable, oversized or malformed files are one-line errors."""
    where = shown_path(path) or str(path)
    raw = read_bounded(path, variable=where, limit=ENV_FILE_LIMIT)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(where, "is not UTF-8 text.", "Save it as plain UTF-8 text with KEY=value lines.") from None
    if "\x00" in text:
        raise ConfigError(where, "holds binary data.", "Save it as plain UTF-8 text with KEY=value lines.")
    values: dict[str, str | None] = {}
    # Earlier lines of the file first, then the environment, as dotenv_values resolves them.
    scope: ChainMap[str, str | None] = ChainMap(values, dict(environ))
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise _malformed(where, binding)
        if not binding.key:
            continue
        value = binding.value
        values[binding.key] = None if value is None else "".join(atom.resolve(scope) for atom in parse_variables(value))
    return values


def _malformed(where: str, binding: Binding) -> ConfigError:
    """The error for a line the parser could not read: file, line and variable only, never any of its value."""
    original = binding.original.string
    body = original.lstrip()
    line = binding.original.line + len(_NEWLINE.findall(original[: len(original) - len(body)]))
    match = _KEY.match(body)
    return ConfigError(
        f"{where} line {line}" + (f" ({match.group(1)})" if match else ""),
        "cannot be parsed.",
        'Write it as KEY="value"; quote values that hold spaces, # or quotes, and close every quote.',
    )
