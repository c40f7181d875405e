"""API checks shared by every estimator (scikit-learn hygiene, CONTRIBUTING.md "Results vocabulary").

For each estimator: ``__init__`` stores its arguments and nothing else (no validation: bad values fail at
``fit``), ``get_params``/``set_params`` round-trip, the repr shows the non-default parameters, ``fit``
returns ``self`` and names its public state with a trailing ``_``, public methods raise ``NotFittedError``
before ``fit``, and a second ``fit`` leaves the tables handed out by the first untouched.
"""

from __future__ import annotations

import copy
import inspect
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

import churnsurv as cs
from churnsurv._base import BaseEstimator
from churnsurv._validation import check_is_fitted
from churnsurv.exceptions import ChurnsurvWarning, NotFittedError


def _frame(seed: int, n: int = 80) -> pd.DataFrame:
    """Small customer table: monthly tenure, two causes plus censoring, a numeric covariate, a segment."""
    rng = np.random.default_rng(seed)
    reason = rng.choice(np.array(["price", "service", None], dtype=object), n, p=[0.4, 0.3, 0.3])
    return pd.DataFrame({
        "tenure": rng.integers(1, 25, n),
        "reason": reason,
        "churned": pd.notna(reason),
        "x": rng.normal(0.0, 1.0, n).round(3),
        "plan": rng.choice(["basic", "pro"], n),
    })


FIRST, SECOND = _frame(0), _frame(1)
SURV = dict(duration="tenure", event="churned", by="plan")
CAUSES = dict(duration="tenure", cause="reason")
PLAIN = dict(duration="tenure", event="churned")
PROFILE = pd.DataFrame({"x": [0.0], "plan": ["pro"]})


def _spells(frame: pd.DataFrame) -> pd.DataFrame:
    """One stay per customer: active from 0 to the tenure, then the cause of leaving (or censored)."""
    return pd.DataFrame({"id": np.arange(len(frame)), "entry": 0.0, "exit": frame["tenure"].astype(float),
                         "from_state": "active", "to_state": frame["reason"], "plan": frame["plan"]})


@dataclass
class Spec:
    cls: type
    fit_kw: dict  # keywords of fit besides the data
    changed: dict  # valid, non-default hyperparameters
    bad: dict  # one hyperparameter value that fit must reject
    methods: dict  # public method -> positional arguments, to call before fit
    results: tuple  # fitted tables handed out to the user
    calls: dict = field(default_factory=dict)  # public method -> arguments, whose result is a table too
    prepare: object = None  # turns the customer table into what fit takes (e.g. state spells)


