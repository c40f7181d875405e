# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Time to defection by segment
#
# How long do customers stay, in which segment do they leave fastest, and when in their tenure does the risk of
# leaving peak? This notebook reads the customer records (a churn snapshot with the left truncation it implies,
# showing the naive reading beside it), draws survival and hazard curves by segment, summarises them by median and
# restricted mean tenure, tests the differences, and shows why a segment that is tenure in disguise cannot be
# compared.

# %% tags=["parameters"]
data_path = "maven_telco"  # a bundled dataset name, or the path of your CSV/Parquet file
duration_col = "Tenure in Months"  # tenure at defection or at the end of the snapshot
status_col = "Customer Status"  # snapshot status; set to None and give event_col for plain durations
event_col = None  # 0/1 or bool defection flag, used when status_col is None
start_col = None  # sign-up date column: read the file from dates (with end_col and as_of) instead of durations
end_col = None  # defection (cancel) date column, empty for active customers
as_of = None  # the data's cut-off date, e.g. "2024-06-30"
churned_label = "Churned"
joined_label = "Joined"
stayed_label = "Stayed"
snapshot_period = 3  # length of the snapshot period, in time units (a quarter of monthly data)
churn_timing = "middle"  # when in the period a defector left: "middle", "end" (most optimistic) or "start"
cause_col = "Churn Category"
cause_mapping = "maven_categories"  # "maven_categories", "telco_reasons", or None for raw labels
segment_cols = ["Contract", "Internet Type", "Payment Method"]
ordered_segment = "Contract"  # a segment with a natural order, for the trend test (None to skip)
segment_order = ["Month-to-Month", "One Year", "Two Year"]
renewal_periods = [12, 24]  # pre-specified renewal months: the hazard there is tested against the months around
min_at_risk = 10  # below this many customers at risk, curves are drawn dashed and numbers flagged
pitfall_col = "Offer"  # a column that is tenure in disguise (None to skip the pitfall section)
reading = "truncated"  # the reading used for the by-segment curves: "truncated" or "naive"
time_unit = "month"
horizon = 24  # restricted mean tenure horizon, in time units
survival_times = [3, 6, 12, 24]  # tenures at which retention is shown
fig_dir = "reports/figures"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import churnsurv as cs
from churnsurv.report.tables import segment_table
from churnsurv.reporting import save_figure, save_table, save_text, use_style

use_style()
PARAMS = {k: v for k, v in dict(globals()).items() if k in {
    "data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of", "snapshot_period",
    "churn_timing", "cause_col",
    "cause_mapping", "segment_cols", "ordered_segment", "pitfall_col", "reading", "time_unit", "horizon",
    "survival_times", "renewal_periods", "min_at_risk"}}


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


SNAPSHOT = bool(status_col) and not start_col  # a churn snapshot: two readings (naive and truncated)


def read(truncate):
    segs = list(dict.fromkeys(segment_cols + ([pitfall_col] if pitfall_col else [])))
    return cs.datasets.read_tenures(
        data_path, duration=None if start_col else duration_col, event=event_col,
        status=status_col if SNAPSHOT else None, period=snapshot_period, start=start_col, end=end_col, as_of=as_of,
        truncate=truncate, churn_timing=churn_timing, churned=churned_label, joined=joined_label,
        stayed=stayed_label, cause=cause_col, cause_map=cause_mapping, segments=segs, time_unit=time_unit)


naive = read(truncate=False)
truncated = read(truncate=True) if SNAPSHOT else naive
DATA_FILE = naive.source
if not segment_cols:  # no segment column: one group, named, so every section still runs
    segment_cols = ["Segment"]
    naive, truncated = (t.with_segment("Segment", ["All customers"] * len(t)) for t in (naive, truncated))
if not truncated.is_truncated:
    reading = "naive"  # one reading only: followed from sign-up
tenures = truncated if reading == "truncated" else naive
READING = "snapshot reading, left-truncated" if tenures.is_truncated else "followed from sign-up"
print(naive)
print(truncated.truncation if truncated.truncation else "not a snapshot: no truncation")

