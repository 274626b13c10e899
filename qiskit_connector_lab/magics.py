"""IPython magics: ``%qconnect``, ``%qbackends``, ``%qplan``, ``%qjobs``, ``%qjob``.

This module imports only IPython and traitlets; the connector (and with it qiskit and the IBM client) loads on
the first magic call, so ``%load_ext qiskit_connector_lab`` stays fast. Every failure is one ``UsageError`` line.

Defaults are traits: ``%config QConnect.default_mode = "batch"``, ``%config QConnect.min_qubits = 5``,
``%config QConnect.deadline = 20``, ``%config QConnect.local = True``, ``%config QConnect.variable = "qpu"``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, CaselessStrEnum, Float, Int, Unicode


def _in_notebook(shell: Any) -> bool:
    return type(shell).__name__ == "ZMQInteractiveShell"


class _Progress:
    """Progress while connecting: an ipywidgets indicator in notebooks, plain lines on stderr elsewhere."""

    def __init__(self, shell: Any, enabled: bool) -> None:
        self._widget: Any = None
        self._handle: Any = None
        self._enabled = enabled
        self._text = enabled and not _in_notebook(shell)
        if enabled and not self._text:
            try:
                import ipywidgets as widgets
                from IPython.display import display

                self._label = widgets.HTML("Connecting...")
                self._widget = widgets.HBox(
                    [
                        widgets.IntProgress(value=1, min=0, max=5, bar_style="info", layout={"width": "12em"}),
                        self._label,
                    ]
                )
                self._handle = display(self._widget, display_id=True)
            except Exception:  # noqa: BLE001 - no widget frontend: fall back to text
                self._widget, self._text = None, True

    def __call__(self, phase: str) -> None:
        if not self._enabled:
            return
        if self._widget is not None:
            bar = self._widget.children[0]
            bar.value = min(bar.max, bar.value + 1)
            self._label.value = phase
        elif self._text:
            print(phase, file=sys.stderr, flush=True)

    def close(self, result: Any = None) -> bool:
        """Remove the indicator; with ``result``, show it in the indicator's place (True when it was shown there).

        Without a result (a failure), the indicator's output goes: its place is emptied (no dead widget in the saved
        notebook) and the cell's output is cleared when the error line arrives, so the error shows alone rather
        than under an empty output area. (The indicator is the cell's first output unless the cell printed
        before the magic; a failing connect clears that too.)
        """
        if self._widget is None:
            return False
        self._widget.close()
        self._widget = None
        if self._handle is None:
            return False
        if result is not None:
            self._handle.update(result)
            return True
        from IPython.display import clear_output

        self._handle.update({"text/plain": ""}, raw=True)
        clear_output(wait=True)  # at the next output (the one-line error), not before: no flicker
        return False


class _NotANumber(argparse.ArgumentTypeError):
    """A magic's number argument that is not one: argparse turns it into an ``ArgumentError`` for the argument."""

    def __init__(self, value: str, what: str, example: str) -> None:
        super().__init__(f"{value!r} is not {what}")
        self.value, self.what, self.example = value, what, example


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NotANumber(text, "a whole number", "5") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _NotANumber(text, "a number", "20") from None


def _source_arguments(func: Any) -> Any:
    """The arguments that say where to connect, shared by every magic: --instance, --env, --local, --deadline."""
    for add in reversed(
        (
            argument("--instance", default=None, metavar="NAME", help="Instance name or CRN (overrides .env)."),
            argument("--env", default=None, metavar="PATH", help="The .env file to read."),
            argument("--local", action="store_true", help="Use the local fleet (offline, simulated queues)."),
            argument(
                "--deadline", type=float, default=None, metavar="SECONDS", help="Seconds to wait for IBM per call."
            ),
        )
    ):
        func = add(func)
    return func


