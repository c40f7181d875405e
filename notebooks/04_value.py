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
# # What retention is worth
#
# The survival curves of the segment and cause analyses become money here: the expected discounted margin of a
# new customer (lifetime value), the value of the customers on the books today (customer equity), what cutting the
# hazard of defection would be worth, the value lost to each cause, and the claims of the retention literature
# tested on these data. Every number comes with a 95% bootstrap interval (customers redrawn within segments) and
# with the assumptions it rests on.

# %% tags=["parameters"]
data_path = "maven_telco"  # a bundled dataset name, or the path of your CSV/Parquet file
duration_col = "Tenure in Months"  # tenure at defection or at the end of the snapshot
status_col = "Customer Status"  # snapshot status; None with event_col for plain durations
event_col = None  # 0/1 or bool defection flag, used when status_col is None
start_col = None  # sign-up date column: read the file from dates (with end_col and as_of) instead of durations
end_col = None  # defection (cancel) date column, empty for active customers
as_of = None  # the data's cut-off date, e.g. "2024-06-30"
churned_label = "Churned"
joined_label = "Joined"
stayed_label = "Stayed"
snapshot_period = 3  # length of the snapshot period, in time units
churn_timing = "middle"  # when in the period a defector left: "middle", "end" (most optimistic) or "start"
cause_col = "Churn Category"  # None when the file has no causes of defection
cause_mapping = "maven_categories"  # "maven_categories", "telco_reasons", or None for raw labels
segment_col = "Contract"  # None when the file has no segment column
time_unit = "month"
horizon = 24  # horizon of the profit of a scenario and of the leaky-bucket projection, in time units
margin_col = "Monthly Charge"  # revenue per customer and period (None: values are in periods of margin 1)
margin_rate = 0.3  # share of the revenue that is margin
discount_rate = 0.01  # discount rate per time unit (0.01 a month is about 12.7% a year)
acquisition_cost = 300.0  # cost of acquiring one customer, in the units of the margin
acquisitions = None  # new customers per time unit (None: the inflow that would keep today's base steady)
scenario_cut = 0.2  # relative cut of the hazard in the retention scenarios
programme_cost = 2.0  # cost of the retention programme per current customer, in the units of the margin
n_boot = 200  # bootstrap replicates for every interval
random_state = 0  # seed of the bootstrap
fig_dir = "reports/figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import churnsurv as cs
from churnsurv.plotting.value import (
    plot_leaky_bucket,
    plot_tornado,
    plot_value,
    plot_value_at_risk,
    plot_value_by_reduction,
    plot_whale_curve,
)
from churnsurv.reporting import save_figure, save_table, save_text, use_style
from churnsurv.value import (
    HETEROGENEITY_CAVEAT,
    core_customers,
    customer_equity,
    heterogeneity_scenario,
    leaky_bucket,
    lifetime_value,
    lifetime_value_range,
    relationship_levels,
    residual_value,
    retention_claims,
    retention_scenario,
    scenario_grid,
    value_at_risk,
    value_sensitivity,
    whale_curve,
)

use_style()
PARAMS = {k: v for k, v in dict(globals()).items() if k in {
    "data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of", "snapshot_period",
    "churn_timing", "cause_col", "cause_mapping", "segment_col", "time_unit", "horizon", "margin_col", "margin_rate",
    "discount_rate", "acquisition_cost", "acquisitions", "scenario_cut", "programme_cost", "n_boot",
    "random_state"}}


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


def attempt(what, fn):
    """Run one analysis; on records too small or too odd for it, say so in the report instead of failing."""
    try:
        return fn()
    except (ValueError, cs.TenureDataError, np.linalg.LinAlgError) as err:
        note(f"v_skipped_{what.replace(' ', '_')}", f"**Not computed: {what}.** {err}", f"Not computed: {what}")
        return None


def ci(row, col="estimate", lo="ci_lower", hi="ci_upper", fmt="{:,.0f}"):
    """A number with its interval, or the number alone when there is no interval."""
    if not np.isfinite(row[col]):
        return "not estimable"
    text = fmt.format(row[col])
    if lo in row and np.isfinite(row[lo]):
        text += f" (95% CI {fmt.format(row[lo])} to {fmt.format(row[hi])})"
    return text


