"""The contract with qiskit-ibm-runtime's private internals, and the public-API fallbacks when they are gone.

The contract half checks, against the installed client, the signatures and the shapes the adapter
(``qiskit_connector_lab.providers.runtime_internals``) relies on, not only that the names exist. The fallback half
runs the connector through the real client against the emulator with every private name hidden, and checks that it
still connects, with the extra requests the public API costs and one logged note per missing name.
"""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit_ibm_runtime.api.session import RetrySession

from qiskit_connector_lab.config import load_settings
from qiskit_connector_lab.providers import provider_for
from qiskit_connector_lab.providers import runtime_internals as internals
from qiskit_connector_lab.qpus import listing_from_devices

RuntimeClient = internals.runtime_client_class()

BACKENDS = "/api/v1/backends"
PACKAGE = Path(internals.__file__).resolve().parents[1]


# --- the contract ---------------------------------------------------------------------------------------------


def test_create_backend_obj_takes_the_arguments_the_adapter_passes():
    parameters = inspect.signature(QiskitRuntimeService._create_backend_obj).parameters
    assert list(parameters)[:4] == ["self", "backend_name", "instance", "use_fractional_gates"]
    assert internals._create_backend_usable(object()) is None  # and a service without it falls back


def test_the_api_client_methods_take_a_backend_name():
    assert RuntimeClient is not None, "qiskit-ibm-runtime moved its RuntimeClient again"
    assert list(inspect.signature(RuntimeClient.list_backends).parameters)[:1] == ["self"]
    for method in (RuntimeClient.backend_configuration, RuntimeClient.backend_properties):
        assert list(inspect.signature(method).parameters)[:2] == ["self", "backend_name"]
    jobs_get = inspect.signature(RuntimeClient.jobs_get).parameters
    assert {"limit", "skip", "backend_name", "pending", "descending"} <= set(jobs_get)


def test_the_retry_hook_has_the_shape_the_adapter_wraps():
    original = inspect.unwrap(RetrySession._initialize_retry)  # the client's, even after our hook wrapped it
    assert list(inspect.signature(original).parameters) == [
        "self",
        "retries_total",
        "retries_connect",
        "backoff_factor",
    ]
    assert "self._initialize_retry(" in inspect.getsource(RetrySession.__init__)


def test_the_service_keeps_its_api_client_and_listing_cache_as_the_adapter_reads_them(emulator, ibm_dotenv):
    ibm_dotenv("open")
    service = provider_for(load_settings()).service
    assert isinstance(service._active_api_client, RuntimeClient)
    cache = service._backends_info_per_instance
    assert isinstance(cache, dict)  # 0.51 fills it during init; 0.49 and 0.50 only when they list
    devices = internals.list_devices(service)
    assert cache[service.active_instance()] is devices  # the client's cache kept current
    assert isinstance(devices, list) and devices and isinstance(devices[0], dict)
    for key in ("name", "status", "qubits", "queue_length", "processor_type"):
        assert key in devices[0], key
    assert internals.first_listing(service) is devices
    configuration = internals.backend_configuration(service, devices[0]["name"])
    assert configuration["backend_name"] == devices[0]["name"] and "coupling_map" in configuration


def test_no_other_module_uses_a_private_name_of_the_client():
    private_uses = (
        "_active_api_client",
        "_backends_info_per_instance",
        "_create_backend_obj",
        "_initialize_retry",
        "RetrySession",
    )
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "runtime_internals.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(PACKAGE)}: {name}" for name in private_uses if name in text]
    assert offenders == []


# --- the public-API fallback ----------------------------------------------------------------------------------


class _PublicOnly:
    """The real service, seen through its public API only: every private attribute is hidden."""

    def __init__(self, service: Any) -> None:
        object.__setattr__(self, "_wrapped", service)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "_wrapped"), name)


def test_the_fallbacks_list_load_and_describe_with_the_public_api(emulator, ibm_dotenv, caplog):
    ibm_dotenv("open")
    service = _PublicOnly(provider_for(load_settings()).service)
    internals.reset_fallbacks()
    emulator.reset_log()
    with caplog.at_level(logging.INFO, logger="qiskit_connector_lab"):
        devices = internals.list_devices(service)
        listing = listing_from_devices(devices, "ibm")
        name = listing.qpus[0].name
        backend = internals.load_backend(service, name)
        configuration = internals.backend_configuration(service, name)
        internals.list_devices(service)  # the second time: no second note
        first = internals.first_listing(service)
        jobs = internals.jobs_page(service, limit=5, skip=0, pending=None, backend_name=None)

    expected = {emulator.backend(b)["name"]: emulator.backend(b)["queue_length"] for b in emulator.backend_names}
    assert {q.name: q.queue for q in listing.qpus} == expected  # the same queues as the one-request listing
    assert backend.name == name and configuration["backend_name"] == name
    assert first is None and jobs is None  # the caller then pages with the public service.jobs()
    status_requests = sum(1 for r in emulator.requests if r.method == "GET" and r.path.endswith("/status"))
    assert status_requests >= len(expected)  # the public API's cost: a status request per QPU
    assert {
        "RuntimeClient.list_backends",
        "QiskitRuntimeService._create_backend_obj",
        "RuntimeClient.backend_configuration",
        "RuntimeClient.jobs_get",
    } <= internals.fallbacks_used()
    notes = [r.getMessage() for r in caplog.records if "public API instead" in r.getMessage()]
    assert len(notes) == len(set(notes)) == 5, notes  # one note per missing name, never repeated


def test_connect_still_works_when_the_retry_hook_is_gone(emulator, ibm_dotenv, monkeypatch, caplog):
    ibm_dotenv("open")
    monkeypatch.delattr(RetrySession, "_initialize_retry")
    monkeypatch.setattr(internals, "_hook_installed", False)
    internals.reset_fallbacks()
    with caplog.at_level(logging.INFO, logger="qiskit_connector_lab"):
        assert internals.install_session_hook(lambda: None) is False
    assert "RetrySession._initialize_retry" in internals.fallbacks_used()
    assert any("keep the client's own timeouts" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("module", ["qiskit_connector_lab.providers.ibm", "qiskit_connector_lab.providers.bounded"])
def test_importing_the_providers_does_not_touch_the_client(module):
    code = f"import sys, {module}; print('qiskit_ibm_runtime' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
