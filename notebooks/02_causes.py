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
# # Causes of defection
#
# Customers leave for different reasons: a competitor's offer, the price, a service failure, the attitude of
# staff. Each cause competes with the others: a customer poached by a competitor can no longer leave over the
# price. Treating the other causes as censoring overstates each cause's risk, so this notebook uses the
# competing-risks tools: cumulative incidence by cause (Aalen-Johansen), Gray's test, cause-specific hazards
# and Cox models, Fine-Gray subdistribution hazard regression, and what removing or halving one cause would do
# to expected tenure.

# %% tags=["parameters"]
data_path = "maven_telco"  # a bundled dataset name, or the path of your CSV/Parquet file
duration_col = "Tenure in Months"
status_col = "Customer Status"  # snapshot status; None with event_col for plain durations
event_col = None
start_col = None  # sign-up date column: read the file from dates (with end_col and as_of) instead of durations
end_col = None  # defection (cancel) date column, empty for active customers
as_of = None  # the data's cut-off date, e.g. "2024-06-30"
churned_label = "Churned"
joined_label = "Joined"
stayed_label = "Stayed"
snapshot_period = 3
churn_timing = "middle"  # when in the period a defector left: "middle", "end" (most optimistic) or "start"
cause_col = "Churn Category"
cause_mapping = "maven_categories"  # "maven_categories", "telco_reasons", or None for raw labels
segment_col = "Contract"
reference_level = "Month-to-Month"  # reference level of the segment in regression models
numeric_covariates = ["Monthly Charge"]
focus_cause = "competitor"  # the cause examined in the regression and reduction sections
reduction = 0.5  # fraction of the focus cause's hazard removed in the "halve it" scenario
reading = "truncated"  # "truncated" (the snapshot reading, as notebook 01) or "naive"
time_unit = "month"
horizon = 24
fig_dir = "reports/figures"

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import churnsurv as cs
from churnsurv.reporting import save_figure, save_table, save_text, use_style

use_style()
PARAMS = {k: v for k, v in dict(globals()).items() if k in {
    "data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of", "snapshot_period",
    "churn_timing", "cause_col",
    "cause_mapping", "segment_col", "reference_level", "numeric_covariates", "focus_cause", "reduction", "reading",
    "time_unit", "horizon"}}


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


SNAPSHOT = bool(status_col) and not start_col  # a churn snapshot: two readings (naive and truncated)


def read(truncate):
    return cs.datasets.read_tenures(
        data_path, duration=None if start_col else duration_col, event=event_col,
        status=status_col if SNAPSHOT else None, period=snapshot_period, start=start_col, end=end_col, as_of=as_of,
        truncate=truncate, churn_timing=churn_timing, churned=churned_label, joined=joined_label,
        stayed=stayed_label, cause=cause_col,
        cause_map=cause_mapping, segments=[segment_col], values=numeric_covariates, time_unit=time_unit)


naive = read(truncate=False)
truncated = read(truncate=True) if SNAPSHOT else naive
DATA_FILE = naive.source
tenures = truncated if reading == "truncated" else naive
if not tenures.is_truncated:
    reading = "naive"  # plain durations: one reading, followed from sign-up
READING = "snapshot reading, left-truncated" if tenures.is_truncated else "followed from sign-up"
print(tenures)
tenures.describe(segment_col)

# %% [markdown]
# ## Cumulative incidence by cause
#
# The cumulative incidence of a cause at tenure t is the share of customers who have left *for that cause* by t.
# Stacked, the causes add up to the share who have left for any reason, 1 - S(t): the Aalen-Johansen estimator
# keeps the books exactly, tied monthly times included.

# %%
aj = cs.AalenJohansen().fit(tenures, by=segment_col)
axes = cs.plot_cumulative_incidence_grid(aj, time_unit=time_unit)
fig = axes.flat[0].figure
save_figure(fig, "01_cif_stacked", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Cumulative incidence of defection by cause and {segment_col} (Aalen-Johansen, {READING}), "
                    "stacked; the dashed line is 1 - S, the share lost to any cause.")
plt.show()
gap = aj.check()
print(f"largest |S + sum of CIFs - 1| over all times and segments: {gap:.1e}")

# %%
at = aj.predict([horizon])
save_table(at, "01_cif_at_horizon", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4f",
           caption=f"Cumulative incidence by cause and {segment_col} at {horizon} {time_unit}s, with 95% CIs "
                   f"({READING}).")
