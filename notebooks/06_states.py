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
# # Partial defection: active, partial and lost customers
#
# Many customers do not leave at once: they keep buying but spend less before they stop. From a transaction log
# this notebook classifies every customer-month as active, partial (spending below half of the customer's own
# baseline for two months running) or lost (no purchase for six months), then estimates how many customers are in
# each state over tenure, how fast they move between states, how likely a partial defector is to be lost, and what
# bringing one back is worth. The data note below says which log was read and with which rule.

# %% tags=["parameters"]
data_path = "cdnow"  # "cdnow", "cdnow_sample", or the path of your CSV/Parquet transaction log
id_col = "id"  # customer id column of the log
date_col = "date"  # purchase date column
amount_col = "amount"  # purchase amount column
segment_col = None  # a customer-level segment column; None: the acquisition month (cohort)
freq = "M"  # period length (pandas frequency): "M" months, "W" weeks
baseline_periods = 3  # periods from acquisition whose mean spend is the customer's baseline
fraction = 0.5  # a period is low when spend < fraction x baseline
k = 2  # consecutive low periods that make a customer partial
gap = 6  # consecutive periods without a purchase that make a customer lost
gaps = [2, 3, 4, 6, 9, 12]  # the sensitivity table of the gap
horizon = 12  # periods: time in state, probability of loss, value horizon
revenue_active = None  # revenue per period of an active customer; None: the observed mean spend when active
revenue_partial = None  # revenue per period of a partial customer; None: the observed mean spend when partial
discount_rate = 0.01  # per period
n_boot = 100  # bootstrap resamples for the value of recovery
random_state = 0
fig_dir = "reports/figures"

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from churnsurv.data.cdnow import cdnow_path, load_cdnow
from churnsurv.exceptions import TenureDataError
from churnsurv.plotting.states import plot_state_flow, plot_state_occupation, plot_transition_hazards
from churnsurv.reporting import save_figure, save_table, save_text, use_style
from churnsurv.states import (
    StateOccupation,
    assign_states,
    defection_sensitivity,
    prob_lost_within,
    recovery_value,
    state_counts,
)

use_style()
PARAMS = {k_: v for k_, v in dict(globals()).items() if k_ in {
    "data_path", "id_col", "date_col", "amount_col", "segment_col", "freq", "baseline_periods", "fraction", "k",
    "gap", "gaps", "horizon", "revenue_active", "revenue_partial", "discount_rate", "n_boot", "random_state"}}

if data_path in ("cdnow", "cdnow_sample"):
    SAMPLE = data_path == "cdnow_sample"
    DATA_FILE = str(cdnow_path(SAMPLE))
    log = load_cdnow(sample=SAMPLE)
else:
    DATA_FILE = data_path
    log = pd.read_parquet(data_path) if str(data_path).endswith(".parquet") else pd.read_csv(data_path)


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


def attempt(what, fn):
    """Run one analysis; on records too small or too odd for it, say so in the report instead of failing."""
    try:
        return fn()
    except (ValueError, TenureDataError, np.linalg.LinAlgError) as err:
        note(f"s_skipped_{what.replace(' ', '_')}", f"**Not computed: {what}.** {err}", f"Not computed: {what}")
        return None


SEG = segment_col or "cohort"
if segment_col is None:
    first = pd.to_datetime(log[date_col]).groupby(log[id_col]).transform("min")
    log = log.assign(cohort=first.dt.to_period(freq).astype(str))
RULE = dict(id=id_col, date=date_col, amount=amount_col, freq=freq, baseline_periods=baseline_periods,
            fraction=fraction, k=k)
states = assign_states(log, gap=gap, segments=[SEG], **RULE)
spells = states.spells
print(f"{log[id_col].nunique():,} customers, {len(log):,} purchases; {len(spells):,} state spells")

# %% [markdown]
# ## Who became partial, who came back, who was lost
#
# The rule's counts, and how the number of full defections moves with the no-purchase gap that defines "lost":
# a short gap calls customers lost who were only pausing; a long one counts defectors late.

