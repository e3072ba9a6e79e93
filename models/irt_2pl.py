"""Two-parameter logistic item response model (2PL IRT)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt

from probgen import Field, Model, ModelData

from ._data import load_json

MU_B_SCALE = 5.0
SIGMA_B_SCALE = 2.0
SIGMA_A_SCALE = 1.0


class Irt2PL(Model):
    r"""2PL item response theory: persons' abilities, items' difficulty and discrimination.

    Generative story (site names as in both backends), items i = 1..I, persons
    j = 1..J::

        theta[j]  ~ Normal(0, 1)                     (ability of person j)
        sigma_a   ~ HalfNormal(1)
        mu_b      ~ Normal(0, 5)
        sigma_b   ~ HalfCauchy(2)
        centered (default):
            a[i] ~ LogNormal(0, sigma_a)             (discrimination, > 0)
            b[i] ~ Normal(mu_b, sigma_b)             (difficulty)
        non-centered (centered=False):
            a_std[i] ~ Normal(0, 1);   a[i] = exp(sigma_a * a_std[i])        (deterministic)
            b_std[i] ~ Normal(0, 1);   b[i] = mu_b + sigma_b * b_std[i]      (deterministic)
        y[i, j]   ~ Bernoulli(logit^-1(a[i] * (theta[j] - b[i])))    (observed)

    This is posteriordb's / Stan's benchmark ``irt_2pl`` program
    (``a ~ lognormal(0, sigma_a)``, ``b ~ normal(mu_b, sigma_b)``,
    ``mu_b ~ normal(0, 5)``, ``sigma_b ~ cauchy(0, 2)``) with two changes:

    * Identification of location and scale: Stan's program has
      ``theta ~ normal(0, sigma_theta)`` with a free ``sigma_theta``; but the
      likelihood depends on the parameters only through a[i] (theta[j] - b[i]),
      which is unchanged by theta -> c theta, b -> c b, a -> a / c (and by a shift
      of theta and b together). Fixing theta ~ Normal(0, 1) pins the scale and
      location of the ability axis, so a, b and theta mean something on their own
      (b in units of the persons' sd, a the log-odds change per person sd).
    * ``sigma_a ~ HalfNormal(1)`` instead of a half-Cauchy(0, 2): a log-normal
      with a Cauchy-tailed log-scale puts prior mass on discriminations like
      exp(100), which overflow in prior predictive draws; HalfNormal(1) still
      allows discriminations from ~0.1 to ~10.

    The discrimination a[i] is positive, so the model has no sign flip (with a
    real-valued a, (a, theta, b) -> (-a, -theta, -b) gives the same likelihood and
    the posterior would have two mirror-image modes): a higher ability always
    means a higher chance of answering correctly.

    Dims: ``y`` along (``item``, ``person``) (Stan's ``y[I, J]`` layout);
    ``a``, ``b``, ``a_std``, ``b_std`` along ``item``; ``theta`` along ``person``.
    ``I`` and ``J`` are Stan-style size keys: checked against ``y`` when both are
    given, and alone (``{"I": 10, "J": 500}``) they size a data set to generate.

    Data: posteriordb ``irt_2pl`` (I = 20 items, J = 100 persons, y correct (1) or
    incorrect (0)), which posteriordb describes as simulated from a 2PL model
    (Stan's stat_comp_benchmarks); BSD-3, see ``models/data/LICENCE-posteriordb.md``.

    Inference difficulty: mild. There are J + 2 I + 3 parameters; each theta is
    informed by only I = 20 binary answers (posterior sd about 0.4), each item
    by J = 100. Non-centering does not help here: with 100 answers per item
    the data pin each b[i] down (posterior sd about 0.3) far more tightly than
    the spread of the items (``sigma_b`` about 2), so the centered form's
    geometry is close to Gaussian, whereas the non-centered ``b_std`` is tied
    to ``mu_b`` and ``sigma_b`` by the likelihood (on the bundled data the
    non-centered form's smallest bulk ESS, for ``sigma_a``, is 356 from 4000
    draws against 720 centered, with R-hat 1.009 against 1.005). The centered
    form is therefore the default; ``centered=False`` is the better choice when
    there are few persons per item (weakly informed items, where the centered
    hierarchy becomes a funnel). The slowest quantity is ``sigma_a``, the spread
    of 20 log-discriminations that are each uncertain (sd about 0.3). Default
    settings (4 chains x 1000 draws, target_accept 0.8) fit the bundled data on
    both backends with no divergences.

    Discriminative counterpart: a logistic regression of y on person and item
    indicators (``sklearn.linear_model.LogisticRegression`` on one-hot person and
    item columns) is the 1PL (Rasch) model's maximum-likelihood fit; the 2PL's
    item-specific slopes have no scikit-learn counterpart.

    Generation beyond fitting: :meth:`generate_persons` draws the answers of new
    persons (fresh abilities from Normal(0, 1)) to the fitted items.

    Parameters
    ----------
    centered : bool, default True
        Sample ``a`` and ``b`` directly; False samples the standardized
        ``a_std`` and ``b_std`` instead (non-centered).
    """

    name = "irt_2pl"
    family = "hierarchical"
    summary = (
        "Two-parameter logistic item response model (abilities, difficulties, discriminations)"
    )
    fields = (
        Field(
            "y",
            ("item", "person"),
            kind="binary",
            observed=True,
            doc="1 if person j answered item i correctly",
        ),
    )
    sizes = {"I": "item", "J": "person"}

    def __init__(self, centered: bool = True):
        self.centered = centered

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {
            "theta": ("person",),
            "sigma_a": (),
            "mu_b": (),
            "sigma_b": (),
            "a": ("item",),
            "b": ("item",),
        }
        if not self.centered:
            dims["a_std"] = ("item",)
            dims["b_std"] = ("item",)
        return dims

    def default_data(self) -> dict[str, Any]:
        return load_json("irt_2pl.json")

    # -------------------------------------------------------------- backends
    def numpyro_model(self, data: ModelData) -> None:
        n_item, n_person = data.size("item"), data.size("person")
        with numpyro.plate("person", n_person):
            theta = numpyro.sample("theta", dist.Normal(0.0, 1.0))
        sigma_a = numpyro.sample("sigma_a", dist.HalfNormal(SIGMA_A_SCALE))
        mu_b = numpyro.sample("mu_b", dist.Normal(0.0, MU_B_SCALE))
        sigma_b = numpyro.sample("sigma_b", dist.HalfCauchy(SIGMA_B_SCALE))
        with numpyro.plate("item", n_item):
            if self.centered:
                a = numpyro.sample("a", dist.LogNormal(0.0, sigma_a))
                b = numpyro.sample("b", dist.Normal(mu_b, sigma_b))
            else:
                a_std = numpyro.sample("a_std", dist.Normal(0.0, 1.0))
                b_std = numpyro.sample("b_std", dist.Normal(0.0, 1.0))
                a = numpyro.deterministic("a", jnp.exp(sigma_a * a_std))
                b = numpyro.deterministic("b", mu_b + sigma_b * b_std)
        logit = a[:, None] * (theta[None, :] - b[:, None])
        with numpyro.plate("person", n_person, dim=-1), numpyro.plate("item", n_item, dim=-2):
            numpyro.sample("y", dist.Bernoulli(logits=logit), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            theta = pm.Normal("theta", 0.0, 1.0, dims="person")
            sigma_a = pm.HalfNormal("sigma_a", SIGMA_A_SCALE)
            mu_b = pm.Normal("mu_b", 0.0, MU_B_SCALE)
            sigma_b = pm.HalfCauchy("sigma_b", SIGMA_B_SCALE)
            if self.centered:
                a = pm.LogNormal("a", 0.0, sigma_a, dims="item")
                b = pm.Normal("b", mu_b, sigma_b, dims="item")
            else:
                a_std = pm.Normal("a_std", 0.0, 1.0, dims="item")
                b_std = pm.Normal("b_std", 0.0, 1.0, dims="item")
                a = pm.Deterministic("a", pt.exp(sigma_a * a_std), dims="item")
                b = pm.Deterministic("b", mu_b + sigma_b * b_std, dims="item")
            logit = a[:, None] * (theta[None, :] - b[:, None])
            pm.Bernoulli("y", logit_p=logit, observed=data["y"], dims=("item", "person"))
        return model

    # ------------------------------------------------------------ generation
    def generate_persons(self, fit, n: int, *, seed: int = 0) -> np.ndarray:
        """Answers of ``n`` new persons to the fitted items, one set per posterior draw.

        For each posterior draw of the items' ``a`` and ``b``, ``n`` new
        abilities are drawn from their prior Normal(0, 1) (the population the
        persons come from) and each new person answers every item:
        ``y_new[i, j] ~ Bernoulli(logit^-1(a[i] (theta_new[j] - b[i])))``.
        The fitted persons' abilities are not used.

        Parameters
        ----------
        fit : DataTree
            A fit of this model (``probgen.sample``).
        n : int
            Number of new persons (>= 1).
        seed : int

        Returns
        -------
        ndarray of int, shape (chain, draw, item, n)
            0/1 answers.
        """
        from probgen.settings import check_count

        n = check_count("n", n)
        seed = check_count("seed", seed, minimum=0)
        post = fit["posterior"]
        a = np.asarray(post["a"].transpose("chain", "draw", "item").values, dtype=float)
        b = np.asarray(post["b"].transpose("chain", "draw", "item").values, dtype=float)
        rng = np.random.default_rng(seed)
        theta = rng.standard_normal((*a.shape[:2], 1, n))
        p = 1.0 / (1.0 + np.exp(-a[..., None] * (theta - b[..., None])))
        return (rng.random(p.shape) < p).astype(np.int64)
