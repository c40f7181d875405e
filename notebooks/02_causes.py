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
churned_label = "Churned"
joined_label = "Joined"
stayed_label = "Stayed"
snapshot_period = 3
cause_col = "Churn Category"
cause_mapping = "maven_categories"  # "maven_categories", "telco_reasons", or None for raw labels
segment_col = "Contract"
reference_level = "Month-to-Month"  # reference level of the segment in regression models
numeric_covariates = ["Monthly Charge"]
focus_cause = "competitor"  # the cause examined in the regression and reduction sections
reduction = 0.5  # fraction of the focus cause's hazard removed in the "halve it" scenario
reading = "naive"  # "naive" or "truncated": Gray's test and Fine-Gray need untruncated data
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
    "data_path", "duration_col", "status_col", "event_col", "snapshot_period", "cause_col", "cause_mapping",
    "segment_col", "reference_level", "numeric_covariates", "focus_cause", "reduction", "reading", "time_unit",
    "horizon"}}


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


def read(truncate):
    return cs.datasets.read_tenures(
        data_path, duration=duration_col, event=event_col, status=status_col, period=snapshot_period,
        truncate=truncate, churned=churned_label, joined=joined_label, stayed=stayed_label, cause=cause_col,
        cause_map=cause_mapping, segments=[segment_col], values=numeric_covariates, time_unit=time_unit)


naive = read(truncate=False)
truncated = read(truncate=True) if status_col else naive
DATA_FILE = naive.source
tenures = truncated if reading == "truncated" else naive
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
            caption=f"Cumulative incidence of defection by cause and {segment_col} (Aalen-Johansen, {reading} "
                    "reading), stacked; the dashed line is 1 - S, the share lost to any cause.")
plt.show()
gap = aj.check()
print(f"largest |S + sum of CIFs - 1| over all times and segments: {gap:.1e}")

# %%
at = aj.predict([horizon])
save_table(at, "01_cif_at_horizon", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4f",
           caption=f"Cumulative incidence by cause and {segment_col} at {horizon} {time_unit}s, with 95% CIs.")
top = at.loc[at.groupby(segment_col, observed=True)["estimate"].idxmax()]
lines = "\n".join(f"- {r[segment_col]}: **{r['cause']}**, {r['estimate']:.1%} of customers "
                  f"(95% CI {r['ci_lower']:.1%} to {r['ci_upper']:.1%})" if r["estimate"] > 0 else
                  f"- {r[segment_col]}: no defections within {horizon} {time_unit}s" for _, r in top.iterrows())
note("01_cif", f"""
Leading cause of defection within {horizon} {time_unit}s, by {segment_col} ({reading} reading):

{lines}

The causes and the remaining customers add up exactly (largest bookkeeping gap {gap:.0e}).
""", "Cumulative incidence")

# %% [markdown]
# ### The same, read as a snapshot
#
# Under the snapshot reading (left truncation), each customer enters observation at the start of the period.
# The cumulative incidence then describes customers followed from sign-up *if* those who left before the
# period behaved like those we see; it rises much faster than the naive reading suggests.

# %%
if status_col:
    other = truncated if reading == "naive" else naive
    other_name = "snapshot" if reading == "naive" else "naive"
    aj_other = cs.AalenJohansen().fit(other, by=segment_col)
    axes = cs.plot_cumulative_incidence_grid(aj_other, time_unit=time_unit)
    fig = axes.flat[0].figure
    save_figure(fig, "01d_cif_stacked_other", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Cumulative incidence by cause and {segment_col} under the {other_name} reading, for "
                        "comparison with the figure above.")
    plt.show()
    both = pd.concat([aj.predict([12], cause=focus_cause).assign(reading=reading),
                      aj_other.predict([12], cause=focus_cause).assign(reading=other_name)])
    wide = both.pivot_table(index=segment_col, columns="reading", values="estimate", observed=True)
    lines = "\n".join(f"- {seg}: {row[reading]:.1%} ({reading}) against {row[other_name]:.1%} ({other_name})"
                      for seg, row in wide.iterrows())
    note("01e_readings", f"""
Share of customers lost to **{focus_cause}** within 12 {time_unit}s, by {segment_col}, under both readings:

{lines}
""", "Causes under both readings")

# %% [markdown]
# ## Do the causes differ across segments? Gray's test

# %%
if tenures.is_truncated:
    print("Gray's test is defined for right-censored data; skipped under the truncated reading.")
    gray = None
else:
    gray = cs.gray_test(tenures, by=segment_col)
    save_table(gray, "02_gray", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g",
               caption=f"Gray's test of equal cumulative incidence across {segment_col} levels, per cause.")
gray

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
            caption=f"Cause-specific hazard of '{focus_cause}' by {segment_col}: per-period rates (points) and the "
                    "kernel-smoothed hazard (line, 95% band, bandwidth in the legend).")
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
fg_data = tenures.naive() if tenures.is_truncated else tenures
fg = cs.FineGray(cause=focus_cause).fit(fg_data, covariates=covariates, reference={segment_col: reference_level})
forest = pd.concat([
    csc.hazard_ratios_.query("cause == @focus_cause").assign(model="cause-specific Cox"),
    fg.coef_.assign(model="Fine-Gray", cause=focus_cause),
], ignore_index=True).rename(columns={"hazard_ratio": "estimate"})
forest = forest[["model", "cause", "term", "estimate", "ci_lower", "ci_upper", "p_value"]]
fig, ax = plt.subplots(figsize=(7.5, 3.8), layout="constrained")
cs.plot_forest(forest, ax=ax, title=f"Hazard ratios for '{focus_cause}'")
save_figure(fig, "04_forest", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Hazard ratios (95% CIs) for leaving for '{focus_cause}': cause-specific Cox (rate among "
                    f"customers still here) and Fine-Gray (subdistribution: share eventually lost), reference "
                    f"{segment_col} = {reference_level}.")
plt.show()
save_table(forest, "04_hazard_ratios", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4g", caption=f"Hazard ratios for '{focus_cause}' from both models.")
forest

# %%
profiles = pd.DataFrame({segment_col: list(tenures.data[segment_col].cat.categories)})
for c in numeric_covariates:
    profiles[c] = float(tenures.data[c].median())
pred = fg.predict_cumulative_incidence(profiles, times=[12, horizon])
save_table(pred, "04_fine_gray_profiles", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4f",
           caption=f"Fine-Gray predicted cumulative incidence of '{focus_cause}' at 12 and {horizon} {time_unit}s "
                   f"per {segment_col}, at the median of the numeric covariates.")
pred

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
