"""QPU providers: IBM Quantum (:mod:`.ibm`) and the embedded local fleet (:mod:`.local_fleet`).

:func:`provider_for` is the process-wide registry: one provider per configuration, built on first use, so a
second connect in the same process reuses the signed-in IBM service. The interface is in :mod:`.base`; every
blocking IBM call goes through :mod:`.bounded`; everything taken from the IBM client's private internals is in
:mod:`.runtime_internals`.
"""

from __future__ import annotations

import threading

from ..config import Settings
from ..plans import Plan
from .base import Provider, Usage

__all__ = ["Provider", "Usage", "forget_providers", "plan_for", "provider_for"]

_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def provider_for(settings: Settings) -> Provider:
    """The cached provider for these settings (built on first use)."""
    key = settings.fingerprint()
    with _providers_lock:
        provider = _providers.get(key)
        if provider is not None and provider.settings != settings:
            # Same account, instance and endpoints: keep the signed-in service, take the new deadline, TTL, plan.
            provider.settings = settings
        if provider is None:
            if settings.local:
                from .local_fleet import LocalFleet

                provider = LocalFleet(settings)
            else:
                from .hub_service import HubServiceProvider, service_url

                url = service_url()  # on JupyterHub: the class's QPU service lists, the student's key runs jobs
                if url is not None:
                    provider = HubServiceProvider(settings, url)
                else:
                    from .ibm import IBMProvider

                    provider = IBMProvider(settings)
            _providers[key] = provider
        return provider


def forget_providers() -> None:
    """Drop every cached provider (tests, or after the user changed credentials)."""
    with _providers_lock:
        _providers.clear()


def plan_for(settings: Settings) -> Plan:
    """The configured plan, without asking anyone (the local fleet acts as the open plan by default)."""
    return settings.plan or Plan.OPEN