@magics_class
class QConnect(Magics):
    """Connect the notebook to IBM Quantum (or the local fleet) and describe the QPUs."""

    default_mode = CaselessStrEnum(
        ["session", "batch", "job"],
        default_value=None,
        allow_none=True,
        help="Mode when none is given: session, batch or job (default: by plan).",
    ).tag(config=True)
    min_qubits = Int(0, help="Least number of qubits a picked QPU must have (0: any).").tag(config=True)
    deadline = Float(0.0, help="Seconds to wait for IBM Quantum per call (0: QCONNECTOR_DEADLINE or 10).").tag(
        config=True
    )
    local = Bool(False, help="Always use the local fleet.").tag(config=True)
    env_file = Unicode("", help="The .env file to read (empty: look upward from the working directory).").tag(
        config=True
    )
    variable = Unicode("backend", help="Name of the variable %qconnect assigns the backend to.").tag(config=True)
    quiet = Bool(False, help="Show no summary.").tag(config=True)
    progress = Bool(True, help="Show progress while connecting.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._connection: Any = None
        self._settings: Any = None

    # -- helpers ---------------------------------------------------------------------------------------------
    def _load_settings(self, args: Any) -> Any:
        from .config import load_settings

        env = getattr(args, "env", None) or self.env_file or None
        deadline = getattr(args, "deadline", None) or self.deadline or None
        local = True if (getattr(args, "local", False) or self.local) else None
        settings = load_settings(env, instance=getattr(args, "instance", None), local=local, deadline=deadline)
        self._settings = settings
        return settings

    def _run(self, action: Callable[[], Any]) -> Any:
        from .errors import ConnectorError

        try:
            return action()
        except ConnectorError as exc:
            raise UsageError(str(exc)) from None
        except KeyboardInterrupt:
            raise UsageError("Interrupted; nothing was changed in the namespace.") from None

    @staticmethod
    def _parse(func: Any, line: str) -> Any:
        parser = func.parser
        parser.exit_on_error = False  # a bad value raises argparse.ArgumentError, which says which argument
        parser.register("type", int, _whole_number)
        parser.register("type", float, _number)
        try:
            return parse_argstring(func, line)
        except argparse.ArgumentError as exc:
            name = exc.argument_name or "argument"
            bad = exc.__context__  # what our converter raised, when the value was not a number
            if isinstance(bad, _NotANumber):  # say what to give, not only that it was wrong
                raise UsageError(f"{name}: {bad.value!r} is not {bad.what}. Give e.g. {name} {bad.example}.") from None
            raise UsageError(f"{name}: {exc.message}. See %{func.__name__}? for the arguments.") from None
        except UsageError as exc:  # what the parser reports as a whole (an unknown argument, a missing one)
            raise UsageError(" ".join(str(exc).split()) + f". See %{func.__name__}? for the arguments.") from None

    def _display(self, obj: Any) -> None:
        from IPython.display import display

        display(obj)

    # -- %qconnect -------------------------------------------------------------------------------------------
    @magic_arguments()
    @argument("backend", nargs="?", default=None, help="QPU name (default: the sidebar's pick, else the least busy).")
    @argument("--min-qubits", type=int, default=None, metavar="N", help="Only QPUs with at least N qubits.")
    @argument("--exclude", nargs="+", default=[], metavar="NAME", help="QPUs not to pick.")
    @argument("--session", action="store_true", help="Open a Session (paid plans; Batch on the open plan).")
    @argument("--batch", action="store_true", help="Open a Batch.")
    @argument("--job", action="store_true", help="Job mode: no Session or Batch.")
    @argument("--least-busy", action="store_true", help="Ignore the sidebar's pick.")
    @_source_arguments
    @argument("--name", default=None, metavar="VAR", help="Variable for the backend (default: backend).")
    @argument("--quiet", action="store_true", help="Show no summary.")
    @line_magic
    def qconnect(self, line: str = "") -> None:
        """Connect to the least busy QPU (or BACKEND); put `backend` in the namespace, and `session` (paid plans) or
        `batch` (--batch)."""
        args = self._parse(self.qconnect, line)
        name = args.name or self.variable
        if not name.isidentifier():
            raise UsageError(f"--name: {name!r} is not a valid Python variable name. Use e.g. --name qpu.")
        if args.min_qubits is not None and args.min_qubits < 1:
            raise UsageError(f"--min-qubits: {args.min_qubits} is not a qubit count. Use a whole number of at least 1.")
        if args.deadline is not None and args.deadline <= 0:
            raise UsageError(
                f"--deadline: {args.deadline:g} is not a positive number of seconds. Use e.g. --deadline 20."
            )
        modes = [mode for mode in ("session", "batch", "job") if getattr(args, mode)]
        if len(modes) > 1:
            raise UsageError(
                f"--{modes[0]} and --{modes[1]} exclude each other. Give one of --session, --batch, --job."
            )
        args.mode = modes[0] if modes else None

        quiet = args.quiet or self.quiet
        progress = _Progress(self.shell, self.progress and not quiet)
        try:
            connection = self._run(lambda: self._connect(args, progress))
        except BaseException:
            progress.close()
            raise

        previous, self._connection = self._connection, connection
        assigned = self._push(connection, name)
        connection.notes = (f"Variables: {', '.join(assigned)}.",) + connection.notes
        shown = progress.close(None if quiet else connection)  # the summary takes the progress indicator's place
        if not quiet:
            if not shown:
                self._display(connection)  # the summary says every note once
        else:
            for note in connection.notes:  # what changed what was asked for is said even when quiet
                if "instead" in note or "no longer listed" in note:
                    print(f"Note: {note}")
        if previous is not None and previous.session is not None:
            self._close_previous(previous)

    def _close_previous(self, previous: Any) -> None:
        """Close the Session/Batch of the previous connect; a failure is one line, never a lost connection."""
        from .errors import ConnectorError

        try:
            previous.close()
        except ConnectorError as exc:
            print(
                f"Note: the previous {previous.mode} could not be closed ({exc}); IBM ends it when its time "
                "limit runs out.",
                file=sys.stderr,
            )

    def _push(self, connection: Any, name: str) -> list[str]:
        shell = self.shell
        assert shell is not None  # a magic always runs in a shell
        values = {name: connection.backend, "qconnection": connection}
        if connection.session is not None:
            values[connection.mode] = connection.session  # `session` (a Session) or `batch` (a Batch)
        for stale in ("session", "batch"):
            # a Session/Batch left by an earlier connect would mislead: it is closed, so remove it
            if stale not in values and isinstance(shell.user_ns.get(stale), _session_types()):
                shell.user_ns.pop(stale, None)
        shell.push(values)
        return list(values)

    def _connect(self, args: Any, progress: _Progress) -> Any:
        from .connection import connect
        from .errors import UnknownBackend
        from .pick import read_pick
        from .providers import provider_for

        settings = self._load_settings(args)
        backend = args.backend
        notes: list[str] = []
        pick = None
        if backend is None and not (args.least_busy or args.min_qubits or args.exclude):
            # Only a bare %qconnect follows the sidebar: filters ask for a choice by the rules given.
            pick = read_pick(settings.provider_kind)
            if pick is not None:
                backend = pick.backend
                notes.append(
                    f"{pick.backend} was picked in the sidebar: %qconnect --least-busy ignores the pick, "
                    "the sidebar's Clear button forgets it."
                )
        options = {
            "settings": settings,
            "mode": args.mode or self.default_mode,
            "min_qubits": args.min_qubits or self.min_qubits or None,
            "exclude": args.exclude,
            "progress": progress,
        }
        try:
            connection = connect(backend, **options)
        except UnknownBackend:
            if pick is None:
                raise
            notes = [f"{pick.backend}, picked in the sidebar, is no longer listed: using the least busy QPU instead."]
            connection = connect(None, **options)
        if pick is not None and connection.qpu.name == pick.backend:
            connection.picked_in_sidebar = True
        if pick is not None and connection.qpu.name == pick.backend and not connection.qpu.operational:
            notes.append(
                f"{pick.backend} is {connection.qpu.status}: jobs wait until it is back. "
                "%qconnect --least-busy picks an online QPU."
            )
            connection.notes = tuple(n for n in connection.notes if not n.startswith(f"{pick.backend} is "))
        provider_for(settings)  # keep the provider warm for completion
        if notes:
            connection.notes = tuple(notes) + connection.notes
        return connection

    # -- %qbackends ------------------------------------------------------------------------------------------
    @magic_arguments()
    @argument("--min-qubits", type=int, default=None, metavar="N", help="Only QPUs with at least N qubits.")
    @_source_arguments
    @line_magic
    def qbackends(self, line: str = "") -> Any:
        """A table of the QPUs, least busy first: status, qubits, processor and queue."""
        args = self._parse(self.qbackends, line)

        def table() -> Any:
            from .pick import read_pick
            from .providers import provider_for
            from .render.tables import BackendTable

            provider = provider_for(self._load_settings(args))
            listing = provider.listing()
            pick = read_pick(provider.kind)
            return BackendTable(listing, min_qubits=args.min_qubits, pick=pick.backend if pick else None)

        result = self._run(table)
        self._display(result)

    # -- %qplan ----------------------------------------------------------------------------------------------
    @magic_arguments()
    @_source_arguments
    @line_magic
    def qplan(self, line: str = "") -> None:
        """The resolved plan and instance, with the usage remaining where IBM reports it."""
        args = self._parse(self.qplan, line)

        def report() -> Any:
            from .providers import provider_for
            from .render.tables import PlanReport

            provider = provider_for(self._load_settings(args))
            check = provider.check_plan()
            return PlanReport(provider.kind, check, provider.instance(), provider.usage(), self._settings)

        self._display(self._run(report))

    # -- %qjobs, %qjob ---------------------------------------------------------------------------------------
    def _jobs_provider(self, args: Any) -> Any:
        """The provider of the last %qconnect, unless the line names another source."""
        from .providers import provider_for

        named = args.instance or args.env or args.local or args.deadline
        settings = self._settings if (self._settings is not None and not named) else self._load_settings(args)
        return provider_for(settings)

    @magic_arguments()
    @argument("--pending", action="store_true", help="Only jobs that are queued or running.")
    @argument("--backend", default=None, metavar="NAME", help="Only jobs on this QPU.")
    @argument("--limit", type=int, default=10, metavar="N", help="How many jobs to show (1 to 100; default 10).")
    @argument("--cancel", default=None, metavar="ID", help="Cancel this queued or running job instead.")
    @_source_arguments
    @line_magic
    def qjobs(self, line: str = "") -> None:
        """Your recent jobs, newest first (on IBM: the active instance's); or cancel one with --cancel ID."""
        args = self._parse(self.qjobs, line)
        if not 1 <= args.limit <= 100:
            raise UsageError(f"--limit is {args.limit}; use a whole number from 1 to 100.")
        if args.cancel is not None:
            job_id = _job_id(args.cancel, "--cancel")

            def cancel() -> str:
                return self._jobs_provider(args).cancel_job(job_id)

            print(f"Job {job_id}: {self._run(cancel)}")
            return

        def table() -> Any:
            from .render.jobs_table import JobsTable

            page = self._jobs_provider(args).jobs(pending=args.pending, backend=args.backend, limit=args.limit)
            return JobsTable(page, pending=args.pending)

        self._display(self._run(table))

    @magic_arguments()
    @argument("job_id", metavar="ID", help="The job's id (%%qjobs lists them).")
    @argument("--name", default="job", metavar="VAR", help="Variable for the job (default: job).")
    @_source_arguments
    @line_magic
    def qjob(self, line: str = "") -> None:
        """Put a job into the namespace (``job.status()``, ``job.result()``), by its id."""
        args = self._parse(self.qjob, line)
        job_id = _job_id(args.job_id, "ID")
        if not args.name.isidentifier():
            raise UsageError(f"--name {args.name!r} is not a Python variable name; use e.g. --name job.")

        def fetch() -> Any:
            return self._jobs_provider(args).job_handle(job_id)

        job = self._run(fetch)
        assert self.shell is not None
        self.shell.user_ns[args.name] = job
        if type(job).__name__ == "JobRecord":
            if job.error and "kernel that ran it stopped" in job.error:
                why = "the kernel that ran it stopped, so it has no result"
            else:
                why = "no job object for it is in this kernel (another kernel ran it, or this one no longer holds it)"
            print(f"{args.name} = the record of local job {job_id} ({job.status}): {why}; its fields are attributes.")
        else:
            print(f"{args.name} = job {job_id}: {args.name}.status(), and {args.name}.result() once it is done.")

    # -- completion ------------------------------------------------------------------------------------------
    def complete_backend(self, _shell: Any, event: Any) -> list[str]:
        """Backend names from the cached listing (the local fleet is listed on demand: it costs nothing)."""
        try:
            from .config import load_settings
            from .providers import provider_for

            settings = self._settings or load_settings(self.env_file or None, local=self.local or None)
            provider = provider_for(settings)
            listing = provider.cached_listing() or (provider.listing() if provider.kind == "local" else None)
        except Exception:  # noqa: BLE001 - tab completion offers nothing rather than a traceback
            return []
        if listing is None:
            return []
        line = getattr(event, "line", "") or ""
        prefix = "" if line.endswith(" ") else (line.split() or [""])[-1]
        if prefix.startswith("%"):
            prefix = ""
        return [name for name in listing.names() if name.startswith(prefix)]


def _plain_help(func: Any) -> None:
    """``%qconnect?`` shows "Usage: %qconnect ..." rather than IPython's reStructuredText ``::`` block marker."""
    func.__doc__ = (func.__doc__ or "").replace("::\n\n  %", "Usage: %", 1)


for _magic in (QConnect.qconnect, QConnect.qbackends, QConnect.qplan, QConnect.qjobs, QConnect.qjob):
    _plain_help(_magic)


def _job_id(text: str, what: str) -> str:
    import re

    text = text.strip().strip("'\"")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text):
        raise UsageError(f"{what} {text[:70]!r} is not a job id; %qjobs lists the ids of your jobs.")
    return text


def _session_types() -> tuple[type, ...]:
    runtime = sys.modules.get("qiskit_ibm_runtime")
    if runtime is None:
        return ()
    return (runtime.Session, runtime.Batch)


_registered: dict[int, QConnect] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (loading twice is harmless)."""
    if id(ipython) in _registered:
        return
    magics = QConnect(shell=ipython, config=ipython.config)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    ipython.set_hook("complete_command", magics.complete_backend, str_key="%qconnect")
    _registered[id(ipython)] = magics


def unload_ipython_extension(ipython: Any) -> None:
    magics = _registered.pop(id(ipython), None)
    if magics is None:
        return
    if magics._connection is not None and magics._connection.session is not None:
        magics._close_previous(magics._connection)  # bounded; a failure is one line on stderr
    for name in ("qconnect", "qbackends", "qplan", "qjobs", "qjob"):
        ipython.magics_manager.magics["line"].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
