"""Benchmark: Kaplan-Meier + Nelson-Aalen + per-period hazard by 4 segments, churnsurv against lifelines.

Run from the repository root (not a test; takes a few minutes at 1e7):

    python benchmarks/bench_segments.py                 # 1e5, 1e6, 1e7 customers
    python benchmarks/bench_segments.py --sizes 1e5 1e6 # a subset

Data: monthly tied tenures (whole months, 4 segments) from ``churnsurv.simulate.simulate_churn`` when it is
available, else drawn with NumPy. Paths timed on the same frame, in the same process:

* ``churnsurv (raw frame)``: ``Tenures.from_frame`` + ``life_table`` by segment + ``KaplanMeier``,
  ``NelsonAalen`` and ``DiscreteHazard`` fitted on the life table;
* ``churnsurv (prebuilt Tenures)``: the same from an existing ``Tenures`` (life table + three estimators);
* ``churnsurv (estimators only)``: the three estimators from an existing ``LifeTable``;
* ``lifelines``: ``KaplanMeierFitter`` + ``NelsonAalenFitter`` fitted per segment on the raw frame (lifelines
  has no per-period hazard with intervals, so it does less work);
* stage timings of the raw-frame path (``from_frame``, ``life_table``, its confounding check).

Each timing is the best of ``--repeats`` runs, wall-clock and process CPU time; peak memory comes from a
separate run under ``tracemalloc`` (NumPy and pandas report their buffers to it). Results go to
``benchmarks/results/segments.csv`` and ``segments.md`` (or ``--out``) with the machine's description.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import churnsurv
from churnsurv import Tenures, life_table
from churnsurv.nonparametric import DiscreteHazard, KaplanMeier, NelsonAalen

RESULTS = Path(__file__).resolve().parent / "results"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- data
def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Four segments, whole-month tenures, censoring; simulate_churn when available."""
    try:
        from churnsurv.simulate import simulate_churn
    except ImportError:  # pragma: no cover - the simulator is part of the package now
        simulate_churn = None
    if simulate_churn is not None:
        d = simulate_churn(n, random_state=seed).data
        return pd.DataFrame({"segment": d["segment"], "tenure": d["exit"].to_numpy(),
                             "churned": d["event"].to_numpy()}), "churnsurv.simulate.simulate_churn (default scenario)"
    rng = np.random.default_rng(seed)
    seg = rng.choice(np.array(["Month-to-month", "One year", "Two year", "Prepaid"]), n, p=[.45, .2, .2, .15])
    scale = pd.Series(seg).map({"Month-to-month": 20.0, "One year": 60.0, "Two year": 90.0,
                                "Prepaid": 10.0}).to_numpy()
    t = np.ceil(rng.weibull(0.8, n) * scale)
    c = rng.integers(0, 73, n).astype(float)
    return pd.DataFrame({"segment": pd.Categorical(seg), "tenure": np.minimum(t, c), "churned": t <= c}), \
        "numpy (Weibull, uniform censoring)"


# ---------------------------------------------------------------------- paths
def churnsurv_raw(df):
    ten = Tenures.from_frame(df, duration="tenure", event="churned", segments="segment")
    return churnsurv_tenures(ten)


def churnsurv_tenures(ten):
    lt = life_table(ten, "segment")
    return churnsurv_lifetable(lt)


def churnsurv_lifetable(lt):
    km = KaplanMeier().fit(lt)
    na = NelsonAalen().fit(lt)
    dh = DiscreteHazard().fit(lt)
    return km, na, dh


def lifelines_path(df):
    from lifelines import KaplanMeierFitter, NelsonAalenFitter

    out = []
    for _, g in df.groupby("segment", observed=True, sort=True):
        km = KaplanMeierFitter().fit(g["tenure"], g["churned"])
        na = NelsonAalenFitter().fit(g["tenure"], g["churned"])
        out.append((km, na))
    return out


def build_tenures(df):
    return Tenures.from_frame(df, duration="tenure", event="churned", segments="segment")


def confounding_check(ten):
    return ten.check_confounding("segment", warn=False)


def life_table_unchecked(ten):
    return life_table(ten, "segment", check_confounding=False)


def timed(fn, *args, repeats=1):
    """Best wall-clock and best process-CPU seconds over ``repeats`` runs, and the last result.

    CPU time is reported too because the machine may be shared: other processes inflate wall time, much less
    the CPU time of this one.
    """
    best_wall = best_cpu = np.inf
    result = None
    for _ in range(repeats):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return (best_wall, best_cpu), result


def peak_mb(fn, *args):
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def check_agreement(km, ll) -> float:
    """Largest absolute difference of the survival estimates, churnsurv vs lifelines, over all segments."""
    worst = 0.0
    s = km.survival_
    for (_, g), (kmf, _) in zip(s.groupby("segment", observed=True, sort=True), ll, strict=True):
        lls = kmf.survival_function_.iloc[:, 0]
        ours = pd.Series(g["estimate"].to_numpy(), index=g["time"].to_numpy())
        common = ours.index.intersection(lls.index)
        worst = max(worst, float(np.max(np.abs(ours.loc[common].to_numpy() - lls.loc[common].to_numpy()))))
    return worst


