"""Benchmark: the lazy life table (narwhals) through DuckDB and polars against the in-memory pandas path.

n simulated customers (monthly tenures with left truncation, 4 segments, 5 causes) are written to Parquet in
chunks (bounded memory). Each path runs in a fresh subprocess so that its peak resident memory (ru_maxrss) is its
own, and times the life table by segment plus Kaplan-Meier, Nelson-Aalen and Aalen-Johansen on it:

* ``pandas``: ``pd.read_parquet`` + ``Tenures.from_frame`` + ``life_table`` (the NumPy in-memory fast path);
* ``lazy_duckdb``: ``life_table_lazy(path)`` (DuckDB reads the file; only the counts come back);
* ``lazy_polars``: ``life_table_lazy(pl.scan_parquet(path))``;
* ``floor_duckdb`` / ``floor_polars``: the bare GROUP BYs on the same file (exits by segment, exit, event, cause;
  entries by segment, entry), collected, no estimator: the least any engine-side path can cost.

Every life table is compared with the pandas one (largest absolute difference of the counts). Writes
``benchmarks/results/lazy.md``. Run: ``python benchmarks/bench_lazy.py --sizes 1e7``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
MODES = ("pandas", "lazy_duckdb", "lazy_polars", "floor_duckdb", "floor_polars")

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
path, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
import churnsurv as cs
from churnsurv.lifetable import life_table_lazy
import duckdb, polars as pl, narwhals
if mode == "lazy_spark":
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    sdf = spark.read.parquet(path)
kw = dict(exit="exit", event="event", entry="entry", cause="cause", by="segment")
t0 = time.perf_counter()  # imports excluded
lt = None
if mode == "pandas":
    df = pd.read_parquet(path)
    t = cs.Tenures.from_frame(df, duration="exit", event="event", entry="entry", cause="cause", segments=["segment"])
    del df
    lt = cs.life_table(t, "segment")
elif mode == "lazy_duckdb":
    lt = life_table_lazy(path, **kw)
elif mode == "lazy_polars":
    lt = life_table_lazy(pl.scan_parquet(path), **kw)
elif mode == "lazy_spark":
    lt = life_table_lazy(sdf, **kw)
elif mode == "floor_duckdb":
    con = duckdb.connect()
    con.execute(f"SELECT segment, exit, event, cause, COUNT(*) FROM read_parquet('{path}') GROUP BY ALL").df()
    con.execute(f"SELECT segment, entry, COUNT(*) FROM read_parquet('{path}') GROUP BY ALL").df()
elif mode == "floor_polars":
    lf = pl.scan_parquet(path)
    lf.group_by(["segment", "exit", "event", "cause"]).len().collect().to_pandas()
    lf.group_by(["segment", "entry"]).len().collect().to_pandas()
t_table = time.perf_counter() - t0
if lt is not None:
    cs.KaplanMeier().fit(lt); cs.NelsonAalen().fit(lt); cs.AalenJohansen(variance="greenwood").fit(lt)
    f = lt.to_frame(); f["segment"] = f["segment"].astype(str); f.to_parquet(out)
seconds = time.perf_counter() - t0
try:  # VmHWM is this process's own high-water mark (ru_maxrss survives exec, so it carries the parent's peak)
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "table_seconds": t_table, "peak_mib": peak,
                  "rows": None if lt is None else len(lt.table)}))
"""