SNAPSHOT = bool(status_col) and not start_col  # a churn snapshot: read as left-truncated (the snapshot reading)


def read(values):
    return cs.datasets.read_tenures(
        data_path, duration=None if start_col else duration_col, event=event_col,
        status=status_col if SNAPSHOT else None, period=snapshot_period, start=start_col, end=end_col, as_of=as_of,
        truncate=SNAPSHOT, churn_timing=churn_timing, churned=churned_label, joined=joined_label,
        stayed=stayed_label, cause=cause_col, cause_map=cause_mapping, segments=[segment_col] if segment_col else [],
        values=values, time_unit=time_unit)


try:
    tenures = read([margin_col] if margin_col else [])
except (KeyError, ValueError) as err:  # the margin column is missing or unusable: values in periods of margin
    if not margin_col or margin_col not in str(err):
        raise
    tenures = read([])
DATA_FILE = tenures.source
ALL = "All customers"
if not segment_col:  # no segment column: one group, named
    segment_col = "Segment"
    tenures = tenures.with_segment(segment_col, [ALL] * len(tenures))
HAS_CAUSES = bool(tenures.causes) and int(tenures.data["cause"].notna().sum()) > 0
READING = "snapshot reading, left-truncated" if tenures.is_truncated else "followed from sign-up"
LEVELS = list(tenures.data[segment_col].cat.categories)
if margin_col and margin_col in tenures.data:
    MARGIN = margin_col
    MARGIN_TEXT = f"margin {margin_rate:g} x '{margin_col}' per {time_unit}"
else:
    MARGIN, margin_rate = 1.0, 1.0
    MARGIN_TEXT = f"a margin of 1 per {time_unit} (no margin column: values are counted in {time_unit}s of margin)"
    acquisition_cost = 0.0  # its unit (money) does not match values counted in periods of margin
ASSUME = (f"{READING}; {MARGIN_TEXT}; discount {discount_rate:g} per {time_unit}; payment at the start of each "
          f"{time_unit}; a constant hazard beyond the data (fitted to the last 12 {time_unit}s)")
KW = dict(by=segment_col, margin=MARGIN, margin_rate=margin_rate, discount_rate=discount_rate)
BOOT = dict(n_boot=n_boot, random_state=random_state)
missing = []
if not HAS_CAUSES:
    why = "no cause column was given" if not cause_col else f"column {cause_col!r} is empty for every defection"
    missing.append(f"**No causes of defection in these records** ({why}): the value at risk and the cause-targeted "
                   "scenario cannot be split by cause; every defection counts as one cause, 'any'.")
if len(LEVELS) < 2:
    missing.append("**One segment only**: the values below are for all customers; there are no segments to compare.")
if not (margin_col and margin_col in tenures.data):
    missing.append(f"**No margin column**{f' ({margin_col!r} is not in the file)' if margin_col else ''}: values are "
                   f"in {time_unit}s of margin; multiply by your margin per {time_unit} to read them as money. The "
                   "acquisition cost is left out (its unit would not match), so the claims that need it (the '5x' "
                   "rule, the elasticity to acquisition cost) are not computed.")
if missing:
    note("v00_missing", "\n\n".join(missing), "What these records cannot give")
print(tenures)

# %% [markdown]
# ## Value by segment
#
# The lifetime value of a new customer is the expected discounted margin over their tenure: the sum, period by
# period, of margin x probability of still being a customer x discount factor. The data fix it up to the longest
# tenure observed; beyond, a constant hazard fitted to the last twelve months continues the curve (its share of
# the value is the *tail share*). Customer equity sums the residual value of today's customers, each from the
# tenure reached.

# %%
lv = lifetime_value(tenures, **KW, **BOOT)
ce = attempt("customer equity", lambda: customer_equity(tenures, **KW, **BOOT))
cols = [segment_col, "n_customers", "margin", "estimate", "ci_lower", "ci_upper", "tail_share", "tail_retention"]
save_table(lv[cols], "v1_lifetime_value", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
           float_format="%.4g",
           caption=f"Lifetime value of a new customer by {segment_col}, with 95% bootstrap intervals ({n_boot} "
                   f"replicates); tail_share is the share of the value beyond the longest tenure observed ({ASSUME}).")
