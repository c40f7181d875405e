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
# # What drives churn, and how retention projects
#
# Models explain and project what the curves describe: which traits move the hazard of leaving (a Cox model, with
# its proportional-hazards check), the survival and the risk of each cause for typical customers, how well
# parametric and cohort models (sBG, BdW) project retention past the tenures they were fitted on, and how good
# the predictions are on customers the model has not seen.

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
reference_level = "Month-to-Month"  # reference level of the segment in the models (None: the first)
numeric_covariates = ["Monthly Charge"]  # numeric drivers (a rate per period, not a total that grows with tenure)
numeric_unit = 10  # hazard ratios of numeric covariates are shown per this many units (e.g. per $10 a month)
time_unit = "month"
horizon = 12  # the tenure at which risks, calibration and Brier scores are read
fit_through = 24  # the projection test: models fitted on tenures up to here project the tenures beyond
holdout_share = 0.3  # share of customers kept out of the Cox fit to score its predictions
random_state = 0  # seed of the holdout split
fig_dir = "reports/figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import churnsurv as cs
from churnsurv.reporting import save_figure, save_table, save_text, use_style

use_style()
PARAMS = {k: v for k, v in dict(globals()).items() if k in {
    "data_path", "duration_col", "status_col", "event_col", "start_col", "end_col", "as_of", "snapshot_period",
    "churn_timing", "cause_col", "cause_mapping", "segment_col", "reference_level", "numeric_covariates",
    "numeric_unit", "time_unit", "horizon", "fit_through", "holdout_share", "random_state"}}


def note(name, text, title):
    """Show a computed conclusion here and keep it for the report."""
    display(Markdown(text))
    save_text(text, name, fig_dir=fig_dir, title=title, parameters=PARAMS, data_paths=[DATA_FILE])


def attempt(what, fn):
    """Run one analysis; on records too small or too odd for it, say so in the report instead of failing."""
    try:
        return fn()
    except (ValueError, cs.TenureDataError, np.linalg.LinAlgError) as err:
        note(f"m_skipped_{what.replace(' ', '_')}", f"**Not computed: {what}.** {err}", f"Not computed: {what}")
        return None


def pct(x):
    return f"{x:.1%}" if np.isfinite(x) else "not estimable"


SNAPSHOT = bool(status_col) and not start_col  # a churn snapshot: read as left-truncated (the snapshot reading)


def read(values):
    return cs.datasets.read_tenures(
        data_path, duration=None if start_col else duration_col, event=event_col,
        status=status_col if SNAPSHOT else None, period=snapshot_period, start=start_col, end=end_col, as_of=as_of,
        truncate=SNAPSHOT, churn_timing=churn_timing, churned=churned_label, joined=joined_label,
        stayed=stayed_label, cause=cause_col, cause_map=cause_mapping, segments=[segment_col] if segment_col else [],
        values=values, time_unit=time_unit)


numeric_covariates = list(numeric_covariates or [])
try:
    tenures = read(numeric_covariates)
except (KeyError, ValueError) as err:  # a numeric column is missing or unusable: the segment alone
    if not numeric_covariates or not any(c in str(err) for c in numeric_covariates):
        raise
    note("m00_numeric", f"The numeric covariates {numeric_covariates} could not be read ({err}); the models use "
         "the segment alone.", "Numeric covariates")
    numeric_covariates = []
    tenures = read([])
DATA_FILE = tenures.source
ALL = "All customers"
HAS_SEGMENT = bool(segment_col)
if not segment_col:  # no segment column: one group, named
    segment_col = "Segment"
    tenures = tenures.with_segment(segment_col, [ALL] * len(tenures))
HAS_CAUSES = bool(tenures.causes) and int(tenures.data["cause"].notna().sum()) > 0
READING = "snapshot reading, left-truncated" if tenures.is_truncated else "followed from sign-up"
LEVELS = list(tenures.data[segment_col].cat.categories)
if reference_level not in LEVELS:
    reference_level = LEVELS[0]
TERMS = ([f"C(Q('{segment_col}'), ref='{reference_level}')"] if len(LEVELS) >= 2 else []) + [
    f"Q('{c}')" for c in numeric_covariates]
FORMULA = " + ".join(TERMS)
LAST = float(tenures.data["exit"].max())
print(tenures)
print("model formula:", FORMULA or "(no covariates)")

