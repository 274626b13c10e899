"""Run the IBM Quantum API emulator by hand, to point the product at it.

The README's "Rehearse the IBM path without an account" walks through it.

    python tests/emulator [--port 8765] [--latency 0.05] [--backends 7]

It prints the environment variables and the ``.env`` lines that point the real client, the magics and the
sidebar at it, then serves until Ctrl-C. The API key it accepts is a test key, not a secret.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python tests/emulator` puts only this folder

from emulator import IBMQuantumEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--backends", type=int, default=None, help="how many QPUs to list (default: its own set)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the queues and calibration")
    args = parser.parse_args(argv)

    emulator = IBMQuantumEmulator(backends=args.backends, latency=args.latency, seed=args.seed)
    if args.port:
        emulator._port = args.port  # start() binds the port it last had
    emulator.start()
    print(f"IBM Quantum API emulator on {emulator.base_url} (Ctrl-C stops it)\n")
    print("# In the shell that starts Jupyter (the process environment):")
    for name, value in emulator.client_env().items():
        if name != "QISKIT_IBM_URL":
            print(f"export {name}={value}")
    print("export QCONNECTOR_ALLOW_HOSTS=127.0.0.1   # opt in to a non-IBM endpoint: never from a .env file")
    print("\n# In the .env next to your notebooks:")
    print(f'IQP_API_TOKEN="{emulator.api_key}"')
    print(f'CLOUD_API_URL="{emulator.base_url}"')
    print(f'IQP_RUNTIME_API_URL="{emulator.base_url}/api/v1"')
    print('OPEN_PLAN="on"\nOPEN_PLAN_CHANNEL="ibm_quantum_platform"\nOPEN_PLAN_INSTANCE="open-instance"')
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
