"""Small, young and odd customer files, as analysts bring them: made by the simulator and by hand.

Each case is a CSV written into a folder plus the notebook parameters that read it. Used by
``tests/report/test_own_data.py`` (both notebooks, and ``churnsurv report``, must run on every case and say plainly
what they cannot compute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from churnsurv.data.simulate import simulate_churn


@dataclass
class Case:
    name: str
    frame: pd.DataFrame
    params: dict = field(default_factory=dict)
    #: phrases one of the notebooks' saved notes must contain (what the report says it cannot compute)
    expect: tuple = ()

    def write(self, folder: Path) -> Path:
        path = Path(folder) / f"{self.name}.csv"
        self.frame.to_csv(path, index=False)
        return path


def _sim(n, seed, months=36, snapshot=None):
    data = simulate_churn(n, random_state=seed, signup_months=months, snapshot_period=snapshot).data
    return data.assign(cause=data["cause"].astype(object), segment=data["segment"].astype(str))


def _durations(n, seed, months=36):
    d = _sim(n, seed, months)
    return pd.DataFrame({"customer": d["customer_id"], "tenure": d["exit"].astype(int),
                         "churned": d["event"].astype(int), "reason": d["cause"], "plan": d["segment"],
                         "monthly_fee": d["monthly_margin"].round(2)})


def cases() -> list[Case]:
    out = []
    # 1. a small snapshot with statuses, as the bundled files (but 80 rows)
    d = _sim(400, 1, months=30, snapshot=3).head(80)
    status = np.where(d["event"], "Churned", np.where(d["entry"] == 0, "Joined", "Stayed"))
    snap = pd.DataFrame({"id": d["customer_id"], "tenure": d["exit"].astype(int), "status": status,
                         "reason": d["cause"], "plan": d["segment"], "fee": d["monthly_margin"].round(2)})
    out.append(Case("small_snapshot", snap, dict(duration_col="tenure", status_col="status", cause_col="reason",
                                                 segment_cols=["plan"], segment_col="plan", snapshot_period=3,
                                                 numeric_covariates=["fee"])))
    # 2. plain durations, no cause column, one segment
    d = _durations(150, 2)
    out.append(Case("durations_no_causes", d.drop(columns="reason"),
                    dict(duration_col="tenure", status_col=None, event_col="churned", cause_col=None,
                         segment_cols=["plan"], segment_col="plan", numeric_covariates=["monthly_fee"]),
                    expect=("no cause",)))
    # 3. sign-up and cancel dates with an as-of date
    s = _sim(120, 3, months=20)
    cancel = (s["signup_date"] + pd.to_timedelta((s["exit"] * 30.44).round(), unit="D")).where(s["event"])
    dates = pd.DataFrame({"signup": s["signup_date"].dt.strftime("%Y-%m-%d"),
                          "cancel": cancel.dt.strftime("%Y-%m-%d"), "reason": s["cause"], "plan": s["segment"]})
    out.append(Case("dates", dates, dict(start_col="signup", end_col="cancel", as_of="2024-12-31",
                                         status_col=None, cause_col="reason", segment_cols=["plan"],
                                         segment_col="plan", numeric_covariates=[])))
    # 4. a segment level without a single defection (by hand)
    rng = np.random.default_rng(4)
    n = 60
    plan = np.array(["basic"] * 30 + ["gold"] * 30)
    churned = np.where(plan == "gold", 0, (rng.random(n) < 0.5).astype(int))
    hand = pd.DataFrame({"tenure": rng.integers(1, 30, n), "churned": churned, "plan": plan,
                         "reason": np.where(churned == 1, rng.choice(["Price", "Competitor"], n), ""),
                         "fee": rng.uniform(10, 90, n).round(2)})
    out.append(Case("segment_without_events", hand,
                    dict(duration_col="tenure", status_col=None, event_col="churned", cause_col="reason",
                         segment_cols=["plan"], segment_col="plan", numeric_covariates=["fee"],
                         reference_level="basic")))
    # 5. a young file: nobody followed beyond 8 months, horizon 24
    y = _durations(100, 5, months=8)
    out.append(Case("young", y, dict(duration_col="tenure", status_col=None, event_col="churned",
                                     cause_col="reason", segment_cols=["plan"], segment_col="plan",
                                     numeric_covariates=["monthly_fee"], horizon=24)))
    # 6. no segment column at all
    z = _durations(90, 6).drop(columns="plan")
    out.append(Case("no_segments", z, dict(duration_col="tenure", status_col=None, event_col="churned",
                                           cause_col="reason", segment_cols=[], segment_col=None,
                                           numeric_covariates=[])))
    # 7. tiny: 12 customers, two plans
    t = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 8, 1, 4, 6, 6, 9, 12],
                      "churned": [1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1],
                      "plan": ["a"] * 6 + ["b"] * 6,
                      "reason": ["Price", "Competitor", "", "Price", "", "Price", "", "Competitor", "Price", "", "",
                                 "Competitor"]})
    out.append(Case("tiny", t, dict(duration_col="tenure", status_col=None, event_col="churned", cause_col="reason",
                                    segment_cols=["plan"], segment_col="plan", numeric_covariates=[])))
    return out


#: Parameters every case shares: no bundled-file specifics.
COMMON = dict(cause_mapping=None, ordered_segment=None, pitfall_col=None, focus_cause=None, reference_level=None)


def notebook_params(case: Case, path: Path, notebook: str, fig_dir: Path) -> dict:
    """The parameters of one notebook for one case (each notebook gets only the names it declares)."""
    params = {**COMMON, **case.params, "data_path": str(path), "fig_dir": str(fig_dir)}
    if notebook.startswith("03"):
        keep = {"data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of",
                "churned_label", "joined_label", "stayed_label", "snapshot_period", "churn_timing", "cause_col",
                "cause_mapping", "segment_col", "reference_level", "numeric_covariates", "numeric_unit", "time_unit",
                "horizon", "fit_through", "holdout_share", "random_state", "fig_dir"}
        return {k: v for k, v in params.items() if k in keep}
    if notebook.startswith("04"):
        keep = {"data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of",
                "churned_label", "joined_label", "stayed_label", "snapshot_period", "churn_timing", "cause_col",
                "cause_mapping", "segment_col", "time_unit", "horizon", "fig_dir", "margin_col", "margin_rate",
                "discount_rate", "acquisition_cost", "acquisitions", "scenario_cut", "programme_cost", "n_boot",
                "random_state"}
        margin = {"small_snapshot": "fee", "segment_without_events": "fee", "durations_no_causes": "monthly_fee",
                  "young": "monthly_fee"}.get(case.name)
        return {k: v for k, v in {**params, "margin_col": margin, "n_boot": 50}.items() if k in keep}
    seg01 = {"segment_col", "reference_level", "numeric_covariates", "focus_cause", "reduction"}
    seg02 = {"segment_cols", "ordered_segment", "segment_order", "pitfall_col", "survival_times"}
    drop = seg01 if notebook.startswith("01") else seg02
    return {k: v for k, v in params.items() if k not in drop}
