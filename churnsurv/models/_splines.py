"""Natural cubic spline basis, computed as R's ``splines::ns`` (same columns, so the same coefficients).

The B-spline basis of order 4 on the knots (boundary knots repeated four times, interior knots once) is
projected onto the functions with zero second derivative at both boundary knots, through the Householder QR
of the constraint matrix exactly as LINPACK's ``dqrdc2``/``dqrsl`` compute it (R's ``qr`` and ``qr.qty``). Outside
the boundary knots the basis continues linearly (the natural spline's linear tails).
"""

from __future__ import annotations

import numpy as np

__all__ = ["natural_spline_basis"]


def _bspline(knots: np.ndarray, x: np.ndarray, order: int = 4, deriv: int = 0) -> np.ndarray:
    """B-spline basis (or its ``deriv``-th derivative) at ``x`` inside the knot range, right end included."""
    knots = np.asarray(knots, float)
    x = np.asarray(x, float)
    n_basis = len(knots) - order
    # order-1 pieces: indicator of [t_i, t_{i+1}); the last non-empty interval is closed on the right
    b = np.zeros((len(x), len(knots) - 1))
    for i in range(len(knots) - 1):
        if knots[i + 1] > knots[i]:
            b[:, i] = (x >= knots[i]) & (x < knots[i + 1])
    last = np.flatnonzero(np.diff(knots) > 0)[-1]
    b[x == knots[last + 1], last] = 1.0
    for k in range(2, order + 1):
        nb = len(knots) - k
        new = np.zeros((len(x), nb))
        differentiate = k > order - deriv
        for i in range(nb):
            d1 = knots[i + k - 1] - knots[i]
            d2 = knots[i + k] - knots[i + 1]
            if differentiate:
                left = (k - 1) * b[:, i] / d1 if d1 > 0 else 0.0
                right = (k - 1) * b[:, i + 1] / d2 if d2 > 0 else 0.0
            else:
                left = (x - knots[i]) / d1 * b[:, i] if d1 > 0 else 0.0
                right = (knots[i + k] - x) / d2 * b[:, i + 1] if d2 > 0 else 0.0
            new[:, i] = left - right if differentiate else left + right
        b = new
    assert b.shape[1] == n_basis
    return b


def _householder_q(a: np.ndarray) -> np.ndarray:
    """The orthogonal Q of LINPACK ``dqrdc2`` (no pivoting needed here) for the n x p matrix ``a``."""
    x = np.array(a, float)
    n, p = x.shape
    vecs = []
    for col in range(min(n - 1, p)):
        nrm = np.linalg.norm(x[col:, col])
        if nrm == 0:
            vecs.append(None)
            continue
        if x[col, col] != 0:
            nrm = np.copysign(nrm, x[col, col])
        x[col:, col] /= nrm
        x[col, col] += 1.0
        u = x[col:, col].copy()
        for j in range(col + 1, p):
            t = -(u @ x[col:, j]) / u[0]
            x[col:, j] += t * u
        vecs.append((col, u))
        x[col, col] = -nrm
    q = np.eye(n)
    for item in reversed(vecs):  # qr.qy applies H_1 H_2 ... to the identity, last reflection first
        if item is None:
            continue
        col, u = item
        t = -(u @ q[col:, :]) / u[0]
        q[col:, :] += np.outer(u, t)
    return q


def natural_spline_basis(x, knots, boundary_knots) -> np.ndarray:
    """The columns of R's ``splines::ns(x, knots = knots, Boundary.knots = boundary_knots)`` (no intercept).

    Parameters
    ----------
    x : array-like
        Points to evaluate (any real values; beyond the boundary knots the basis is linear).
    knots : array-like
        Interior knots, strictly inside the boundary knots.
    boundary_knots : (float, float)

    Returns
    -------
    numpy.ndarray
        ``len(x)`` x ``len(knots) + 1`` basis matrix.
    """
    x = np.asarray(x, float)
    lo, hi = float(boundary_knots[0]), float(boundary_knots[1])
    inner = np.sort(np.asarray(knots, float))
    aknots = np.r_[[lo] * 4, inner, [hi] * 4]
    n_basis = len(aknots) - 4
    basis = np.zeros((len(x), n_basis))
    inside = (x >= lo) & (x <= hi)
    if inside.any():
        basis[inside] = _bspline(aknots, x[inside])
    for pivot, mask in ((lo, x < lo), (hi, x > hi)):
        if mask.any():
            at = np.array([pivot])
            value, slope = _bspline(aknots, at)[0], _bspline(aknots, at, deriv=1)[0]
            basis[mask] = value + np.outer(x[mask] - pivot, slope)
    const = _bspline(aknots, np.array([lo, hi]), deriv=2)
    basis, const = basis[:, 1:], const[:, 1:]  # intercept = FALSE drops the first B-spline
    q = _householder_q(const.T)
    return (basis @ q)[:, 2:]  # t(qr.qty(qr.const, t(basis))) = basis Q
