"""The figure gallery of the documentation: one figure per churnsurv plot function, on the bundled telco data.

Run by the docs hook (``docs/hooks.py``) at build time, or by hand::

    python docs/gallery.py docs/gallery

Each ``@figure`` function draws one figure. The gallery page shows the setup block below (between the
``[setup]`` markers) and the body of each function, verbatim, next to the PNG it made, so the code on the page
is the code that drew the picture. A function names the data it uses as parameters (``naive``, ``snap``), which
are the objects of the setup block. Figures are saved with :func:`churnsurv.reporting.save_figure` (fixed DPI, no
metadata: byte-identical on reruns) and only the PNG is kept.
"""

from __future__ import annotations

import inspect
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

FIGURES = []  # (name, title, caption, function), in page order


def figure(name: str, title: str, caption: str):
    """Register a gallery figure: ``name`` is the PNG's stem, ``title`` the heading, ``caption`` the text."""

    def register(func):
        FIGURES.append((name, title, caption, func))
        return func

    return register


def setup() -> dict:
    """The data every figure uses (the page shows the code between the markers)."""
    # [setup]
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    import churnsurv as cs
    from churnsurv.reporting import use_style

    use_style()  # the shared churnsurv style, as the notebooks use
    naive = cs.datasets.load_maven_telco()  # the usual reading: every customer followed from sign-up
    snap = cs.datasets.load_maven_telco(truncate=True)  # the snapshot reading: left-truncated entries
    # [/setup]
    return {"cs": cs, "plt": plt, "naive": naive, "snap": snap}


@figure("plot_survival", "Survival curves with the numbers at risk: `plot_survival`",
        "Kaplan-Meier survival by contract under the snapshot reading, with 95% log confidence bands and the "
        "numbers at risk under the axis. Under left truncation the number at risk is not monotone: customers "
        "enter the risk set at their entry time.")
def survival(cs, snap):
    km = cs.KaplanMeier().fit(snap, by="Contract")
    cs.plot_survival(km, at_risk=True, censor_marks=False, title="Survival by contract (snapshot reading)")


@figure("plot_survival_readings", "Two readings of one snapshot: `plot_survival` on a combined table",
        "The same customers read naively (followed from sign-up) and as the snapshot they are (left-truncated "
        "at the quarter's start). Any tidy survival table works: here two fits are stacked with a `reading` "
        "column used as the segment.")
def readings(cs, naive, snap):
    import pandas as pd

    both = pd.concat([
        cs.KaplanMeier().fit(naive).survival_.assign(reading="naive (followed from sign-up)"),
        cs.KaplanMeier().fit(snap).survival_.assign(reading="snapshot (left-truncated)"),
    ])
    cs.plot_survival(both, by="reading", censor_marks=False, title="All customers, two readings")


@figure("plot_cumulative_hazard", "Cumulative hazard: `plot_cumulative_hazard`",
        "Nelson-Aalen cumulative hazard by contract (naive reading), with 95% confidence bands. The slope is the "
        "hazard: steep early for month-to-month contracts.")
def cumulative_hazard(cs, naive):
    na = cs.NelsonAalen().fit(naive, by="Contract")
    cs.plot_cumulative_hazard(na, title="Cumulative hazard by contract (naive reading)")


@figure("plot_hazard", "When does the risk peak? `plot_hazard`",
        "Per-period (monthly) hazard by contract as points, and the kernel-smoothed hazard as lines with 95% "
        "bands; the bandwidth chosen by cross-validation is in the legend (naive reading).")
def hazard(cs, naive):
    raw = cs.DiscreteHazard().fit(naive, by="Contract")
    smooth = cs.SmoothedHazard().fit(naive, by="Contract")
    cs.plot_hazard(smooth, raw, title="Monthly churn hazard by contract (naive reading)")


@figure("plot_loglog", "Proportional hazards check: `plot_loglog`",
        "log(-log S) against log tenure by internet type (naive reading). Parallel curves support proportional "
        "hazards; crossing curves argue against a single hazard ratio.")
def loglog(cs, naive):
    km = cs.KaplanMeier().fit(naive, by="Internet Type")
    cs.plot_loglog(km, title="log(-log S) by internet type")


@figure("plot_cumulative_incidence", "Causes of defection: `plot_cumulative_incidence`",
        "Cumulative incidence of each cause (Aalen-Johansen, naive reading), stacked for month-to-month "
        "customers; the dashed line is 1 - S(t), the share lost to any cause, which the stack reaches exactly.")
def cumulative_incidence(cs, naive):
    aj = cs.AalenJohansen().fit(naive, by="Contract")
    cs.plot_cumulative_incidence(aj, segment="Month-to-Month", title="Month-to-month customers: why they left")


@figure("plot_cumulative_incidence_lines", "One cause across segments: `plot_cumulative_incidence(kind=\"lines\")`",
        "Cumulative incidence of defection to a competitor by contract, with 95% confidence bands (naive "
        "reading): the comparison Gray's test makes.")
def cumulative_incidence_lines(cs, naive):
    aj = cs.AalenJohansen().fit(naive, by="Contract")
    cs.plot_cumulative_incidence(aj, kind="lines", causes=["competitor"],
                                 title="Defection to a competitor, by contract")


@figure("plot_cumulative_incidence_grid", "Small multiples: `plot_cumulative_incidence_grid`",
        "Stacked cumulative incidence by cause, one panel per contract, on shared axes (naive reading).")
def cumulative_incidence_grid(cs, naive):
    aj = cs.AalenJohansen().fit(naive, by="Contract")
    cs.plot_cumulative_incidence_grid(aj)


@figure("plot_forest", "Hazard ratios of two models: `plot_forest`",
        "Hazard ratios (95% CIs) for defection to a competitor: the cause-specific Cox model (rate among "
        "customers still here) and Fine-Gray (subdistribution: share eventually lost); reference contract "
        "Month-to-Month, naive reading.")
def forest(cs, naive):
    import pandas as pd

    ref = {"Contract": "Month-to-Month"}
    covariates = ["Contract", "Monthly Charge"]
    csc = cs.CauseSpecificCox(causes=["competitor"]).fit(naive, covariates=covariates, reference=ref)
    fg = cs.FineGray(cause="competitor").fit(naive, covariates=covariates, reference=ref)
    table = pd.concat([
        csc.hazard_ratios_.assign(model="cause-specific Cox"),
        fg.coef_.assign(model="Fine-Gray", cause="competitor"),
    ]).rename(columns={"hazard_ratio": "estimate"})
    cs.plot_forest(table, title="Defection to a competitor")


def build(out_dir) -> list[Path]:
    """Draw every figure and write ``<out_dir>/<name>.png`` (only files whose bytes changed are rewritten)."""
    from churnsurv.reporting import save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = setup()
    plt = data["plt"]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, _title, caption, func in FIGURES:
            plt.close("all")
            kwargs = {p: data[p] for p in inspect.signature(func).parameters}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the page states the caveats; keep the build log clean
                func(**kwargs)
            fig = plt.gcf()
            png = save_figure(fig, name, fig_dir=tmp, caption=caption)
            target = out_dir / png.name
            if not target.exists() or target.read_bytes() != png.read_bytes():
                shutil.copyfile(png, target)
            written.append(target)
            plt.close("all")
    return written


if __name__ == "__main__":
    for path in build(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "gallery"):
        print(path)