source_name = str(data_path) if str(data_path) in cs.datasets.DATASETS else Path(str(data_path)).name
cause_text = (f"{len(naive.causes)} causes of defection ({', '.join(map(str, naive.causes))})" if naive.causes
              else "no cause of defection")
follow = f"tenures from {naive.data['exit'].min():g} to {naive.data['exit'].max():g} {time_unit}s"
if truncated.truncation is not None and truncated.truncation.applied:
    read_text = (f"The file is a snapshot of a {snapshot_period:g}-{time_unit} period, read with left truncation "
                 f"(the snapshot reading): {truncated.truncation.n_truncated:,} customers entered observation after "
                 f"sign-up, and defectors are assumed to have left in the {churn_timing} of the period.")
elif start_col:
    read_text = (f"Tenures are completed {time_unit}s from the sign-up dates (`{start_col}`) to the cancel dates "
                 f"(`{end_col}`) or to {as_of}; every customer is followed from sign-up (one reading).")
else:
    read_text = "Tenures are durations followed from sign-up (one reading; no snapshot status was given)."
note("00_data", f"""
**Data.** `{source_name}`: {len(naive):,} customers, {naive.n_events:,} defections
({naive.n_events / len(naive):.1%}), {follow}, {cause_text}, segments {', '.join(segment_cols) or 'none'}.
{read_text}
""", "Data")

# One horizon for every restricted mean in the report; never past the follow-up of a segment
_safe = float(cs.KaplanMeier().fit(tenures, by=segment_cols[0]).rmst()["tau"].min())
if horizon > _safe:
    note("00_horizon", f"The horizon of {horizon:g} {time_unit}s passes the follow-up of these records "
         f"(the earliest tenure at which a {segment_cols[0]} level has fewer than 10 customers at risk is "
         f"{_safe:g}); the restricted means below use {int(_safe):d} {time_unit}s instead.", "Horizon")
    horizon = int(_safe)

# %% [markdown]
# ## Two readings of one snapshot
#
# A snapshot lists only the customers on the books during the period. Those who left earlier are missing, so the
# long-tenure customers in the file are the survivors of cohorts whose defectors we never see. Read naively, every
# customer counts as followed from sign-up; read as a snapshot, each enters observation at the period's start
# (left truncation). The two readings answer different questions under different assumptions.
#
# The snapshot curve is a **period life table**: it applies this period's tenure-specific churn rates to a customer
# followed from sign-up, with no cohort or calendar effects. It is not the experience of any one cohort.

# %%
km_naive = cs.KaplanMeier().fit(naive)
km_trunc = cs.KaplanMeier().fit(truncated)
both = pd.concat([
    km_naive.survival_.assign(reading="naive (followed from sign-up)"),
    km_trunc.survival_.assign(reading="snapshot (left-truncated)"),
]) if SNAPSHOT else km_naive.survival_
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
cs.plot_survival(both, by="reading" if SNAPSHOT else None, ax=ax, censor_marks=False, time_unit=time_unit,
                 title="All customers: naive and snapshot readings" if SNAPSHOT else
                 "All customers (followed from sign-up)")
save_figure(fig, "01a_readings", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=("Kaplan-Meier survival of all customers, read naively (followed from sign-up) and as the "
                     "snapshot it is (left-truncated at the period's start), with 95% log CIs." if SNAPSHOT else
                     "Kaplan-Meier survival of all customers, followed from sign-up, with 95% log CIs."))
plt.show()

# %%
med = pd.concat([
    cs.KaplanMeier().fit(naive, by=segment_cols[0]).median_.assign(reading="naive"),
    cs.KaplanMeier().fit(truncated, by=segment_cols[0]).median_.assign(reading="snapshot"),
])
save_table(med, "01b_readings_medians", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           caption=f"Median tenure ({time_unit}s) by {segment_cols[0]} under both readings, with 95% CIs.")
first = med[segment_cols[0]].iloc[0]


def fmt(x):
    return "not reached" if pd.isna(x) else f"{x:g} {time_unit}s"


