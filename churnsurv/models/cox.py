"""Cause-specific Cox models: one design, one Cox fit per cause, tidy hazard-ratio tables.

For each cause k, customers who leave for another cause are censored at their exit, and a Cox model of the
cause-k hazard is fitted (with left truncation when the tenure table has it). The hazard ratio of a covariate
then says how it changes the *rate* of leaving for k among customers still here; compare
:class:`~churnsurv.FineGray`, whose subdistribution hazard ratios speak about the *share* eventually lost to k.

The covariates are encoded once; each cause only changes the event vector (a comparison of integer cause
codes), and the partial likelihood is maximised by churnsurv's own solver (the one behind
:class:`~churnsurv.models.coxph.CoxPH`), so no frame is copied per cause and lifelines is not needed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, data_error, find_stack_level, param_error
from churnsurv.data.association import tenure_association
from churnsurv.data.tenures import Tenures, _as_list
from churnsurv.exceptions import StatisticalWarning, TenureConfoundingWarning
from churnsurv.models._partial_likelihood import RiskSets, newton_raphson
from churnsurv.models.formula import _encode, _parse_formula, _Spec, _warn_separation, _warn_sparse_terms
from churnsurv.models.ph_check import proportional_hazards_test

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
        L2 penalty :math:`\\tfrac12 \\lambda \\lVert\\beta\\rVert^2` subtracted from each log partial likelihood
        (0 = the ordinary partial likelihood, as R's ``coxph``), as in :class:`~churnsurv.models.coxph.CoxPH`.

    Attributes
    ----------
    hazard_ratios_ : pandas.DataFrame
        One row per (cause, term): ``cause, term, coef, std_error, hazard_ratio, ci_lower, ci_upper, z,
        p_value`` (the CI is of the hazard ratio).
    coef_ : pandas.DataFrame
        The coefficients (log hazard ratios): one row per term, one column per cause.
    variance_ : dict of pandas.DataFrame
        The covariance matrix of each cause's coefficients (robust, each row its own cluster, with case weights).
    log_likelihood_, log_likelihood_null_ : dict of float
        Log partial likelihood per cause at the estimate and at :math:`\\beta = 0`.
    aic_, bic_ : dict of float
        :math:`-2\\ell + 2p` and :math:`-2\\ell + p \\log d_k` per cause (:math:`d_k` its events).
    terms_ : list of str
        Design-matrix terms, e.g. ``Contract[One Year]``.
    n_events_ : dict
        Events per cause.
    n_obs_ : int
        Rows of the tenure table.
    n_iter_ : dict of int
        Newton iterations per cause.
    proportional_hazards_ : pandas.DataFrame
        The proportional-hazards check of each model (:func:`~churnsurv.models.ph_check.proportional_hazards_test`,
        scaled Schoenfeld residuals against :math:`1 - \\hat S(t-)`): one row per (cause, term) plus a
        ``GLOBAL`` row per cause, ``cause, term, rho, statistic, dof, p_value, advice``. Empty for weighted fits.
    lifelines_models_ : mapping
        Deprecated. lifelines' ``CoxPHFitter`` per cause, refitted on first access (with a ``FutureWarning``);
        use the attributes above.

    Warns
    -----
    StatisticalWarning
        When a covariate level (or a cause's whole model) rests on fewer than 5 events of the cause, when an
        estimate runs off to infinity (separation), or when the likelihood does not converge.

    Notes
    -----
    The cause-specific hazard of cause :math:`k` is modelled as

    .. math:: \\lambda_k(t \\mid x) = \\lambda_{k0}(t) \\exp(x^\\top \\beta_k),

    estimated by the partial likelihood [1]_ with Efron's handling of tied times (R's ``coxph`` default),
    customers of other causes censored at their exit [2]_, and risk sets :math:`\\{i: \\text{entry}_i < t \\le
    \\text{exit}_i\\}`. The design matrix is built once and each cause is one Newton-Raphson fit of the shared
    solver of :class:`~churnsurv.models.coxph.CoxPH`. Estimates, standard errors and log-likelihoods agree with
    ``survival::coxph(Surv(entry, exit, cause == k) ~ x)`` to about 1e-10 (tests/models/test_regression.py).

    References
    ----------
    .. [1] Cox, D. R. (1972). Regression models and life-tables. JRSS B 34, 187-220.
    .. [2] Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
       multi-state models. Statistics in Medicine 26, 2389-2430.

    See Also
    --------
    CoxPH : one Cox model (all causes, or one cause), with strata, clusters and predictions.
    FineGray : subdistribution hazards of one cause.

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
        owner = "CauseSpecificCox"
        conf = check_conf_level(self.conf_level, owner)
        if isinstance(self.penalizer, bool) or not (np.isscalar(self.penalizer) and float(self.penalizer) >= 0):
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
        # the design is encoded once; every cause is fitted from it with its own event vector
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
        entry, exit_ = d["entry"].to_numpy(float), d["exit"].to_numpy(float)
        weights = d["weight"].to_numpy(float)
        weighted = bool((weights != 1.0).any())
        cause_event = _cause_events(d["cause"], event, causes) if has_causes else {"any": event}
        from scipy.special import ndtr, ndtri  # normal quantile and tail; scipy loads on first use

        z = ndtri(0.5 + conf / 2)
        rows, ph_rows = [], []
        n_events, coefs, variances, loglik, loglik_null, n_iter = {}, {}, {}, {}, {}, {}
        for cause in causes:
            ev = cause_event[cause]
            n_events[cause] = int(ev.sum())
            if n_events[cause] == 0:
                raise data_error("cause", f"no defections of cause {cause!r}", np.zeros(len(d), bool), ids,
                                 "Drop the cause from 'causes'.")
            label = f"CauseSpecificCox, cause {cause!r}"
            _warn_sparse_terms(x, design, ev, model=label)
            rs = RiskSets(entry, exit_, ev, None, weights if weighted else None, ties="efron")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # non-convergence is reported below
                null = rs.terms(x, np.zeros(x.shape[1]), need_info=False)["loglik"]
                beta, t, iters, converged = newton_raphson(rs, x, penalizer=float(self.penalizer))
            if not converged:
                warnings.warn(f"{label}: the partial likelihood did not converge in {iters} iterations; a "
                              "coefficient may be infinite (a level with no events of the cause, or complete "
                              "separation).", StatisticalWarning, stacklevel=find_stack_level())
            variance = _inverse(t["info"])
            if weighted:  # case weights: the robust (sandwich) variance, each row its own cluster (as before)
                dfbeta = (rs.score_residuals(x, t) * weights[:, None]) @ variance
                variance = dfbeta.T @ dfbeta
            with np.errstate(invalid="ignore"):
                se = np.sqrt(np.diag(variance))
            _warn_separation(terms, beta, se, model=label)
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                rows.append(pd.DataFrame({
                    "cause": cause, "term": terms, "coef": beta, "std_error": se, "hazard_ratio": np.exp(beta),
                    "ci_lower": np.exp(beta - z * se), "ci_upper": np.exp(beta + z * se),
                    "z": beta / se, "p_value": 2 * ndtr(-np.abs(beta / se))}))
            coefs[cause], variances[cause] = beta, variance
            loglik[cause], loglik_null[cause], n_iter[cause] = float(t["loglik"]), float(null), int(iters)
            if not weighted:
                ph = proportional_hazards_test(x, entry, exit_, ev, beta, variance, terms=terms)
                ph_rows.append(ph.assign(cause=cause))
        self.proportional_hazards_ = _ph_table(ph_rows)
        # what absolute-risk prediction needs (churnsurv.models.absolute_risk): the design to encode profiles, and
        # the training arrays for the Breslow/Efron baseline hazards and their influence functions
        self._design = design
        self._risk_data = {
            "x": np.asarray(x, dtype=float), "entry": entry, "exit": exit_, "id": ids, "event": event,
            "cause_event": cause_event, "weight": weights,
            "all_causes": tuple(data.causes) if has_causes else ("any",),
            "truncated": bool(data.is_truncated), "weighted": weighted, "time_unit": data.time_unit}
        self.hazard_ratios_ = pd.concat(rows, ignore_index=True)
        self.coef_ = pd.DataFrame(coefs, index=pd.Index(terms, name="term"))
        self.variance_ = {c: pd.DataFrame(v, index=terms, columns=terms) for c, v in variances.items()}
        self.log_likelihood_ = loglik
        self.log_likelihood_null_ = loglik_null
        self.aic_ = {c: -2 * ll + 2 * len(terms) for c, ll in loglik.items()}
        self.bic_ = {c: -2 * ll + len(terms) * float(np.log(n_events[c])) for c, ll in loglik.items()}
        self.n_iter_ = n_iter
        self.terms_ = terms
        self.n_events_ = n_events
        self.n_obs_ = len(d)
        self._lifelines = {}
        return self

    @property
    def lifelines_models_(self) -> Mapping:
        """Deprecated: lifelines' ``CoxPHFitter`` per cause, refitted (with a ``FutureWarning``) when read.

        churnsurv fits the models itself; use :attr:`hazard_ratios_`, :attr:`coef_`, :attr:`variance_` and
        :attr:`log_likelihood_`. The mapping lists the causes for free; reading one cause's model fits it with
        lifelines (``batch_mode=True``, Efron ties) on the stored design, so it needs lifelines installed.
        """
        check_is_fitted(self, "hazard_ratios_")
        return _LifelinesModels(self)

    def summary(self) -> pd.DataFrame:
        """The hazard-ratio table."""
        check_is_fitted(self, "hazard_ratios_")
        return self.hazard_ratios_.copy()


class _LifelinesModels(Mapping):
    """The deprecated ``lifelines_models_``: causes as keys, a lifelines fit built (and cached) on first read."""

    def __init__(self, model: CauseSpecificCox):
        self._model = model

    def __iter__(self):
        return iter(self._model.n_events_)

    def __len__(self) -> int:
        return len(self._model.n_events_)

    def __getitem__(self, cause):
        model = self._model
        if cause not in model.n_events_:
            raise KeyError(cause)
        if cause not in model._lifelines:
            warnings.warn(
                "CauseSpecificCox.lifelines_models_ is deprecated and will be removed in churnsurv 0.3: churnsurv "
                "fits the Cox models itself (equal to R's coxph). Reading it refits lifelines' CoxPHFitter for "
                f"cause {cause!r} now. Use hazard_ratios_, coef_, variance_ and log_likelihood_ instead.",
                FutureWarning, stacklevel=find_stack_level())
            model._lifelines[cause] = _fit_lifelines(model, cause)
        return model._lifelines[cause]


def _fit_lifelines(model: CauseSpecificCox, cause):
    """lifelines' CoxPHFitter on the stored design (the behaviour of churnsurv <= 0.1)."""
    from lifelines import CoxPHFitter

    rd = model._risk_data
    frame = pd.DataFrame(rd["x"], columns=[f"x{j}" for j in range(rd["x"].shape[1])])
    frame["__exit"] = rd["exit"]
    frame["__event"] = rd["cause_event"][cause].astype(int)
    if rd["truncated"]:
        frame["__entry"] = rd["entry"]
    if rd["weighted"]:
        frame["__weight"] = rd["weight"]
    cph = CoxPHFitter(penalizer=float(model.penalizer), alpha=1 - float(model.conf_level))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(frame, duration_col="__exit", event_col="__event",
                entry_col="__entry" if rd["truncated"] else None,
                weights_col="__weight" if rd["weighted"] else None, robust=rd["weighted"], batch_mode=True,
                fit_options={"precision": 1e-20, "r_precision": 0.0, "max_steps": 200})
    return cph


def _cause_events(cause: pd.Series, event: np.ndarray, causes: list) -> dict:
    """One event vector per cause, from integer cause codes (no comparison of Python objects per row)."""
    if isinstance(cause.dtype, pd.CategoricalDtype):
        codes = cause.cat.codes.to_numpy()
        lookup = {str(c): i for i, c in enumerate(cause.cat.categories)}
        lookup.update({c: i for i, c in enumerate(cause.cat.categories)})
    else:
        codes, uniques = pd.factorize(cause)
        lookup = {str(c): i for i, c in enumerate(uniques)}
        lookup.update({c: i for i, c in enumerate(uniques)})
    return {c: event & (codes == lookup[c]) if c in lookup else np.zeros(len(event), bool) for c in causes}


def _inverse(info):
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


def _ph_table(rows: list) -> pd.DataFrame:
    cols = ["cause", "term", "rho", "statistic", "dof", "p_value", "advice"]
    if not rows:
        return pd.DataFrame(columns=cols)
    table = pd.concat(rows, ignore_index=True)
    table["advice"] = [
        ("not testable: the defections of this cause all fall at one tenure" if not np.isfinite(p) else
         "proportional hazards not rejected at 5%" if p >= 0.05 else
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
