"""Benchmark: a segment with as many levels as rows (ids used as a segment by mistake), issue 16 item 6.

Run from the repository root (not a test; a few minutes):

    python benchmarks/bench_many_levels.py                    # 1e4 ... 1e6 rows, one level per row
    python benchmarks/bench_many_levels.py --sizes 1e5 --km-max 3e4

For each size ``n`` (n rows, n levels of segment ``g``), in a fresh subprocess (so that the peak resident memory,
``ru_maxrss``, is that of this size alone), stages are timed on the same frame:

* ``from_frame``: ``Tenures.from_frame`` with ``g`` as a segment;
* ``tenure_confounding``: the confounding check of ``g`` (before issue 16 it built (levels x levels) matrices:
  1e5 levels asked for 74 GiB);
* ``describe``: ``Tenures.describe(by="g")`` (warns that ``g`` looks like an id);
* ``life_table``: ``life_table(t, "g")`` with its confounding check, and with ``check_confounding=False``;
* ``KaplanMeier``: ``KaplanMeier().fit(t, by="g")`` (only up to ``--km-max`` levels: its per-segment quantiles
  are quadratic in the number of levels, see the results file);
* ``lifelines``: ``KaplanMeierFitter`` on the pooled sample (lifelines fits one curve per call; per level it
  would be n calls), for scale.

Results go to ``benchmarks/results/many_levels.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's churnsurv, not an installed copy


def _data(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(16)
    return pd.DataFrame({"tenure": rng.integers(0, 72, n), "churned": rng.integers(0, 2, n),
                         "g": np.char.add("cust_", np.arange(n).astype(str))})


def _child(n: int, km_max: int) -> dict:
    from churnsurv import KaplanMeier, Tenures, life_table, tenure_confounding

    import churnsurv

    warnings.simplefilter("ignore")
    df = _data(n)
    out: dict = {"n": n, "path": churnsurv.__file__}

    def timed(name, fn):
        t0 = time.perf_counter()
        res = fn()
        out[name] = time.perf_counter() - t0
        return res

    t = timed("from_frame", lambda: Tenures.from_frame(df, duration="tenure", event="churned", segments="g"))
    timed("tenure_confounding", lambda: tenure_confounding(t, "g"))
    timed("describe", lambda: t.describe(by="g"))
    timed("life_table_nocheck", lambda: life_table(t, "g", check_confounding=False))
    timed("life_table", lambda: life_table(t, "g"))
    if n <= km_max:
        timed("km", lambda: KaplanMeier().fit(t, by="g"))
    try:
        from lifelines import KaplanMeierFitter

        timed("lifelines_pooled", lambda: KaplanMeierFitter().fit(df["tenure"], df["churned"]))
    except ImportError:  # pragma: no cover
        pass
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="*", type=float, default=[1e4, 3e4, 1e5, 3e5, 1e6])
    p.add_argument("--km-max", type=float, default=1e5)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "many_levels.md"))
    p.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(int(args.child), int(args.km_max))))
        return
    rows = []
    for n in args.sizes:
        res = subprocess.run([sys.executable, __file__, "--child", str(n), "--km-max", str(args.km_max)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    cols = ["from_frame", "tenure_confounding", "describe", "life_table_nocheck", "life_table", "km",
            "lifelines_pooled"]

    def fmt(r, c):
        return f"{r[c]:.2f}" if c in r else "not run"

    lines = [
        "# A segment with one level per row (issue 16, item 6)",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores (shared); "
        "one subprocess per size; seconds (wall clock) and the peak resident memory of the subprocess.",
        "",
        "| rows = levels | from_frame | tenure_confounding | describe | life_table (no check) | life_table "
        "(with check) | KaplanMeier by g | lifelines KM pooled | peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | " + " | ".join(fmt(r, c) for c in cols) + f" | {r['maxrss_mb']:.0f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