top = at.loc[at.groupby(segment_col, observed=True)["estimate"].idxmax()]
lines = "\n".join(f"- {r[segment_col]}: **{r['cause']}**, {r['estimate']:.1%} of customers "
                  f"(95% CI {r['ci_lower']:.1%} to {r['ci_upper']:.1%})" if r["estimate"] > 0 else
                  f"- {r[segment_col]}: no defections within {horizon} {time_unit}s" for _, r in top.iterrows())
note("01_cif", f"""
Leading cause of defection within {horizon} {time_unit}s, by {segment_col} ({READING}):

{lines}

The causes and the remaining customers add up exactly (largest bookkeeping gap {gap:.0e}).
""", "Cumulative incidence")

# %% [markdown]
# ### Sensitivity: the other reading
#
# Every number in this report uses one reading of the data (the snapshot reading for a snapshot, as in the
# segment analysis). For comparison only, the figure below reads the same file the other way: the naive reading
# treats every customer as followed from sign-up, and its cumulative incidence rises much more slowly.

# %%
if SNAPSHOT:
    other = truncated if reading == "naive" else naive
    other_name = "snapshot" if reading == "naive" else "naive"
    aj_other = cs.AalenJohansen().fit(other, by=segment_col)
    axes = cs.plot_cumulative_incidence_grid(aj_other, time_unit=time_unit)
    fig = axes.flat[0].figure
    save_figure(fig, "01d_cif_stacked_other", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Sensitivity, not the report's reading: cumulative incidence by cause and {segment_col} "
                        f"under the {other_name} reading, for comparison with the figure above.")
    plt.show()
    both = pd.concat([aj.predict([12], cause=focus_cause).assign(reading=reading),
                      aj_other.predict([12], cause=focus_cause).assign(reading=other_name)])
    wide = both.pivot_table(index=segment_col, columns="reading", values="estimate", observed=True)
    lines = "\n".join(f"- {seg}: {row[reading]:.1%} ({reading}) against {row[other_name]:.1%} ({other_name})"
                      for seg, row in wide.iterrows())
    note("01e_readings", f"""
Sensitivity to the reading: share of customers lost to **{focus_cause}** within 12 {time_unit}s, by
{segment_col}, under the report's reading ({reading}) and the other one:

{lines}
""", "Causes under both readings")

# %% [markdown]
# ## Do the causes differ across segments?
#
# Under the snapshot reading the data are left-truncated, and Gray's test of equal cumulative incidence is defined
# for right-censored data only. The test used here is the **cause-specific log-rank test**: for each cause, are the
# rates of leaving for that cause among customers still here the same in every segment? (Defections for other
# causes count as censored.) Gray's test follows on the naive reading, labelled as a sensitivity.

# %%
rows = []
for cause in tenures.causes:
    if int((tenures.data["cause"] == cause).sum()) == 0:
        continue
    res = cs.logrank_test(tenures, by=segment_col, cause=cause)
    rows.append(res.table.assign(cause=cause, reading=READING))
cause_tests = pd.concat(rows, ignore_index=True)[["cause", "test", "statistic", "dof", "p_value", "reading"]]
cause_tests["p_holm"] = cs.adjust_pvalues(cause_tests["p_value"].to_numpy(), method="holm")
save_table(cause_tests, "02_cause_logrank", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4g",
           caption=f"Cause-specific log-rank tests of equal hazard across {segment_col} levels, one per cause, "
                   f"Holm-adjusted across causes ({READING}).")
if SNAPSHOT:
    gray = cs.gray_test(naive, by=segment_col)
    save_table(gray.assign(reading="naive (sensitivity)"), "02_gray", fig_dir=fig_dir, parameters=PARAMS,
               data_paths=[DATA_FILE], float_format="%.4g",
               caption=f"Sensitivity, naive reading only: Gray's test of equal cumulative incidence across "
                       f"{segment_col} levels, per cause (Gray's test needs right-censored data, so it cannot use "
                       "the snapshot reading).")
n_diff = int((cause_tests["p_holm"] < 0.05).sum())
note("02_tests", f"""
For {n_diff} of {len(cause_tests)} causes the rate of leaving differs across {segment_col} levels at the 5% level
after Holm's adjustment across causes (cause-specific log-rank, {READING}).
""", "Causes by segment: tests")
cause_tests

# %% [markdown]
# ## Cause-specific hazards
#
# The cause-specific hazard is the monthly rate of leaving for one cause among customers still at risk. It is
# what a retention action against that cause acts on.

# %%
csh = cs.SmoothedHazard().fit(tenures, by=segment_col, cause=focus_cause)
raw = cs.cause_specific_hazard(tenures, by=segment_col, cause=focus_cause)
fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
cs.plot_hazard(csh, raw, ax=ax, time_unit=time_unit,
               title=f"Monthly hazard of leaving for '{focus_cause}' by {segment_col}")