# %% [markdown]
# ## What drives churn: the Cox model
#
# The Cox model says how each trait multiplies the hazard of leaving at every tenure (a hazard ratio), compared
# with the reference customer, among customers still here. It rests on proportional hazards: the ratio must not
# change with tenure. The check below tests that per covariate (scaled Schoenfeld residuals, as R's `cox.zph`) and
# says what to do where it fails.

# %%
cox = attempt("the Cox model", lambda: cs.CoxPH().fit(tenures, formula=FORMULA)) if FORMULA else None
if cox is None and not FORMULA:
    note("m01_no_covariates", "**No drivers to model.** These records have no segment with two or more levels and "
         "no numeric covariate, so there is nothing for a regression to compare.", "Drivers of churn")


def per_unit(table):
    """Hazard ratios of numeric covariates per `numeric_unit` units (coef and SE scale with the unit)."""
    out = table.copy()
    z = float(np.log(out["ci_upper"].iloc[0] / out["hazard_ratio"].iloc[0]) / out["std_error"].iloc[0]) \
        if len(out) else 1.96
    for c in numeric_covariates:
        rows = out["term"] == c
        out.loc[rows, ["coef", "std_error"]] *= numeric_unit
        out.loc[rows, "hazard_ratio"] = np.exp(out.loc[rows, "coef"])
        out.loc[rows, "ci_lower"] = np.exp(out.loc[rows, "coef"] - z * out.loc[rows, "std_error"])
        out.loc[rows, "ci_upper"] = np.exp(out.loc[rows, "coef"] + z * out.loc[rows, "std_error"])
        out.loc[rows, "term"] = f"{c} (per {numeric_unit:g})"
    return out


if cox is not None:
    hr = per_unit(cox.summary())
    save_table(hr[["term", "hazard_ratio", "ci_lower", "ci_upper", "p_value"]], "m01_hazard_ratios",
               fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.3f",
               caption=f"Cox model of the hazard of defection ({READING}; Efron ties): hazard ratios against "
                       f"{reference_level}"
                       + (f", numeric covariates per {numeric_unit:g} units" if numeric_covariates else "")
                       + f", with 95% CIs; {cox.n_obs_:,} customers, {cox.n_events_:,} defections, concordance "
                         f"{cox.concordance_:.3f}.")
    vals = hr[["hazard_ratio", "ci_lower", "ci_upper"]].to_numpy(float)
    drawable = np.isfinite(vals).all(axis=1) & (vals > 0).all(axis=1) & np.isfinite(hr["std_error"].to_numpy(float))
    if not drawable.all():  # a level with no (or only) defections: the ratio runs to 0 or infinity
        note("m01_separation", "**Not estimable: " + ", ".join(hr.loc[~drawable, "term"].astype(str)) + ".** The "
             "hazard ratio runs to 0 or infinity (a level where nobody, or everybody, left: separation), so it has "
             "no finite estimate or interval; merge the level with another or collect more data.",
             "Hazard ratios not estimable")
    if drawable.any():
        fig, ax = plt.subplots(figsize=(7.5, 0.5 * int(drawable.sum()) + 1.8), layout="constrained")
        cs.plot_forest(hr[drawable].rename(columns={"hazard_ratio": "estimate"}), ax=ax, group=None,
                       title=f"Hazard ratios of defection ({READING})")
        save_figure(fig, "m01_forest", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                    caption="Hazard ratios of defection with 95% CIs (Cox model); 1 = no difference from the "
                            "reference customer, the axis is logarithmic.")
        plt.show()
    hr = hr[drawable]
    ph = cox.proportional_hazards_
    save_table(ph, "m01_ph_check", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4g",
               caption="Proportional-hazards check per covariate and globally (score test on the scaled Schoenfeld "
                       "residuals against the Kaplan-Meier transform of tenure, as R's cox.zph) and what to do.")
    strongest = hr.loc[(np.log(hr["hazard_ratio"]).abs()).idxmax()] if len(hr) else None
    failing = ph[(ph["term"] != "GLOBAL") & (ph["p_value"] < 0.05)]
    advice = ("Proportional hazards is not rejected at 5% for any covariate: each hazard ratio holds across "
              "tenure." if failing.empty else
              "**Proportional hazards fails for " + ", ".join(failing["term"].astype(str)) + "**: " +
              str(failing["advice"].iloc[0]).rstrip(". ") + ". The hazard ratios above are then averages over "
              "tenure.")
    note("m01_drivers", f"""
The strongest driver is **{strongest['term']}**: hazard ratio {strongest['hazard_ratio']:.2f} (95% CI
{strongest['ci_lower']:.2f} to {strongest['ci_upper']:.2f}) against the reference ({reference_level}), among
{cox.n_obs_:,} customers with {cox.n_events_:,} defections ({READING}). Concordance {cox.concordance_:.3f} (the
share of pairs the model ranks right; 0.5 is chance). {advice}
""", "Drivers of churn")
    note("headline_03_driver", f"Strongest driver of churn: **{strongest['term']}**, hazard ratio "
         f"{strongest['hazard_ratio']:.2f} (95% CI {strongest['ci_lower']:.2f} to {strongest['ci_upper']:.2f}) "
         f"against {reference_level} ({READING}, {cox.n_obs_:,} customers, {cox.n_events_:,} defections; "
         f"{'proportional hazards holds' if failing.empty else 'proportional hazards fails: a tenure average'}).",
         "Strongest driver")
    if not failing.empty:
        term = str(failing.sort_values("p_value")["term"].iloc[0])
        fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
        attempt("the Schoenfeld residual plot", lambda: cox.plot_schoenfeld(
            next(t for t in cox.terms_ if t.startswith(term) or term in t), ax=ax))
        save_figure(fig, "m01b_schoenfeld", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                    caption=f"Scaled Schoenfeld residuals of {term} against tenure: a flat band means a constant "
                            "hazard ratio; a slope means the effect changes with tenure.")
        plt.show()