# %%
counts = state_counts(states, horizon=horizon)
save_table(counts, "s01_counts", fig_dir=fig_dir, caption="Customers ever partial, recovered and lost",
           parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g")
display(counts)
sens = defection_sensitivity(log, gaps=gaps, **RULE)
save_table(sens, "s01_gap_sensitivity", fig_dir=fig_dir, caption="Full defections by the no-purchase gap",
           parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g")
display(sens)
c = counts.iloc[0]
note("headline_06_states", f"Of {int(c.n_customers):,} customers, **{c.share_ever_partial:.1%} were ever partial "
     f"defectors**, {c.share_recovered:.1%} recovered at least once and {c.share_lost:.1%} were lost (no purchase "
     f"for {gap} periods); in their first {horizon} periods customers were active for "
     f"{c.mean_periods_active:.1f} periods on average.", "Partial defection")

# %% [markdown]
# ## State occupation and transition hazards
#
# The Aalen-Johansen estimate of the share of customers in each state at each tenure (censoring-aware), by
# cohort, and the cumulative hazard of each move.

# %%
occ = attempt("the state occupation", lambda: StateOccupation(horizons=(horizon,)).fit(spells, by=SEG))
if occ is not None:
    import matplotlib.pyplot as plt

    segs = list(occ.occupation_["segment"].unique())[:3]
    fig, axes = plt.subplots(1, len(segs), figsize=(4 * len(segs), 3.5), sharey=True, squeeze=False)
    for ax, s in zip(axes[0], segs, strict=False):
        plot_state_occupation(occ, ax=ax, segment=s, legend=ax is axes[0][0])
    save_figure(fig, "s02_occupation", fig_dir=fig_dir, caption="Share of customers in each state by cohort",
                parameters=PARAMS, data_paths=[DATA_FILE])
    fig, ax = plt.subplots()
    pooled = StateOccupation(horizons=(horizon,)).fit(spells)
    plot_transition_hazards(pooled, ax=ax)
    save_figure(fig, "s03_hazards", fig_dir=fig_dir, caption="Cumulative hazard of each move between states",
                parameters=PARAMS, data_paths=[DATA_FILE])
    rm = occ.restricted_mean_
    save_table(rm, "s04_time_in_state", fig_dir=fig_dir, caption=f"Periods in each state in the first {horizon}",
               parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g")
    display(rm)

# %% [markdown]
# ## Moves between states, period by period

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 4))
plot_state_flow(states.panel, ax=ax)
save_figure(fig, "s05_flow", fig_dir=fig_dir, caption="Moves between states from one period to the next",
            parameters=PARAMS, data_paths=[DATA_FILE])

# %% [markdown]
# ## How likely is a partial defector to be lost, and what is bringing one back worth?

# %%
pl = attempt("the probability of loss", lambda: prob_lost_within(spells, [3, 6, horizon]))
if pl is not None:
    save_table(pl, "s06_prob_lost", fig_dir=fig_dir, caption="Probability a partial defector is lost within h",
               parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g")
    display(pl)
panel = states.panel
rev = {"active": revenue_active if revenue_active is not None else panel.loc[panel.state == "active", "spend"].mean(),
       "partial": revenue_partial if revenue_partial is not None else
       panel.loc[panel.state == "partial", "spend"].mean()}
value = attempt("the value of recovery", lambda: recovery_value(
    spells, rev, horizon=horizon, discount_rate=discount_rate, n_boot=n_boot, random_state=random_state))
if value is not None:
    save_table(value, "s07_recovery_value", fig_dir=fig_dir, caption="Value of recovering a partial defector",
               parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g")
    v = value.set_index("quantity").loc["recovery_value"]
    note("s07_recovery", f"Bringing a partial defector back to active is worth **{v.estimate:.2f}** over "
         f"{horizon} periods (95% bootstrap interval {v.ci_lower:.2f} to {v.ci_upper:.2f}).", "Value of recovery")
