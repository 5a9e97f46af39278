"""Fit a line by gradient descent under MSE, MAE and Huber's loss, with 5% outliers.

Run: python docs/outliers.py
"""

import numpy as np

import fastmse as fm

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, 1000)
y = 2.0 * x + 1.0 + 0.1 * rng.standard_normal(1000)
outliers = rng.choice(1000, 50, replace=False)
y[outliers] += rng.uniform(20, 40, 50)  # a few huge errors, all upwards

losses = {"mse": fm.mse_grad, "mae": fm.mae_grad, "huber": fm.huber_grad}
print(f"{'loss':<6}{'slope':>8}{'intercept':>11}   (true line: slope 2, intercept 1)")
for name, gradient in losses.items():
    slope, intercept = 0.0, 0.0
    for step in range(5000):
        g = gradient(y, slope * x + intercept)  # d loss / d prediction
        # MAE's gradient keeps its size near the optimum, so the step must shrink.
        rate = 1.0 / (1.0 + step / 100)
        slope -= rate * float(g @ x)
        intercept -= rate * float(g.sum())
    print(f"{name:<6}{slope:>8.3f}{intercept:>11.3f}")
