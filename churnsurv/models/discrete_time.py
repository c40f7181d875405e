"""Discrete-time hazard regression for monthly tenures: grouped-data proportional hazards and logit models.

A customer at risk in tenure period :math:`j` (month :math:`j` of the contract) either stays or leaves during
it. The per-period probability of leaving, :math:`h_j(x)`, is modelled by a binomial GLM with a flexible
baseline in :math:`j`. Because customers with the same covariate pattern share their per-period probabilities,
the model is fitted from *counts* (at risk, defections) per (period, pattern) and never needs the
person-period rows: the likelihood is the same, so a table of 10 million customers with categorical covariates
fits as fast as a table of a thousand.
"""

from __future__ import annotations

import numbers
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
from churnsurv.exceptions import StatisticalWarning, TenureDataError
from churnsurv.lifetable.table import LifeTable
from churnsurv.models._glm import RowDesign, binomial_glm, inverse_link, multinomial_logit
from churnsurv.models._splines import natural_spline_basis
from churnsurv.models.formula import _encode, _encode_profiles, _parse_formula, _Spec

__all__ = ["DiscreteTimeHazard"]

_OWNER = "DiscreteTimeHazard"
#: Largest (pattern x period x outcome) grid counted densely; beyond it person-period rows are built instead.
_DENSE_CELLS = 30_000_000


