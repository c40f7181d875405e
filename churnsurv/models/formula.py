"""Covariate specifications shared by the regression models: a small formula language and treatment coding.

``"Contract + Q('Monthly Charge') + C(Plan, ref='basic')"`` becomes a design matrix with terms such as
``Contract[One Year]``; the same design encodes prediction profiles later.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, data_error, find_stack_level
from churnsurv.exceptions import StatisticalWarning, TenureDataError


@dataclass
class _Spec:
    column: str
    categorical: bool | None = None  # None: decide from the dtype
    reference: object = None


@dataclass
class _Design:
    """How raw covariate columns become the design matrix (kept to encode prediction profiles)."""

    kinds: list = field(default_factory=list)  # (column, "numeric"|"categorical"|"matrix", levels, reference)
    terms: list = field(default_factory=list)
    term_column: list = field(default_factory=list)  # raw column behind each term
    center: np.ndarray | None = None


_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<bq>`[^`]*`)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)"""
                    r"""|(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<op>[~+(),=])|(?P<bad>\S))""")


def _parse_formula(formula: str) -> list[_Spec]:
    """Parse ``"a + Q('b c') + C(d, ref='x')"`` into specs (see :meth:`FineGray.fit`)."""
    tokens = []
    pos = 0
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if m is None:  # only trailing blanks left
            break
        kind = m.lastgroup
        text = m.group(kind)
        tokens.append((kind, text, m.start(kind)))
        pos = m.end()
    tokens.append(("end", "", len(formula)))
    i = 0

    def fail(expected):
        kind, text, at = tokens[i]
        got = "the end" if kind == "end" else repr(text)
        raise ValueError(
            f"Cannot parse the formula {formula!r}: expected {expected} at position {at}, got {got}. FineGray "
            "formulas are '+'-separated covariates: column names, Q('name with spaces') or `name`, and "
            "C(column, ref='level') for a categorical with a named reference level. Interactions, "
            "transformations and '-' terms are not supported: build such columns in the frame first.")

    def take(kind, text=None):
        nonlocal i
        k, t, _ = tokens[i]
        if k == kind and (text is None or t == text):
            i += 1
            return t
        return None

    def column():
        nonlocal i
        if (t := take("bq")) is not None:
            return t[1:-1]
        k, t, _ = tokens[i]
        if k == "name" and t == "Q" and tokens[i + 1][1] == "(":
            i += 2
            s = take("str")
            if s is None:
                fail("a quoted column name inside Q()")
            if take("op", ")") is None:
                fail("')'")
            return s[1:-1]
        if k == "name" and t != "C":
            i += 1
            return t
        fail("a column name")

    def literal():
        if (s := take("str")) is not None:
            return s[1:-1]
        if (s := take("num")) is not None:
            return float(s) if any(c in s for c in ".eE") else int(s)
        if (s := take("name")) in ("True", "False"):
            return s == "True"
        fail("a quoted level (ref='level')")

    specs = []
    take("op", "~")
    if any(k == "op" and t == "~" for k, t, _ in tokens[i:]):
        raise ValueError(f"The formula {formula!r} has a left-hand side; give only the covariates (the outcome "
                         "comes from the tenure table), e.g. \"Contract + Q('Monthly Charge')\".")
    while True:
        if tokens[i][0] == "name" and tokens[i][1] == "C" and tokens[i + 1][1] == "(":
            i += 2
            col, ref = column(), None
            if take("op", ","):
                if take("name") not in ("ref", "reference") or take("op", "=") is None:
                    fail("ref='level'")
                ref = literal()
            if take("op", ")") is None:
                fail("')'")
            specs.append(_Spec(col, True, ref))
        else:
            specs.append(_Spec(column()))
        if tokens[i][0] == "end":
            return specs
        if take("op", "+") is None:
            fail("'+'")


