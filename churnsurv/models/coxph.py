"""The Cox proportional hazards model of defection: all causes or one cause, fitted by churnsurv's own solver.

:class:`CoxPH` maximises the partial likelihood in numpy (``churnsurv.models._partial_likelihood``): Efron or
Breslow ties, strata, left truncation (entry times), case weights, cluster-robust standard errors,
time-varying covariates from spells (several (entry, exit] rows per customer) and time-varying effects (one
coefficient per tenure window). It agrees with R's ``survival::coxph`` to rounding error; lifelines is not
needed (it serves only as the comparator in ``benchmarks/bench_coxph.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import (
    check_columns,
    check_conf_level,
    check_is_fitted,
    check_one_of,
    data_error,
    find_stack_level,
    param_error,
)
from churnsurv.data.tenures import Tenures, _as_list
from churnsurv.exceptions import StatisticalWarning
from churnsurv.models._partial_likelihood import RiskSets, concordance, newton_raphson
from churnsurv.models.cox import _cause_events
from churnsurv.models.formula import (
    _encode,
    _encode_profiles,
    _parse_formula,
    _Spec,
    _warn_separation,
    _warn_sparse_terms,
)

__all__ = ["CoxPH"]

_OWNER = "CoxPH"


class CoxPH(BaseEstimator):
    """Cox proportional hazards model of the hazard of defection (all causes, or one cause).

    Parameters
    ----------
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied exit times: Efron's approximation (R's ``coxph`` default) or Breslow's.
    conf_level : float, default 0.95
        Confidence level of the hazard-ratio and survival intervals.
    penalizer : float, default 0.0
        L2 penalty :math:`\\tfrac12 \\lambda \\lVert\\beta\\rVert^2` subtracted from the log partial
        likelihood (0 = the ordinary partial likelihood, as R's ``coxph``).

    Attributes
    ----------
    hazard_ratios_ : pandas.DataFrame
        One row per term: ``term, coef, std_error, hazard_ratio, ci_lower, ci_upper, z, p_value`` (the
        interval is of the hazard ratio; ``std_error`` is the robust one when the fit is robust, and then
        ``naive_std_error`` holds the model-based one).
    coef_ : pandas.Series
        The coefficients (log hazard ratios), indexed by term.
    variance_ : pandas.DataFrame
        Their covariance matrix (robust when the fit is robust).
    terms_ : list of str
        Design terms, e.g. ``Contract[One Year]`` or, for a time-varying effect, ``Contract[One Year]:(0,12]``.
    log_likelihood_, log_likelihood_null_ : float
        Log partial likelihood at the estimate and at :math:`\\beta = 0` (weighted when weights are given).
    concordance_ : float
        Harrell's C as R's ``concordance(fit)``: among pairs of an event and a customer at risk at its time
        (same stratum), the share where the event has the larger linear predictor (ties count one half).
    aic_, bic_ : float
        :math:`-2\\ell + 2p` and :math:`-2\\ell + p \\log d` (d events, as R's ``BIC.coxph``).
    n_obs_, n_events_, n_iter_ : int
        Rows used (spell rows after any splitting at tenure windows), events, Newton iterations.
    baseline_cumulative_hazard_ : pandas.DataFrame
        ``stratum, time, cumulative_hazard``: the cumulative hazard of the profile with all covariates 0 (the
        reference levels and numeric zeros), at each event time.
    proportional_hazards_ : pandas.DataFrame
        The test of proportional hazards of R's ``cox.zph`` (survival >= 3.0, transform ``"km"``): one row per
        covariate and a ``GLOBAL`` row, ``term, statistic, dof, p_value, advice``.

    Notes
    -----
    The hazard of customer :math:`i` in stratum :math:`s` at tenure :math:`t` is

    .. math:: \\lambda_i(t) = \\lambda_{0s}(t) \\exp(x_i(t)^\\top \\beta),

    with :math:`\\beta` maximising the partial likelihood over risk sets
    :math:`R(t) = \\{i: \\text{entry}_i < t \\le \\text{exit}_i\\}` [1]_. With :math:`d` tied events at
    :math:`t` (weights :math:`w`, mean event weight :math:`\\bar w`), Efron's approximation [2]_ replaces the
    denominator by :math:`\\prod_{l=0}^{d-1} (S_0 - \\tfrac{l}{d} D_0)^{\\bar w}`, where :math:`S_0` sums
    :math:`w_i e^{\\eta_i}` over the risk set and :math:`D_0` over the events; Breslow's keeps :math:`S_0^{\\sum w}`.
    Robust standard errors are the grouped sandwich :math:`\\hat V_r = D^\\top D`, :math:`D` the
    weighted score residuals times :math:`\\hat V` summed per cluster [3]_. The proportional-hazards test is
    the score test of adding :math:`x\\,g(t)` with :math:`g` the centred :math:`1 - \\hat S(t-)`, per
    covariate (all its dummies together) and globally, as ``cox.zph`` in survival 3.x [4]_.

    References
    ----------
    .. [1] Cox, D. R. (1972). Regression models and life-tables. JRSS B 34, 187-220.
    .. [2] Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
    .. [3] Lin, D. Y. and Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
       JASA 84, 1074-1078.
    .. [4] Grambsch, P. M. and Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
       weighted residuals. Biometrika 81, 515-526.

    See Also
    --------
    CauseSpecificCox : one Cox model per cause, from one design (the same solver).

    Examples
    --------
    >>> import churnsurv as cs
    >>> t = cs.datasets.load_maven_telco()
    >>> m = CoxPH().fit(t, formula="C(Contract, ref='Month-to-Month')")
    >>> m.summary()["term"].tolist()
    ['Contract[One Year]', 'Contract[Two Year]']
    """

    def __init__(self, ties: str = "efron", conf_level: float = 0.95, penalizer: float = 0.0):
        self.ties = ties
        self.conf_level = conf_level
        self.penalizer = penalizer

    # ------------------------------------------------------------------ fit
    def fit(self, data, *, formula: str | None = None, covariates=None, reference: dict | None = None,
            strata=None, cluster: str | None = None, robust: bool | None = None, cause: str | None = None,
            time_windows: dict | None = None, **frame_kwargs) -> CoxPH:
        """Fit the model.

        Parameters
        ----------
        data : Tenures or pandas.DataFrame
            A tenure table (covariates from its segment and value columns) or a frame plus the keywords of
            :meth:`Tenures.from_frame` (e.g. ``duration="tenure", event="churned"``; ``entry=`` for left
            truncation; ``weights=`` for case weights; ``id=..., spells=True`` for time-varying covariates
            given as (entry, exit] rows per customer, the event on the last row; ``cause_column=`` for the
            column of causes, since ``cause`` names the modelled cause here). Not modified.
        formula : str, optional
            Covariates, e.g. ``"C(Contract, ref='Month-to-Month') + Q('Monthly Charge')"``.
        covariates : list of str, optional
            Column names, instead of ``formula``.
        reference : dict, optional
            Reference level per categorical column; default the first level.
        strata : str or list of str, optional
            Columns whose levels get their own baseline hazard (no coefficient).
        cluster : str, optional
            Column grouping correlated rows (e.g. ``"id"`` for spells); gives cluster-robust standard errors.
        robust : bool, optional
            Robust (sandwich) standard errors; default True when ``cluster`` is given (each row its own
            cluster when ``robust=True`` without ``cluster``).
        cause : str, optional
            Model the hazard of this cause only (the cause-specific hazard; other causes are censored at their
            exit). Default: every defection is an event.
        time_windows : dict, optional
            ``{column: [0, 12, 24]}`` estimates the column's effect separately in each tenure window
            (0, 12], (12, 24], (24, inf): the rows are split at the cut points, as R's ``survSplit``.

        Returns
        -------
        CoxPH
            ``self``, fitted.

        Warns
        -----
        StatisticalWarning
            When a covariate level (the reference level included) or a tenure-window term rests on fewer than 5
            events, or the model on fewer than 5, when an estimate runs off to infinity (separation), or when
            the likelihood does not converge.
        """
        check_one_of(self.ties, "ties", _OWNER, ("efron", "breslow"))
        conf = check_conf_level(self.conf_level, _OWNER)
        if isinstance(self.penalizer, bool) or not (np.isscalar(self.penalizer) and float(self.penalizer) >= 0):
            raise param_error("penalizer", _OWNER, "a float >= 0", self.penalizer)
        if isinstance(data, pd.DataFrame):
            frame = data.reset_index(drop=True)
            if "cause_column" in frame_kwargs:  # 'cause' names the modelled cause here
                frame_kwargs["cause"] = frame_kwargs.pop("cause_column")
            data = Tenures.from_frame(data, **frame_kwargs)
        elif isinstance(data, Tenures):
            if frame_kwargs:
                raise TypeError(f"Keywords {sorted(frame_kwargs)} are for a DataFrame; the tenure table has them.")
            frame = data.data.reset_index(drop=True)
        else:
            raise TypeError(f"Expected a churnsurv.Tenures or a pandas DataFrame; got {type(data).__name__}.")
        d = data.data.reset_index(drop=True)
        ids = d["id"].to_numpy()
        if (formula is None) == (covariates is None):
            raise ValueError("Give the covariates either as formula='a + b' or as covariates=['a', 'b'].")
        specs = _parse_formula(formula) if formula is not None else [_Spec(c) for c in _as_list(covariates)]
        for spec in specs:
            if reference and spec.column in reference:
                spec.categorical, spec.reference = True, reference[spec.column]
        check_columns(frame, [s.column for s in specs])
        xbase, design = _encode(frame, specs, ids)

        # --- outcome
        event = d["event"].to_numpy(bool)
        if cause is not None:
            if "cause" not in d.columns or not data.causes:
                raise ValueError("The tenure table has no causes: build it with cause='<column>' or leave "
                                 "cause=None to model all defections.")
            if cause not in data.causes:
                raise ValueError(f"The 'cause' parameter of CoxPH.fit must be one of {list(data.causes)}. "
                                 f"Got {cause!r} instead.")
            event = _cause_events(d["cause"], event, [cause])[cause]
        if not event.any():
            raise data_error("event", "events (there are none to fit a hazard to)", np.zeros(len(d), bool), ids,
                             "Check the event column (and 'cause').")
        entry, exit_ = d["entry"].to_numpy(float), d["exit"].to_numpy(float)
        weights = d["weight"].to_numpy(float)
        bad = weights < 0
        if bad.any():
            raise data_error("weight", "negative weights", bad, ids, "Case weights must be >= 0.")

        # --- strata and clusters
        strata_cols = _as_list(strata) if strata is not None else []
        check_columns(frame, strata_cols)
        if strata_cols:
            codes, strata_levels = pd.factorize(_strata_labels(frame, strata_cols), sort=True)
            strata_levels = list(strata_levels)
        else:
            codes, strata_levels = np.zeros(len(d), np.int64), ["(all)"]
        cluster_codes = None
        if cluster is not None:
            src = frame[cluster] if cluster in frame.columns else d[cluster] if cluster in d.columns else None
            if src is None:
                check_columns(frame, [cluster])
            cluster_codes = pd.factorize(src)[0]
        robust = (cluster is not None) if robust is None else bool(robust)
        if robust and cluster_codes is None:
            cluster_codes = np.arange(len(d))

        # --- time-varying effects: split the rows at the cut points
        windows = _Windows(time_windows, design) if time_windows else None
        rows = np.arange(len(d))
        if windows is not None:
            rows, entry, exit_, event, win = windows.split(entry, exit_, event)
            x = windows.expand(xbase[rows], win)
            terms = windows.terms
        else:
            x, terms = xbase, list(design.terms)
        weights, codes = weights[rows], np.asarray(codes)[rows]

        _warn_sparse_terms(x, design, event, terms, model=_OWNER if cause is None else f"CoxPH, cause {cause!r}")
        rs = RiskSets(entry, exit_, event, codes, weights, ties=self.ties)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            null = rs.terms(x, np.zeros(x.shape[1]), need_info=False)["loglik"]
            beta, t, n_iter, converged = newton_raphson(rs, x, penalizer=float(self.penalizer))
        if not converged:
            warnings.warn("The Cox partial likelihood did not converge in 100 iterations: a coefficient may be "
                          "infinite (a level with no events, or complete separation). Merge sparse levels.",
                          StatisticalWarning, stacklevel=find_stack_level())
        naive = _inverse(t["info"])
        variance = naive
        if robust:
            resid = rs.score_residuals(x, t) * weights[:, None]
            dfb = resid @ naive
            grouped = np.zeros((int(cluster_codes.max()) + 1, x.shape[1]))
            np.add.at(grouped, np.asarray(cluster_codes)[rows], dfb)
            variance = grouped.T @ grouped

        from scipy.special import chdtrc, ndtr, ndtri

        z = ndtri(0.5 + conf / 2)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.diag(variance))
        _warn_separation(terms, beta, se, model=_OWNER if cause is None else f"CoxPH, cause {cause!r}")
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            table = pd.DataFrame({
                "term": terms, "coef": beta, "std_error": se, "hazard_ratio": np.exp(beta),
                "ci_lower": np.exp(beta - z * se), "ci_upper": np.exp(beta + z * se), "z": beta / se,
                "p_value": 2 * ndtr(-np.abs(beta / se))})
        if robust:
            table.insert(3, "naive_std_error", np.sqrt(np.diag(naive)))
        self.hazard_ratios_ = table
        self.coef_ = pd.Series(beta, index=terms, name="coef")
        self.variance_ = pd.DataFrame(variance, index=terms, columns=terms)
        self.naive_variance_ = pd.DataFrame(naive, index=terms, columns=terms)
        self.terms_ = list(terms)
        self.robust_ = robust
        self.log_likelihood_ = float(t["loglik"])
        self.log_likelihood_null_ = float(null)
        self.n_obs_ = int(len(exit_))
        self.n_events_ = int(event.sum())
        self.n_iter_ = int(n_iter)
        p = len(terms)
        self.aic_ = -2 * self.log_likelihood_ + 2 * p
        self.bic_ = -2 * self.log_likelihood_ + p * np.log(self.n_events_)
        self.concordance_ = float(concordance(t["eta"], rs)[0])

        # --- baseline hazard pieces (risks exp(eta - c)), kept per event time for prediction
        h, v, g = rs.hazard_terms(t)
        scale = np.exp(-t["c"])
        st = rs.time_strata
        self._base = {"time": rs.times, "stratum": st, "h": h * scale, "v": v * scale ** 2, "g": g * scale,
                      "last_exit": np.array([exit_[codes == s].max() for s in range(len(strata_levels))])}
        cum = np.concatenate([np.cumsum(h[st == s] * scale) for s in range(len(strata_levels))])
        self.baseline_cumulative_hazard_ = pd.DataFrame({
            "stratum": np.asarray(strata_levels, dtype=object)[st], "time": rs.times, "cumulative_hazard": cum})
        self._design, self._windows, self._strata_cols = design, windows, strata_cols
        self._strata_levels = strata_levels
        self._default_profile = _typical_profile(frame, design)

        # --- proportional hazards (cox.zph, survival >= 3.0)
        self._zph(rs, x, t, entry, exit_, event, beta, naive, design, windows, terms, chdtrc)
        return self

    def _zph(self, rs, x, t, entry, exit_, event, beta, naive, design, windows, terms, chdtrc):
        from churnsurv.models.ph_check import _km_left

        dead = rs.dead
        ttimes = _km_left(np.where(entry == 0, -np.inf, entry), exit_, event, exit_[dead])
        g = ttimes - ttimes.mean()
        gk = np.zeros(rs.K)
        gk[rs.kd] = g
        q = gk[rs.kk]
        wr = t["wr"]
        i1 = t["info"] - (float(self.penalizer) * np.eye(len(beta)) if self.penalizer else 0.0)
        ig = rs.information(x, wr, t, q)
        igg = rs.information(x, wr, t, q * q)
        p = len(beta)
        imat = np.block([[i1, ig], [ig, igg]])
        resid = rs.schoenfeld(x, t)
        u = (rs.w[dead] * g) @ resid
        # group the terms by covariate column (all dummies of a categorical together, as cox.zph terms=TRUE)
        columns = [_term_column(term, design, windows) for term in terms]
        groups = list(dict.fromkeys(columns))
        rows = []
        for col in groups:
            jj = [j for j, c in enumerate(columns) if c == col]
            kk = list(range(p)) + [p + j for j in jj]
            uu = np.concatenate([np.zeros(p), u[jj]])
            stat = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
            rows.append((col, stat, len(jj)))
        uu = np.concatenate([np.zeros(p), u])
        rows.append(("GLOBAL", float(uu @ np.linalg.solve(imat, uu)), p))
        table = pd.DataFrame(rows, columns=["term", "statistic", "dof"])
        table["p_value"] = chdtrc(table["dof"].to_numpy(float), table["statistic"].to_numpy())
        table["advice"] = [_advice(term, pv) for term, pv in zip(table["term"], table["p_value"], strict=True)]
        self.proportional_hazards_ = table
        scaled = resid @ naive * len(dead) + beta
        order = np.argsort(exit_[dead], kind="stable")
        self._schoenfeld = pd.DataFrame(scaled[order], columns=terms).assign(
            time=exit_[dead][order], km=ttimes[order])

    # ------------------------------------------------------------------ results
    def summary(self) -> pd.DataFrame:
        """The hazard-ratio table (a copy of :attr:`hazard_ratios_`)."""
        check_is_fitted(self, "hazard_ratios_")
        return self.hazard_ratios_.copy()

    def predict_survival(self, profiles: pd.DataFrame | None = None, times=None,
                         conf_level: float | None = None) -> pd.DataFrame:
        """Predicted survival curves of covariate profiles, with pointwise confidence intervals.

        Parameters
        ----------
        profiles : pandas.DataFrame, optional
            One row per profile, with the covariate columns (raw values, e.g. ``Contract="One Year"``) and the
            strata columns when the model is stratified. Default: one typical profile (the most frequent level
            of each categorical, the mean of each numeric covariate) per stratum.
        times : array-like, optional
            Tenures at which to evaluate; default every event time of the profile's stratum.
        conf_level : float, optional
            Default the estimator's ``conf_level``.

        Returns
        -------
        pandas.DataFrame
            One row per (profile, time): ``profile`` (the row label), the profile's columns, ``time, estimate,
            ci_lower, ci_upper, cumulative_hazard, std_error`` (of the cumulative hazard) and ``extrapolated``
            (time beyond the stratum's last exit, where the curve is only carried forward).

        Notes
        -----
        :math:`\\hat S(t \\mid x) = \\exp(-\\hat\\Lambda(t \\mid x))` with the Breslow/Efron cumulative hazard
        of R's ``survfit.coxph``; its variance adds the baseline term and the uncertainty of
        :math:`\\hat\\beta` (Tsiatis, 1981). The interval is log-log: symmetric for
        :math:`\\log \\hat\\Lambda`, with standard error :math:`\\mathrm{se}(\\hat\\Lambda)/\\hat\\Lambda`,
        so it stays within [0, 1] (R's ``conf.type = "log-log"``).
        """
        check_is_fitted(self, "hazard_ratios_")
        conf = check_conf_level(self.conf_level if conf_level is None else conf_level, _OWNER)
        if profiles is None:
            base = self._default_profile
            if self._strata_cols:
                profiles = pd.concat([base.assign(**{"stratum": lv}) for lv in self._strata_levels],
                                     ignore_index=True)
            else:
                profiles = base
        elif not isinstance(profiles, pd.DataFrame):
            raise param_error("profiles", "CoxPH.predict_survival", "a pandas DataFrame", type(profiles).__name__,
                              type_error=True)
        xbase = _encode_profiles(profiles, self._design)
        strata = self._profile_strata(profiles)
        from scipy.special import ndtri

        z = ndtri(0.5 + conf / 2)
        b = self._base
        beta = self.coef_.to_numpy()
        vmat = self.variance_.to_numpy()
        out = []
        for i in range(len(profiles)):
            s = strata[i]
            sel = b["stratum"] == s
            tk, h, v, g = b["time"][sel], b["h"][sel], b["v"][sel], b["g"][sel]
            xk = np.repeat(xbase[i:i + 1], len(tk), axis=0)
            if self._windows is not None:
                xk = self._windows.expand(xk, self._windows.window_of(tk))
            risk = np.exp(xk @ beta)
            cum = np.cumsum(h * risk)
            var0 = np.cumsum(v * risk ** 2)
            dvec = np.cumsum(risk[:, None] * (xk * h[:, None] - g), axis=0)
            var = var0 + np.einsum("ki,ij,kj->k", dvec, vmat, dvec)
            grid = tk if times is None else np.asarray(times, float).ravel()
            idx = np.searchsorted(tk, grid, side="right") - 1
            lam = np.where(idx >= 0, cum[np.maximum(idx, 0)], 0.0)
            se = np.where(idx >= 0, np.sqrt(var[np.maximum(idx, 0)]), 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.where(lam > 0, np.exp(z * se / lam), 1.0)
            frame = pd.DataFrame({"profile": profiles.index[i], "time": grid, "estimate": np.exp(-lam),
                                  "ci_lower": np.exp(-lam * k), "ci_upper": np.exp(-lam / k),
                                  "cumulative_hazard": lam, "std_error": se,
                                  "extrapolated": grid > b["last_exit"][s]})
            out.append(frame)
        result = pd.concat(out, ignore_index=True)
        info = profiles.reset_index(drop=True).iloc[np.repeat(np.arange(len(profiles)),
                                                              [len(f) for f in out])].reset_index(drop=True)
        info = info.drop(columns=[c for c in info.columns if c in result.columns])
        cols = ["profile", *info.columns, "time", "estimate", "ci_lower", "ci_upper", "cumulative_hazard",
                "std_error", "extrapolated"]
        return pd.concat([result, info], axis=1)[cols]

    def predict_customer(self, frame: pd.DataFrame, times=None, *, id: str | None = None,
                         conf_level: float | None = None) -> pd.DataFrame:
        """Predicted survival per customer: :meth:`predict_survival` with one profile per row of ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame or Tenures
            Customers with the covariate (and strata) columns; a tenure table's data is used as is.
        times : array-like, optional
            Tenures at which to evaluate; default every event time.
        id : str, optional
            Column naming each customer (default the ``id`` column of a tenure table, else the row label).

        Returns
        -------
        pandas.DataFrame
            ``id, time, estimate, ci_lower, ci_upper, cumulative_hazard, std_error, extrapolated``.
        """
        check_is_fitted(self, "hazard_ratios_")
        if isinstance(frame, Tenures):
            frame = frame.data
            id = "id" if id is None else id
        if id is not None:
            check_columns(frame, [id])
            labels = frame[id].to_numpy()
        else:
            labels = frame.index.to_numpy()
        pred = self.predict_survival(frame.reset_index(drop=True), times=times, conf_level=conf_level)
        out = pred[["time", "estimate", "ci_lower", "ci_upper", "cumulative_hazard", "std_error", "extrapolated"]]
        return out.assign(id=labels[pred["profile"].to_numpy()])[["id", *out.columns]]

    def _profile_strata(self, profiles: pd.DataFrame) -> np.ndarray:
        if not self._strata_cols:
            return np.zeros(len(profiles), np.int64)
        if "stratum" in profiles.columns and not set(self._strata_cols) <= set(profiles.columns):
            labels = profiles["stratum"].astype(str).to_numpy()
        else:
            check_columns(profiles, self._strata_cols, what="profiles")
            labels = _strata_labels(profiles, self._strata_cols).to_numpy()
        lookup = {lv: i for i, lv in enumerate(self._strata_levels)}
        bad = np.array([lab not in lookup for lab in labels])
        if bad.any():
            raise data_error(self._strata_cols[0], f"strata not seen when fitting (known: {self._strata_levels})",
                             bad, profiles.index.to_numpy(), "Use one of the fitted strata.")
        return np.array([lookup[lab] for lab in labels])

    def plot_schoenfeld(self, term: str, ax=None, *, n_bins: int = 20):
        """Scaled Schoenfeld residuals of one term against tenure, with a binned mean and the fitted coefficient.

        A flat band around the dashed line (the coefficient) supports proportional hazards; a trend shows how
        the log hazard ratio moves with tenure. Returns the matplotlib ``Axes``.
        """
        check_is_fitted(self, "hazard_ratios_")
        if term not in self.terms_:
            raise ValueError(f"The 'term' parameter of CoxPH.plot_schoenfeld must be one of {self.terms_}. "
                             f"Got {term!r} instead.")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        res = self._schoenfeld
        ax.scatter(res["time"], res[term], s=6, alpha=0.3, color="grey", label="scaled Schoenfeld residual")
        edges = np.unique(np.quantile(res["time"], np.linspace(0, 1, n_bins + 1)))
        if len(edges) > 1:
            binned = res.groupby(pd.cut(res["time"], edges, include_lowest=True), observed=True).agg(
                time=("time", "mean"), value=(term, "mean"))
            ax.plot(binned["time"], binned["value"], color="C0", marker="o", label="binned mean")
        ax.axhline(self.coef_[term], color="C3", linestyle="--", label="fitted coefficient")
        row = self.proportional_hazards_
        column = _term_column(term, self._design, self._windows)
        p = row.loc[row["term"] == column, "p_value"]
        ax.set_title(f"{term}: PH test p = {float(p.iloc[0]):.3g}" if len(p) else term)
        ax.set_xlabel("tenure")
        ax.set_ylabel(f"beta(t) for {term}")
        ax.legend(loc="best", fontsize="small")
        return ax


# ---------------------------------------------------------------------- helpers
class _Windows:
    """Time-varying effects: the split of rows at tenure cut points and the expanded design."""

    def __init__(self, spec: dict, design):
        if not isinstance(spec, dict):
            raise param_error("time_windows", "CoxPH.fit", "a dict {column: [cut points]}", spec, type_error=True)
        cuts = None
        for column, points in spec.items():
            if column not in {k[0] for k in design.kinds}:
                raise ValueError(f"The time_windows column {column!r} is not among the covariates.")
            pts = sorted(float(c) for c in points)
            if len(pts) != len(set(pts)) or pts[0] < 0:
                raise param_error("time_windows", "CoxPH.fit", "increasing cut points >= 0", points)
            if pts[0] > 0:
                pts = [0.0, *pts]
            if cuts is not None and pts != cuts:
                raise ValueError("All time_windows columns must use the same cut points.")
            cuts = pts
        if len(cuts) < 2:
            raise param_error("time_windows", "CoxPH.fit", "at least one cut point after 0", spec)
        self.cuts = cuts
        self.upper = np.array(cuts[1:])
        lows, highs = cuts, [*cuts[1:], np.inf]
        self.labels = [f"({lo:g},{hi:g}]" if np.isfinite(hi) else f"({lo:g},inf)"
                       for lo, hi in zip(lows, highs, strict=True)]
        self.columns = set(spec)
        self.map, self.terms = [], []
        for j, (term, col) in enumerate(zip(design.terms, design.term_column, strict=True)):
            if col in self.columns:
                for w, lab in enumerate(self.labels):
                    self.map.append((j, w))
                    self.terms.append(f"{term}:{lab}")
            else:
                self.map.append((j, None))
                self.terms.append(term)
        self.term_column = {}
        for (j, _), term in zip(self.map, self.terms, strict=True):
            self.term_column[term] = design.term_column[j]

    def window_of(self, t):
        return np.searchsorted(self.upper, np.asarray(t, float), side="left")

    def split(self, entry, exit_, event):
        pieces = []
        n_w = len(self.labels)
        highs = [*self.cuts[1:], np.inf]
        for w in range(n_w):
            lo, hi = self.cuts[w], highs[w]
            mask = (entry < hi) & ((exit_ > lo) if w > 0 else np.ones(len(exit_), bool))
            rows = np.flatnonzero(mask)
            e = entry[rows] if w == 0 else np.maximum(entry[rows], lo)
            pieces.append((rows, e, np.minimum(exit_[rows], hi), event[rows] & (exit_[rows] <= hi),
                           np.full(len(rows), w)))
        return tuple(np.concatenate([p[i] for p in pieces]) for i in range(5))

    def expand(self, xbase, win):
        cols = [xbase[:, j] if w is None else xbase[:, j] * (win == w) for j, w in self.map]
        return np.column_stack(cols)


def _term_column(term, design, windows) -> str:
    if windows is not None:
        return windows.term_column[term]
    return design.term_column[design.terms.index(term)]


def _strata_labels(frame: pd.DataFrame, columns: list) -> pd.Series:
    """R's stratum labels: ``"col=level"``, joined by ``", "`` for several columns."""
    labels = None
    for c in columns:
        part = c + "=" + frame[c].astype(str)
        labels = part if labels is None else labels + ", " + part
    return labels.reset_index(drop=True)


def _typical_profile(frame: pd.DataFrame, design) -> pd.DataFrame:
    row = {}
    for column, kind, _levels, _ref in design.kinds:
        if kind == "numeric":
            row[column] = float(pd.to_numeric(frame[column]).mean())
        else:
            row[column] = frame[column].astype(str).mode().iloc[0]
    return pd.DataFrame([row])


def _inverse(info):
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


def _advice(term: str, p: float) -> str:
    if not np.isfinite(p):
        return "not testable: the defections all fall at one tenure"
    if p >= 0.05:
        return "proportional hazards not rejected at 5%"
    if term == "GLOBAL":
        return ("the model as a whole departs from proportional hazards: read the hazard ratios as "
                "tenure-averaged, and look at the covariates flagged below")
    return (f"the effect of {term} changes with tenure: stratify on it (strata=...), or estimate it per tenure "
            f"window (time_windows={{{term!r}: [0, 12, 24]}}), rather than quote one hazard ratio; see "
            f"plot_schoenfeld")
