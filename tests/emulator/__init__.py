"""Loopback emulator of the IBM Quantum Platform API, for driving the real
``QiskitRuntimeService`` in tests.  See :mod:`tests.emulator.emulator`."""

from .emulator import DEFAULT_API_KEY, DEFAULT_INSTANCES, IBMQuantumEmulator
from .faults import Fault
from .server import RequestRecord

__all__ = ["DEFAULT_API_KEY", "DEFAULT_INSTANCES", "Fault", "IBMQuantumEmulator", "RequestRecord"]