class DiscreteTimeHazard(BaseEstimator):
    """Discrete-time (grouped-data) hazard regression of monthly churn, fitted from aggregated counts.

    Parameters
    ----------
    link : {"cloglog", "logit"}, default "cloglog"
        ``"cloglog"``: the grouped-data proportional hazards model (exponentiated coefficients are hazard
        ratios of the underlying continuous-time hazard). ``"logit"``: the proportional odds model
        (exponentiated coefficients are odds ratios of leaving in a period).
    baseline : {"period", "spline", "constant"} or callable, default "period"
        The baseline :math:`\\alpha_j`. ``"period"``: one parameter per observed period (no intercept; cannot
        extrapolate). ``"spline"``: intercept plus a natural cubic spline of the period (R's
        ``splines::ns``; linear beyond the boundary knots, so it extrapolates). ``"constant"``: one intercept
        (a geometric tenure distribution). A callable receives an integer array of periods and returns the
        baseline design (a DataFrame whose columns become the terms, or an array); it must include a constant
        column itself.
    knots : list of float, optional
        Interior knots of the spline baseline. Default: the periods at the 25%, 50% and 75% quantiles of the
        defections' periods. The boundary knots are the first and last observed periods.
    renewal : int, optional
        Contract length in periods: adds one indicator term ``renewal`` for periods ``renewal``,
        ``2 * renewal``, ... (the renewal-month spike). Not with ``baseline="period"``, which already has a
        parameter per period.
    causes : {None, "multinomial", "separate"}, default None
        None: one model of defection for any cause (or of the cause given to :meth:`fit`). ``"multinomial"``:
        a multinomial logit over {stay, cause 1, ..., cause K} (requires ``link="logit"``). ``"separate"``: one
        binary model per cause (defections for other causes are non-events).
    conf_level : float, default 0.95
        Confidence level of intervals.

    Attributes
    ----------
    coef_ : pandas.DataFrame
        The coefficient table (see :meth:`summary`).
    vcov_ : pandas.DataFrame
        Covariance of the estimates (inverse Fisher information), labelled ``cause:term``.
    baseline_ : pandas.DataFrame
        Per-period hazard of the reference profile (reference levels, numeric covariates 0): ``[cause,]
        period, hazard, ci_lower, ci_upper``.
    terms_ : list of str
        Terms of one linear predictor: baseline terms, ``renewal``, then covariate terms.
    causes_ : list of str
        Modelled outcomes (``["any"]`` for a single model of any defection).
    periods_ : numpy.ndarray
        Periods with customers at risk.
    last_period_ : int
        Last observed period; later periods are extrapolated (NaN with ``baseline="period"``).
    knots_ : numpy.ndarray or None
        Interior knots of the spline baseline.
    log_likelihood_, aic_, bic_, deviance_ : float
        Bernoulli log-likelihood of the person-period data, AIC, BIC with :math:`n` = person-periods, and the
        deviance :math:`-2 \\log L` (the saturated Bernoulli model has :math:`\\log L = 0`), all equal to those of
        R's ``glm`` on the person-period rows.
    n_obs_ : int
        Customers (rows of the tenure table, or ids with spells; customers in a life table).
    n_person_periods_ : float
        Person-periods at risk (weighted).
    n_events_ : dict
        Defections per modelled outcome.
    n_params_ : int
        Estimated parameters.
    n_rows_ : int
        Aggregated (period, pattern) rows the model was fitted on.
    converged_ : bool
    n_iter_ : int

    See Also
    --------
    churnsurv.CauseSpecificCox : the continuous-time analogue with an unspecified baseline.

    Notes
    -----
    **Periods.** Period :math:`j` is the tenure interval :math:`(j-1, j]`. A row with entry :math:`e` and exit
    :math:`x` is at risk in the periods :math:`\\lceil e \\rceil < j \\le \\lceil x \\rceil`, and a defection
    counts in period :math:`\\lceil x \\rceil`. The entry is rounded *up*, so only fully observed periods count
    (conservative under left truncation, and consecutive spells never share a period); integer tenures are
    used as they are. Rows with no full period (e.g. exit 0) are dropped and counted in the warning.

    **Model.** With the at-risk indicator :math:`R_{ij}` and :math:`Y_{ij} = 1` when customer :math:`i`
    leaves in period :math:`j`,

    .. math:: g\\{P(Y_{ij} = 1 \\mid R_{ij} = 1, x_{ij})\\} = \\alpha_j + x_{ij}^\\top \\beta,

    with :math:`g` the complementary log-log, :math:`g(h) = \\log\\{-\\log(1 - h)\\}` (Prentice & Gloeckler
    [1]_: the grouped version of :math:`\\lambda(t \\mid x) = \\lambda_0(t) e^{x^\\top \\beta}`), or the logit
    (Cox's discrete model [2]_). The likelihood is that of independent Bernoulli person-periods [3]_, so with
    :math:`n_{jp}` at risk and :math:`d_{jp}` defections per (period, covariate pattern) it is
    :math:`\\prod_{jp} h_{jp}^{d_{jp}} (1 - h_{jp})^{n_{jp} - d_{jp}}`, maximised by Fisher scoring on the
    aggregated rows. Survival is :math:`S(t \\mid x) = \\prod_{j \\le t} \\{1 - h_j(x)\\}`, with a delta-method
    interval on :math:`\\log\\{-\\log S\\}`.

    **Competing causes.** The multinomial logit [4]_

    .. math:: h_{kj}(x) = \\frac{\\exp(\\eta_{kj})}{1 + \\sum_l \\exp(\\eta_{lj})}, \\quad
        \\eta_{kj} = \\alpha_{kj} + x^\\top \\beta_k,

    gives the cumulative incidence :math:`F_k(t) = \\sum_{j \\le t} S(j - 1) h_{kj}`. With ``"separate"``
    binary models, the all-cause hazard is :math:`1 - \\prod_k (1 - h_{kj})` (cloglog: piecewise-constant
    cause-specific hazards within the period, shares :math:`\\Lambda_k / \\sum_l \\Lambda_l` with
    :math:`\\Lambda_k = -\\log(1 - h_{kj})`) or :math:`\\sum_k h_{kj}` (logit, Begg & Gray's approximation of
    the multinomial [5]_).

    **Scaling.** Covariates are reduced to patterns (unique value combinations) and the customers to counts
    per (pattern, period) with ``bincount`` and a cumulative sum over periods, in time linear in the customers.
    With continuous covariates the patterns are the unique values; when patterns x periods would exceed
    3e7 cells, person-period rows are built instead. A :class:`~churnsurv.LifeTable` with integer times
    can be passed directly (covariates among its segments): counts in, model out.

    References
    ----------
    .. [1] Prentice, R. L. and Gloeckler, L. A. (1978). Regression analysis of grouped survival data with
       application to breast cancer data. Biometrics 34, 57-67.
    .. [2] Cox, D. R. (1972). Regression models and life-tables. JRSS B 34, 187-220.
    .. [3] Allison, P. D. (1982). Discrete-time methods for the analysis of event histories. Sociological
       Methodology 13, 61-98.
    .. [4] Tutz, G. and Schmid, M. (2016). Modeling Discrete Time-to-Event Data. Springer.
    .. [5] Begg, C. B. and Gray, R. (1984). Calculation of polychotomous logistic regression parameters using
       individualized regressions. Biometrika 71, 11-18.

    Examples
    --------
    >>> import churnsurv as cs
    >>> from churnsurv.models.discrete_time import DiscreteTimeHazard
    >>> t = cs.datasets.load_maven_telco()
    >>> m = DiscreteTimeHazard(baseline="spline", renewal=12).fit(t, covariates=["Contract"])
    >>> m.summary()["term"].tolist()[-2:]
    ['Contract[One Year]', 'Contract[Two Year]']
    """

    def __init__(self, link: str = "cloglog", baseline="period", knots=None, renewal=None, causes=None,
                 conf_level: float = 0.95):
        self.link = link
        self.baseline = baseline
        self.knots = knots
        self.renewal = renewal
        self.causes = causes
        self.conf_level = conf_level

    # ------------------------------------------------------------------ fitting
    def fit(self, data, *, formula: str | None = None, covariates=None, reference: dict | None = None,
            cause: str | None = None, **frame_kwargs) -> DiscreteTimeHazard:
        """Fit the model.

        Parameters
        ----------
        data : Tenures, LifeTable or pandas.DataFrame
            A tenure table (covariates from its columns; with ``spells=True`` each spell's values apply to its
            periods: time-varying covariates), a life table with integer times (covariates among its segments),
            or a frame plus the keywords of :meth:`Tenures.from_frame`. Not modified.
        formula : str, optional
            Covariates as ``"Contract + Q('Monthly Charge') + C(Offer, ref='None')"``.
        covariates : list of str, optional
            Column names, instead of ``formula``. Neither: a baseline-only model.
        reference : dict, optional
            Reference level per categorical column; default the first level.
        cause : str, optional
            Model defections for this cause only (others are non-events). Not with ``causes=...``.

        Returns
        -------
        DiscreteTimeHazard
            ``self``, fitted.
        """
        conf = check_conf_level(self.conf_level, _OWNER)
        check_one_of(self.link, "link", _OWNER, ("cloglog", "logit"))
        if not callable(self.baseline):
            check_one_of(self.baseline, "baseline", _OWNER, ("period", "spline", "constant"))
        if self.causes is not None:
            check_one_of(self.causes, "causes", _OWNER, (None, "multinomial", "separate"))
        if self.causes == "multinomial" and self.link != "logit":
            raise param_error("link", _OWNER, "'logit' when causes='multinomial' (the multinomial logit)",
                              self.link)
        renewal = self.renewal
        if renewal is not None:
            if isinstance(renewal, bool) or not isinstance(renewal, numbers.Integral) or renewal < 2:
                raise param_error("renewal", _OWNER, "an int >= 2 (the contract length in periods) or None", renewal)
            if self.baseline == "period":
                raise param_error("renewal", _OWNER, "None with baseline='period' (a parameter per period "
                                  "already absorbs renewal months); use baseline='spline' or 'constant'", renewal)
        if cause is not None and self.causes is not None:
            raise ValueError("Give either cause='...' to fit() (one cause) or causes='multinomial'/'separate' "
                             "(all causes), not both.")
        if formula is not None and covariates is not None:
            raise ValueError("Give the covariates either as formula='a + b' or as covariates=['a', 'b'].")
        specs = _parse_formula(formula) if formula is not None else [_Spec(c) for c in _as_list(covariates)]
        for spec in specs:
            if reference and spec.column in reference:
                spec.categorical, spec.reference = True, reference[spec.column]

        if isinstance(data, pd.DataFrame):
            data = Tenures.from_frame(data, **_with_covariate_columns(data, specs, frame_kwargs))
        elif frame_kwargs:
            raise TypeError(f"Column keywords {sorted(frame_kwargs)} only apply to a DataFrame input.")
        if isinstance(data, Tenures):
            counts = _counts_from_tenures(data, specs)
        elif isinstance(data, LifeTable):
            counts = _counts_from_life_table(data, specs)
        else:
            raise TypeError(f"Expected a churnsurv.Tenures, LifeTable or pandas DataFrame; got "
                            f"{type(data).__name__}.")

        # outcomes
        all_causes = counts["causes"]
        d_all = counts["d"]  # rows x len(all_causes) (or x 1 for "any")
        if cause is not None:
            if not counts["has_causes"]:
                raise ValueError("The data have no causes: build the tenure table with cause='<column>' or leave "
                                 "cause=None.")
            if cause not in all_causes:
                raise ValueError(f"Cause {cause!r} is not in the data (causes: {all_causes}).")
            outcomes = [cause]
            d = d_all[:, [all_causes.index(cause)]]
        elif self.causes is None:
            outcomes = ["any"]
            d = d_all.sum(axis=1, keepdims=True)
        else:
            if not counts["has_causes"]:
                raise ValueError(f"causes={self.causes!r} needs causes in the data: build the tenure table with "
                                 "cause='<column>'.")
            outcomes = list(all_causes)
            d = d_all

        periods = counts["period"]
        observed = np.unique(periods)
        self._baseline_kind = "callable" if callable(self.baseline) else self.baseline
        self.periods_ = observed
        self.last_period_ = int(observed.max())
        self.first_period_ = int(observed.min())
        self.knots_ = None
        if self._baseline_kind == "spline":
            self.knots_ = self._spline_knots(periods, d.sum(axis=1), observed)
        self._renewal = renewal
        base, base_terms = self._baseline_design(observed)
        self._design = counts["design"]
        x_pat = counts["x_pattern"]
        cov_terms = list(self._design.terms) if self._design is not None else []
        self.terms_ = base_terms + cov_terms
        m = counts["n"]
        x = RowDesign(base, np.searchsorted(observed, periods),
                      x_pat[counts["pattern"]] if cov_terms else np.zeros((len(m), 0)))

        if self._baseline_kind == "period":
            self._check_period_events(observed, periods, d, m, outcomes)
        self._check_rank(x, m)

        k = len(outcomes)
        p = x.shape[1]
        if self.causes == "multinomial":
            res = multinomial_logit(x, d, m)
            theta, vcov, ll, n_iter, conv = res.coef, res.vcov, res.log_likelihood, res.n_iter, res.converged
        else:
            theta = np.empty(k * p)
            vcov = np.zeros((k * p, k * p))
            ll, n_iter, conv = 0.0, 0, True
            for j in range(k):
                res = binomial_glm(x, d[:, j], m, self.link)
                theta[j * p:(j + 1) * p] = res.coef
                vcov[j * p:(j + 1) * p, j * p:(j + 1) * p] = res.vcov
                ll += res.log_likelihood
                n_iter = max(n_iter, res.n_iter)
                conv = conv and res.converged
        if not conv:
            warnings.warn(f"{_OWNER} did not converge in 100 iterations; estimates may be unreliable (a cell "
                          "with no defections or only defections?).", StatisticalWarning,
                          stacklevel=find_stack_level())
        self._theta, self._vcov, self._k, self._p = theta, vcov, k, p
        self._conf = conf
        self.causes_ = outcomes
        self.n_params_ = int(k * p)
        self.n_person_periods_ = float(m.sum())
        self.log_likelihood_ = float(ll)
        self.deviance_ = -2.0 * self.log_likelihood_
        self.aic_ = self.deviance_ + 2 * self.n_params_
        self.bic_ = self.deviance_ + np.log(self.n_person_periods_) * self.n_params_
        self.n_obs_ = int(counts["n_obs"])
        self.n_events_ = {c: float(d[:, j].sum()) for j, c in enumerate(outcomes)}
        self.n_rows_ = int(len(m))
        self.converged_ = bool(conv)
        self.n_iter_ = int(n_iter)
        self._profile_template = counts["profile_template"]
        labels = [f"{c}:{t}" for c in outcomes for t in self.terms_] if k > 1 or outcomes != ["any"] else \
            list(self.terms_)
        self.vcov_ = pd.DataFrame(vcov, index=labels, columns=labels)
        self.coef_ = self._coef_table()
        self.baseline_ = self._baseline_table()
        return self

    # ------------------------------------------------------------------ design pieces
    def _spline_knots(self, periods, events, observed):
        lo, hi = float(observed.min()), float(observed.max())
        if hi - lo < 2:
            raise ValueError(f"baseline='spline' needs at least three observed periods; the data span periods "
                             f"{lo:g} to {hi:g}. Use baseline='period' or 'constant'.")
        if self.knots is None:
            order = np.argsort(periods, kind="stable")
            cum = np.cumsum(events[order])
            if cum[-1] <= 0:
                raise ValueError("No defections: cannot place default spline knots. Give knots=[...].")
            q = [periods[order][np.searchsorted(cum, f * cum[-1])] for f in (0.25, 0.5, 0.75)]
            knots = np.unique([v for v in q if lo < v < hi]).astype(float)
        else:
            knots = np.sort(np.asarray(_as_list(self.knots), float))
            if knots.size and (knots.min() <= lo or knots.max() >= hi or np.any(np.diff(knots) == 0)):
                raise param_error("knots", _OWNER, f"distinct interior knots strictly between the first and last "
                                  f"observed periods ({lo:g}, {hi:g})", self.knots)
        return knots

    def _baseline_design(self, periods):
        periods = np.asarray(periods)
        kind = self._baseline_kind
        if kind == "period":
            obs = self.periods_
            base = (periods[:, None] == obs[None, :]).astype(float)
            terms = [f"period[{int(j)}]" for j in obs]
        elif kind == "constant":
            base, terms = np.ones((len(periods), 1)), ["(Intercept)"]
        elif kind == "spline":
            ns = natural_spline_basis(periods.astype(float), self.knots_, (self.first_period_, self.last_period_))
            base = np.column_stack([np.ones(len(periods)), ns])
            terms = ["(Intercept)"] + [f"ns(period)[{i + 1}]" for i in range(ns.shape[1])]
        else:
            out = self.baseline(np.asarray(periods, dtype=np.int64))
            if isinstance(out, pd.DataFrame):
                terms, base = [str(c) for c in out.columns], out.to_numpy(float)
            else:
                base = np.asarray(out, float).reshape(len(periods), -1)
                terms = [f"baseline[{i}]" for i in range(base.shape[1])]
            if base.shape[0] != len(periods) or not np.all(np.isfinite(base)):
                raise ValueError("The baseline callable must return finite values, one row per period.")
        if self._renewal is not None:
            base = np.column_stack([base, (periods % self._renewal == 0).astype(float)])
            terms = terms + ["renewal"]
        return base, terms

    def _check_period_events(self, observed, periods, d, m, outcomes):
        for j, c in enumerate(outcomes):
            ev = np.bincount(np.searchsorted(observed, periods), weights=d[:, j], minlength=len(observed))
            at = np.bincount(np.searchsorted(observed, periods), weights=m, minlength=len(observed))
            bad = (ev <= 0) | (ev >= at)
            if bad.any():
                what = "" if c == "any" else f" for cause {c!r}"
                raise TenureDataError(
                    f"{int(bad.sum())} period(s) have no defections{what} (or only defections): "
                    f"{', '.join(str(int(v)) for v in observed[bad][:5])}"
                    f"{' ...' if bad.sum() > 5 else ''}. Their per-period baseline parameter would be infinite. "
                    "Use baseline='spline' (or 'constant'), or pool sparse late periods, e.g. cap tenures.",
                    column="exit", n_rows=int(bad.sum()))

    @staticmethod
    def _check_rank(x, m):
        info = x.crossprod(m)
        scale = np.sqrt(np.diag(info))
        scale[scale == 0] = 1.0
        eig = np.linalg.eigvalsh(info / np.outer(scale, scale))
        rank = int(np.sum(eig > 1e-10 * eig.max()))
        if rank < x.shape[1]:
            raise ValueError(f"The design matrix has rank {rank} < {x.shape[1]} columns: a covariate is constant "
                             "or collinear with the baseline (e.g. a segment that is determined by tenure, or "
                             "renewal with too few periods). Drop or merge covariates.")

    # ------------------------------------------------------------------ outputs
    def _coef_table(self) -> pd.DataFrame:
        from scipy.special import ndtr, ndtri

        z_crit = float(ndtri(0.5 + self._conf / 2))
        se = np.sqrt(np.diag(self._vcov))
        coef = self._theta
        z = coef / se
        n_base = len(self.terms_) - (len(self._design.terms) if self._design is not None else 0)
        rows = pd.DataFrame({
            "cause": np.repeat(self.causes_, self._p),
            "term": np.tile(self.terms_, self._k),
            "kind": np.tile(["baseline"] * n_base + ["covariate"] * (self._p - n_base), self._k),
            "coef": coef, "std_error": se,
            "ci_lower": coef - z_crit * se, "ci_upper": coef + z_crit * se,
            "z": z, "p_value": 2 * ndtr(-np.abs(z)),
        })
        ratio = "hazard_ratio" if self.link == "cloglog" else "odds_ratio"
        rows[ratio] = np.where(rows["kind"] == "covariate", np.exp(coef), np.nan)
        if self.causes_ == ["any"]:
            rows = rows.drop(columns="cause")
        return rows

    def summary(self) -> pd.DataFrame:
        """The coefficient table: one row per ([cause,] term).

        Returns
        -------
        pandas.DataFrame
            ``[cause,] term, kind`` ("baseline" or "covariate"), ``coef, std_error, ci_lower, ci_upper`` (of the
            coefficient), ``z, p_value`` (Wald), and ``hazard_ratio`` (cloglog) or ``odds_ratio`` (logit;
            relative risk versus staying for the multinomial model) = exp(coef) for covariate terms.
        """
        check_is_fitted(self, "coef_")
        return self.coef_.copy()

    def _baseline_table(self) -> pd.DataFrame:
        prof = None if self._design is None else pd.DataFrame(index=[0])
        return self._hazard_frame(prof, self.periods_, reference=True).drop(columns=["profile"])

    def _profiles_x(self, profiles, reference=False):
        """Design rows of the profiles (covariate part), and the frame of profile columns to report."""
        if self._design is None:
            return np.zeros((1, 0)), pd.DataFrame({"profile": [0]})
        if reference:
            return np.zeros((1, len(self._design.terms))), pd.DataFrame({"profile": [0]})
        if profiles is None:
            profiles = self._profile_template
            if profiles is None:
                raise ValueError("Give profiles=pd.DataFrame({...}) with a value for every covariate: the data "
                                 "have too many covariate patterns to list them all.")
        if not isinstance(profiles, pd.DataFrame):
            raise TypeError(f"profiles must be a pandas DataFrame; got {type(profiles).__name__}.")
        xp = _encode_profiles(profiles, self._design)
        cols = [k[0] for k in self._design.kinds]
        shown = profiles[cols].reset_index(drop=True)
        shown.insert(0, "profile", profiles.index.to_numpy())
        return xp, shown

    def _periods_arg(self, periods):
        if periods is None:
            return np.arange(1, self.last_period_ + 1)
        p = np.atleast_1d(np.asarray(periods, dtype=float))
        if not np.all(np.isfinite(p)) or np.any(p < 1) or np.any(p != np.floor(p)):
            raise param_error("periods", _OWNER, "whole numbers >= 1", periods)
        return p.astype(np.int64)

    def _eta(self, theta, xp, periods):
        """Linear predictors, shape (profiles, periods, k), and the validity mask of the periods."""
        base, _ = self._baseline_design(periods)
        if self._baseline_kind == "period":
            valid = np.isin(periods, self.periods_)
        else:
            valid = np.ones(len(periods), bool)
        tb = theta.reshape(self._k, self._p)
        nb = base.shape[1]
        eta = (base @ tb[:, :nb].T)[None, :, :] + (xp @ tb[:, nb:].T)[:, None, :]
        return eta, valid

    def _hazards(self, theta, xp, periods):
        """Per-period cause hazards (profiles, periods, k) as modelled."""
        eta, valid = self._eta(theta, xp, periods)
        if self.causes == "multinomial":
            top = np.maximum(eta.max(axis=2, keepdims=True), 0.0)
            e = np.exp(eta - top)
            h = e / (np.exp(-top) + e.sum(axis=2, keepdims=True))
        else:
            h = inverse_link(eta, self.link)
        h[:, ~valid, :] = np.nan
        return h

    def _jacobian(self, fun, theta):
        """Central-difference Jacobian of ``fun`` (returning an array) with respect to ``theta``."""
        base = fun(theta)
        jac = np.empty(base.shape + (len(theta),))
        for i in range(len(theta)):
            step = 1e-6 * max(1.0, abs(theta[i]))
            up, dn = theta.copy(), theta.copy()
            up[i] += step
            dn[i] -= step
            jac[..., i] = (fun(up) - fun(dn)) / (2 * step)
        return base, jac

    def _ci(self, conf_level):
        from scipy.special import ndtri

        conf = self._conf if conf_level is None else check_conf_level(conf_level, _OWNER)
        return float(ndtri(0.5 + conf / 2))

    def _hazard_frame(self, profiles, periods, conf_level=None, reference=False):
        z_crit = self._ci(conf_level)
        xp, shown = self._profiles_x(profiles, reference=reference)
        periods = self._periods_arg(periods)
        eta, valid = self._eta(self._theta, xp, periods)
        h = self._hazards(self._theta, xp, periods)
        if self.causes == "multinomial":
            _, jac = self._jacobian(lambda th: _logit(self._hazards(th, xp, periods)), self._theta)
            centre = _logit(h)
            se = np.sqrt(np.einsum("...i,ij,...j->...", jac, self._vcov, jac))
            lo, hi = _expit(centre - z_crit * se), _expit(centre + z_crit * se)
        else:
            base, _ = self._baseline_design(periods)
            lo, hi = np.empty_like(h), np.empty_like(h)
            for j in range(self._k):
                sl = slice(j * self._p, (j + 1) * self._p)
                v = self._vcov[sl, sl]
                full = np.concatenate([np.broadcast_to(base[None], (len(xp),) + base.shape),
                                       np.broadcast_to(xp[:, None, :], (len(xp), len(periods), xp.shape[1]))],
                                      axis=2)
                se = np.sqrt(np.einsum("abi,ij,abj->ab", full, v, full))
                lo[:, :, j] = inverse_link(eta[:, :, j] - z_crit * se, self.link)
                hi[:, :, j] = inverse_link(eta[:, :, j] + z_crit * se, self.link)
            lo[:, ~valid, :] = np.nan
            hi[:, ~valid, :] = np.nan
        ext = (periods > self.last_period_) | (periods < self.first_period_)
        return _long(shown, periods, h, lo, hi, "period", self.causes_, ext)

    def predict_hazard(self, profiles: pd.DataFrame | None = None, periods=None,
                       conf_level: float | None = None) -> pd.DataFrame:
        """Per-period probability of leaving (by cause for the competing-cause models).

        Parameters
        ----------
        profiles : pandas.DataFrame, optional
            One row per profile with a value for every covariate column. Default: every covariate pattern of
            the data (when there are at most 50), or the single baseline profile without covariates.
        periods : array-like of int, optional
            Periods (>= 1); default 1 to the last observed period.
        conf_level : float, optional
            Default the estimator's.

        Returns
        -------
        pandas.DataFrame
            One row per (profile, period[, cause]): ``profile``, the covariate columns, ``[cause,] period,
            estimate, ci_lower, ci_upper, extrapolated``. Intervals are Wald intervals on the link scale
            (the logit of the cause's hazard for the multinomial model). Periods beyond the last observed one
            are NaN for ``baseline="period"``.
        """
        check_is_fitted(self, "coef_")
        return self._hazard_frame(profiles, periods, conf_level)

    def _curves(self, theta, xp, periods):
        """Survival S(t) and cumulative incidences F_k(t) at periods 1..max(periods): (prof, T) and (prof, T, k)."""
        h = self._hazards(theta, xp, periods)
        if self._k == 1 or self.causes == "multinomial":
            q, part = h.sum(axis=2), h
        elif self.link == "cloglog":
            lam = -np.log1p(-h)
            q = -np.expm1(-lam.sum(axis=2))
            part = q[..., None] * lam / lam.sum(axis=2, keepdims=True)
        else:
            q, part = np.minimum(h.sum(axis=2), 1.0), h
        surv = np.cumprod(1.0 - q, axis=1)
        before = np.concatenate([np.ones((surv.shape[0], 1)), surv[:, :-1]], axis=1)
        cif = np.cumsum(before[..., None] * part, axis=1)
        return surv, cif

    def _times_arg(self, times):
        if times is None:
            return np.arange(0, self.last_period_ + 1, dtype=float)
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise param_error("times", _OWNER, "finite times >= 0", times)
        return t

    def _curve_frame(self, profiles, times, conf_level, what):
        z_crit = self._ci(conf_level)
        xp, shown = self._profiles_x(profiles)
        times = self._times_arg(times)
        idx = np.floor(times).astype(np.int64)  # S(t) = S(floor(t)): defections happen within periods
        horizon = max(int(idx.max()), 1)
        grid = np.arange(1, horizon + 1)
        if what == "survival":
            def fun(th):
                s = self._curves(th, xp, grid)[0]
                s = np.concatenate([np.ones((s.shape[0], 1)), s], axis=1)[:, idx]
                return np.log(-np.log(s))[..., None]
        else:
            def fun(th):
                f = self._curves(th, xp, grid)[1]
                f = np.concatenate([np.zeros((f.shape[0], 1, f.shape[2])), f], axis=1)[:, idx, :]
                return _logit(f)
        with np.errstate(divide="ignore", invalid="ignore"):
            centre, jac = self._jacobian(fun, self._theta)
            se = np.sqrt(np.einsum("...i,ij,...j->...", jac, self._vcov, jac))
            if what == "survival":
                est = np.exp(-np.exp(centre))
                lo, hi = np.exp(-np.exp(centre + z_crit * se)), np.exp(-np.exp(centre - z_crit * se))
            else:
                est = _expit(centre)
                lo, hi = _expit(centre - z_crit * se), _expit(centre + z_crit * se)
        at0 = idx == 0
        est[:, at0], lo[:, at0], hi[:, at0] = (1.0, 1.0, 1.0) if what == "survival" else (0.0, 0.0, 0.0)
        # beyond the last observed period, or (left truncation) through periods before the first observed one
        ext = (times > self.last_period_) | ((self.first_period_ > 1) & (times >= 1))
        causes = ["any"] if what == "survival" else self.causes_
        return _long(shown, times, est, lo, hi, "time", causes, ext)

    def predict_survival(self, profiles: pd.DataFrame | None = None, times=None,
                         conf_level: float | None = None) -> pd.DataFrame:
        """Probability of still being a customer at tenure ``t``: :math:`\\prod_{j \\le t} (1 - h_j)`.

        Parameters
        ----------
        profiles : pandas.DataFrame, optional
            As in :meth:`predict_hazard`.
        times : array-like of float, optional
            Tenures (>= 0); default 0, 1, ..., last observed period. A fractional time reads the end of the
            last whole period, :math:`S(t) = S(\\lfloor t \\rfloor)`.
        conf_level : float, optional

        Returns
        -------
        pandas.DataFrame
            One row per (profile, time): ``profile``, the covariate columns, ``time, estimate, ci_lower,
            ci_upper, extrapolated`` (time beyond the last observed period: a projection of the spline's linear
            tail, the constant or the callable baseline; NaN with ``baseline="period"``). Intervals: delta
            method on :math:`\\log\\{-\\log S\\}`. With competing causes S is the all-cause survival.
        """
        check_is_fitted(self, "coef_")
        return self._curve_frame(profiles, times, conf_level, "survival")

    def predict_cumulative_incidence(self, profiles: pd.DataFrame | None = None, times=None,
                                     conf_level: float | None = None) -> pd.DataFrame:
        """Probability of having left for each cause by tenure ``t`` (competing-cause models).

        Returns
        -------
        pandas.DataFrame
            One row per (profile, time, cause): ``profile``, the covariate columns, ``cause, time, estimate,
            ci_lower, ci_upper, extrapolated``; delta-method intervals on the logit scale. The incidences and
            :meth:`predict_survival` add up to 1.
        """
        check_is_fitted(self, "coef_")
        return self._curve_frame(profiles, times, conf_level, "incidence")


