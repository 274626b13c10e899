"""The deprecation policy of the test suite: a deprecation met in qiskit, qiskit-ibm-runtime, qiskit-aer or this
project is an error, so the first sign of a coming break fails a test instead of scrolling past."""

from __future__ import annotations

import pytest

PROBE = "import warnings\nwarnings.warn('this call goes away in the next release', {category}, stacklevel=1)\n"


@pytest.mark.parametrize("module", ["qiskit_ibm_runtime.probe", "qiskit.probe", "qiskit_connector_lab.probe"])
@pytest.mark.parametrize("category", ["DeprecationWarning", "PendingDeprecationWarning"])
def test_a_deprecation_in_qiskit_or_the_client_fails_the_test(module, category):
    code = compile(PROBE.format(category=category), f"<{module}>", "exec")
    with pytest.raises(Warning, match="goes away in the next release"):
        exec(code, {"__name__": module})