save_figure(fig, "03_cause_hazard", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Cause-specific hazard of '{focus_cause}' by {segment_col} ({READING}): per-period rates "
                    "(points) and the kernel-smoothed hazard (line, 95% band, bandwidth in the legend).")
plt.show()

# %% [markdown]
# ## Regression: cause-specific Cox and Fine-Gray
#
# Two models answer two questions. The **cause-specific Cox** model says how a covariate changes the *rate* of
# leaving for a cause among customers still here (other causes censored). The **Fine-Gray** model says how it
# changes the *cumulative incidence* of that cause, the share eventually lost to it, counting customers lost to
# other causes as unable to leave for this one. Hazard ratios from the two differ, and both are correct.

# %%
covariates = [segment_col] + list(numeric_covariates)
csc = cs.CauseSpecificCox().fit(tenures, covariates=covariates, reference={segment_col: reference_level})
# Fine-Gray on the same reading: with left truncation it uses the Geskus (2011) weights (as R's finegray)
fg = cs.FineGray(cause=focus_cause).fit(tenures, covariates=covariates, reference={segment_col: reference_level})
forest = pd.concat([
    csc.hazard_ratios_.query("cause == @focus_cause").assign(model="cause-specific Cox"),
    fg.coef_.assign(model="Fine-Gray", cause=focus_cause),
], ignore_index=True).rename(columns={"hazard_ratio": "estimate"})
forest = forest[["model", "cause", "term", "estimate", "ci_lower", "ci_upper", "p_value"]]
fig, ax = plt.subplots(figsize=(7.5, 3.8), layout="constrained")
cs.plot_forest(forest, ax=ax, title=f"Hazard ratios for '{focus_cause}'")
save_figure(fig, "04_forest", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Hazard ratios (95% CIs) for leaving for '{focus_cause}' ({READING}): cause-specific Cox "
                    f"(rate among customers still here) and Fine-Gray (subdistribution: share eventually lost), "
                    f"reference {segment_col} = {reference_level}.")