def _long(shown, times, est, lo, hi, time_name, causes, extrapolated) -> pd.DataFrame:
    """Tidy rows (profile, time[, cause]) from arrays shaped (profiles, times, causes)."""
    n_prof, n_t, k = est.shape
    out = shown.loc[np.repeat(np.arange(n_prof), n_t * k)].reset_index(drop=True)
    if causes != ["any"]:
        out["cause"] = np.tile(np.asarray(causes, dtype=object), n_prof * n_t)
    out[time_name] = np.tile(np.repeat(times, k), n_prof)
    out["estimate"] = est.reshape(-1)
    out["ci_lower"] = lo.reshape(-1)
    out["ci_upper"] = hi.reshape(-1)
    out["extrapolated"] = np.tile(np.repeat(np.asarray(extrapolated, bool), k), n_prof)
    return out


def _with_covariate_columns(frame: pd.DataFrame, specs, frame_kwargs: dict) -> dict:
    """Declare the covariate columns of a raw frame (numeric: values; others: segments) for Tenures.from_frame."""
    kw = dict(frame_kwargs)
    segments, values = _as_list(kw.get("segments", ())), _as_list(kw.get("values", ()))
    check_columns(frame, [s.column for s in specs], what="data")
    for spec in specs:
        col = spec.column
        if col in segments or col in values:
            continue
        raw = frame[col]
        numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        (values if numeric and not spec.categorical else segments).append(col)
    kw["segments"], kw["values"] = segments, values
    return kw