def simulate(n: int, path: Path, seed: int = 0, chunk: int = 2_000_000) -> None:
    """Write n customers in chunks: sign-up uniform over 72 months, observed over the last 24 (left truncation)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    causes = np.array(["competitor", "price", "service", "product", "natural"], dtype=object)
    writer = None
    for a in range(0, n, chunk):
        m = min(chunk, n - a)
        seg = rng.integers(0, 4, m)
        rate = np.array([0.03, 0.015, 0.008, 0.05])[seg]
        age_at_extract = np.ceil(rng.uniform(0, 72, m))  # months since sign-up at the extract
        latent = np.maximum(np.ceil(rng.exponential(1 / rate)), 1.0)
        event = latent <= age_at_extract
        exit_ = np.where(event, latent, age_at_extract)
        entry = np.maximum(age_at_extract - 24, 0.0)
        keep = exit_ > entry  # on the books during the observation window
        cause = np.where(event, causes[rng.integers(0, 5, m)], None)
        frame = pd.DataFrame({"entry": entry, "exit": exit_, "event": event.astype(np.int8), "cause": cause,
                              "segment": np.array(["A", "B", "C", "D"])[seg]})[keep]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def run(path: Path, mode: str, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), mode, str(out)], capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e7])
    parser.add_argument("--spark", action="store_true", help="add PySpark in local mode (session start excluded; "
                        "peak memory is the Python driver's only, the JVM is another process)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes):
            path = Path(tmp) / f"customers_{n}.parquet"
            print(f"[bench] simulating {n:,} customers -> {path.name}", file=sys.stderr, flush=True)
            simulate(n, path)
            import pyarrow.parquet as pq

            n_rows = pq.ParquetFile(path).metadata.num_rows
            size_mib = path.stat().st_size / 2**20
            results, tables = {}, {}
            modes = MODES + (("lazy_spark",) if _has("pyspark") and args.spark else ())
            for mode in modes:
                print(f"[bench] {n:,}: {mode} ...", file=sys.stderr, flush=True)
                out = Path(tmp) / f"lt_{mode}.parquet"
                results[mode] = run(path, mode, out)
                if out.exists():
                    tables[mode] = pd.read_parquet(out)
            ref = tables["pandas"]
            for mode, res in results.items():
                diff = None
                if mode in tables:
                    num = ref.select_dtypes("number").columns
                    same_shape = tables[mode].shape == ref.shape
                    diff = float(np.abs(tables[mode][num].to_numpy() - ref[num].to_numpy()).max()) if same_shape \
                        else float("nan")
                rows.append({"rows": n_rows, "parquet_mib": round(size_mib, 1), "path": mode,
                             "table_s": round(res["table_seconds"], 3), "table_km_na_aj_s": round(res["seconds"], 3),
                             "peak_mib": round(res["peak_mib"]),
                             "vs_pandas": round(results["pandas"]["seconds"] / res["seconds"], 1),
                             "max_abs_diff_counts_vs_pandas": diff})
    table = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    lines = [
        "# Benchmark: the lazy life table (narwhals) through DuckDB and polars vs the in-memory pandas path",
        "",
        "Written by `python benchmarks/bench_lazy.py`. Simulated customers with left truncation (24-month window), "
        "4 segments, 5 causes, in one Parquet file. Each path runs in its own subprocess (peak RSS is its own, "
        "imports included, about 160 MiB for the stack; read from /proc/self/status VmHWM). `table_s` = seconds to "
        "the life table by segment; "
        "`table_km_na_aj_s` adds Kaplan-Meier, Nelson-Aalen and Aalen-Johansen on it. `pandas` = read + "
        "`Tenures.from_frame` + `life_table`; `lazy_*` = `life_table_lazy` on the path (DuckDB) or on "
        "`pl.scan_parquet` (polars); `floor_*` = the two bare GROUP BYs on the same file (no estimator). "
        "`max_abs_diff_counts_vs_pandas` compares every count of the life table with the pandas one. `lazy_spark` "
        "(with `--spark`) = `life_table_lazy` on `spark.read.parquet` in local mode, session start excluded; its "
        "peak memory is the Python driver's only (the JVM is another process).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
        f"Python {platform.python_version()}, load average at the end {load[0]:.1f}.",
        "",
        table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False),
        "",
    ]
    (RESULTS / "lazy.md").write_text("\n".join(lines))
    print(table.to_string(index=False))


def _has_tabulate() -> bool:
    return _has("tabulate")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
