"""Plot a device study's CSV (columns policy, X, chips, mean_pct, std_pct, min_pct): test
accuracy against X, one line per policy (B: uniform B/B; "B+QAT": after QAT fine-tuning), error
bars +-1 standard deviation over the chips.
Usage: chips_plot.py CSV PNG X XLABEL TITLE [log]  (log: X on a log axis)."""
import sys

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

csv, png, x, xlabel, title = sys.argv[1:6]
logx = len(sys.argv) > 6 and sys.argv[6] == "log"
d = pd.read_csv(csv)
fig, ax = plt.subplots(figsize=(6, 4))
for b, g in d.groupby("policy", sort=False):
    bits, _, qat = str(b).partition("+")
    label = f"{bits}/{bits}" + (f" + {qat}" if qat else "")
    ax.errorbar(g[x], g["mean_pct"], yerr=g["std_pct"], capsize=3, marker="o", label=label)
if logx:
    ax.set_xscale("log")
ax.set_xlabel(xlabel)
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"{title}, {int(d['chips'].iloc[0])} chips per point")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(png, dpi=120)
print("wrote", png)