def _logit(p):
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# ====================================================================== counting
def _covariate_patterns(frame: pd.DataFrame, specs, ids):
    """Pattern code per row, the design rows of the patterns, the design, and (if few) a profile table."""
    if not specs:
        return np.zeros(len(frame), np.int64), np.zeros((1, 0)), None, None
    missing = [s.column for s in specs if s.column not in frame.columns]
    if missing:
        raise TenureDataError(
            f"The tenure table has no column {', '.join(map(repr, missing))} (its columns: "
            f"{', '.join(map(repr, frame.columns))}). Declare covariates when building it, e.g. "
            "Tenures.from_frame(df, ..., segments=[...], values=[...]), or pass the DataFrame itself to fit().",
            column=missing[0])
    code = np.zeros(len(frame), np.int64)
    size = 1
    for spec in specs:
        col = frame[spec.column]
        missing = col.isna().to_numpy()
        if missing.any():
            raise data_error(spec.column, "missing covariate values", missing, ids,
                             "Drop or impute these rows first, e.g. frame.dropna(subset=[...]).")
        c, u = pd.factorize(col, sort=False)
        code = code * len(u) + c
        size *= len(u)
        if size > 2**40:
            code, size = _compact(code, size)
    code, n_pat = _compact(code, size)
    first = np.full(n_pat, len(code), np.int64)
    np.minimum.at(first, code, np.arange(len(code)))
    rep = frame[[s.column for s in specs]].iloc[first].reset_index(drop=True)
    x_pat, design = _encode(rep, specs, np.arange(n_pat))
    template = rep.sort_values(list(rep.columns)).reset_index(drop=True) if n_pat <= 50 else None
    return code, x_pat, design, template