plt.show()
save_table(forest, "04_hazard_ratios", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4g", caption=f"Hazard ratios for '{focus_cause}' from both models ({READING}).")
forest

# %% [markdown]
# ### Does one hazard ratio describe the whole tenure? The proportional-hazards check
#
# A Cox model summarises a covariate by one hazard ratio for every tenure. The scaled Schoenfeld residuals test
# whether the ratio drifts with tenure; where it does, the single ratio is an average over tenures and the
# effect should be reported per tenure window (or the covariate used as a stratum).

# %%
ph = csc.proportional_hazards_.query("cause == @focus_cause")
save_table(ph, "04_ph_check", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g",
           caption=f"Proportional-hazards check of the cause-specific Cox model for '{focus_cause}' ({READING}): "
                   "Grambsch-Therneau tests of the scaled Schoenfeld residuals against 1 - S(t-), per term and "
                   "global.")
failing = ph[(ph["term"] != "GLOBAL") & (ph["p_value"] < 0.05)]
if len(failing):
    ph_text = ("The proportional-hazards check fails for " + ", ".join(f"**{t}** (p = {p:.2g})" for t, p in
               zip(failing["term"], failing["p_value"], strict=True)) +
               ": its hazard ratio changes with tenure, so the single ratio above is an average over tenures. "
               "Read its effect per tenure window (a landmark analysis) rather than as one number.")
else:
    ph_text = "The proportional-hazards check finds no term whose hazard ratio drifts with tenure (all p >= 0.05)."
note("04_ph", ph_text, "Proportional-hazards check")
ph

# %% [markdown]
# ### Does the Fine-Gray model fit? Its predictions against the observed incidence
#
# A Fine-Gray model with the segment as its only covariate predicts each level's cumulative incidence under
# proportional subdistribution hazards. Where those predictions fall outside the Aalen-Johansen confidence
# interval of the same level, the model does not describe the data and its hazard ratios should not be quoted.

# %%
levels = list(tenures.data[segment_col].cat.categories)
fg_seg = cs.FineGray(cause=focus_cause).fit(tenures, covariates=[segment_col],
                                            reference={segment_col: reference_level})
pred = fg_seg.predict_cumulative_incidence(pd.DataFrame({segment_col: levels}), times=[12, horizon])
pred.insert(0, segment_col, [levels[i] for i in pred["profile"]])
pred = pred.drop(columns="profile")
observed = aj.predict([12, horizon], cause=focus_cause)[[segment_col, "time", "estimate", "ci_lower", "ci_upper"]]
observed[segment_col] = observed[segment_col].astype(str)
pred[segment_col] = pred[segment_col].astype(str)
check = pred.merge(observed, on=[segment_col, "time"], suffixes=("_fine_gray", "_observed"))
check["inside_observed_ci"] = ((check["estimate_fine_gray"] >= check["ci_lower_observed"] - 1e-12)
                               & (check["estimate_fine_gray"] <= check["ci_upper_observed"] + 1e-12))
save_table(check, "04_fine_gray_check", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4f",
           caption=f"Fine-Gray predicted cumulative incidence of '{focus_cause}' by {segment_col} (segment-only "
                   f"model) against the Aalen-Johansen estimate and its 95% CI, at 12 and {horizon} {time_unit}s "
                   f"({READING}).")
misfit = check[~check["inside_observed_ci"]]
if len(misfit):
    worst = misfit.assign(gap=(misfit["estimate_fine_gray"] - misfit["estimate_observed"]).abs()).nlargest(1, "gap")
    w = worst.iloc[0]
    fg_text = (f"**The Fine-Gray model does not fit these data.** {len(misfit)} of {len(check)} predictions fall "
               f"outside the observed 95% CI; the worst, {w[segment_col]} at {w['time']:g} {time_unit}s, predicts "
               f"{w['estimate_fine_gray']:.1%} where {w['estimate_observed']:.1%} "
               f"(95% CI {w['ci_lower_observed']:.1%} to {w['ci_upper_observed']:.1%}) were observed. The "
               "subdistribution hazards are not proportional across levels, so the Fine-Gray hazard ratios above "
               "are not a summary of the data: read the cumulative incidence curves and the cause-specific model.")
else:
    fg_text = (f"The Fine-Gray predictions by {segment_col} fall inside the observed 95% CIs at 12 and {horizon} "
               f"{time_unit}s: the model describes the data at those tenures.")
note("04_fine_gray_check", fg_text, "Fine-Gray model check")
check

# %% [markdown]
# ## What if one cause were halved, or removed?
#
# Under the assumption that causes act independently (removing one leaves the others' hazards unchanged, which
# the data cannot test), we can recompute survival with the hazard of one cause cut by a fraction, and read the
# gain in expected tenure within the horizon. This is the bridge to retention economics.

# %%
scenarios = {f"'{focus_cause}' cut by {reduction:.0%}": reduction, f"'{focus_cause}' removed": 1.0}
rows = []
for label, frac in scenarios.items():
    res = cs.cause_reduction(tenures, reduce={focus_cause: frac}, by=segment_col, horizon=horizon)
    rows.append(res.summary.assign(scenario=label))
gains = pd.concat(rows, ignore_index=True)
save_table(gains, "05_cause_reduction", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.3f",
           caption=f"Expected tenure within {horizon} {time_unit}s by {segment_col}, observed and with the hazard "
                   f"of '{focus_cause}' halved or removed (independent causes assumed).")
res_half = cs.cause_reduction(tenures, reduce={focus_cause: reduction}, by=segment_col, horizon=horizon)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for (seg, scen), d in res_half.survival.groupby([segment_col, "scenario"], observed=True):
    ax.step(d["time"], d["estimate"], where="post", linestyle="-" if scen == "observed" else "--",
            color=cs.segment_colors([str(seg)])[str(seg)], label=f"{seg}, {scen}")
ax.set_xlabel(f"Tenure ({time_unit}s)")
ax.xaxis.set_major_locator(plt.MultipleLocator(12 if time_unit == "month" else 10))
ax.set_ylabel("Share of customers retained")
ax.set_ylim(0, 1.02)
ax.set_title(f"Survival with the hazard of '{focus_cause}' cut by {reduction:.0%}")
ax.legend(loc="lower left", fontsize="small")
save_figure(fig, "05_cause_reduction", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Observed survival (solid) and survival with the hazard of '{focus_cause}' cut by "
                    f"{reduction:.0%} (dashed), by {segment_col}, assuming independent causes.")
plt.show()
best = gains.loc[gains["difference"].idxmax()]
note("05_reduction", f"""
Cutting the hazard of **{focus_cause}** by {reduction:.0%} would add, within {horizon} {time_unit}s,
{", ".join(f"{r['difference']:.2f} {time_unit}s for {r[segment_col]}" for _, r in
           gains[gains["scenario"] == list(scenarios)[0]].iterrows())} of expected tenure per customer.
Removing it entirely would gain most for {best[segment_col]} ({best['difference']:.2f} {time_unit}s).
These figures assume the causes act independently; a customer saved from a competitor may still leave over price.
""", "Cause reduction")
gains