m_n = med.query("reading == 'naive'").iloc[0]["estimate"]
m_t = med.query("reading == 'snapshot'").iloc[0]["estimate"]
early = 1 - float(km_trunc.predict([snapshot_period])["estimate"].iloc[0])
n_trunc = truncated.truncation.n_truncated if truncated.truncation else 0
if SNAPSHOT:
    reading_text = f"""
**Reading matters.** Read naively, the median tenure of {segment_cols[0]} = {first} customers is {fmt(m_n)};
read as the snapshot it is, it is {fmt(m_t)}. {n_trunc:,} of {len(truncated):,} customers entered observation
after sign-up. In the snapshot period {naive.n_events:,} of {len(naive):,} customers ({naive.n_events / len(naive):.1%})
left, and under the snapshot reading {early:.1%} of new customers leave within their first {snapshot_period:g}
{time_unit}s. The naive reading assumes no customer left before the period, so it overstates survival; the snapshot
reading is a period life table: it applies this period's tenure-specific churn rates to a customer followed from
sign-up, with no cohort or calendar effects, and it assumes customers who left earlier behaved like those we see.
Neither is the truth about a real firm: the analyst decides which assumptions fit their data.
"""
else:
    reading_text = f"""
These records are read as durations followed from sign-up (no snapshot status column was given), so there is
one reading: the median tenure of {segment_cols[0]} = {first} customers is {fmt(m_n)}, and
{naive.n_events:,} of {len(naive):,} customers ({naive.n_events / len(naive):.1%}) defected. If the file is in fact
a snapshot of customers on the books during a period, give `status_col` and `snapshot_period`: ignoring the left
truncation would overstate survival.
"""
note("01c_readings", reading_text, "Naive and snapshot readings")

# %% [markdown]
# ### When in the period did the defectors leave?
#
# A snapshot gives each defector's tenure at defection but not the date, so how long they were observed before
# leaving is uncertain by up to the period's length. This report assumes they left in the middle of the period
# (`churn_timing`); leaving at its start or its end are the extremes, and they move every snapshot number. The
# table gives the headline numbers under all three.

# %%
if truncated.truncation is not None and truncated.truncation.applied:
    timing = cs.snapshot_timing_range(truncated, by=segment_cols[0], lost_within=[snapshot_period], tau=horizon)
    save_table(timing, "01d_snapshot_timing", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.3f",
               caption=f"Snapshot reading by {segment_cols[0]}: share lost within {snapshot_period:g} {time_unit}s, "
                       f"median tenure and restricted mean tenure within {horizon} {time_unit}s with the defectors "
                       "leaving at the start, the middle or the end of the period; low and high give the range.")
    lost = timing[timing["quantity"] == f"lost_within_{snapshot_period:g}"]
    rmst_rows = timing[timing["quantity"] == f"rmst_{horizon:g}"]
    lines = "\n".join(
        f"- {r[segment_cols[0]]}: {r['middle']:.1%} lost within {snapshot_period:g} {time_unit}s "
        f"(range {r['low']:.1%} to {r['high']:.1%}); restricted mean tenure "
        f"{m['middle']:.1f} {time_unit}s (range {m['low']:.1f} to {m['high']:.1f})"
        for (_, r), (_, m) in zip(lost.iterrows(), rmst_rows.iterrows(), strict=True))
    note("01d_timing", f"""
**Snapshot timing.** The snapshot does not say when in the {snapshot_period:g}-{time_unit} period each of the
{truncated.truncation.n_churned:,} defectors left. Assuming the {churn_timing} of the period, and in brackets the
range from "at its start" (most pessimistic) to "at its end" (most optimistic):

{lines}
""", "Snapshot timing of defections")
    timing
else:
    print("Not a truncated snapshot: the timing of defections within a period does not arise.")

# %% [markdown]
# ## Survival by segment

# %%
km = {}
for col in segment_cols:
    km[col] = cs.KaplanMeier().fit(tenures, by=col)
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    cs.plot_survival(km[col], ax=ax, at_risk=True, censor_marks=False, time_unit=time_unit,
                     title=f"Survival by {col} ({READING})")
    save_figure(fig, f"02_survival_{col.lower().replace(' ', '_')}", fig_dir=fig_dir, parameters=PARAMS,
                data_paths=[DATA_FILE],
                caption=f"Kaplan-Meier survival by {col} ({READING}), 95% log CIs, numbers at risk below.")
    plt.show()

