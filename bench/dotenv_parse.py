"""Reading a large .env: python-dotenv's ``dotenv_values`` (what the configuration used before) against
``qiskit_connector_lab.config.read_env_file`` (what it uses now), in one run, plus the refusal of a 2 MB file.

``dotenv_values(interpolate=True)`` copies the whole environment for every line it expands, so its time grows
with lines x (lines + environment): quadratic. ``read_env_file`` hands the text to the same parser
(``dotenv.parser.parse_stream``) and expands ``${NAME}`` in one pass over a ChainMap.

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/dotenv_parse.py                 # 10k, 20k, 40k lines
    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/dotenv_parse.py --lines 40000 --repeats 3

Prints, per size, the median seconds of each side, their ratio, and each side's growth when the lines double
(2 = linear, 4 = quadratic).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dotenv import dotenv_values

from qiskit_connector_lab.config import read_env_file
from qiskit_connector_lab.errors import ConfigError


def write_env(folder: Path, lines: int) -> Path:
    path = folder / f"{lines}.env"
    path.write_text('B="root"\n' + "".join(f'K_{i}="${{B}}{i}"\n' for i in range(lines)))  # 40k lines: 0.8 MB
    return path


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 20_000, 40_000])
    parser.add_argument("--repeats", type=int, default=1, help="runs per side and size (median); default 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        previous: tuple[float, float] | None = None
        print(f"{'lines':>7} {'bytes':>9} {'dotenv_values s':>16} {'read_env_file s':>16} {'ratio':>7} growth")
        for lines in args.lines:
            path = write_env(Path(folder), lines)
            before = median_seconds(lambda p=path: dotenv_values(p, interpolate=True), args.repeats)
            after = median_seconds(lambda p=path: read_env_file(p, os.environ), args.repeats)
            assert read_env_file(path, os.environ) == dotenv_values(path, interpolate=True)  # the same values
            growth = f"{before / previous[0]:.1f}x / {after / previous[1]:.1f}x" if previous else "-"
            print(
                f"{lines:>7} {path.stat().st_size:>9} {before:>16.3f} {after:>16.3f} {before / after:>6.0f}x {growth}"
            )
            previous = (before, after)
        big = Path(folder) / "big.env"
        big.write_bytes(b"K=" + b"v" * (2 * 1024 * 1024) + b"\n")
        start = time.perf_counter()
        try:
            read_env_file(big, os.environ)
        except ConfigError as error:
            print(f"2 MB .env refused in {time.perf_counter() - start:.4f} s: {error}")


if __name__ == "__main__":
    main()
