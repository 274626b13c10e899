"""The qiskit-ibm-runtime internals the connector relies on. If an upgrade removes one, this fails first and says
which, instead of the connector quietly making extra requests or losing its HTTP bounds."""

from __future__ import annotations

import inspect

from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit_ibm_runtime.api.client import RuntimeClient
from qiskit_ibm_runtime.api.session import RetrySession


def test_the_runtime_internals_we_use_are_there():
    assert callable(getattr(QiskitRuntimeService, "_create_backend_obj", None)), "one-request backend loading"
    assert "instance" in inspect.signature(QiskitRuntimeService._create_backend_obj).parameters
    source = inspect.getsource(QiskitRuntimeService.__init__)
    assert "_backends_info_per_instance" in source and "_active_api_client" in source, "listing reuse after init"
    assert callable(getattr(RuntimeClient, "list_backends", None)), "the one-call listing"
    assert callable(getattr(RetrySession, "_initialize_retry", None)), "bounded HTTP for the client's sessions"
