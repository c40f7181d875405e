"""Seeded simulation of churn with known truth: segments, causes, renewal spikes, snapshots, Fine-Gray data.

* :mod:`~churnsurv.data.simulate.hazard`: hazard specifications (:class:`Hazard`, :class:`ChurnScenario`);
* :mod:`~churnsurv.data.simulate.truth`: the exact survival, hazards and incidences of a scenario;
* :mod:`~churnsurv.data.simulate.simulator`: the draws (:func:`simulate_churn`, :func:`simulate_fine_gray`).

Also importable as ``churnsurv.simulate``.
"""

from churnsurv.data.simulate.simulator import (
    ChurnScenario,
    ChurnTruth,
    FineGraySimulation,
    FineGrayTruth,
    Hazard,
    SimulatedChurn,
    default_scenario,
    simulate_churn,
    simulate_fine_gray,
)

__all__ = [
    "ChurnScenario",
    "ChurnTruth",
    "FineGraySimulation",
    "FineGrayTruth",
    "Hazard",
    "SimulatedChurn",
    "default_scenario",
    "simulate_churn",
    "simulate_fine_gray",
]
