"""The CDNOW transaction log (Fader & Hardie): 23,570 customers' purchases of CDs, January 1997 - June 1998.

Provenance: the CDNOW "master" file is a cohort of 23,570 customers who made their first purchase at CDNOW in
the first quarter of 1997, with every repeat purchase to the end of June 1998 (69,659 transactions; columns
customer id, date ``YYYYMMDD``, number of CDs, dollar value). It was released by Bruce Hardie with Fader,
Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24, 275-284
(http://www.brucehardie.com/datasets/). The 1/10 sample (2,357 customers, 6,919 transactions) is the file
``CDNOW_sample.txt``. Both ship inside the ``lifetimes`` wheel (``lifetimes/datasets/``, version 0.11.3);
churnsurv does not vendor them. :func:`load_cdnow` finds them in an installed ``lifetimes`` (without importing
it), in a downloaded wheel (``pip download lifetimes --no-deps``), in a directory, or in the file you point to.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd

__all__ = ["load_cdnow", "cdnow_path"]

_FILES = {False: "CDNOW_master.txt", True: "CDNOW_sample.txt"}
_ENV = "CHURNSURV_CDNOW"


def cdnow_path(sample: bool = False) -> Path | None:
    """Where the CDNOW file is found without a path argument (``$CHURNSURV_CDNOW`` or installed lifetimes)."""
    name = _FILES[bool(sample)]
    env = os.environ.get(_ENV)
    if env:
        p = Path(env)
        return p / name if p.is_dir() else p
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")  # locates the package without importing it (and its deps)
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            p = Path(loc) / "datasets" / name
            if p.is_file():
                return p
    return None


def _read(handle, sample: bool) -> pd.DataFrame:
    raw = pd.read_csv(handle, sep=r"\s+", header=None, comment=None, dtype=str)
    if raw.shape[1] == 5:  # the sample has an extra leading column (the master id)
        raw = raw.iloc[:, 1:]
    if raw.iloc[0, 0].strip().lower().startswith("customer"):
        raw = raw.iloc[1:]
    raw.columns = ["id", "date", "n_cds", "amount"]
    return pd.DataFrame({"id": raw["id"].astype(int).to_numpy(),
                         "date": pd.to_datetime(raw["date"], format="%Y%m%d").to_numpy(),
                         "n_cds": raw["n_cds"].astype(int).to_numpy(),
                         "amount": raw["amount"].astype(float).to_numpy()})


def load_cdnow(path: str | os.PathLike | None = None, *, sample: bool = False) -> pd.DataFrame:
    """Read the CDNOW transaction log: one row per purchase, ``id, date, n_cds, amount``.

    Parameters
    ----------
    path : str or path-like, optional
        The text file, a directory holding it, or a ``lifetimes`` wheel (``.whl``). Default:
        ``$CHURNSURV_CDNOW``, else the ``datasets`` folder of an installed ``lifetimes``.
    sample : bool, default False
        The 1/10 sample (2,357 customers) instead of the master file (23,570 customers, 69,659 purchases).

    Returns
    -------
    pandas.DataFrame
        ``id`` (int), ``date`` (datetime64), ``n_cds`` (int), ``amount`` (float, US dollars).

    Raises
    ------
    FileNotFoundError
        When the file cannot be found, with the ways to get it.
    """
    name = _FILES[bool(sample)]
    p = Path(path) if path is not None else cdnow_path(sample)
    if p is not None and p.is_dir():
        p = p / name
    if p is None or not p.exists():
        raise FileNotFoundError(
            f"The CDNOW file {name!r} was not found{f' at {str(p)!r}' if p is not None else ''}. It ships in the "
            "lifetimes wheel: `pip install lifetimes` (or `pip download lifetimes --no-deps` and pass the .whl "
            f"as path=), or download it from http://www.brucehardie.com/datasets/ and set ${_ENV} to the file.")
    if p.suffix == ".whl":
        with zipfile.ZipFile(p) as z:
            member = next((m for m in z.namelist() if m.endswith("datasets/" + name)), None)
            if member is None:
                raise FileNotFoundError(f"The wheel {str(p)!r} has no datasets/{name}.")
            return _read(io.BytesIO(z.read(member)), sample)
    return _read(p, sample)
