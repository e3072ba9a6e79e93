"""Write notebooks/quickstart.ipynb (kept as code so the notebook diff stays readable)."""

from pathlib import Path

import nbformat as nbf

cells = [
    (
        "md",
        "# probgen quickstart\n\nFit a zoo model with NUTS on NumPyro or PyMC, check the fit, "
        "generate from it, save it. Sizes come from `PROBGEN_NB_DRAWS` so CI can run this "
        "notebook small.",
    ),
    (
        "code",
        "import os\n\nimport probgen  # import first: it sets up JAX's CPU devices\n"
        "import arviz_plots as azp\nimport arviz_stats\nimport numpy as np\nimport pandas as pd\n\n"
        "DRAWS = int(os.environ.get('PROBGEN_NB_DRAWS', 1000))\n"
        "probgen.list_models()",
    ),
    ("md", "## The generative story\nEvery model carries its story, data and difficulty."),
    ("code", "print(probgen.get_model('eight_schools').describe())"),
    ("md", "## Fit on NumPyro and on PyMC\nSame site names, dims and coords from both backends."),
    (
        "code",
        "fit_np = probgen.sample('eight_schools', draws=DRAWS, warmup=DRAWS, seed=1)\n"
        "fit_pm = probgen.sample('eight_schools', backend='pymc', sampler='pymc', "
        "draws=DRAWS, warmup=DRAWS, seed=1)\nfit_np",
    ),
    ("md", "## Can the fit be trusted?"),
    ("code", "verdict = probgen.diagnose(fit_np)\nprint(verdict)\nverdict.table.round(2)"),
    ("code", "arviz_stats.summary(fit_pm, var_names=['mu', 'tau'])"),
    ("md", "Both fits go into any ArviZ plot side by side:"),
    (
        "code",
        "azp.plot_forest({'numpyro': fit_np, 'pymc': fit_pm}, var_names=['mu', 'tau', 'theta'], "
        "backend='matplotlib');",
    ),
    ("md", "## Posterior predictive check"),
    (
        "code",
        "fit_np = probgen.sample_posterior_predictive(fit_np, seed=2)\n"
        "azp.plot_ppc_dist(fit_np, backend='matplotlib');",
    ),
    ("md", "## Regression: named coefficients and predictions for new covariates"),
    (
        "code",
        "lr = probgen.sample('linear_regression', draws=DRAWS, warmup=DRAWS, seed=3)\n"
        "print(probgen.diagnose(lr).report())\n"
        "X_new = pd.DataFrame({'mom_hs': [0.0, 1.0], 'mom_iq': [90.0, 120.0]})\n"
        "pred = probgen.predict(lr, {'X': X_new})\n"
        "pred['predictions']['y'].mean(('chain', 'draw')).values",
    ),
    ("md", "## Prior predictive: whole synthetic data sets"),
    (
        "code",
        "prior = probgen.sample_prior_predictive('logistic_regression', draws=50, seed=0)\n"
        "prior['prior_predictive']['y'].mean('obs').values.ravel()[:10]",
    ),
    ("md", "## Save and reload\nFits are netCDF files that `arviz` and `xarray` read as they are."),
    (
        "code",
        "import tempfile, pathlib\npath = pathlib.Path(tempfile.mkdtemp()) / 'eight_schools.nc'\n"
        "probgen.save_fit(fit_np, path)\nreloaded = probgen.load_fit(path)\nsorted(reloaded.children)",
    ),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(s) if k == "md" else nbf.v4.new_code_cell(s) for k, s in cells]
out = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
