"""Cause-specific Cox models: lifelines does the fitting, churnsurv gives the tidy hazard-ratio tables.

For each cause k, customers who leave for another cause are censored at their exit, and a Cox model of the
cause-k hazard is fitted (with left truncation when the tenure table has it). The hazard ratio of a covariate
then says how it changes the *rate* of leaving for k among customers still here; compare
:class:`~churnsurv.FineGray`, whose subdistribution hazard ratios speak about the *share* eventually lost to k.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv.models.formula import _encode, _parse_formula, _Spec
from churnsurv.models.ph_check import proportional_hazards_test
from churnsurv._validation import check_conf_level, check_is_fitted, data_error, find_stack_level, param_error
from churnsurv.data.association import tenure_association
from churnsurv.data.tenures import Tenures, _as_list
from churnsurv.exceptions import StatisticalWarning, TenureConfoundingWarning

__all__ = ["CauseSpecificCox"]


class CauseSpecificCox(BaseEstimator):
    """Cox proportional hazards models of each cause-specific hazard of defection.

    Parameters
    ----------
    causes : list of str, optional
        Causes to model; default every cause in the tenure table (or all defections, as one model named
        ``"any"``, when the table has no causes).
    conf_level : float, default 0.95
        Confidence level of the hazard-ratio intervals.
    penalizer : float, default 0.0
        L2 penalty passed to lifelines (0 = the ordinary partial likelihood, as R's ``coxph``).

    Attributes
    ----------
    hazard_ratios_ : pandas.DataFrame
        One row per (cause, term): ``cause, term, coef, std_error, hazard_ratio, ci_lower, ci_upper, z,
        p_value`` (the CI is of the hazard ratio).
    lifelines_models_ : dict
        The fitted ``lifelines.CoxPHFitter`` per cause: the escape hatch to everything lifelines offers.
    terms_ : list of str
        Design-matrix terms, e.g. ``Contract[One Year]``.
    n_events_ : dict
        Events per cause.
    proportional_hazards_ : pandas.DataFrame
        The proportional-hazards check of each model (:func:`~churnsurv.models.ph_check.proportional_hazards_test`,
        scaled Schoenfeld residuals against :math:`1 - \\hat S(t-)`): one row per (cause, term) plus a
        ``GLOBAL`` row per cause, ``cause, term, rho, statistic, dof, p_value, advice``. Empty for weighted fits.

    Notes
    -----
    The cause-specific hazard of cause :math:`k` is modelled as

    .. math:: \\lambda_k(t \\mid x) = \\lambda_{k0}(t) \\exp(x^\\top \\beta_k),

    estimated by the partial likelihood with Efron's handling of tied times (R's ``coxph`` default), customers
    of other causes censored at their exit, and risk sets :math:`\\{i: \\text{entry}_i < t \\le
    \\text{exit}_i\\}`. Fitting uses lifelines' ``CoxPHFitter`` with ``batch_mode=True`` (its per-row loop can
    be an order of magnitude slower on tied monthly data). Estimates and standard errors agree with
    ``survival::coxph(Surv(entry, exit, cause == k) ~ x)`` (tested to 1e-6).

    References
    ----------
    .. [1] Cox, D. R. (1972). Regression models and life-tables. JRSS B 34, 187-220.
    .. [2] Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
       multi-state models. Statistics in Medicine 26, 2389-2430.

    Examples
    --------
    >>> import churnsurv as cs
    >>> t = cs.datasets.load_maven_telco()
    >>> m = cs.CauseSpecificCox(causes=["competitor"]).fit(
    ...     t, covariates=["Contract"], reference={"Contract": "Month-to-Month"})
    >>> m.hazard_ratios_[["cause", "term"]].values.tolist()
    [['competitor', 'Contract[One Year]'], ['competitor', 'Contract[Two Year]']]
    """

    def __init__(self, causes=None, conf_level: float = 0.95, penalizer: float = 0.0):
        self.causes = causes
        self.conf_level = conf_level
        self.penalizer = penalizer

    def fit(self, data, *, formula: str | None = None, covariates=None, reference: dict | None = None,
            **frame_kwargs) -> CauseSpecificCox:
        """Fit one Cox model per cause.

        Parameters
        ----------
        data : Tenures or pandas.DataFrame
            A tenure table (covariates from its segment and value columns), or a frame plus the keywords of
            :meth:`Tenures.from_frame`. Not modified.
        formula : str, optional
            Covariates as in :meth:`FineGray.fit`: ``"Contract + Q('Monthly Charge')"``, with
            ``C(col, ref='level')`` for categoricals with a named reference level.
        covariates : list of str, optional
            Column names, instead of ``formula``.
        reference : dict, optional
            Reference level per categorical column; default the first level.

        Returns
        -------
        CauseSpecificCox
            ``self``, fitted.
        """
        from lifelines import CoxPHFitter

        owner = "CauseSpecificCox"
        conf = check_conf_level(self.conf_level, owner)
        if not (np.isscalar(self.penalizer) and float(self.penalizer) >= 0):
            raise param_error("penalizer", owner, "a float >= 0", self.penalizer)
        if isinstance(data, pd.DataFrame):
            frame = data
            data = Tenures.from_frame(data, **frame_kwargs)
        elif isinstance(data, Tenures):
            frame = data.data
        else:
            raise TypeError(f"Expected a churnsurv.Tenures or a pandas DataFrame; got {type(data).__name__}.")
        d = data.data
        ids = d["id"].to_numpy()
        if (formula is None) == (covariates is None):
            raise ValueError("Give the covariates either as formula='a + b' or as covariates=['a', 'b'].")
        specs = _parse_formula(formula) if formula is not None else [_Spec(c) for c in _as_list(covariates)]
        for spec in specs:
            if reference and spec.column in reference:
                spec.categorical, spec.reference = True, reference[spec.column]
        x, design = _encode(frame.reset_index(drop=True), specs, ids)
        terms = list(design.terms)
        _warn_cumulative(data, [spec.column for spec in specs])

        has_causes = "cause" in d.columns and len(data.causes) > 0
        causes = _as_list(self.causes) if self.causes is not None else (list(data.causes) if has_causes else ["any"])
        if has_causes:
            unknown = [c for c in causes if c not in data.causes]
            if unknown:
                raise ValueError(f"Causes {unknown} are not in the tenure table (causes: {list(data.causes)}).")
        elif causes != ["any"]:
            raise ValueError("The tenure table has no causes: build it with cause='<column>' or leave causes=None.")

        event = d["event"].to_numpy(bool)
        truncated = data.is_truncated
        weighted = bool((d["weight"] != 1.0).any())
        base = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
        base["__exit"] = d["exit"].to_numpy(float)
        if truncated:
            base["__entry"] = d["entry"].to_numpy(float)
        if weighted:
            base["__weight"] = d["weight"].to_numpy(float)
        rows, models, n_events, ph_rows = [], {}, {}, []
        from scipy.special import ndtr, ndtri  # normal quantile and tail; scipy loads on first use

        z = ndtri(0.5 + conf / 2)
        for cause in causes:
            ev = event if cause == "any" else event & (d["cause"].astype(object) == cause).to_numpy()
            n_events[cause] = int(ev.sum())
            if ev.sum() == 0:
                raise data_error("cause", f"no defections of cause {cause!r}", np.zeros(len(d), bool), ids,
                                 "Drop the cause from 'causes'.")
            frame_k = base.assign(__event=ev.astype(int))
            cph = CoxPHFitter(penalizer=float(self.penalizer), alpha=1 - conf)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cph.fit(frame_k, duration_col="__exit", event_col="__event",
                        entry_col="__entry" if truncated else None,
                        weights_col="__weight" if weighted else None, robust=weighted, batch_mode=True,
                        fit_options={"precision": 1e-20, "r_precision": 0.0, "max_steps": 200})
            for w in caught:
                if "converge" in str(w.message).lower() or "separation" in str(w.message).lower():
                    warnings.warn(f"Cause {cause!r}: {w.message}", StatisticalWarning, stacklevel=2)
            s = cph.summary
            coef = s["coef"].to_numpy()
            se = s["se(coef)"].to_numpy()
            rows.append(pd.DataFrame({
                "cause": cause, "term": terms, "coef": coef, "std_error": se, "hazard_ratio": np.exp(coef),
                "ci_lower": np.exp(coef - z * se), "ci_upper": np.exp(coef + z * se),
                "z": coef / se, "p_value": 2 * ndtr(-np.abs(coef / se))}))
            models[cause] = cph
            if not weighted:
                ph = proportional_hazards_test(x, d["entry"].to_numpy(float), d["exit"].to_numpy(float), ev,
                                               coef, cph.variance_matrix_.to_numpy(), terms=terms)
                ph_rows.append(ph.assign(cause=cause))
        self.proportional_hazards_ = _ph_table(ph_rows)
        # what absolute-risk prediction needs (churnsurv.models.absolute_risk): the design to encode profiles, and
        # the training arrays for the Breslow/Efron baseline hazards and their influence functions
        self._design = design
        self._risk_data = {
            "x": np.asarray(x, dtype=float), "entry": d["entry"].to_numpy(float), "exit": d["exit"].to_numpy(float),
            "id": ids, "event": event.copy(),
            "cause_event": {c: (event if c == "any" else event & (d["cause"].astype(object) == c).to_numpy())
                            for c in causes},
            "all_causes": tuple(data.causes) if has_causes else ("any",),
            "truncated": bool(truncated), "weighted": weighted, "time_unit": data.time_unit}
        self.hazard_ratios_ = pd.concat(rows, ignore_index=True)
        self.lifelines_models_ = models
        self.terms_ = terms
        self.n_events_ = n_events
        self.n_obs_ = len(d)
        return self

    def summary(self) -> pd.DataFrame:
        """The hazard-ratio table."""
        check_is_fitted(self, "hazard_ratios_")
        return self.hazard_ratios_.copy()


def _ph_table(rows: list) -> pd.DataFrame:
    cols = ["cause", "term", "rho", "statistic", "dof", "p_value", "advice"]
    if not rows:
        return pd.DataFrame(columns=cols)
    table = pd.concat(rows, ignore_index=True)
    table["advice"] = [
        ("proportional hazards not rejected at 5%" if p >= 0.05 else
         "the model as a whole departs from proportional hazards: read the hazard ratios as tenure-averaged"
         if term == "GLOBAL" else
         f"the effect of {term} changes with tenure (rho {r:+.2f}): stratify on it, or estimate it per tenure "
         "window (a landmark), rather than quote one hazard ratio")
        for term, p, r in zip(table["term"], table["p_value"], table["rho"].fillna(0.0), strict=True)]
    return table[cols]


def _warn_cumulative(data: Tenures, columns: list) -> None:
    """Warn when a numeric covariate is a cumulative column (a total that grows with tenure)."""
    numeric = [c for c in dict.fromkeys(columns)
               if c in data.data.columns and c not in data.segments and pd.api.types.is_numeric_dtype(data.data[c])]
    if not numeric:
        return
    table = tenure_association(data, numeric, warn=False)
    cumulative = table.loc[table["cumulative"], "column"].tolist()
    if cumulative:
        warnings.warn(
            f"Covariates {cumulative} grow with tenure (rank correlation >= 0.7 while their per-period rate does "
            "not): they are totals measured at the snapshot, not baseline covariates, so their hazard ratios "
            "measure tenure itself. Use the per-period rate (e.g. a monthly charge) instead.",
            TenureConfoundingWarning, stacklevel=find_stack_level())