# %% [markdown]
# ## Predicted survival of typical customers
#
# One profile per segment level (numeric covariates at their median). The Cox model predicts only within the
# observed tenures: its baseline hazard says nothing beyond them.

# %%
medians = {c: float(tenures.data[c].median()) for c in numeric_covariates}
profiles = pd.DataFrame({segment_col: LEVELS, **{c: [v] * len(LEVELS) for c, v in medians.items()}})
if cox is not None and len(LEVELS) >= 2:
    grid = np.arange(0, LAST + 1)
    pred = cox.predict_survival(profiles, times=grid)
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    cs.plot_survival(pred[[segment_col, "time", "estimate", "ci_lower", "ci_upper"]], by=segment_col, ax=ax,
                     censor_marks=False, title=f"Predicted survival by {segment_col} (Cox model, {READING})")
    save_figure(fig, "m02_predicted_survival", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Predicted survival of a typical customer of each {segment_col} level (Cox model; "
                        + (", ".join(f"{c} at its median {v:g}" for c, v in medians.items()) or "no other covariate")
                        + f"), with 95% CIs, {READING}.")
    plt.show()
    at = cox.predict_survival(profiles, times=[horizon])
    save_table(at[[segment_col, *medians, "time", "estimate", "ci_lower", "ci_upper"]], "m02_survival_at_horizon",
               fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.3f",
               caption=f"Predicted share still a customer at {horizon} {time_unit}s per profile (Cox model), with "
                       "95% CIs.")

# %% [markdown]
# ## The risk of each cause for a typical customer
#
# Cause-specific Cox models (one per cause, other causes censored) combine into the share of customers lost to
# each cause by a tenure (the cumulative incidence, as R's `riskRegression`), for the same profiles.

# %%
csc_risk = None
if HAS_CAUSES and len(tenures.causes) >= 2 and FORMULA:
    csc = attempt("the cause-specific Cox models", lambda: cs.CauseSpecificCox().fit(tenures, formula=FORMULA))
    if csc is not None:
        csc_risk = attempt("the absolute risk by cause", lambda: cs.cause_specific_risk(
            csc, profiles, times=[horizon]))
    if csc_risk is not None:
        table = csc_risk[[segment_col, "cause", "time", "estimate", "ci_lower", "ci_upper"]]
        save_table(table, "m03_risk_by_cause", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                   float_format="%.4f",
                   caption=f"Share of customers lost to each cause within {horizon} {time_unit}s per profile, from "
                           f"cause-specific Cox models (product-limit, influence-function 95% CIs), {READING}; "
                           "causes are assumed independent given the covariates.")
        first = profiles.iloc[[0]]
        one = attempt("the risk curves by cause", lambda: cs.cause_specific_risk(csc, first))
        if one is not None:
            fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
            cs.plot_cause_specific_risk(one, ax=ax)
            ax.set_title(f"Where a {LEVELS[0]} customer goes ({READING})")
            save_figure(fig, "m03_risk_curves", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                        caption=f"Cumulative incidence of each cause and the share still a customer, for a typical "
                                f"{LEVELS[0]} customer (cause-specific Cox models), stacked.")
            plt.show()
elif not HAS_CAUSES:
    note("m03_no_causes", "**No causes of defection in these records**, so the risk by cause is not computed. "
         "Give `cause_col` to see where customers go.", "Risk by cause")

# %% [markdown]
# ## Beyond the data: parametric families
#
# Lifetime value needs survival beyond the longest observed tenure. Parametric families give it, and the AIC
# compares how well each fits the observed part; past the data every family is an assumption (dashed below).

# %%
comparison = attempt("the parametric comparison", lambda: cs.compare_parametric(
    tenures, families=("weibull", "lognormal", "loglogistic", "exponential"), horizons=[horizon, LAST, 2 * LAST]))
if comparison is not None:
    save_table(comparison, "m04_parametric", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"Parametric families fitted to all customers ({READING}): log-likelihood, AIC, BIC, median, "
                       f"and survival at {horizon:g}, {LAST:g} (the longest tenure) and, extrapolated, {2 * LAST:g} "
                       f"{time_unit}s.")
    best = str(comparison.sort_values("aic")["family"].iloc[0])
    model = attempt("the best parametric fit", lambda: cs.ParametricSurvival(best).fit(
        tenures, covariates=[segment_col] if len(LEVELS) >= 2 else None))
    if model is not None:
        fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
        colors = cs.segment_colors(LEVELS)
        km_seg = cs.KaplanMeier().fit(tenures, by=segment_col).survival_
        for level in LEVELS:
            one = profiles[[segment_col]][profiles[segment_col] == level] if len(LEVELS) >= 2 else None
            model.plot(ax=ax, profiles=one, times=np.linspace(0, 2 * LAST, 241), color=colors[str(level)])
            k = km_seg[km_seg[segment_col].astype(str) == str(level)]
            ax.step(np.r_[0.0, k["time"]], np.r_[1.0, k["estimate"]], where="post", color=colors[str(level)],
                    lw=0.9, alpha=0.8)
        ax.plot([], [], color="0.3", lw=0.9, label="Kaplan-Meier (thin steps)")
        ax.legend(frameon=False, fontsize=8)
        ax.set_title(f"{best} fit and its extrapolation ({READING})")
        save_figure(fig, "m04_extrapolation", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                    caption=f"The best family by AIC ({best}) per {segment_col}: solid within the observed tenures, "
                            f"dashed beyond {LAST:g} {time_unit}s (an assumption, not data), 95% bands; "
                            "Kaplan-Meier steps for comparison.")
        plt.show()
        far = f"survival_{2 * LAST:g}"
        spread = comparison[far] if far in comparison else None
        note("m04_parametric", f"By AIC the **{best}** family fits best ({len(tenures):,} customers, {READING}). "
             f"At {2 * LAST:g} {time_unit}s, twice the longest observed tenure, the families put the share of all "
             "customers still here between "
             + (f"{spread.min():.2%} and {spread.max():.2%}" + (f" (a factor of {spread.max() / spread.min():.0f} "
                                                                 "apart)" if spread.min() > 0 else "")
                if spread is not None else "different values")
             + ": past the data the tail is a choice, and the value section shows how much it moves customer "
             "value.", "Beyond the data")

# %% [markdown]
# ## Projection test: fitted on early tenures, scored on later ones
#
# Every model is fitted on the tenures up to `fit_through` (exits after it censored there) and projects the share
# still a customer beyond it; the Kaplan-Meier curve of the full records is the actual. The mean absolute
# percentage error (MAPE) over the projected tenures says which model projects best on these data.

# %%
def censor_at(t, cut):
    d = t.data
    keep = (d["entry"] < cut).to_numpy()
    frame = pd.DataFrame({"id": d["id"].to_numpy()[keep], "entry": d["entry"].to_numpy()[keep],
                          "exit": np.minimum(d["exit"].to_numpy()[keep], cut),
                          "event": (d["event"].to_numpy() & (d["exit"].to_numpy() <= cut))[keep]})
    return cs.Tenures.from_frame(frame, duration="exit", event="event", entry="entry", id="id",
                                 time_unit=t.time_unit)


def projection():
    if LAST <= fit_through + 1:
        raise ValueError(f"the longest tenure ({LAST:g} {time_unit}s) does not reach past fit_through="
                         f"{fit_through:g}: there is nothing to project onto. Lower fit_through.")
    early = censor_at(tenures, fit_through)
    km_all = cs.KaplanMeier().fit(tenures)
    periods = np.arange(fit_through + 1, LAST + 1)
    actual = km_all.predict(periods)
    ok = actual["n_at_risk"].to_numpy() >= 10
    periods, actual_s = periods[ok], actual["estimate"].to_numpy()[ok]
    if len(periods) < 3:
        raise ValueError(f"fewer than 3 tenures after fit_through={fit_through:g} have 10 or more customers at "
                         "risk: too few to score a projection. Lower fit_through.")
    km_early = cs.KaplanMeier().fit(early)
    s_cut = float(km_early.predict([fit_through])["estimate"].iloc[0])
    projections = {}
    for name, fit in {
        "Weibull": lambda: cs.ParametricSurvival("weibull").fit(early),
        "log-normal": lambda: cs.ParametricSurvival("lognormal").fit(early),
        "sBG": lambda: cs.ShiftedBetaGeometric().fit(early),
        "BdW": lambda: cs.BetaDiscreteWeibull().fit(early),
    }.items():
        try:
            m = fit()
        except (ValueError, cs.TenureDataError, np.linalg.LinAlgError) as err:
            print(f"{name}: not fitted ({err})")
            continue
        # anchored on the Kaplan-Meier curve at the cut, as a tail is: S(c) * S_m(t) / S_m(c)
        f = np.asarray(m.survival_function(np.r_[fit_through, periods]), float).ravel()
        projections[name] = s_cut * f[1:] / f[0]
    tail = cs.lifetime_value(early, margin=1, discount_rate=0.0, horizon=fit_through + 1, tail="constant")
    r = float(tail["tail_retention"].iloc[0])
    projections["Kaplan-Meier + constant churn of the last 12"] = s_cut * r ** (periods - fit_through)
    churn = float(early.n_events) / float((early.data["exit"] - early.data["entry"]).sum())
    projections["one churn rate"] = s_cut * (1 - churn) ** (periods - fit_through)
    return periods, actual_s, projections


proj = attempt("the projection test", projection)
if proj is not None:
    periods, actual_s, projections = proj
    errors = cs.projection_error(actual_s, projections, periods)
    save_table(errors, "m05_projection_error", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
               float_format="%.4g",
               caption=f"Projection error of each model fitted on tenures up to {fit_through:g} {time_unit}s, against "
                       f"the Kaplan-Meier curve of all records at {periods[0]:g}-{periods[-1]:g} {time_unit}s "
                       f"(where at least 10 customers are at risk), {READING}.")
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    ax.plot(periods, actual_s, color="black", lw=2.2, label="actual (Kaplan-Meier, all records)")
    for name, values in projections.items():
        ax.plot(periods, values, ls="--", lw=1.4, label=name)
    ax.set_xlabel(f"Tenure ({time_unit}s)")
    ax.set_ylabel("Share still a customer")
    ax.set_ylim(0, None)
    ax.legend(fontsize=8)
    ax.set_title(f"Projections from tenures up to {fit_through:g} {time_unit}s")
    save_figure(fig, "m05_projection", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                caption=f"Survival projected beyond {fit_through:g} {time_unit}s by models fitted only on the tenures "
                        "before it (dashed), against the actual Kaplan-Meier curve of all records (black).")
    plt.show()
    col = "mape" if "mape" in errors.columns else errors.columns[-1]
    best_row = errors.sort_values(col).iloc[0]
    worst_row = errors.sort_values(col).iloc[-1]
    note("m05_projection", f"Fitted on tenures up to {fit_through:g} {time_unit}s and projected to "
         f"{periods[-1]:g}, **{best_row.iloc[0]}** projects best (mean absolute percentage error "
         f"{best_row[col]:.1f}%) and **{worst_row.iloc[0]}** worst ({worst_row[col]:.1f}%). A single churn rate "
         "ignores that the customers who stay are the loyal ones; models with heterogeneity (sBG, BdW) or a "
         "falling hazard (Weibull with shape < 1, log-normal) follow the rising retention of older customers. "
         f"The actual is itself an estimate: the Kaplan-Meier curve of all records ({READING}).", "Projection test")
    note("headline_03_projection", f"Best projection of retention beyond {fit_through:g} {time_unit}s: "
         f"**{best_row.iloc[0]}**, mean absolute error {best_row[col]:.1f}% of the actual share "
         f"({periods[0]:g}-{periods[-1]:g} {time_unit}s); a single churn rate is off by "
         f"{float(errors.set_index(errors.columns[0]).loc['one churn rate', col]):.1f}%.", "Projecting retention")

# %% [markdown]
# ## Holdout: are the predictions right for customers the model has not seen?
#
# A random share of the customers is kept out of the fit. The Cox model fitted on the rest scores them:
# concordance (does it rank who leaves first?), and for right-censored records the time-dependent AUC, the Brier
# score against Kaplan-Meier, and calibration by risk decile at the horizon.

# %%
def holdout():
    rng = np.random.default_rng(random_state)
    test = rng.random(len(tenures)) < holdout_share
    train, hold = tenures.subset(~test), tenures.subset(test)
    m = cs.CoxPH().fit(train, formula=FORMULA)
    h = hold.data
    pred = m.predict_customer(h, times=[horizon])
    s_h = pred["estimate"].to_numpy()
    risk = 1 - s_h
    out = {"n_train": len(train), "n_hold": len(hold), "events_hold": int(h["event"].sum())}
    outcome = (h["entry"], h["exit"], h["event"]) if hold.is_truncated else (h["exit"], h["event"])
    out["concordance"] = cs.concordance(outcome, risk)
    if not hold.is_truncated:
        out["auc"] = cs.time_dependent_auc(h["exit"], h["event"], risk, [horizon])
        out["brier"] = cs.brier_score(h["exit"], h["event"], s_h[:, None], [horizon])
        out["calibration"] = cs.calibration(h["exit"], h["event"], risk, horizon=horizon)
    return out


scores = attempt("the holdout scores", holdout) if FORMULA else None
if scores is not None:
    c = scores["concordance"].iloc[0]
    rows = [{"metric": "Harrell's concordance", "time": np.nan, "estimate": c["estimate"],
             "ci_lower": c["ci_lower"], "ci_upper": c["ci_upper"]}]
    if "auc" in scores:
        a = scores["auc"].iloc[0]
        rows.append({"metric": "time-dependent AUC", "time": horizon, "estimate": a["estimate"],
                     "ci_lower": a["ci_lower"], "ci_upper": a["ci_upper"]})
        for _, b in scores["brier"].iterrows():
            rows.append({"metric": f"Brier score ({b['model']})", "time": b["time"], "estimate": b["estimate"],
                         "ci_lower": b["ci_lower"], "ci_upper": b["ci_upper"]})
    table = pd.DataFrame(rows)
    save_table(table, "m06_holdout", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE], float_format="%.4f",
               caption=f"The Cox model fitted on {scores['n_train']:,} customers and scored on {scores['n_hold']:,} "
                       f"kept out ({scores['events_hold']:,} defections), {READING}, with 95% CIs.")
    extra = ""
    if "calibration" in scores:
        fig, ax = plt.subplots(figsize=(6, 5.5), layout="constrained")
        cs.plot_calibration(scores["calibration"], ax=ax)
        ax.set_title(f"Calibration at {horizon} {time_unit}s (holdout)")
        save_figure(fig, "m06_calibration", fig_dir=fig_dir, parameters=PARAMS, data_paths=[DATA_FILE],
                    caption=f"Predicted against observed (Kaplan-Meier) risk of leaving within {horizon} {time_unit}s "
                            "by decile of predicted risk, holdout customers, 95% CIs; the diagonal is perfect "
                            "calibration.")
        plt.show()
        s = scores["calibration"]["slope"]
        slope = s.loc[s["term"] == "slope"].iloc[0] if "term" in s.columns else s.iloc[-1]
        extra = (f" Calibration slope {slope['estimate']:.2f} (95% CI {slope['ci_lower']:.2f} to "
                 f"{slope['ci_upper']:.2f}; 1 is ideal, below 1 means predictions too spread out).")
    else:
        extra = (" The Brier score, the AUC and calibration need right-censored records; under left truncation "
                 "(a snapshot) only the concordance is computed.")
    note("m06_holdout", f"On {scores['n_hold']:,} customers kept out of the fit, the Cox model ranks who leaves "
         f"first with concordance {c['estimate']:.3f} (95% CI {c['ci_lower']:.3f} to {c['ci_upper']:.3f}; 0.5 is "
         f"chance).{extra}", "Holdout")
