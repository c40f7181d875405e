# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Demo retention curve
#
# A tiny notebook used only by `tests/report/test_reporting.py`: it draws one figure, saves one table and
# one methods note through `churnsurv.reporting`, exactly as the real notebooks do.

# %% tags=["parameters"]
fig_dir = "reports/figures"
data_path = None
n_points = 5
label = "default"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from churnsurv.reporting import save_figure, save_table, save_text, use_style

use_style()
PARAMS = {"data_path": data_path, "n_points": n_points, "label": label}

# %%
if data_path is None:
    data = pd.DataFrame({"time": np.arange(n_points, dtype=float), "survival": 0.9 ** np.arange(n_points)})
else:
    data = pd.read_csv(data_path).head(n_points)
print(f"label={label} n_points={n_points} rows={len(data)}")

# %%
fig, ax = plt.subplots()
ax.step(data["time"], data["survival"], where="post", label=label)
ax.set_xlabel("Tenure (months)")
ax.set_ylabel("Share still subscribed")
ax.set_ylim(0, 1.05)
ax.legend()
save_figure(
    fig,
    "demo_survival",
    fig_dir=fig_dir,
    caption=f"Demo retention curve ({label}, {len(data)} points).",
    parameters=PARAMS,
    data_paths=[data_path],
)

# %%
save_table(
    data,
    "demo_table",
    fig_dir=fig_dir,
    caption="The points behind the demo curve.",
    parameters=PARAMS,
    data_paths=[data_path],
)
save_text(
    "Survival is read off a **geometric** toy curve; nothing is estimated.\n\n"
    "- censoring: none\n- time unit: month",
    "demo_methods",
    fig_dir=fig_dir,
    title="Demo curve",
    parameters=PARAMS,
)
