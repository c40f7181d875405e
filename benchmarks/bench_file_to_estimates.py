"""Benchmark: from a CSV file to Kaplan-Meier + Nelson-Aalen by 4 segments (issues 17.2 and 17.4).

Run from the repository root (not a test; a few minutes at 1e7):

    python benchmarks/bench_file_to_estimates.py                   # 1e5, 1e6, 1e7 customers
    python benchmarks/bench_file_to_estimates.py --sizes 1e5 1e6   # a subset

The file has one row per customer: ``customer_id`` (int), ``tenure`` (whole months, 0-72), ``churned`` (0/1) and
``segment`` (4 string levels), written once per size with a fixed seed. Every path runs in its own fresh Python
process (so imports and peak memory are its own), one after the other, on the same file:

* ``churnsurv, user's path``: ``pd.read_csv`` + ``Tenures.from_frame`` + ``life_table`` by segment +
  ``KaplanMeier`` and ``NelsonAalen`` on the life table (also with ``read_csv(engine="pyarrow")``);
* ``churnsurv, Tenures.from_csv``: the file read straight into a tenure table (only the needed columns; the
  segment dictionary-encoded by pyarrow, or ``category`` with the pandas engine), then the same counting and
  estimators; its *table* column includes the read;
* ``churnsurv, prebuilt table``: life table + the two estimators from a ``Tenures`` already built;
* ``lifelines``: ``pd.read_csv`` + ``KaplanMeierFitter`` and ``NelsonAalenFitter`` per segment;
* ``scikit-survival``: ``pd.read_csv`` + ``kaplan_meier_estimator`` and ``nelson_aalen_estimator`` per segment
  (skipped with a note when it is not installed);
* floors: a bare ``polars`` and ``DuckDB`` group-by (segment, tenure) on the same file, then the Kaplan-Meier and
  Nelson-Aalen products over the few thousand counts in NumPy (no intervals: the least work that gives the curves).

Imports are timed separately from the work (with a warm-up fit on 3 rows, so the lazy imports of the first fit
count as imports). Peak memory is the process's high-water mark (``VmHWM``) and, for the
churnsurv path, the ``tracemalloc`` peak above the input frame, per customer. Every path's survival curve is
compared with the churnsurv one (largest absolute difference). Timings are wall-clock, best of ``--repeats`` runs
inside the worker process; they are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
PATHS = ["churnsurv", "churnsurv_pyarrow", "churnsurv_from_csv", "churnsurv_from_csv_pandas", "churnsurv_prebuilt",
         "lifelines", "sksurv", "polars", "duckdb"]
LABELS = {
    "churnsurv": "churnsurv, user's path (read_csv)",
    "churnsurv_pyarrow": "churnsurv, user's path (read_csv pyarrow)",
    "churnsurv_from_csv": "churnsurv, Tenures.from_csv (pyarrow)",
    "churnsurv_from_csv_pandas": "churnsurv, Tenures.from_csv (pandas)",
    "churnsurv_prebuilt": "churnsurv, prebuilt table",
    "lifelines": "lifelines",
    "sksurv": "scikit-survival",
    "polars": "floor: polars group-by",
    "duckdb": "floor: DuckDB group-by",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def write_file(n: int, path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    seg = rng.integers(0, 4, n)
    churn_rate = np.array([0.02, 0.03, 0.05, 0.08])[seg]
    tenure = np.minimum(rng.geometric(churn_rate) - 1, 72)
    cens = rng.integers(0, 73, n)
    churned = (tenure <= cens) & (tenure < 72)
    tenure = np.where(churned, tenure, np.minimum(cens, tenure))
    import pandas as pd  # only to write the file

    pd.DataFrame({"customer_id": np.arange(n) + 100_000, "tenure": tenure, "churned": churned.astype(np.int8),
                  "segment": np.array(["Month-to-Month", "One Year", "Two Year", "Prepaid"])[seg]}).to_csv(
        path, index=False)


# ---------------------------------------------------------------------- worker (one path per process)
def _vm(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def _km_na_from_counts(seg, t, d, n_exit):
    """KM and NA per segment from counts sorted by (segment, time): the floors' shared last step."""
    out = {}
    for s in np.unique(seg):
        m = seg == s
        tt, dd, ee = t[m], d[m], n_exit[m]
        at_risk = ee[::-1].cumsum()[::-1]
        out[str(s)] = (tt, np.cumprod(1 - dd / at_risk), np.cumsum(dd / at_risk))
    return out