fig, axes = plt.subplots(1, 2 if ce is not None else 1, figsize=(11, 3.6), layout="constrained", squeeze=False)
plot_value(lv, ax=axes[0, 0], title="Lifetime value of a new customer")
if ce is not None:
    save_table(ce, "v1_customer_equity", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g", caption=f"Customer equity (residual value of today's customers) by "
                                            f"{segment_col}, with 95% bootstrap intervals ({ASSUME}).")
    plot_value(ce, ax=axes[0, 1], xlabel="Customer equity", title="Value of today's customers")
save_figure(fig, "v1_value_by_segment", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
            caption=f"Left: lifetime value of a new customer by {segment_col}; right: customer equity; 95% "
                    f"bootstrap intervals ({ASSUME}).")
plt.show()
rng = lifetime_value_range(tenures, **KW)
spread = rng.groupby(segment_col, observed=True)[["range_lower", "range_upper"]].first()
lines = "\n".join(f"- {r[segment_col]}: {ci(r)} per new customer; {r['tail_share']:.0%} of it lies beyond the "
                  f"data (the value ranges from {spread.loc[r[segment_col], 'range_lower']:,.0f} with a hard stop to "
                  f"{spread.loc[r[segment_col], 'range_upper']:,.0f} over the tails compared)"
                  for _, r in lv.iterrows())
eq = "" if ce is None else (f"\n\nToday's {int(ce['n_current'].sum()):,} customers are worth "
                            f"{ce['estimate'].sum():,.0f} in total (customer equity; by {segment_col}: "
                            + "; ".join(f"{r[segment_col]} {ci(r)}" for _, r in ce.iterrows()) + ").")
if ce is not None and ce["estimate"].isna().any():
    eq += (" Not estimable for " + ", ".join(str(x) for x in ce.loc[ce["estimate"].isna(), segment_col]) + ": the "
           "survival curve there falls to 0 before the tenure some of today's customers have reached (too few "
           "customers at risk), so their future cannot be read from it; the totals leave them out.")
note("v1_value", f"""
Lifetime value of a new customer by {segment_col} ({ASSUME}):

{lines}{eq}
""", "Value by segment")
note("headline_04_value", f"A new customer is worth {', '.join(f'{r[segment_col]} {ci(r)}' for _, r in lv.iterrows())} "
     f"({MARGIN_TEXT}, discount {discount_rate:g} per {time_unit}; 95% bootstrap intervals).", "Customer value")
lv[cols]

# %% [markdown]
# ### Relationship levels
#
# Kotler's grid: how much relationship a segment warrants, from its number of customers (many: at least 30% of the
# base; few: under 5%) and its margin per period (high: at least 1.25 times the average; low: under 0.75 times).
# The core customers are today's customers with the highest residual value.

# %%
if len(LEVELS) >= 2 and np.isfinite(lv["margin"]).all():
    levels = relationship_levels(lv, by=segment_col)
    save_table(levels, "v1b_relationship_levels", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.3g",
               caption=f"Relationship level per {segment_col} (Kotler's grid; customers: many >= 30% of the base, few "
                       "< 5%; margin: high >= 1.25 x the customer-weighted mean, low < 0.75 x), with the lifetime "
                       f"value of a new customer ({ASSUME}).")
    res_value = attempt("the residual value of each customer", lambda: residual_value(tenures, **KW))
    core = None if res_value is None else core_customers(res_value.dropna(subset=["estimate"]), share=0.2)
    note("v1b_relationship", "Relationship levels: " + "; ".join(
        f"{r[segment_col]} **{r['relationship']}** ({r['customers_tier']} customers, {r['margin_tier']} margin)"
        for _, r in levels.iterrows()) + "."
        + ("" if core is None else f" The 20% of today's customers with the highest residual value hold "
           f"{core.attrs['equity_share']:.0%} of customer equity."), "Relationship levels")
    levels

# %% [markdown]
# ## Retention scenarios
#
# What if the hazard of defection were cut? Three scenarios: every cause cut by the same fraction at every tenure,
# the leading cause alone, and every cause in the first six months only. Each reports the change in expected
# tenure, lifetime value and equity, and the profit from today's customers over the horizon net of a programme
# cost per customer. A cut aimed at one cause assumes independent causes; beside it stand the bounds that need no
# such assumption (Peterson 1976).

# %%
counts = tenures.data["cause"].value_counts() if HAS_CAUSES else pd.Series(dtype=float)
lead_cause = str(counts.idxmax()) if len(counts) and counts.max() > 0 else None
scen_specs = {f"all causes cut by {scenario_cut:.0%}": dict(reduce=scenario_cut)}
if lead_cause:
    scen_specs[f"'{lead_cause}' cut by {scenario_cut:.0%}"] = dict(reduce=scenario_cut, causes=lead_cause)
scen_specs[f"all causes cut by {scenario_cut:.0%} in the first 6 {time_unit}s"] = dict(reduce=scenario_cut,
                                                                                     window=(0, 6))
scenarios, rows = {}, []
for label, spec in scen_specs.items():
    res = attempt(f"scenario {label}", lambda spec=spec: retention_scenario(
        tenures, **spec, **KW, profit_horizon=horizon, programme_cost=programme_cost, **BOOT))
    if res is None:
        continue
    scenarios[label] = res
    rows.append(res.summary.assign(scenario=label))
if rows:
    scen = pd.concat(rows, ignore_index=True)
    keep = ["scenario", segment_col, "expected_tenure_gain", "value_gain", "value_gain_ci_lower", "value_gain_ci_upper",
            "value_gain_pct", "equity_gain", "equity_gain_ci_lower", "equity_gain_ci_upper", "profit_gain",
            "programme_cost", "net_profit_gain", "net_profit_gain_ci_lower", "net_profit_gain_ci_upper",
            "customers_saved", "value_gain_within_data", "value_gain_lower_bound", "value_gain_upper_bound"]
    save_table(scen[keep], "v2_scenarios", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"Retention scenarios by {segment_col}: gains in expected tenure ({time_unit}s), lifetime "
                       f"value, equity and {horizon:g}-{time_unit} profit net of a programme cost of "
                       f"{programme_cost:g} per customer, with 95% bootstrap intervals; for a cut aimed at one cause, "
                       f"Peterson's assumption-free bounds on the value gain within the data ({ASSUME}).")
    text = []
    for label, res in scenarios.items():
        t = res.total.set_index("quantity")
        text.append(f"- **{label}**: lifetime value {ci(t.loc['value_gain'], fmt='{:+,.1f}')} per new customer "
                    f"({t.loc['value_gain_pct', 'estimate']:+.1f}%), "
                    f"equity {ci(t.loc['equity_gain'], fmt='{:+,.0f}')}, "
                    f"{horizon:g}-{time_unit} profit net of the programme cost "
                    f"{ci(t.loc['net_profit_gain'], fmt='{:+,.0f}')}")
        b = res.summary
        if b["value_gain_upper_bound"].notna().any():
            text.append("  (independent causes; without that assumption the gain in value within the data lies "
                        "between 0 and " + ", ".join(f"{r[segment_col]} {r['value_gain_upper_bound']:,.1f}"
                                                      for _, r in b.iterrows()) + ")")
    note("v2_scenarios", "\n".join(text) + f"\n\n{HETEROGENEITY_CAVEAT}", "Retention scenarios")
# %% [markdown]
# ### Who is saved: the scenario on the mixing distribution
#
# Customers differ: the aggregate hazard falls with tenure because the likeliest leavers go first. The same
# relative cut in churn is valued two ways on a shifted-beta-geometric model fitted per segment (Fader & Hardie):
# on the aggregate hazard, as above, and on each customer's own churn probability. The gap between the two is how
# much the heterogeneity caveat matters on these data.

# %%
het_rows = []
for level in LEVELS:
    sub = tenures.subset((tenures.data[segment_col] == level).to_numpy())
    m_level = float(lv.loc[lv[segment_col].astype(str) == str(level), "margin"].iloc[0])
    if not np.isfinite(m_level):
        continue
    r = attempt(f"the mixing scenario for {level}", lambda sub=sub, m_level=m_level: heterogeneity_scenario(
        sub, rate_cut=scenario_cut, margin=m_level, discount_rate=discount_rate, n_draws=min(n_boot, 100),
        random_state=random_state))
    if r is not None:
        het_rows.append(r.assign(**{segment_col: level}))
if het_rows:
    het = pd.concat(het_rows, ignore_index=True)[[segment_col, "quantity", "estimate", "ci_lower", "ci_upper"]]
    save_table(het, "v2b_heterogeneity", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"A {scenario_cut:.0%} cut in churn on a shifted-beta-geometric model per {segment_col}: the "
                       "value of a new customer and today's equity under the model, with the cut applied to the "
                       "aggregate hazard and to each customer's own churn probability (%-gains), with 95% intervals "
                       f"from parameter draws ({READING}; discount {discount_rate:g} per {time_unit}).")
    h = het.set_index([segment_col, "quantity"])["estimate"]
    note("v2b_heterogeneity", "Gain in the value of a new customer from the same cut, on the aggregate hazard "
         "against each customer's own churn probability: " + "; ".join(
             f"{lv_} {h[(lv_, 'value_gain_aggregate_pct')]:+.1f}% against {h[(lv_, 'value_gain_individual_pct')]:+.1f}%"
             for lv_ in het[segment_col].unique()) + ". Where customers differ, a programme that makes everyone a "
         "little more loyal is worth less than the aggregate cut suggests: the customers it keeps are the likeliest "
         "to leave later.", "Who is saved")

# %%
grid = attempt("value against the cut", lambda: scenario_grid(tenures, **KW,
                                                              reductions=np.linspace(0, 1, 11)))
if grid is not None:
    fig, axes = plt.subplots(1, len(LEVELS), figsize=(4.2 * len(LEVELS) + 1.5, 3.8), layout="constrained",
                             squeeze=False)
    for ax, level in zip(axes[0], LEVELS, strict=True):
        plot_value_by_reduction(grid, segment=str(level), ax=ax, title=str(level), legend=ax is axes[0, -1])
    save_figure(fig, "v2_value_by_reduction", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Lifetime value of a new customer against the cut in the hazard, one line per cause cut "
                        f"(dashed: all causes), by {segment_col} (independent causes; {ASSUME}).")
    plt.show()

# %% [markdown]
# ## Value at risk by cause
#
# The value lost to each cause: the customers who leave for it, weighted by what they would have brought had they
# stayed like the customers who did. Ranked within each segment; the break-even spend is what a programme removing
# a tenth of that cause's defections could cost per new customer and still pay.

# %%
var = attempt("value at risk", lambda: value_at_risk(tenures, **KW, **BOOT))
if var is not None:
    save_table(var, "v3_value_at_risk", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"Value at risk per new customer by cause and {segment_col}, ranked, with 95% bootstrap "
                       "intervals; value_per_defector is the break-even spend per customer saved, break_even_spend "
                       f"the most a programme removing 10% of the cause's defections can cost per new customer "
                       f"({ASSUME}).")
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(var) + 1.5), layout="constrained")
    plot_value_at_risk(var, ax=ax, title="Value at risk per new customer, by cause")
    save_figure(fig, "v3_value_at_risk", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Value lost to each cause per new customer, by {segment_col}, with 95% bootstrap intervals "
                        f"({ASSUME}).")
    plt.show()
    top = var[var["rank"] == 1]
    lines = "\n".join(f"- {r[segment_col]}: **{r['cause']}**, {ci(r, fmt='{:,.1f}')} per new customer "
                      f"({r['share']:.0%} of the value lost); removing a tenth of it is worth up to "
                      f"{r['break_even_spend']:,.1f} per new customer, {r['value_per_defector']:,.0f} per customer "
                      "saved" if r["estimate"] > 0 else f"- {r[segment_col]}: no value lost to any cause in these "
                      "records (no defections)" for _, r in top.iterrows())
    no_causes = "" if HAS_CAUSES else " No causes are recorded: every defection counts as one cause."
    note("v3_value_at_risk", f"""
The cause that costs most, by {segment_col} ({ASSUME}):

{lines}

The customers who leave are given the future of those who stayed, which overstates what the less loyal would have
brought (the heterogeneity caveat above).{no_causes}
""", "Value at risk by cause")