SPECS = [
    Spec(cs.KaplanMeier, SURV, {"conf_level": 0.9, "conf_type": "plain"}, {"conf_level": 1.5},
         {"predict": ([3, 6],), "quantile": (), "rmst": (), "compare_rmst": (), "summary": ()},
         ("survival_", "median_"), {"predict": ([3, 6],), "summary": ()}),
    Spec(cs.NelsonAalen, SURV, {"conf_type": "plain"}, {"conf_type": "logit-ish"},
         {"predict": ([3, 6],)}, ("cumulative_hazard_",), {"predict": ([3, 6],)}),
    # DiscreteHazard has no public method besides fit: its results are the fitted attributes.
    Spec(cs.DiscreteHazard, SURV, {"method": "exact", "width": 3}, {"width": -1.0},
         {}, ("hazard_",)),
    Spec(cs.SmoothedHazard, SURV, {"kernel": "biweight", "bandwidth": 4.0}, {"kernel": "no-such-kernel"},
         {"predict": ([3, 6],)}, ("hazard_", "bandwidth_"), {"predict": ([3, 6],)}),
    Spec(cs.AalenJohansen, {**CAUSES, "by": "plan"}, {"conf_level": 0.8, "variance": "aalen"},
         {"variance": "bootstrap"}, {"predict": ([3, 6],), "check": ()}, ("cumulative_incidence_", "survival_"),
         {"predict": ([3, 6],)}),
    Spec(cs.FineGray, {**CAUSES, "covariates": ["x", "plan"]}, {"cause": "price", "max_iter": 50},
         {"tol": -1.0},
         {"predict_cumulative_incidence": (pd.DataFrame({"x": [0.0], "plan": ["pro"]}),), "summary": ()},
         ("coef_", "baseline_", "vcov_"),
         {"predict_cumulative_incidence": (pd.DataFrame({"x": [0.0], "plan": ["pro"]}),)}),
    Spec(cs.CauseSpecificCox, {**CAUSES, "covariates": ["x", "plan"]}, {"causes": ["price"], "penalizer": 0.1},
         {"conf_level": 2.0}, {"summary": ()}, ("hazard_ratios_",), {"summary": ()}),
    Spec(cs.CoxPH, {**PLAIN, "covariates": ["x", "plan"]}, {"ties": "breslow", "conf_level": 0.9},
         {"ties": "no-such-ties"}, {"summary": (), "predict_survival": (PROFILE,)}, ("hazard_ratios_",),
         {"summary": (), "predict_survival": (PROFILE,)}),
    Spec(cs.ParametricSurvival, {**PLAIN, "covariates": ["x", "plan"]}, {"family": "lognormal", "conf_level": 0.9},
         {"family": "no-such-family"}, {"summary": (), "predict_survival": ()}, ("params_", "median_"),
         {"summary": (), "predict_survival": ()}),
    Spec(cs.CureModel, {**PLAIN, "covariates": ["x"]}, {"family": "lognormal", "conf_level": 0.9},
         {"family": "no-such-family"}, {"summary": (), "predict_survival": (), "predict_cure": ()},
         ("params_", "cured_fraction_"), {"summary": (), "predict_cure": ()}),
    Spec(cs.ShiftedBetaGeometric, {**PLAIN, "by": "plan"}, {"conf_level": 0.9}, {"conf_level": 2.0},
         {"summary": (), "predict_survival": ()}, ("params_", "fit_statistics_"),
         {"summary": (), "predict_survival": ()}),
    Spec(cs.BetaDiscreteWeibull, PLAIN, {"conf_level": 0.9}, {"conf_level": 2.0},
         {"summary": (), "predict_survival": ()}, ("params_", "fit_statistics_"), {"summary": ()}),
    Spec(cs.DiscreteTimeHazard, {**PLAIN, "covariates": ["x", "plan"]}, {"link": "logit", "baseline": "spline"},
         {"link": "no-such-link"}, {"summary": (), "predict_survival": (PROFILE,)}, ("coef_", "baseline_", "vcov_"),
         {"summary": (), "predict_survival": (PROFILE,)}),
    Spec(cs.PropensityScore, {"treatment": "plan", "covariates": ["x"]}, {"estimand": "ATT", "target": "pro"},
         {"estimand": "no-such-estimand"}, {}, ("propensity_", "coef_", "balance_", "ess_")),
    Spec(cs.AdjustedSurvival, {**PLAIN, "treatment": "plan", "covariates": ["x"], "times": [6, 12]},
         {"method": "iptw", "conf_level": 0.9}, {"method": "no-such-method"}, {"difference": (), "rmst": (12,)},
         ("curves_",), {"difference": ()}),
    Spec(cs.StateOccupation, {"by": "plan"}, {"conf_level": 0.9, "horizons": (6.0,)}, {"conf_level": 2.0},
         {}, ("occupation_", "cumulative_hazard_"), prepare=_spells),
]
IDS = [s.cls.__name__ for s in SPECS]
HYPER = pytest.mark.parametrize("spec", SPECS, ids=IDS)


def fit_quiet(est, data, spec: Spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnsurvWarning)
        return est.fit(spec.prepare(data) if spec.prepare else data, **spec.fit_kw)


def init_params(cls) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def test_every_public_estimator_is_checked():
    estimators = {name for name in cs.__all__ if inspect.isclass(obj := getattr(cs, name)) and hasattr(obj, "fit")}
    assert estimators == set(IDS)