# %% [markdown]
# ## Median and restricted mean tenure
#
# The median is the tenure at which the estimated survival curve falls to one half; it is "not reached" when the
# estimated survival stays above 0.5 over the whole follow-up. The restricted mean tenure within a horizon (RMST)
# always exists: it is the expected number of periods a customer stays within the horizon, the area under the
# survival curve (one horizon for every segment).

# %%
segment_rows = []
for col in segment_cols:
    t = segment_table(km[col], times=survival_times, tau=horizon, min_at_risk=min_at_risk)
    segment_rows.append(t.rename(columns={col: "Level"}).assign(Segment=col))
segments_view = pd.concat(segment_rows, ignore_index=True)
segments_view = segments_view[["Segment"] + [c for c in segments_view.columns if c != "Segment"]]
save_table(segments_view, "03a_segments", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           caption=f"Retention by segment ({READING}): the share still a customer at "
                   f"{', '.join(f'{t:g}' for t in survival_times)} {time_unit}s, median tenure and expected tenure "
                   f"within {horizon:g} {time_unit}s (restricted mean), each with its 95% CI. 'at least' marks a "
                   "one-sided bound where nobody has left yet; a cell resting on fewer than "
                   f"{min_at_risk:g} customers at risk, or past a segment's last follow-up, says so instead of "
                   "giving a number.")
segments_view

# %%
summary = pd.concat([
    km[col].summary(times=survival_times, tau=horizon).rename(columns={col: "level"}).assign(segment=col)
    for col in segment_cols
])
summary = summary[["segment", "level"] + [c for c in summary.columns if c not in ("segment", "level")]]
save_table(summary.drop(columns=["note"], errors="ignore"), "03_summary", fig_dir=fig_dir, parameters=PARAMS,
           data_paths=[DATA_FILE], float_format="%.3f",
           caption=f"Per segment ({READING}): customers, defections, censored, truncated entries, median "
                   f"tenure (95% CI), restricted mean tenure within {horizon} {time_unit}s (SE), survival at "
                   f"{', '.join(map(str, survival_times))} {time_unit}s.")
summary

# %%
col = segment_cols[0]
diff = None
if tenures.data[col].nunique() >= 2:
    diff = km[col].compare_rmst(tau=horizon)
    save_table(diff, "03_rmst_differences", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.3f",
               caption=f"Differences and ratios of restricted mean tenure within {horizon} {time_unit}s by {col}, "
                       "against the reference level, with 95% CIs.")
rm_table = km[col].rmst(tau=horizon).set_index(col)
rm = rm_table["estimate"]
best, worst = rm.idxmax(), rm.idxmin()
last = tenures.data.groupby(col, observed=True)["exit"].max()
short = [str(level) for level, t_max in last.items() if t_max < horizon]
caveat = (f" The horizon passes the last follow-up of {', '.join(short)} (last tenure "
          f"{', '.join(f'{last[lv]:g}' for lv in last.index if str(lv) in short)} {time_unit}s): there the survival "
          "curve is carried flat to the horizon, an assumption rather than an estimate." if short else "")


def ci_text(lv):
    return f" (95% CI {rm_table.loc[lv, 'ci_lower']:.1f} to {rm_table.loc[lv, 'ci_upper']:.1f})"


if best != worst:
    rmst_text = (f"Within {horizon} {time_unit}s, a **{best}** customer stays {rm[best]:.1f} {time_unit}s on average"
                 f"{ci_text(best)} and a **{worst}** customer {rm[worst]:.1f}{ci_text(worst)}: a gap of "
                 f"{rm[best] - rm[worst]:.1f} {time_unit}s per customer ({READING}).{caveat}")
else:
    rmst_text = (f"Within {horizon} {time_unit}s, a customer stays {rm[best]:.1f} {time_unit}s on average"
                 f"{ci_text(best)} ({READING}, {len(tenures):,} customers).{caveat}")