# %% [markdown]
# ## The claims, tested
#
# The retention literature makes memorable claims: a 5-point cut in defection raises profits by 25% to 95%
# (Reichheld); firm value is about five times as sensitive to retention as to margin, and far less to acquisition
# cost (Gupta, Lehmann & Stuart 2004); acquiring a customer costs five times as much as keeping one; a fifth of the
# customers make most of the profit. Each is recomputed here on these data, with its interval and the assumptions
# it needs.

# %%
base_now = float((~tenures.data["event"]).sum())
if acquisitions is None:  # the inflow that would keep today's base steady: base / expected periods, per segment
    exp_periods = leaky_bucket(tenures, inflow=1.0, **{k: KW[k] for k in ("by", "margin", "margin_rate")},
                               periods=1, include_current=False).steady_state["expected_periods"]
    shares = lv["n_customers"] / lv["n_customers"].sum()
    mean_periods = float(np.sum(shares.to_numpy() * exp_periods.to_numpy()))
    if np.isfinite(mean_periods) and mean_periods > 0:
        inflow_total = base_now / mean_periods
        inflow_text = (f"{inflow_total:,.0f} new customers per {time_unit}, the inflow that would keep today's base "
                       f"of {base_now:,.0f} steady (no acquisitions parameter given)")
    else:
        inflow_total = None
        inflow_text = "no future cohorts"
        note("v4_no_inflow", f"**Not computed: the leaky bucket and the future cohorts.** The expected tenure of a new "
             f"customer is not finite in every {segment_col} (a segment without defections near the end of its "
             "data keeps its customers for ever under the constant tail), so no inflow keeps today's base steady. "
             "Give `acquisitions` (new customers per period) to project the base.", "Not computed: leaky bucket")
