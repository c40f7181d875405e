"""The NHEFS smoking-cessation data of Hernan & Robins' *Causal Inference: What If*, read from an installed wheel.

Provenance: the NHANES I Epidemiologic Follow-up Study (NHEFS, National Center for Health Statistics, CDC;
wwwn.cdc.gov/nchs/nhanes/nhefs/), the 1,629 cigarette smokers aged 25-74 examined in 1971-75 and again in 1982
that Hernan & Robins use throughout Part II of the book (miguelhernan.org/whatifbook). churnsurv does not ship the
file: it reads ``nhefs.dta`` from the ``causaldata`` package (PyPI, MIT licence; Nick Huntington-Klein's Python
port of the R/Stata ``causaldata`` collection), which must be installed (``pip install causaldata``). The same
1,629 rows also ship in ``causallib`` (``causallib.datasets.load_nhefs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["load_nhefs"]

#: Confounders of the chapter 12-17 models (squares written as ``x^2``, categories as ``C(x)``).
NHEFS_CONFOUNDERS = ["sex", "race", "age", "age^2", "C(education)", "smokeintensity", "smokeintensity^2",
                     "smokeyrs", "smokeyrs^2", "C(exercise)", "C(active)", "wt71", "wt71^2"]


def load_nhefs(survival: bool = True) -> pd.DataFrame:
    """Load the NHEFS data (1,629 smokers) from the installed ``causaldata`` package.

    Parameters
    ----------
    survival : bool, default True
        Add the chapter 17 follow-up: ``survtime``, months from January 1983 to death (``death == 1``) or 120
        (alive at the end of 1992), as ``(yrdth - 83) * 12 + modth`` in the book's programs.

    Returns
    -------
    pandas.DataFrame
        One row per person: the 67 original columns (``qsmk`` quit smoking between 1971 and 1982, ``death``,
        confounders ``sex, race, age, education, smokeintensity, smokeyrs, exercise, active, wt71``...), integer
        coded as in the book, plus ``survtime``. ``attrs["provenance"]`` states the source.

    Raises
    ------
    ImportError
        When ``causaldata`` is not installed, with the command to install it.

    Notes
    -----
    The confounders of the book's models are in ``churnsurv.data.nhefs.NHEFS_CONFOUNDERS``.

    References
    ----------
    .. [1] Hernan, M. A. and Robins, J. M. (2020). *Causal Inference: What If*. Chapman & Hall/CRC.
    """
    try:
        from causaldata import nhefs
    except ImportError as err:
        raise ImportError("load_nhefs reads the NHEFS file shipped in the 'causaldata' package, which is not "
                          "installed: pip install causaldata (or the churnsurv [dev] extra).") from err
    frame = nhefs.load_pandas().data.copy()
    for col in ("seqn", "qsmk", "death", "sex", "race", "education", "exercise", "active", "smokeintensity",
                "smokeyrs", "age"):
        if col in frame.columns and frame[col].notna().all():
            frame[col] = frame[col].astype(np.int64)
    if survival:
        months = (frame["yrdth"] - 83) * 12 + frame["modth"]
        frame["survtime"] = np.where(frame["death"] == 1, months, 120).astype(np.int64)
    frame.attrs["provenance"] = ("NHEFS (NCHS/CDC) as used in Hernan & Robins, Causal Inference: What If; read from "
                                 "the causaldata package (causaldata/nhefs/nhefs.dta).")
    return frame
