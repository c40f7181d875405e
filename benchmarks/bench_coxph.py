"""Benchmark of churnsurv.models.CoxPH against lifelines' CoxPHFitter on the same data, in one run.

Data: a simulated Cox population (Weibull baseline, three covariates: a binary, a three-level categorical and a
normal), 30% of customers left-truncated (entry > 0), monthly tenures (heavily tied) and daily tenures.
Both fitters use Efron's ties and left truncation; lifelines with ``batch_mode=True`` and the tight
``fit_options`` of churnsurv's CauseSpecificCox. Timed (wall clock):

* ``CoxPH.fit``: Newton-Raphson, standard errors, concordance, the cox.zph test and the baseline hazard;
* ``CoxPHFitter.fit``: lifelines' fit (its concordance is computed when first read, timed separately);

lifelines runs in a subprocess with a timeout (``--lifelines-timeout``, default 900 s).

The script also runs the coverage simulation of tests/models/test_coxph.py at a larger size and reports bias
and the coverage of 95% intervals over 200 replications.

Run from the repository root::

    python benchmarks/bench_coxph.py                 # 1e5 and 1e6 rows
    python benchmarks/bench_coxph.py --sizes 1e5     # quick check

Writes ``benchmarks/results/coxph.md``. Nothing here asserts speed.
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
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import churnsurv
from churnsurv.models.coxph import CoxPH

RESULTS = Path(__file__).resolve().parent / "results"
BETA = np.array([0.5, 0.3, -0.4, 0.2])  # binary, level B, level C, normal

LIFELINES_SCRIPT = r"""
import sys, time, json, warnings
import pandas as pd
from lifelines import CoxPHFitter
df = pd.read_parquet(sys.argv[1]) if sys.argv[1].endswith(".parquet") else pd.read_pickle(sys.argv[1])
warnings.simplefilter("ignore")
t0 = time.perf_counter()
cph = CoxPHFitter().fit(df, duration_col="exit", event_col="event", entry_col="entry", batch_mode=True,
                        fit_options={"precision": 1e-20, "r_precision": 0.0, "max_steps": 200})
fit = time.perf_counter() - t0
t0 = time.perf_counter()
c = cph.concordance_index_
conc = time.perf_counter() - t0
print(json.dumps({"fit": fit, "concordance": conc, "coef": cph.params_.tolist(), "ll": cph.log_likelihood_,
                  "c": c}))