else:
    inflow_total = float(acquisitions)
    inflow_text = f"{inflow_total:,.0f} new customers per {time_unit} (the acquisitions parameter)"
claims = attempt("the claims table", lambda: retention_claims(
    tenures, **KW, acquisition_cost=acquisition_cost, acquisitions=inflow_total, **BOOT))
if claims is not None:
    save_table(claims, "v4_claims", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g",
               caption=f"The retention claims of the literature on these data, with 95% bootstrap intervals and the "
                       f"assumptions used; acquisition cost {acquisition_cost:g}, {inflow_text} ({ASSUME}).")
    c = claims.set_index("claim")

    def cl(name, fmt="{:.1f}"):
        if name not in c.index or not np.isfinite(c.loc[name, "estimate"]):
            return "not computed"
        return ci(c.loc[name], fmt=fmt)

    note("v4_claims", f"""
- **Reichheld, a 5-point cut in annual defection** (every segment's annualised defection rate 5 points lower):
  lifetime value {cl('reichheld_points_value', '{:+.1f}%')}, equity {cl('reichheld_points_equity', '{:+.1f}%')}.
  The literature's figure, +25% to +95%, is for profit.
- **A 5% relative cut** (every hazard x 0.95): value {cl('reichheld_relative_value', '{:+.1f}%')}, equity
  {cl('reichheld_relative_equity', '{:+.1f}%')}. The two cuts are different: say which one is quoted.
- **Elasticities of firm value** (equity plus future cohorts, {inflow_text}, acquisition cost
  {acquisition_cost:g}{"" if np.isfinite(c.loc["elasticity_margin", "estimate"]) else "; " +
  c.loc["elasticity_margin", "assumptions"]}): to retention {cl('elasticity_retention', '{:.2f}')}, to margin
  {cl('elasticity_margin', '{:.2f}')}, to acquisition cost {cl('elasticity_acquisition_cost', '{:.2f}')} (% per 1%;
  Gupta, Lehmann & Stuart report about 5, 1 and 0.1).
- **"Acquiring costs 5x retaining"**: {f"a saved customer brings {cl('break_even_retention_spend', '{:.2f}')} "
  "times the acquisition cost, so a retention programme breaks even up to that spend per customer saved (the rule "
  "needs 0.2)" if 'break_even_retention_spend' in c.index else "not computed without an acquisition cost"}.
- **Whale curve**: {f"{cl('whale_share_80', '{:.0%}')} of customers make 80% of the profit to date; the curve peaks "
  f"at {cl('whale_peak', '{:.0%}')} of the total profit" + ("" if np.isfinite(c.loc['whale_peak', 'estimate']) else
  f" ({c.loc['whale_peak', 'assumptions']})") if np.isfinite(c.loc['whale_share_80', 'estimate']) else
  "not computed, the total profit to date is not positive"}.

Assumptions: {ASSUME}; independent causes; saved customers take the survivors' future (an upper estimate under
heterogeneity).
""", "The claims, tested")
claims