def _counts_from_tenures(t: Tenures, specs):
    d = t.data
    ids = d["id"].to_numpy()
    pattern, x_pat, design, template = _covariate_patterns(d, specs, ids)
    entry = d["entry"].to_numpy(float)
    exit_ = d["exit"].to_numpy(float)
    w = d["weight"].to_numpy(float)
    event = d["event"].to_numpy(bool)
    has_causes = len(t.causes) > 0
    causes = list(t.causes) if has_causes else ["any"]
    if has_causes:
        ccode = d["cause"].cat.codes.to_numpy().astype(np.int64)
        ccode = np.where(event, ccode, -1)
    else:
        ccode = np.where(event, 0, -1)
    start = np.ceil(entry).astype(np.int64) + 1
    stop = np.ceil(exit_).astype(np.int64)
    keep = stop >= start
    if not keep.all():
        lost_ev = int((event & ~keep).sum())
        warnings.warn(f"{int((~keep).sum())} row(s) have no whole period at risk (ceil(entry) >= ceil(exit), e.g. "
                      f"exit 0) and are left out ({lost_ev} of them defections).", StatisticalWarning,
                      stacklevel=find_stack_level())
    pattern, start, stop, w, ccode = pattern[keep], start[keep], stop[keep], w[keep], ccode[keep]
    n_pat = x_pat.shape[0]
    n_per = int(stop.max()) if len(stop) else 0
    if n_per < 1:
        raise TenureDataError("No customer is at risk in any period (all exits are 0).", column="exit",
                              n_rows=len(d))
    k = len(causes)
    width = n_per + 2
    if n_pat * width * (k + 1) <= _DENSE_CELLS:
        delta = np.bincount(pattern * width + start, weights=w, minlength=n_pat * width) - \
            np.bincount(pattern * width + stop + 1, weights=w, minlength=n_pat * width)
        at_risk = np.cumsum(delta.reshape(n_pat, width), axis=1)[:, 1:n_per + 1]
        ev = ccode >= 0
        dev = np.bincount((pattern[ev] * (n_per + 1) + stop[ev]) * k + ccode[ev], weights=w[ev],
                          minlength=n_pat * (n_per + 1) * k).reshape(n_pat, n_per + 1, k)[:, 1:, :]
        pat_idx, per_idx = np.nonzero(at_risk > 0)
        n = at_risk[pat_idx, per_idx]
        dd = dev[pat_idx, per_idx, :]
        period = per_idx + 1
    else:  # person-period rows (many unique covariate values and many periods)
        lengths = stop - start + 1
        rows = np.repeat(np.arange(len(start)), lengths)
        offs = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        period = start[rows] + offs
        pat_idx = pattern[rows]
        n = w[rows]
        last = period == stop[rows]
        dd = np.zeros((len(rows), k))
        hit = last & (ccode[rows] >= 0)
        dd[np.flatnonzero(hit), ccode[rows][hit]] = n[hit]
    return {"period": period.astype(np.int64), "pattern": pat_idx.astype(np.int64), "n": n.astype(float),
            "d": dd.astype(float), "x_pattern": x_pat, "design": design, "causes": causes,
            "has_causes": has_causes, "n_obs": t.n_customers, "profile_template": template}