def worker(path_name: str, file: str, repeats: int) -> dict:
    res: dict = {"path": path_name}
    t0 = time.perf_counter()
    import pandas as pd
    if path_name.startswith("churnsurv"):
        import churnsurv  # noqa: F401
        from churnsurv import KaplanMeier, NelsonAalen, Tenures, life_table
    elif path_name == "lifelines":
        from lifelines import KaplanMeierFitter, NelsonAalenFitter
    elif path_name == "sksurv":
        from sksurv.nonparametric import kaplan_meier_estimator, nelson_aalen_estimator
    elif path_name == "polars":
        import polars as pl
    elif path_name == "duckdb":
        import duckdb
    # a warm-up fit on 3 rows: the lazy imports inside the first fit (scipy...) count as imports, not as work
    tiny = pd.DataFrame({"tenure": [1, 2, 3], "churned": [1, 0, 1], "segment": ["a", "a", "b"]})
    if path_name.startswith("churnsurv"):
        KaplanMeier(min_at_risk=None).fit(tiny, by="segment", duration="tenure", event="churned")
        NelsonAalen().fit(tiny, by="segment", duration="tenure", event="churned")
    elif path_name == "lifelines":
        KaplanMeierFitter().fit(tiny["tenure"], tiny["churned"])
        NelsonAalenFitter().fit(tiny["tenure"], tiny["churned"])
    elif path_name == "sksurv":
        kaplan_meier_estimator(tiny["churned"].to_numpy(bool), tiny["tenure"].to_numpy(float))
        nelson_aalen_estimator(tiny["churned"].to_numpy(bool), tiny["tenure"].to_numpy(float))
    res["import_s"] = time.perf_counter() - t0
    res["rss_after_import_mb"] = _vm("VmRSS")

    def churnsurv_work(df):
        t = Tenures.from_frame(df, duration="tenure", event="churned", id="customer_id", segments="segment")
        lt = life_table(t, by="segment", check_confounding=False)
        km, na = KaplanMeier(min_at_risk=None).fit(lt), NelsonAalen().fit(lt)
        return t, km, na

    best, curves = {}, None
    for _ in range(repeats):
        df = t = lt = km = na = agg = None  # noqa: F841 - free the previous repeat's data before reading again
        stages = {}
        s0 = time.perf_counter()
        if path_name in ("churnsurv", "churnsurv_prebuilt", "lifelines", "sksurv"):
            df = pd.read_csv(file)
            stages["read"] = time.perf_counter() - s0
        if path_name == "churnsurv_pyarrow":
            df = pd.read_csv(file, engine="pyarrow")
            stages["read"] = time.perf_counter() - s0
        if path_name.startswith("churnsurv_from_csv"):
            engine = "pandas" if path_name.endswith("pandas") else "pyarrow"
            t = Tenures.from_csv(file, duration="tenure", event="churned", id="customer_id", segments="segment",
                                 engine=engine)
            stages["table"] = time.perf_counter() - s0
        if path_name in ("churnsurv", "churnsurv_pyarrow"):
            s1 = time.perf_counter()
            t = Tenures.from_frame(df, duration="tenure", event="churned", id="customer_id", segments="segment")
            stages["table"] = time.perf_counter() - s1
        if path_name.startswith("churnsurv") and path_name != "churnsurv_prebuilt":
            s2 = time.perf_counter()
            lt = life_table(t, by="segment", check_confounding=False)
            stages["count"] = time.perf_counter() - s2
            s3 = time.perf_counter()
            km = KaplanMeier(min_at_risk=None).fit(lt)
            NelsonAalen().fit(lt)
            stages["estimate"] = time.perf_counter() - s3
            sv = km.survival_
            curves = {str(g): (r["time"].to_numpy(), r["estimate"].to_numpy()) for g, r in
                      sv.groupby("segment", observed=True)}
            res["bytes_stored_per_customer"] = float(t.memory_usage().sum() / len(t))
        elif path_name == "churnsurv_prebuilt":
            t = Tenures.from_frame(df, duration="tenure", event="churned", id="customer_id", segments="segment")
            s1 = time.perf_counter()
            lt = life_table(t, by="segment", check_confounding=False)
            KaplanMeier(min_at_risk=None).fit(lt), NelsonAalen().fit(lt)
            stages = {"count+estimate": time.perf_counter() - s1}
            s0 = s1
        elif path_name == "lifelines":
            s1 = time.perf_counter()
            curves = {}
            for g, rows in df.groupby("segment"):
                kmf = KaplanMeierFitter().fit(rows["tenure"], rows["churned"])
                NelsonAalenFitter().fit(rows["tenure"], rows["churned"])
                sf = kmf.survival_function_.iloc[:, 0]
                curves[str(g)] = (sf.index.to_numpy(float), sf.to_numpy())
            stages["estimate"] = time.perf_counter() - s1
        elif path_name == "sksurv":
            s1 = time.perf_counter()
            curves = {}
            for g, rows in df.groupby("segment"):
                ev, tt = rows["churned"].to_numpy(bool), rows["tenure"].to_numpy(float)
                x, y = kaplan_meier_estimator(ev, tt)
                nelson_aalen_estimator(ev, tt)
                curves[str(g)] = (x, y)
            stages["estimate"] = time.perf_counter() - s1
        elif path_name == "polars":
            agg = (pl.scan_csv(file).group_by("segment", "tenure")
                   .agg(pl.col("churned").sum().alias("d"), pl.len().alias("n")).sort("segment", "tenure").collect())
            stages["read+count"] = time.perf_counter() - s0
            s1 = time.perf_counter()
            out = _km_na_from_counts(agg["segment"].to_numpy(), agg["tenure"].to_numpy().astype(float),
                                     agg["d"].to_numpy().astype(float), agg["n"].to_numpy().astype(float))
            curves = {k: (v[0], v[1]) for k, v in out.items()}
            stages["estimate"] = time.perf_counter() - s1
        elif path_name == "duckdb":
            con = duckdb.connect()
            agg = con.execute(f"SELECT segment, tenure, sum(churned)::DOUBLE AS d, count(*)::DOUBLE AS n "
                              f"FROM read_csv_auto('{file}') GROUP BY segment, tenure "
                              f"ORDER BY segment, tenure").fetchnumpy()
            stages["read+count"] = time.perf_counter() - s0
            s1 = time.perf_counter()
            out = _km_na_from_counts(np.asarray(agg["segment"]), np.asarray(agg["tenure"], float),
                                     np.asarray(agg["d"]), np.asarray(agg["n"]))
            curves = {k: (v[0], v[1]) for k, v in out.items()}
            stages["estimate"] = time.perf_counter() - s1
            con.close()
        stages["total"] = time.perf_counter() - s0
        for k, v in stages.items():
            best[k] = min(best.get(k, np.inf), v)
    res["stages"] = best
    res["vmhwm_mb"] = _vm("VmHWM")
    if curves is not None:
        res["curves"] = {k: [list(map(float, a)), list(map(float, b))] for k, (a, b) in curves.items()}
    if path_name == "churnsurv":
        # peak above the input frame, per customer (a separate, traced run)
        import tracemalloc
        df = pd.read_csv(file)
        tracemalloc.start()
        churnsurv_work(df)
        res["peak_above_frame_bytes_per_customer"] = tracemalloc.get_traced_memory()[1] / len(df)
        tracemalloc.stop()
    return res