note("03_rmst", rmst_text, "Restricted mean tenure")
parts = [f"{lv} {rm[lv]:.1f}{ci_text(lv)}" for lv in rm.index]
note("headline_01_rmst", f"Expected tenure within the first {horizon:g} {time_unit}s by {col}: {'; '.join(parts)} "
     f"{time_unit}s ({READING}, {len(tenures):,} customers, {tenures.n_events:,} defections).",
     "Expected tenure by segment")
km_all = cs.KaplanMeier().fit(tenures).predict([snapshot_period])
if pd.notna(km_all["estimate"].iloc[0]):
    lost, lost_lo, lost_hi = (1 - float(km_all[c].iloc[0]) for c in ("estimate", "ci_upper", "ci_lower"))
    timing_text = ""
    if truncated.truncation is not None and truncated.truncation.applied:
        overall = cs.snapshot_timing_range(truncated, lost_within=[snapshot_period], tau=horizon)
        row = overall[overall["quantity"] == f"lost_within_{snapshot_period:g}"].iloc[0]
        timing_text = (f"; {row['low']:.1%} to {row['high']:.1%} depending on when in the period defectors left")
    note("headline_00_early", f"{lost:.1%} of new customers leave within their first {snapshot_period:g} "
         f"{time_unit}s (95% CI {lost_lo:.1%} to {lost_hi:.1%}{timing_text}; {READING}, "
         f"{len(tenures):,} customers).", "Early defection")
diff

# %% [markdown]
# ## When does the risk of leaving peak? Hazard curves
#
# The per-period hazard is the share of customers at risk at the start of a period who leave during it: the
# monthly churn rate by tenure month. Raw rates are noisy where few customers are at risk, so a kernel smoother
# (Epanechnikov, boundary-corrected, each month's rate spread over its month) draws the trend; its bandwidth is
# shown in the legend. The smoother does not cross the pre-specified renewal months, where the hazard may jump.
# Parts resting on fewer than `min_at_risk` customers are dashed, without a band.

