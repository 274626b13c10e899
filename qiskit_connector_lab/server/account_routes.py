"""The sign-in route: ``{base_url}qiskit-connector-lab/account``.

=================================  ====================================================================================
GET    account                     signed in or not, the instance and plan, where the credential is stored, which
                                   credential source the settings use today (sign-in, environment, .env, saved
                                   account) and why; never the key
POST   account ``{"token"}``       check the key with IBM (2 + N requests, no ``/backends``): ``{"instances": [...]}``;
                                   without ``token``, the signed-in key (to switch instance)
POST   account ``{"token",         check the key, check that the instance is one of its instances, store both
       "instance"}``               (qiskit-ibm-runtime's file, mode 0600), then answer as ``GET``
DELETE account                     sign out: remove the stored account; answer as ``GET``
=================================  ====================================================================================

Every handler is ``@authenticated``; POST and DELETE keep jupyter_server's XSRF check. Errors are the routes' JSON
errors (one sentence, a code, a hint); a malformed key or an unknown instance is a 400, a saved-accounts file that
cannot be used (locked by another program, not JSON) a 409 ``accounts_file`` with what to do. The key is in no
answer and no log line (it is registered with the redacting filter before anything else is done with it). After a
sign-in or a sign-out the cached providers are dropped and the shared upstream re-reads its configuration at once,
so the next listing comes from IBM (or the local fleet) without a restart, and no service built with a signed-out
key stays.

The credential is never stored where the contents API could serve it: if qiskit-ibm-runtime's file lies inside the
server's root folder and ``ContentsManager.allow_hidden`` is on, the sign-in is refused with a 409.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tornado import web

from ..accounts import sign_in as signin
from ..accounts import store
from ..errors import ConfigError, ConnectorError
from ..providers import forget_providers
from .handler import QConnectorHandler
from .http_errors import ApiError, api_error


def _answers(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(method)
    async def wrapper(self: AccountHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except ConfigError as error:
            if error.variable in ("token", "instance"):  # the request's fault, not the server's configuration
                raise ApiError(400, f"bad_{error.variable}", error.problem, hint=error.fix) from None
            if error.variable.startswith(store.shown(store.accounts_file())):  # the user's file: locked, not JSON
                raise ApiError(409, "accounts_file", f"{error.variable} {error.problem}", hint=error.fix) from None
            raise api_error(error) from None
        except signin.NoInstance as error:
            answer = api_error(error)
            raise ApiError(422, error.code, answer.message, hint=answer.hint) from None
        except ConnectorError as error:
            raise api_error(error) from None

    return wrapper


class AccountHandler(QConnectorHandler):
    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    def _status(self) -> dict[str, Any]:
        return signin.account_status(self.cache.options.env_file or None)

    def _body(self) -> dict[str, Any]:
        data = self.json_body()
        if not isinstance(data, dict) or set(data) - {"token", "instance"}:
            raise ApiError(
                400,
                "bad_request",
                'The body must be a JSON object: {"token": "<API key>"}, with "instance": "<CRN or name>" to store it.',
            )
        return data

    def _refuse_inside_root(self) -> None:
        """A credential inside the root folder with hidden files served would be one GET away from the browser."""
        root = self.settings.get("server_root_dir") or self.settings.get("root_dir")
        if not root or not getattr(self.contents_manager, "allow_hidden", False):
            return
        target = store.accounts_file()
        try:
            target.resolve().relative_to(Path(root).expanduser().resolve())
        except ValueError:
            return
        raise ApiError(
            409,
            "stored_in_root",
            f"The credential would be stored in {store.shown(target)}, inside the server's root folder, and "
            "ContentsManager.allow_hidden is on, so the browser could read it.",
            hint="Turn allow_hidden off, or start Jupyter in a subfolder of your home folder, then sign in again.",
        )

    @web.authenticated
    @_answers
    async def get(self) -> None:
        self.reply(await self._blocking(self._status))

    @web.authenticated
    @_answers
    async def post(self) -> None:
        data = self._body()
        if data.get("token") is None:  # "Switch instance": the key signed in already
            stored = await self._blocking(store.load)
            if stored is None:
                raise ApiError(400, "bad_token", "Not signed in, so the API key is needed.", hint="Send the token.")
            secret = stored.token
        else:
            secret = signin.check_key(data["token"])  # registered with the redacting filter from here on
        cloud_url, runtime_url, deadline = await self._blocking(
            signin.sign_in_endpoints, self.cache.options.env_file or None
        )
        if data.get("instance") is None:
            instances = await self._blocking(
                functools.partial(signin.list_instances, secret, cloud_url=cloud_url, seconds=deadline)
            )
            self.reply({"instances": [i.to_json() for i in instances], "api_key_page": signin.API_KEY_PAGE})
            return
        self._refuse_inside_root()
        account = await self._blocking(
            functools.partial(
                signin.sign_in, secret, data["instance"], cloud_url=cloud_url, runtime_url=runtime_url, seconds=deadline
            )
        )
        forget_providers()  # no service of another key stays cached
        self.cache.config_changed()
        self.log.info("qiskit-connector-lab: signed in to IBM Quantum (instance %s)", account.details.get("name"))
        self.reply(await self._blocking(self._status))

    @web.authenticated
    @_answers
    async def delete(self) -> None:
        removed = await self._blocking(signin.sign_out)
        forget_providers()  # the signed-out key's service goes too, not only the file
        self.cache.config_changed()
        if removed:
            self.log.info("qiskit-connector-lab: signed out of IBM Quantum")
        self.reply(await self._blocking(self._status))