# ---------------------------------------------------------------------- driver
def max_diff(a: dict, b: dict) -> float:
    """Largest absolute difference between two sets of step curves, read at every time of either."""
    worst = 0.0
    for seg, (ta, sa) in a.items():
        if seg not in b:
            return float("nan")
        tb, sb = b[seg]
        grid = np.union1d(ta, tb)

        def at(t, s, g):
            idx = np.searchsorted(np.asarray(t), g, side="right") - 1
            return np.where(idx >= 0, np.asarray(s)[np.maximum(idx, 0)], 1.0)

        worst = max(worst, float(np.max(np.abs(at(ta, sa, grid) - at(tb, sb, grid)))))
    return worst


def run_path(path_name: str, file: Path, repeats: int) -> dict | None:
    proc = subprocess.run([sys.executable, __file__, "--worker", path_name, "--file", str(file),
                           "--repeats", str(repeats)], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        return {"path": path_name, "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def versions() -> dict:
    out = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for mod in ["numpy", "pandas", "churnsurv", "lifelines", "sksurv", "polars", "duckdb", "pyarrow"]:
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing library is reported, not fatal
            out[mod] = "not installed"
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["1e5", "1e6", "1e7"])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--paths", nargs="+", default=PATHS)
    p.add_argument("--out", default=str(RESULTS / "file_to_estimates.md"))
    p.add_argument("--worker")
    p.add_argument("--file")
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.file, args.repeats)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n = int(float(size))
            file = Path(tmp) / f"customers_{n}.csv"
            log(f"writing {file.name}")
            write_file(n, file)
            results = {}
            for path_name in args.paths:
                log(f"n={n:,} {path_name}")
                results[path_name] = run_path(path_name, file, args.repeats)
            ref = results.get("churnsurv", {}).get("curves")
            for r in results.values():
                r["n"] = n
                r["file_mb"] = file.stat().st_size / 2**20
                if ref is not None and "curves" in r:
                    r["max_abs_diff_vs_churnsurv"] = max_diff(ref, r["curves"])
                r.pop("curves", None)
                rows.append(r)
    write_report(rows, Path(args.out))
    log(f"wrote {args.out}")