@HYPER
def test_init_only_stores_parameters(spec):
    default = spec.cls()
    assert sorted(vars(default)) == sorted(init_params(spec.cls))
    # no validation in __init__: bad values are stored as given, and rejected by fit
    bad = spec.cls(**spec.bad)
    for key, value in spec.bad.items():
        assert bad.get_params()[key] == value
    (key,) = spec.bad
    with pytest.raises(ValueError, match=f"The '{key}' parameter of {spec.cls.__name__} must be"):
        fit_quiet(bad, FIRST, spec)


@HYPER
def test_get_params_set_params_round_trip(spec):
    est = spec.cls(**spec.changed)
    params = est.get_params()
    assert list(params) == init_params(spec.cls)
    assert params == {**spec.cls().get_params(), **spec.changed}
    assert est.get_params(deep=False) == params
    other = spec.cls()
    assert other.set_params(**params) is other
    assert other.get_params() == params
    assert spec.cls(**params).get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        other.set_params(bogus=1)
    assert other.get_params() == params


@pytest.mark.parametrize("spec", [s for s in SPECS if issubclass(s.cls, BaseEstimator)],
                         ids=[s.cls.__name__ for s in SPECS if issubclass(s.cls, BaseEstimator)])
def test_set_params_message_and_atomicity(spec):
    est = spec.cls()
    name = spec.cls.__name__
    valid = sorted(init_params(spec.cls))
    key = next(iter(spec.changed))
    message = f"Invalid parameter 'bogus' for estimator {name}. Valid parameters are: {valid!r}."
    with pytest.raises(ValueError, match=re.escape(message)):
        est.set_params(**{key: spec.changed[key]}, bogus=1)
    assert est.get_params() == spec.cls().get_params()  # nothing set when a name is unknown


@HYPER
def test_repr_shows_non_default_parameters(spec):
    name = spec.cls.__name__
    assert repr(spec.cls()) == f"{name}()"
    text = repr(spec.cls(**spec.changed))
    assert text.startswith(f"{name}(") and text.endswith(")")
    for key, value in spec.changed.items():
        assert f"{key}={value!r}" in text
    assert repr(spec.cls(**spec.bad))  # works for values fit would reject


@HYPER
def test_public_methods_need_fit(spec):
    est = spec.cls(**spec.changed)
    with pytest.raises(NotFittedError, match=f"This {spec.cls.__name__} instance is not fitted yet"):
        check_is_fitted(est)
    for method, args in spec.methods.items():
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(est, method)(*args)


@HYPER
def test_fit_returns_self_with_underscored_state(spec):
    est = spec.cls(**spec.changed)
    params = est.get_params()
    assert fit_quiet(est, FIRST, spec) is est
    assert est.get_params() == params  # fit does not touch the hyperparameters
    check_is_fitted(est)
    public = [k for k in vars(est) if not k.startswith("_")]
    assert sorted(k for k in public if not k.endswith("_")) == sorted(init_params(spec.cls))
    for attr in spec.results:
        assert isinstance(getattr(est, attr), pd.DataFrame)
    for method, args in spec.methods.items():
        getattr(est, method)(*args)  # callable once fitted


@HYPER
def test_second_fit_does_not_mutate_earlier_results(spec):
    est = fit_quiet(spec.cls(**spec.changed), FIRST, spec)
    handed = {attr: getattr(est, attr) for attr in spec.results}
    handed.update({f"{m}()": getattr(est, m)(*args) for m, args in spec.calls.items()})
    snapshot = copy.deepcopy(handed)
    first_data = FIRST.copy()
    fit_quiet(est, SECOND, spec)
    pd.testing.assert_frame_equal(FIRST, first_data)
    for key, table in handed.items():
        pd.testing.assert_frame_equal(table, snapshot[key], obj=f"{spec.cls.__name__}.{key}")
    # the refit really changed the estimator's results
    assert any(not getattr(est, attr).equals(snapshot[attr]) for attr in spec.results)