# %% [markdown]
# ### Sensitivity: the tornado
#
# How much each input moves the lifetime value: the discount rate halved and doubled, the margin 10% lower and
# higher, the tail (a hard stop against the most generous tail compared), and every hazard 10% higher and lower.

# %%
sens = attempt("sensitivity", lambda: value_sensitivity(tenures, **KW))
if sens is not None:
    save_table(sens, "v5_sensitivity", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g", caption=f"Lifetime value under low and high settings of each input, by "
                                            f"{segment_col} ({ASSUME}).")
    fig, axes = plt.subplots(1, len(LEVELS), figsize=(4.2 * len(LEVELS) + 1, 3.2), layout="constrained",
                             squeeze=False)
    for ax, level in zip(axes[0], LEVELS, strict=True):
        plot_tornado(sens, segment=str(level), ax=ax, title=str(level))
    save_figure(fig, "v5_tornado", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Tornado of the lifetime value by {segment_col}: discount rate x0.5 and x2, margin -/+10%, "
                        f"tail (hard stop against the highest tail), hazards x1.1 and x0.9 ({ASSUME}).")
    plt.show()
    widest = sens.loc[sens.groupby(segment_col, observed=True)["swing"].idxmax()]
    note("v5_sensitivity", "The input that moves the lifetime value most: " + "; ".join(
        f"{r[segment_col]}: **{r['parameter']}** ({r['low']:,.0f} to {r['high']:,.0f} around {r['base']:,.0f})"
        for _, r in widest.iterrows()) + ".", "Sensitivity")

