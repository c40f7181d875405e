"""Benchmark: lifetime value and customer equity with the stratified customer bootstrap.

Run from the repository root (not a test; about a minute at the largest size):

    python benchmarks/bench_value.py                      # 1e4, 1e5, 1e6 customers, 200 replicates
    python benchmarks/bench_value.py --sizes 1e4 --n-boot 500

Data: whole-month tenures in 4 segments with a constant monthly defection probability per segment (0.02, 0.04,
0.08, 0.12) and administrative censoring uniform over 1..60 months, drawn with NumPy (seed 0). Timed, best of
``--repeats`` runs: ``lifetime_value`` without and with ``n_boot`` replicates (constant tail refitted in every
replicate), ``customer_equity`` with ``n_boot`` replicates. Results go to ``benchmarks/results/value.csv`` and
``value.md`` with the machine's description.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import churnsurv
from churnsurv import Tenures
from churnsurv.value import customer_equity, lifetime_value

RESULTS = Path(__file__).resolve().parent / "results"
HAZARDS = {"a": 0.02, "b": 0.04, "c": 0.08, "d": 0.12}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_tenures(n: int, seed: int = 0) -> Tenures:
    rng = np.random.default_rng(seed)
    seg = rng.choice(list(HAZARDS), n)
    h = np.vectorize(HAZARDS.get)(seg)
    tenure = rng.geometric(h).astype(float)
    censor = rng.integers(1, 61, n).astype(float)
    frame = pd.DataFrame({"tenure": np.minimum(tenure, censor), "churned": tenure <= censor, "plan": seg,
                          "charge": rng.uniform(20, 100, n)})
    return Tenures.from_frame(frame, duration="tenure", event="churned", segments="plan", values="charge")


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6])
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    kw = dict(by="plan", margin="charge", margin_rate=0.3, discount_rate=0.01)
    rows = []
    warnings.simplefilter("ignore")
    for n in map(int, args.sizes):
        t = make_tenures(n)
        for label, fn in [
            ("lifetime_value", lambda t=t: lifetime_value(t, **kw)),
            (f"lifetime_value, n_boot={args.n_boot}", lambda t=t: lifetime_value(t, n_boot=args.n_boot,
                                                                              random_state=0, **kw)),
            (f"customer_equity, n_boot={args.n_boot}", lambda t=t: customer_equity(t, n_boot=args.n_boot,
                                                                                random_state=0, **kw)),
        ]:
            seconds = best_of(fn, args.repeats)
            log(f"{n:>9,} customers  {label:<32} {seconds:8.3f} s")
            rows.append({"n_customers": n, "task": label, "seconds": round(seconds, 4)})
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "value.csv", index=False)
    machine = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs, Python "
               f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, churnsurv "
               f"{churnsurv.__version__}")
    (args.out / "value.md").write_text(
        f"# Retention value benchmark\n\n{machine}; best of {args.repeats} runs, wall clock.\n\n"
        + _markdown(table) + "\n", encoding="utf-8")


def _markdown(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(f"{v:,}" if isinstance(v, (int, np.integer)) else str(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([head, *body])


if __name__ == "__main__":
    main()
