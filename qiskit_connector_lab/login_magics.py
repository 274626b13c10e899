"""IPython magics ``%qlogin`` and ``%qlogout``: sign in to IBM Quantum from a notebook, the same way as the sidebar.

``%qlogin`` asks for the API key with a password prompt (``getpass``: the key is never in the cell, its output or
the notebook file), checks it with IBM (2 + N requests, under the deadline), lists the key's instances, lets you
pick one (``--instance NAME`` picks it at once; a key with one instance needs no choice), and stores both as the
qiskit-ibm-runtime account ``qiskit-connector-lab`` (``~/.qiskit/qiskit-ibm.json``, mode 0600). A bare ``%qconnect``
then uses it, unless the environment or the ``.env`` holds a token (that one comes first, and ``%qlogin`` says so).
``%qlogout`` removes the stored account. Every failure is one ``UsageError`` line; nothing is stored unless the key
was validated.

This module imports only IPython; the connector loads on the first call.
"""

from __future__ import annotations

import builtins
import getpass
import shlex
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class

_USAGE = "Usage: %qlogin [--instance NAME] [--env PATH] [--deadline SECONDS]"


def _options(line: str) -> dict[str, str]:
    """The options of a %qlogin line; anything else is refused without being quoted (it may be the key)."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = ["?"]
    options: dict[str, str] = {}
    while words:
        word = words.pop(0)
        name, _, value = word.partition("=")
        if name not in ("--instance", "--env", "--deadline"):
            raise UsageError(
                "%qlogin takes no API key (or any other word) on its line, where the notebook would keep it: run "
                f"%qlogin alone and paste the key at the prompt. {_USAGE}"
            )
        if not value:
            if not words:
                raise UsageError(f"{name} needs a value. {_USAGE}")
            value = words.pop(0)
        options[name[2:]] = value
    return options


@magics_class
class QLogin(Magics):
    """Sign in to IBM Quantum with an API key, and sign out."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        # The password and instance prompts; None: getpass.getpass and input, looked up at each call, so the
        # kernel's forwarders of the moment are used (ipykernel routes them to the notebook's input).
        self.prompt: Any = None
        self.ask: Any = None

    @line_magic
    def qlogin(self, line: str = "") -> None:
        """Sign in: ``%qlogin``, paste the key at the prompt, pick an instance."""
        from .accounts import sign_in as signin
        from .errors import ConfigError, ConnectorError
        from .providers import forget_providers

        options = _options(line)
        try:
            try:
                cloud_url, runtime_url, deadline = signin.sign_in_endpoints(
                    options.get("env"), deadline=options.get("deadline")
                )
            except ConfigError as error:
                if error.variable != "deadline":
                    raise
                raise UsageError(f"--deadline {error.problem} {_USAGE}") from None
            prompt = self.prompt or getpass.getpass
            try:
                key = prompt(f"IBM Quantum API key (hidden; create one at {signin.API_KEY_PAGE}): ")
            except StdinNotImplementedError:
                raise UsageError(
                    "This frontend cannot show a password prompt, so nothing was stored: sign in from the sidebar "
                    "(Sign in to IBM Quantum), or run %qlogin in JupyterLab or Notebook."
                ) from None
            except (EOFError, KeyboardInterrupt):
                raise UsageError("No API key was given, so nothing was stored.") from None
            secret = signin.check_key(key)
            del key
            instances = signin.list_instances(secret, cloud_url=cloud_url, seconds=deadline)
            chosen = self._choose(signin, instances, options.get("instance"))
            account = signin.keep(secret, chosen, cloud_url=cloud_url, runtime_url=runtime_url)
            forget_providers()  # a service of another key cached in this kernel is not used again
            status = signin.account_status(options.get("env"))
        except ConnectorError as error:
            raise UsageError(str(error)) from None
        print(
            f"Signed in to IBM Quantum: instance {chosen.name} ({chosen.plan} plan, {chosen.pricing_type}), "
            f"stored in {account.where}, mode 0600. A bare %qconnect now uses it; %qlogout signs out."
        )
        if status["note"]:
            print(status["note"])

    def _choose(self, signin: Any, instances: list[Any], wanted: str | None) -> Any:
        if wanted is not None:
            return signin.choose(instances, wanted)
        print(f"This API key reaches {len(instances)} instance(s):")
        for number, instance in enumerate(instances, 1):
            region = f", {instance.region}" if instance.region else ""
            print(f"  {number}. {instance.name} ({instance.plan} plan, {instance.pricing_type}{region})")
        if len(instances) == 1:
            return instances[0]
        try:
            answer = (self.ask or builtins.input)(f"Instance to use (1-{len(instances)} or its name): ").strip()
        except (EOFError, KeyboardInterrupt, StdinNotImplementedError):
            raise UsageError("No instance was chosen, so nothing was stored.") from None
        if answer.isdigit() and 1 <= int(answer) <= len(instances):
            return instances[int(answer) - 1]
        return signin.choose(instances, answer)

    @line_magic
    def qlogout(self, line: str = "") -> None:
        """Sign out: remove the account ``%qlogin`` (or the sidebar) stored."""
        from .accounts import sign_in as signin
        from .accounts import store
        from .errors import ConnectorError
        from .providers import forget_providers

        if line.strip():
            raise UsageError("%qlogout takes no arguments.")
        try:
            removed = signin.sign_out()
            forget_providers()  # the signed-out key's service goes too
        except ConnectorError as error:
            raise UsageError(str(error)) from None
        where = f"{store.shown(store.accounts_file())} (account {store.ACCOUNT_NAME})"
        print(f"Signed out: removed {where}." if removed else f"Not signed in: {where} holds no sign-in.")


_registered: dict[int, QLogin] = {}


def load_ipython_extension(ipython: Any) -> None:
    if id(ipython) in _registered:
        return
    magics = QLogin(shell=ipython)
    ipython.register_magics(magics)
    _registered[id(ipython)] = magics


def unload_ipython_extension(ipython: Any) -> None:
    if _registered.pop(id(ipython), None) is None:
        return
    for name in ("qlogin", "qlogout"):
        ipython.magics_manager.magics["line"].pop(name, None)