# %%
col = segment_cols[0]
raw = cs.DiscreteHazard(min_at_risk=min_at_risk).fit(tenures, by=col)
t_last = float(tenures.data["exit"].max())
cuts = [c for c in (renewal_periods or []) if 0 < c < t_last]
smooth = cs.SmoothedHazard(min_at_risk=min_at_risk, change_points=cuts or None).fit(tenures, by=col)
fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
cs.plot_hazard(smooth, raw, ax=ax, time_unit=time_unit, title=f"Monthly churn hazard by {col} ({READING})")
save_figure(fig, "04_hazard", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Per-period hazard (points, at mid-period) and kernel-smoothed hazard (line, 95% band; "
                    f"bandwidth in the legend; not smoothed across {time_unit}s {', '.join(map(str, cuts)) or 'none'}) "
                    f"by {col}, {READING}; dashed where fewer than {min_at_risk} customers are at risk.")
plt.show()

# %%
peaks = raw.peak(min_events=10).dropna(subset=["estimate"])
peak_lines = "\n".join(
    f"- {r[col]}: {r['estimate']:.1%} in {time_unit} {r['time']:g} (95% CI {r['ci_lower']:.1%} to "
    f"{r['ci_upper']:.1%}; {int(r['n_events'])} of {int(r['n_at_risk'])} at risk)" for _, r in peaks.iterrows())
renewal = raw.contrast(periods=cuts, reference="neighbours", window=2) if cuts else None
if renewal is not None and len(renewal):
    save_table(renewal, "04_renewal_contrast", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"Pre-specified test of the renewal {time_unit}s {', '.join(map(str, cuts))}: hazard there "
                       f"against the two {time_unit}s either side, as a rate ratio with an exact 95% CI, by {col} "
                       f"({READING}).")
    renewal_lines = "\n".join(
        f"- {r[col]}: rate ratio {r['estimate']:.2f} (95% CI {r['ci_lower']:.2f} to {r['ci_upper']:.2f}, "
        f"p = {r['p_value']:.2g})" if pd.notna(r["estimate"]) else f"- {r[col]}: too few defections to test"
        for _, r in renewal.iterrows())
    renewal_text = (f"Pre-specified test of the renewal {time_unit}s ({', '.join(map(str, cuts))}) against the "
                    f"{time_unit}s around them:\n\n{renewal_lines}")
else:
    renewal_text = f"The follow-up does not reach a renewal {time_unit} ({renewal_periods}): no renewal test."
peak_text = (f"Highest per-period hazard by {col}, among periods with at least 10 defections and "
             f"{min_at_risk} customers at risk (descriptive: the largest of many noisy rates overstates its "
             f"{time_unit}):\n\n{peak_lines}" if len(peaks) else
             f"No period has the 10 defections needed to call a hazard peak ({len(tenures):,} customers).")
note("04_hazard", f"""
{peak_text}

{renewal_text}
""", "Hazard peaks and renewals")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
cs.plot_cumulative_hazard(cs.NelsonAalen().fit(tenures, by=col), ax=axes[0], time_unit=time_unit,
                          title="Nelson-Aalen cumulative hazard")
cs.plot_loglog(km[col], ax=axes[1], time_unit=time_unit, title="log(-log S) against log tenure")
save_figure(fig, "05_cumhaz_loglog", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Cumulative hazard by {col} and the log(-log S) plot: roughly parallel curves support "
                    "proportional hazards between segments; crossing curves argue against a Cox model.")
plt.show()

# %% [markdown]
# ## Are the differences real? Log-rank tests

# %%
comparable = [c for c in segment_cols if tenures.data[c].nunique() >= 2]
tests = []
for col in comparable:
    for weights in ("logrank", "peto"):
        res = cs.logrank_test(tenures, by=col, weights=weights)
        tests.append(res.table.assign(segment=col))
    if col == ordered_segment and ordered_segment:
        ordered = tenures.with_segment(col, pd.Categorical(tenures.data[col].astype(str),
                                                           categories=segment_order, ordered=True))
        res = cs.logrank_test(ordered, by=col, trend=True)
        tests.append(res.table.query("test.str.contains('trend')", engine="python").assign(segment=col))
pairs = None
if tests:
    tests = pd.concat(tests, ignore_index=True)[["segment", "test", "statistic", "dof", "p_value"]]
    save_table(tests, "06_tests", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g",
               caption=f"Log-rank, Peto-Peto and trend tests of equal survival across segments ({READING}).")
    pair_col = comparable[1] if len(comparable) > 1 else comparable[0]
    if tenures.data[pair_col].nunique() > 2:
        pairs = cs.pairwise_logrank(tenures, by=pair_col, adjust="holm")
        save_table(pairs, "06b_pairwise", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                   float_format="%.4g", caption=f"Pairwise log-rank tests by {pair_col}, Holm-adjusted p-values.")
tests

# %%
n_total = len(tenures)
if len(comparable):
    # The pre-specified test is the log-rank test, one per segment column, Holm-adjusted across the columns; the
    # Peto-Peto and trend rows are descriptive (other weightings of the same comparison).
    primary = tests.query("test == 'logrank'").copy()
    primary["p_holm"] = cs.adjust_pvalues(primary["p_value"].to_numpy(), method="holm")
    n_cols_sig = int((primary["p_holm"] < 0.05).sum())
    worst_p = primary["p_holm"].max()
    size_note = (f"With {n_total:,} customers even small differences reach significance: read the curves and the "
                 "restricted means for size." if n_total >= 2_000 else
                 f"With {n_total:,} customers only large differences can be detected: a non-significant test is "
                 "not evidence of equal survival.")
    pair_text = (f" By {pair_col}, {int((pairs['p_adjusted'] < 0.05).sum())} of {len(pairs)} pairs differ after "
                 "Holm's adjustment within that column." if pairs is not None else "")
    tests_text = f"""
Pre-specified test: the log-rank test of each of {len(primary)} segment columns, Holm-adjusted across them.
{n_cols_sig} of {len(primary)} columns differ in survival at the 5% level (largest adjusted p-value {worst_p:.2g},
{READING}). The Peto-Peto and trend tests in the table weight the same comparison differently and are
descriptive.{pair_text}
{size_note}
"""
else:
    tests_text = (f"Every segment column has a single level here ({', '.join(segment_cols)}): there are no groups "
                  f"to compare, so no test was run ({n_total:,} customers).")
note("06_tests", tests_text, "Tests")

# %% [markdown]
# ## Cohorts and calendar time (dated records only)
#
# The curves above pool every customer, as if churn depended on tenure alone. With sign-up and cancel dates the
# data can check this: do customers who signed up at different times retain alike (retention by sign-up
# cohort), and is the churn rate stable over calendar time (defections per customer-month at risk, in each
# calendar period, within tenure bands so that a book growing older is not read as a calendar trend)? Newer
# cohorts are followed for less time: their curves are shorter, and nothing is extrapolated.

# %%
if start_col:
    records = cs.datasets.read_records(data_path)[0]
    by_cohort = cs.cohort_retention(records, start=start_col, end=end_col, as_of=as_of, cohort="quarter",
                                    unit=time_unit, min_at_risk=min_at_risk)
    if len(by_cohort.cohorts) > 12:  # many quarters: yearly cohorts keep the figure readable
        by_cohort = cs.cohort_retention(records, start=start_col, end=end_col, as_of=as_of, cohort="year",
                                        unit=time_unit, min_at_risk=min_at_risk)
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    cs.plot_cohort_retention(by_cohort, ax=ax, time_unit=time_unit)
    save_figure(fig, "08a_cohort_retention", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Kaplan-Meier retention by {by_cohort.cohort} of sign-up (early cohorts dark, recent "
                        f"ones light); dashed where fewer than {min_at_risk} customers are at risk. Each curve stops "
                        "at its cohort's longest follow-up.")
    plt.show()
    save_table(by_cohort.cohorts.drop(columns="score"), "08b_cohorts", fig_dir=fig_dir, parameters=PARAMS,
               data_paths=[DATA_FILE], float_format="%.4g",
               caption=f"Sign-up cohorts: customers, defections, follow-up ({time_unit}s: every member observable "
                       "to full_follow_up, the earliest to max_follow_up), and the log-rank observed and expected "
                       "defections.")
    bands = {"month": [0, 12, 24, float("inf")], "week": [0, 52, 104, float("inf")],
             "day": [0, 365, 730, float("inf")]}[time_unit]
    span_days = (pd.Timestamp(as_of) - pd.to_datetime(records[start_col]).min()).days
    period = "quarter" if span_days > 2 * 365 else "month"
    by_calendar = cs.calendar_churn(records, start=start_col, end=end_col, as_of=as_of, period=period,
                                    by_tenure=bands, unit=time_unit)
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    cs.plot_calendar_churn(by_calendar, ax=ax, scale=100)
    save_figure(fig, "08c_calendar_churn", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Churn rate per calendar {period} (defections per 100 customer-{time_unit}s at risk) with "
                        "exact 95% Poisson intervals, for all customers (black) and by tenure band; the last "
                        f"{period}, cut short by the cut-off date, has a hollow marker.")
    plt.show()
    save_table(pd.concat([by_cohort.tests.assign(view="cohorts"), by_calendar.tests.assign(view="calendar")]),
               "08d_cohort_calendar_tests", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption="Log-rank test of equal retention across sign-up cohorts and test for a trend across them; "
                       f"score tests of a constant churn rate over calendar {period}s (homogeneity, trend), "
                       "overall and within tenure bands.")

    def p_of(tests, name):
        row = tests[tests["test"] == name]
        return float(row["p_value"].iloc[0]) if len(row) else float("nan")

    def verdict(p):
        return "no evidence of a difference" if not p < 0.05 else "a difference"

    p_cohort, p_cohort_trend = p_of(by_cohort.tests, "logrank"), p_of(by_cohort.tests, "logrank trend")
    p_cal = p_of(by_calendar.tests, "homogeneity")
    p_cal_band = p_of(by_calendar.tests, "homogeneity within tenure bands")
    p_cal_trend = p_of(by_calendar.tests, "trend within tenure bands")
    rates = by_calendar.table
    cohort_text = (f"Across {len(by_cohort.cohorts)} {by_cohort.cohort}ly sign-up cohorts the log-rank test finds "
                   f"{verdict(p_cohort)} in retention (p = {p_cohort:.2g}; trend across cohorts p = "
                   f"{p_cohort_trend:.2g})." if by_cohort.tests.size else " ".join(by_cohort.notes[1:]))
    note("08_cohorts_calendar", f"""
**Cohorts and calendar time.** {cohort_text} {by_cohort.notes[0]}

The churn rate ranged from {100 * rates['estimate'].min():.2f} to {100 * rates['estimate'].max():.2f} defections
per 100 customer-{time_unit}s across calendar {period}s. A constant rate over calendar time is
{"rejected" if p_cal < 0.05 else "not rejected"} overall (p = {p_cal:.2g}) and
{"rejected" if p_cal_band < 0.05 else "not rejected"} within tenure bands (p = {p_cal_band:.2g}; trend within
bands p = {p_cal_trend:.2g}). A difference overall that vanishes within bands is the book growing older, not a
calendar effect. Where cohorts or calendar {period}s differ, the pooled curves (and a snapshot's period life table)
average over changing conditions: read them as a summary of the period, not as a forecast.
""", "Cohorts and calendar time")
else:
    print("No sign-up dates (start_col is None): the cohort and calendar views need dated records. A snapshot's "
          "period-vs-cohort assumption cannot be checked from these records.")

# %% [markdown]
# ## A pitfall: segments that are tenure in disguise
#
# Some columns look like segments but are determined by tenure itself. In the bundled Maven file each marketing
# `Offer` was made to customers in one tenure band only, so survival "by Offer" just restates tenure. churnsurv
# warns (`TenureConfoundingWarning`) when such a column is used as a segment; here is the evidence from the data.

# %%
if pitfall_col:
    bands = cs.tenure_confounding(naive, pitfall_col)
    save_table(bands.drop(columns="segment"), "07_pitfall_bands", fig_dir=fig_dir, parameters=PARAMS,
               data_paths=[DATA_FILE], float_format="%.0f",
               caption=f"Tenure range (central 90%) of each {pitfall_col} level: nearly disjoint bands.")
    levels = list(naive.data[pitfall_col].cat.categories)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    data = [naive.data.loc[naive.data[pitfall_col] == lv, "exit"] for lv in levels]
    axes[0].boxplot(data, vert=False, tick_labels=levels, whis=(5, 95), showfliers=False)
    axes[0].set_xlabel(f"Tenure ({time_unit}s)")
    axes[0].set_title(f"Tenure of customers by {pitfall_col}")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cs.TenureConfoundingWarning)
        km_offer = cs.KaplanMeier().fit(naive, by=pitfall_col)
    cs.plot_survival(km_offer, ax=axes[1], ci=False, censor_marks=False, time_unit=time_unit,
                     title=f"Survival 'by {pitfall_col}': meaningless", legend_loc="lower left")
    save_figure(fig, "07_pitfall", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Left: each {pitfall_col} level occupies its own tenure band. Right: so survival curves "
                        f"by {pitfall_col} only restate tenure, and do not measure any effect of the offer.")
    plt.show()
    warned = any(issubclass(w.category, cs.TenureConfoundingWarning) for w in caught)
    flagged = bands[bands["n_disjoint"] > 0]
    band_text = "; ".join(f"{r.level}: {r.tenure_low:g}-{r.tenure_high:g}" for r in flagged.itertuples())
    note("07_pitfall", f"""
**`{pitfall_col}` is tenure in disguise.** Its levels occupy nearly disjoint tenure bands ({band_text}).
churnsurv {"warned" if warned else "did not warn"} when the curves were drawn. Comparing these curves compares
tenure bands, not offers. To study an offer's effect, use a landmark analysis: take the customers still active at a
chosen tenure (the landmark), compare those who had the offer by then with those who had not, and follow both from
the landmark on. Stratifying on tenure bands instead would condition on the outcome.
""", "Pitfall: segments determined by tenure")