# %% [markdown]
# ### The whale curve and the leaky bucket
#
# The whale curve ranks customers by their profit to date (margin x months paid - acquisition cost) and
# accumulates it: where it rises above 100%, the rest of the customers destroy value. The leaky bucket projects the
# base from today's customers and the inflow: it settles at inflow x expected tenure (inflow / churn when the
# churn is constant).

# %%
wc = attempt("whale curve", lambda: whale_curve(tenures, margin=MARGIN, margin_rate=margin_rate,
                                                 acquisition_cost=acquisition_cost, **BOOT))
if wc is not None and not wc.total_profit > 0:
    note("v6_whale", f"**Not computed: the whale curve.** The total profit to date is {wc.total_profit:,.0f} (margins "
         f"minus an acquisition cost of {acquisition_cost:g} per customer): with no profit to share out, there is no "
         "curve.", "Not computed: the whale curve")
elif wc is not None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    plot_whale_curve(wc, ax=ax, title="Whale curve: cumulative profit to date")
    save_figure(fig, "v6_whale_curve", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Cumulative profit to date against customers ranked by profit ({MARGIN_TEXT}, acquisition "
                        f"cost {acquisition_cost:g}); a history, not a forecast.")
    plt.show()
inflow = {lv[segment_col].iloc[i]: (inflow_total or 0.0) * float(s) for i, s in
          enumerate(lv["n_customers"] / lv["n_customers"].sum())}
lb = None if inflow_total is None else attempt("leaky bucket", lambda: leaky_bucket(
    tenures, inflow=inflow, by=segment_col, margin=MARGIN, margin_rate=margin_rate,
    acquisition_cost=acquisition_cost, periods=int(horizon), **BOOT))
if lb is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    plot_leaky_bucket(lb, ax=axes[0], legend=False, title="Customers on the books")
    plot_leaky_bucket(lb, quantity="profit", ax=axes[1], steady=True, title=f"Profit per {time_unit}")
    save_figure(fig, "v6_leaky_bucket", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Leaky-bucket projection by {segment_col}: today's customers plus {inflow_text}, split by "
                        f"segment shares; dashed, the steady state (inflow x expected tenure); bands, 95% bootstrap "
                        f"intervals ({ASSUME}).")
    plt.show()
    st_ = lb.steady_state
    note("v6_bucket", f"With {inflow_text}, the base settles at {st_['base'].sum():,.0f} customers (today "
         f"{base_now:,.0f}): "
         + "; ".join(f"{r[segment_col]} {ci(r, col='base', lo='base_ci_lower', hi='base_ci_upper')}"
                     for _, r in st_.iterrows())
         + f". Profit per {time_unit} at the steady state, after acquisition costs: {st_['profit'].sum():,.0f}.",
         "Leaky bucket")