def _counts_from_life_table(lt: LifeTable, specs):
    tab = lt.table
    times = tab["time"].to_numpy(float)
    if np.any(times != np.floor(times)):
        bad = times != np.floor(times)
        raise data_error("time", "non-integer times", bad, tab.index.to_numpy(),
                         "A discrete-time model needs whole periods: build the life table from integer tenures, "
                         "or pass the Tenures (entries and exits are then rounded up to periods).")
    cols = [s.column for s in specs]
    unknown = [c for c in cols if c not in lt.by]
    if unknown:
        raise ValueError(f"Covariates {unknown} are not segments of the life table (segments: {list(lt.by)}). "
                         "Build the life table by those columns, or pass the Tenures.")
    gcode = lt.group_codes
    keys = lt.group_keys()
    n_groups = len(keys)
    if specs:
        x_pat, design = _encode(keys.reset_index(drop=True), specs, np.arange(n_groups))
        template = keys[cols].drop_duplicates().reset_index(drop=True) if n_groups <= 50 else None
    else:
        x_pat, design, template = np.zeros((1, 0)), None, None
        gcode = np.zeros_like(gcode)
    t_int = times.astype(np.int64)
    n_per = int(t_int.max())
    if n_per < 1:
        raise TenureDataError("The life table has no period after time 0.", column="time", n_rows=len(tab))
    has_causes = len(lt.causes) > 0
    causes = list(lt.causes) if has_causes else ["any"]
    ev = lt.cause_events[list(lt.causes)].to_numpy(float) if has_causes else \
        tab["n_events"].to_numpy(float)[:, None]
    at = tab["n_at_risk"].to_numpy(float)
    groups = lt.group_codes
    periods, pats, ns, ds = [], [], [], []
    for g in range(n_groups):
        rows = np.flatnonzero(groups == g)
        tg = t_int[rows]
        grid = np.arange(1, n_per + 1)
        nxt = np.searchsorted(tg, grid, side="left")  # first row with time >= j
        inside = nxt < len(rows)
        n_g = np.where(inside, at[rows][np.minimum(nxt, len(rows) - 1)], 0.0)
        d_g = np.zeros((n_per, ev.shape[1]))
        pos = tg >= 1
        d_g[tg[pos] - 1] = ev[rows][pos]
        keep = n_g > 0
        periods.append(grid[keep])
        pats.append(np.full(int(keep.sum()), gcode[rows[0]] if specs else 0))
        ns.append(n_g[keep])
        ds.append(d_g[keep])
    n_obs = float(lt.n_customers.sum()) if lt.n_customers is not None else float("nan")
    return {"period": np.concatenate(periods), "pattern": np.concatenate(pats).astype(np.int64),
            "n": np.concatenate(ns), "d": np.concatenate(ds), "x_pattern": x_pat, "design": design,
            "causes": causes, "has_causes": has_causes, "n_obs": n_obs, "profile_template": template}


def _compact(code: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Renumber codes 0..n-1 in order of their values (bincount when the range is small, else a sort)."""
    if size <= 4 * len(code) + 1024:
        present = np.bincount(code, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return remap[code].astype(np.int64), int(present.sum())
    uniq, inv = np.unique(code, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), len(uniq)
