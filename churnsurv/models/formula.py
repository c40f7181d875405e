"""Covariate specifications shared by the regression models: a small formula language and treatment coding.

``"Contract + Q('Monthly Charge') + C(Plan, ref='basic')"`` becomes a design matrix with terms such as
``Contract[One Year]``; the same design encodes prediction profiles later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, data_error
from churnsurv.exceptions import TenureDataError


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


def _level_labels(values: pd.Series) -> tuple[list[str], np.ndarray]:
    """Level labels (in order) and the label of each row of a categorical covariate."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        labels = values.astype(object).map(str).to_numpy()
        present = set(labels)
        levels = [str(c) for c in values.cat.categories if str(c) in present]
        return levels, labels
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        num = values.to_numpy(dtype=float)
        fmt = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in num]
        uniq = sorted(set(num.tolist()))
        levels = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in uniq]
        return levels, np.asarray(fmt, dtype=object)
    labels = values.map(str).to_numpy()
    return sorted(set(labels)), labels


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
            cols.append(raw.to_numpy(dtype=float))
            design.kinds.append((spec.column, "numeric", None, None))
            design.terms.append(spec.column)
            design.term_column.append(spec.column)
            continue
        levels, labels = _level_labels(raw)
        ref = levels[0] if spec.reference is None else _match_level(spec.reference, levels, spec.column)
        if len(levels) < 2:
            raise TenureDataError(
                f"Column {spec.column!r} has a single level ({levels[0]!r}) in the data, so its effect is not "
                "identifiable. Drop it from the covariates.", column=spec.column, n_rows=len(labels))
        for lv in levels:
            if lv == ref:
                continue
            cols.append((labels == lv).astype(float))
            design.terms.append(f"{spec.column}[{lv}]")
            design.term_column.append(spec.column)
        design.kinds.append((spec.column, "categorical", levels, ref))
    return np.column_stack(cols), design


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
        bad = x.isna().any(axis=1).to_numpy()
        if bad.any():
            raise data_error(None, "missing or non-numeric covariate values", bad, ids, "Profiles need numbers.")
        return x.to_numpy(dtype=float)
    cols = []
    for column, kind, levels, ref in design.kinds:
        raw = profiles[column]
        if kind == "numeric":
            num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(num)
            if bad.any():
                raise data_error(column, "missing or non-numeric values", bad, ids,
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