def _level_codes(values: pd.Series) -> tuple[list[str], np.ndarray]:
    """Level labels (in order) and each row's position among them, for a categorical covariate (no missing).

    Works on integer codes (one hash pass, no per-level comparison of Python objects): a categorical column keeps
    the order of its categories (those present), a numeric one the numeric order, anything else the sorted labels.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        present = np.bincount(codes, minlength=len(cats)) > 0
        labels = list(dict.fromkeys(c for c, p in zip(cats, present, strict=True) if p))
        lut = np.array([labels.index(c) if p else -1 for c, p in zip(cats, present, strict=True)], dtype=np.int64)
        return labels, lut[codes]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        uniq, codes = np.unique(values.to_numpy(dtype=float), return_inverse=True)
        return [_label(v) for v in uniq], codes.ravel()
    codes, uniq = pd.factorize(values)
    names = [str(u) for u in uniq]
    labels = sorted(set(names))
    lut = np.array([labels.index(n) for n in names], dtype=np.int64)
    return labels, lut[codes]


def _encode(frame: pd.DataFrame, specs: list[_Spec], ids) -> tuple[np.ndarray, _Design]:
    design = _Design()
    cols = []
    for spec in specs:
        raw = frame[spec.column]
        missing = raw.isna().to_numpy()
        if missing.any():
            raise data_error(spec.column, "missing covariate values", missing, ids,
                             "Drop or impute these rows first (cmprsk::crr would drop them silently); "
                             "e.g. frame.dropna(subset=[...]).")
        categorical = spec.categorical
        if categorical is None:
            categorical = (isinstance(raw.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(raw)
                           or not pd.api.types.is_numeric_dtype(raw))
        if not categorical:
            values = raw.to_numpy(dtype=float)
            infinite = np.isinf(values)
            if infinite.any():
                raise data_error(spec.column, "infinite covariate values (inf or -inf)", infinite, ids,
                                 "An infinite value is usually a division by zero upstream (e.g. a charge per "
                                 "month at tenure 0): fix or drop these rows, as for missing values.")
            cols.append(values)
            design.kinds.append((spec.column, "numeric", None, None))
            design.terms.append(spec.column)
            design.term_column.append(spec.column)
            continue
        levels, codes = _level_codes(raw)
        ref = levels[0] if spec.reference is None else _match_level(spec.reference, levels, spec.column)
        if len(levels) < 2:
            raise TenureDataError(
                f"Column {spec.column!r} has a single level ({levels[0]!r}) in the data, so its effect is not "
                "identifiable. Drop it from the covariates.", column=spec.column, n_rows=len(codes))
        for code, lv in enumerate(levels):
            if lv == ref:
                continue
            cols.append((codes == code).astype(float))
            design.terms.append(f"{spec.column}[{lv}]")
            design.term_column.append(spec.column)
        design.kinds.append((spec.column, "categorical", levels, ref))
    return np.column_stack(cols), design


#: Fewer events than this behind a covariate level (or a whole model) make its estimate unreliable.
MIN_EVENTS = 5


def _warn_sparse_terms(x: np.ndarray, design: _Design, event: np.ndarray, terms: list | None = None, *,
                       model: str, min_events: int = MIN_EVENTS) -> None:
    """Warn (StatisticalWarning) when a covariate level, or the model, rests on fewer than ``min_events`` events.

    Counted per 0/1 term (a categorical level, or a binary numeric column, or a tenure-window piece of one):
    the events among the rows where it is 1; per categorical column also its reference level (the rows where
    all its dummies are 0). ``x`` and ``terms`` are the fitted design (default ``design.terms``).
    """
    terms = list(design.terms) if terms is None else list(terms)
    event = np.asarray(event, bool)
    n_events = int(event.sum())
    sparse = []
    for j, term in enumerate(terms):
        col = x[:, j]
        if np.isin(col, (0.0, 1.0)).all():
            k = int(event[col == 1].sum())
            if k < min_events:
                sparse.append(f"{term} ({k} event{'s' if k != 1 else ''})")
    for column, kind, _levels, ref in design.kinds:
        if kind != "categorical" or len(design.terms) != len(terms) or x.shape[1] != len(design.terms):
            continue
        idx = [j for j, c in enumerate(design.term_column) if c == column]
        k = int(event[(x[:, idx] == 0).all(axis=1)].sum())
        if k < min_events:
            sparse.append(f"{column}[{ref}] (the reference level: {k} event{'s' if k != 1 else ''})")
    if n_events < min_events:
        warnings.warn(f"{model}: the model rests on {n_events} events (fewer than {min_events}): its estimates "
                      "and intervals are unreliable.", StatisticalWarning, stacklevel=find_stack_level())
    elif sparse:
        warnings.warn(f"{model}: fewer than {min_events} events behind {', '.join(sparse)}. Such hazard ratios "
                      "are unstable (or run off to infinity); merge the level with a neighbouring one or drop the "
                      "term.", StatisticalWarning, stacklevel=find_stack_level())


def _warn_separation(terms: list, coef, std_error, *, model: str) -> None:
    """Warn (StatisticalWarning) about estimates running off to +-inf: non-finite coefficient or standard error,
    or a coefficient beyond +-10 (a hazard ratio beyond 22,000 or below 1/22,000) whose z is below 0.5."""
    coef, se = np.asarray(coef, float), np.asarray(std_error, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = ~np.isfinite(coef) | ~np.isfinite(se) | ((np.abs(coef) > 10) & ~(np.abs(coef / se) >= 0.5))
    if bad.any():
        named = ", ".join(f"{t} (coef {c:.3g}, std_error {s:.3g})"
                          for t, c, s, b in zip(terms, coef, se, bad, strict=True) if b)
        warnings.warn(f"{model}: the estimate of {named} runs off to infinity (separation: the term's rows with "
                      "events all sit at one end of their risk sets). Its hazard ratio and interval are "
                      "meaningless; merge sparse levels or drop the term.", StatisticalWarning,
                      stacklevel=find_stack_level())


def _match_level(level, levels: list[str], column: str) -> str:
    for cand in (level, str(level)):
        if cand in levels:
            return cand
    if isinstance(level, float) and level.is_integer() and str(int(level)) in levels:
        return str(int(level))
    listed = ", ".join(repr(v) for v in levels)
    raise ValueError(f"The reference level {level!r} of column {column!r} is not among its levels ({listed}).")


def _encode_profiles(profiles: pd.DataFrame, design: _Design) -> np.ndarray:
    needed = [k[0] for k in design.kinds] if design.kinds[0][1] != "matrix" else list(design.terms)
    check_columns(profiles, needed, what="profiles")
    ids = profiles.index.to_numpy()
    if design.kinds[0][1] == "matrix":
        x = profiles[list(design.terms)].apply(pd.to_numeric, errors="coerce")
        bad = ~np.isfinite(x.to_numpy(dtype=float)).all(axis=1)
        if bad.any():
            raise data_error(None, "missing, infinite or non-numeric covariate values", bad, ids,
                             "Profiles need finite numbers.")
        return x.to_numpy(dtype=float)
    cols = []
    for column, kind, levels, ref in design.kinds:
        raw = profiles[column]
        if kind == "numeric":
            num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(num)
            if bad.any():
                raise data_error(column, "missing, infinite or non-numeric values", bad, ids,
                                 "Give every profile a number for each numeric covariate.")
            cols.append(num)
            continue
        labels = np.array([_label(v) for v in raw], dtype=object)
        bad = ~np.isin(labels, np.array(levels, dtype=object))
        if bad.any():
            raise data_error(column, f"levels not seen when fitting (known: {', '.join(map(repr, levels))})",
                             bad, ids, "Use one of the fitted levels.")
        cols += [(labels == lv).astype(float) for lv in levels if lv != ref]
    return np.column_stack(cols)


def _label(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


# ====================================================================== the crr computations