"""


def simulate(n: int, unit: str, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(float)
    plan = rng.choice(np.array(["A", "B", "C"]), n)
    b = rng.normal(size=n)
    x = np.column_stack([a, plan == "B", plan == "C", b]).astype(float)
    t = (-np.log(rng.random(n)) / (0.03 * np.exp(x @ BETA))) ** (1 / 1.2)
    c = rng.uniform(6, 72, n)
    entry = np.where(rng.random(n) < 0.3, rng.uniform(0, 12, n), 0.0)
    keep = t > entry
    scale = 1.0 if unit == "month" else 30.4375
    exit_ = np.ceil(np.minimum(t, c) * scale) / scale
    entry = np.floor(entry * scale) / scale
    df = pd.DataFrame({"a": a, "plan": plan, "b": b, "entry": entry, "exit": exit_, "event": (t <= c).astype(int)})
    df = df[keep & (exit_ > entry)].reset_index(drop=True)
    return df


def run_lifelines(df: pd.DataFrame, timeout: float) -> dict:
    design = pd.DataFrame({"a": df["a"], "plan_B": (df["plan"] == "B").astype(float),
                           "plan_C": (df["plan"] == "C").astype(float), "b": df["b"],
                           "entry": df["entry"], "exit": df["exit"], "event": df["event"]})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.pkl")
        design.to_pickle(path)
        try:
            out = subprocess.run([sys.executable, "-c", LIFELINES_SCRIPT, path], capture_output=True, text=True,
                                 timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            return {"fit": None, "note": f"timed out after {timeout:.0f} s"}
        except subprocess.CalledProcessError as exc:
            return {"fit": None, "note": "failed: " + exc.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def coverage(n: int = 1000, reps: int = 200, seed: int = 20261206) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    beta = np.array([0.7, -0.4])
    est, cov_naive = [], []
    for _ in range(reps):
        x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
        t = (-np.log(rng.random(n)) / (0.05 * np.exp(x @ beta))) ** (1 / 1.3)
        entry = np.where(rng.random(n) < 0.3, rng.uniform(0, 5, n), 0.0)
        c = rng.uniform(5, 40, n)
        df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "entry": entry, "exit": np.ceil(np.minimum(t, c)),
                           "event": (t <= c).astype(int)})[t > entry]
        hr = CoxPH().fit(df, formula="a + b", entry="entry", duration="exit", event="event").hazard_ratios_
        est.append(hr["coef"].to_numpy())
        cov_naive.append(((np.log(hr["ci_lower"]) <= beta) & (beta <= np.log(hr["ci_upper"]))).to_numpy())
    est = np.array(est)
    return pd.DataFrame({"term": ["a", "b"], "true": beta, "mean_estimate": est.mean(0), "bias": est.mean(0) - beta,
                         "sd_estimate": est.std(0, ddof=1), "coverage_95": np.mean(cov_naive, axis=0)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    parser.add_argument("--lifelines-timeout", type=float, default=900)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        n = int(float(size))
        for unit in ("month", "day"):
            df = simulate(n, unit)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                m = CoxPH().fit(df, formula="a + plan + b", entry="entry", duration="exit", event="event")
                ours = time.perf_counter() - t0
            ll = run_lifelines(df, args.lifelines_timeout)
            diff = (np.max(np.abs(np.array(ll["coef"]) - m.coef_.to_numpy())) if ll.get("coef") else None)
            rows.append({"rows": len(df), "times": unit, "distinct_exits": df["exit"].nunique(),
                         "churnsurv_fit_s": ours, "lifelines_fit_s": ll.get("fit"),
                         "lifelines_concordance_s": ll.get("concordance"),
                         "speed_up": (ll["fit"] / ours) if ll.get("fit") else None,
                         "max_coef_diff": diff, "note": ll.get("note", "")})
            print(rows[-1], flush=True)
    cov = coverage()
    print(cov)
    header = (f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, churnsurv "
              f"{churnsurv.__version__}, {os.cpu_count()} CPUs, {platform.machine()}. Generated by "
              "`python benchmarks/bench_coxph.py`.")
    lines = ["# churnsurv.models.CoxPH benchmark", "", header, "",
             "Wall-clock seconds, one run, on a shared 2-CPU machine (other jobs ran at the same time: expect "
             "+-30% noise). Efron ties, left truncation (30% of rows), 4 design columns. churnsurv's time "
             "includes standard errors, concordance, the cox.zph test and the baseline hazard; lifelines' fit "
             "time excludes its concordance (timed separately, computed on first access).", "",
             "| rows | times | distinct exits | CoxPH.fit | lifelines fit | lifelines concordance | speed-up (fit) "
             "| max abs coef diff | note |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        def f(v, fmt="{:.2f} s"):
            return "" if v is None or (isinstance(v, float) and np.isnan(v)) else fmt.format(v)
        lines.append(f"| {r['rows']:,} | {r['times']} | {r['distinct_exits']:,} | {f(r['churnsurv_fit_s'])} | "
                     f"{f(r['lifelines_fit_s'])} | {f(r['lifelines_concordance_s'])} | {f(r['speed_up'], '{:.1f}x')} "
                     f"| {f(r['max_coef_diff'], '{:.1e}')} | {r['note']} |")
    lines += ["", "## Coverage simulation", "",
              "200 replications of n = 1,000 customers (before truncation) from a Cox population: Weibull "
              "baseline (shape 1.3), a binary covariate (beta 0.7) and a normal one (beta -0.4), 30% left-"
              "truncated, uniform censoring, monthly (tied) exit times; Efron ties, model-based 95% Wald "
              "intervals. Monte Carlo error of a 95% coverage over 200 replications: +-1.5 points (1 SE).", "",
              "| term | true | mean estimate | bias | SD of estimates | coverage of 95% CI |",
              "| --- | ---: | ---: | ---: | ---: | ---: |",
              *[f"| {r.term} | {r.true:.2f} | {r.mean_estimate:.4f} | {r.bias:+.4f} | {r.sd_estimate:.4f} | "
                f"{r.coverage_95:.3f} |" for r in cov.itertuples()], ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coxph.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