def write_report(rows: list, out: Path) -> None:
    v = versions()
    lines = [
        "# File to Kaplan-Meier + Nelson-Aalen by 4 segments",
        "",
        "Generated by `python benchmarks/bench_file_to_estimates.py` (one fresh process per path and size; times "
        "are the best of the repeats, in seconds; imports, with a warm-up fit on 3 rows, timed separately). "
        "**The machine was shared with other jobs when this ran: timings are noisy; rerun on a quiet machine "
        "before quoting them.**",
        "",
        "Environment: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "| customers | path | import (s) | read (s) | table (s) | count (s) | estimate (s) | total, no import (s) "
        "| vs lifelines | vs polars floor | peak RSS (MiB) | peak above frame (B/customer) | max abs diff of S |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_n: dict = {}
    for r in rows:
        by_n.setdefault(r["n"], {})[r["path"]] = r
    for n, res in by_n.items():
        ll = res.get("lifelines", {}).get("stages", {}).get("total")
        floor = res.get("polars", {}).get("stages", {}).get("total")
        for path_name, r in res.items():
            label = LABELS.get(path_name, path_name)
            if "error" in r:
                lines.append(f"| {n:,} | {label} | skipped: {r['error'][:80]} |" + " |" * 11)
                continue
            st = r["stages"]

            def f(x, digits=3):
                return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"

            total = st.get("total")
            read = st.get("read", st.get("read+count"))
            count = st.get("count", st.get("count+estimate"))
            lines.append(
                f"| {n:,} | {label} | {f(r['import_s'], 2)} | {f(read)} | {f(st.get('table'))} | {f(count)} | "
                f"{f(st.get('estimate'))} | {f(total)} | {f(ll / total if ll and total else None, 1)}x | "
                f"{f(total / floor if floor and total else None, 2)}x | {f(r['vmhwm_mb'], 0)} | "
                f"{f(r.get('peak_above_frame_bytes_per_customer'), 1)} | "
                f"{f(r.get('max_abs_diff_vs_churnsurv'), 12)} |")
    lines += [
        "",
        "* *vs lifelines*: lifelines' total over this path's (higher is faster); *vs polars floor*: this path's total "
        "over the polars floor's (1.00x = the floor).",
        "* *peak RSS*: the process's high-water mark (imports and the input frame included); *peak above frame*: "
        "the `tracemalloc` peak of `Tenures.from_frame` + `life_table` + the two estimators, above the frame read "
        "from the file, per customer.",
        "* *max abs diff of S*: the largest absolute difference of the survival curve from churnsurv's, over all "
        "segments and times (the floors compute the product-limit without intervals).",
        "* *Tenures.from_csv* rows: the *table* column includes reading the file.",
        "* The polars and DuckDB floors read the file and group in one multi-threaded query; the churnsurv, "
        "lifelines and scikit-survival paths read it with pandas.",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