# ---------------------------------------------------------------------- machine
def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import lifelines
    import scipy

    return {
        "cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "os": platform.platform(),
        "python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
        "scipy": scipy.__version__, "lifelines": lifelines.__version__, "churnsurv": churnsurv.__version__,
        "load average at start (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


# ---------------------------------------------------------------------- main
def run(sizes, repeats, memory):
    rows = []
    source = None
    for n in sizes:
        n = int(n)
        log(f"n = {n:,}: simulating")
        df, source = make_data(n)
        log(f"n = {n:,}: {df['churned'].mean():.1%} churned, {df['tenure'].nunique()} distinct tenures")

        def step(label, fn, *args):
            (wall, cpu), result = timed(fn, *args, repeats=repeats)
            log(f"  {label:<44s} {wall:8.3f} s wall {cpu:8.3f} s cpu")
            return (wall, cpu), result

        t_from_frame, ten = step("stage: Tenures.from_frame", build_tenures, df)
        t_conf, _ = step("stage: Tenures.check_confounding", confounding_check, ten)
        t_lt, lt = step("stage: life_table (with confounding check)", life_table, ten, "segment")
        t_lt_nc, _ = step("stage: life_table (check_confounding=False)", life_table_unchecked, ten)
        t_est, (km, _, _) = step("KM + NA + hazard from a LifeTable", churnsurv_lifetable, lt)
        t_ten, _ = step("from a prebuilt Tenures", churnsurv_tenures, ten)
        t_raw, _ = step("from the raw frame", churnsurv_raw, df)
        t_ll, ll = step("lifelines KM + NA per segment", lifelines_path, df)
        agree = check_agreement(km, ll)
        log(f"  max |S_churnsurv - S_lifelines| = {agree:.2e}")

        mem = {}
        if memory:
            log("  peak memory (tracemalloc) ...")
            mem = {"raw": peak_mb(churnsurv_raw, df), "tenures": peak_mb(churnsurv_tenures, ten),
                   "lifelines": peak_mb(lifelines_path, df)}
            log("  " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in mem.items()))

        paths = [
            ("churnsurv: raw frame -> Tenures -> LifeTable -> KM+NA+hazard", t_raw, mem.get("raw", np.nan)),
            ("churnsurv: prebuilt Tenures -> LifeTable -> KM+NA+hazard", t_ten, mem.get("tenures", np.nan)),
            ("churnsurv: prebuilt LifeTable -> KM+NA+hazard", t_est, np.nan),
            ("lifelines: KaplanMeierFitter + NelsonAalenFitter per segment", t_ll, mem.get("lifelines", np.nan)),
            ("stage: Tenures.from_frame", t_from_frame, np.nan),
            ("stage: life_table (with confounding check)", t_lt, np.nan),
            ("stage: life_table (check_confounding=False)", t_lt_nc, np.nan),
            ("stage: Tenures.check_confounding", t_conf, np.nan),
        ]
        for k, (path, (wall, cpu), peak) in enumerate(paths):
            rows.append({"n_customers": n, "path": path, "seconds": wall, "cpu_seconds": cpu,
                         "speedup_vs_lifelines": t_ll[0] / wall, "cpu_speedup_vs_lifelines": t_ll[1] / cpu,
                         "peak_mib": peak, "repeats": repeats,
                         "max_abs_diff_vs_lifelines": agree if k == 0 else np.nan})
        del df, ten, lt, km, ll
        gc.collect()
    return pd.DataFrame(rows), source


def write(table: pd.DataFrame, source: str, info: dict, out: Path = RESULTS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "segments.csv", index=False)
    lines = [
        "# Benchmark: KM + Nelson-Aalen + per-period hazard by 4 segments",
        "",
        "Written by `python benchmarks/bench_segments.py`. Monthly tied tenures, 4 segments; data from "
        f"{source}. Times are the best of the repeats, wall-clock and process CPU (the machine may be shared: CPU time "
        "is the steadier figure); speed-up = lifelines time / path time; "
        "peak memory from a separate `tracemalloc` run. lifelines fits KaplanMeierFitter + NelsonAalenFitter per "
        "segment (no per-period hazard), churnsurv also fits DiscreteHazard.",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "| customers | path | wall s | CPU s | speed-up vs lifelines (wall / CPU) | peak MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in table.itertuples(index=False):
        peak = "" if np.isnan(r.peak_mib) else f"{r.peak_mib:,.0f}"
        speed = "" if r.path.startswith("stage") else \
            f"{r.speedup_vs_lifelines:,.1f}x / {r.cpu_speedup_vs_lifelines:,.1f}x"
        lines.append(f"| {r.n_customers:,} | {r.path} | {r.seconds:.3f} | {r.cpu_seconds:.3f} | {speed} | {peak} |")
    if "max_abs_diff_vs_lifelines" in table:
        diffs = table.dropna(subset=["max_abs_diff_vs_lifelines"])
        lines += ["", "Largest |S(churnsurv) - S(lifelines)| over all segments and times: " + ", ".join(
            f"{d.n_customers:,}: {d.max_abs_diff_vs_lifelines:.1e}" for d in diffs.itertuples(index=False)) + "."]
    (out / "segments.md").write_text("\n".join(lines) + "\n")
    log(f"wrote {out / 'segments.md'} and segments.csv")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of segments.md/.csv")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # confounding / statistical warnings are not the point here
    info = machine_info()
    log("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    table, source = run(args.sizes, args.repeats, not args.no_memory)
    info["churnsurv path"] = str(Path(churnsurv.__file__).parent)
    write(table, source, info, args.out)
    print((args.out / "segments.md").read_text())


if __name__ == "__main__":
    main()
