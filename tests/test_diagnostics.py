"""The verdict: each check fires on the problem it is for, and only then."""

from __future__ import annotations

import arviz_base
import numpy as np
import pytest

import probgen


def fake_fit(*, shift=0.0, diverging=0, depth_hits=0, energy_ar=0.0, chains=4, draws=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(chains, draws))
    x[0] += shift  # one chain elsewhere: R-hat
    energy = rng.normal(size=(chains, draws))
    if energy_ar:  # slowly varying energy: low E-BFMI
        for t in range(1, draws):
            energy[:, t] = energy_ar * energy[:, t - 1] + 0.05 * energy[:, t]
    div = np.zeros((chains, draws), bool)
    div.flat[:diverging] = True
    hit = np.zeros((chains, draws), bool)
    hit.flat[:depth_hits] = True
    return arviz_base.from_dict(
        {
            "posterior": {"a": x, "b": rng.normal(size=(chains, draws, 3))},
            "sample_stats": {
                "diverging": div,
                "energy": energy,
                "reached_max_treedepth": hit,
                "tree_depth": np.where(hit, 10, 3),
            },
        }
    )


def test_clean_fit_passes_every_check():
    verdict = probgen.diagnose(fake_fit())
    assert verdict.ok, verdict.report()
    assert {c.name for c in verdict.checks} == {
        "divergences",
        "tree_depth",
        "e_bfmi",
        "r_hat",
        "ess_bulk",
        "ess_tail",
        "mcse",
    }
    assert "TRUSTWORTHY" in verdict.report()
    assert list(verdict.table.columns[:2]) == ["mean", "sd"]


@pytest.mark.parametrize(
    ("kwargs", "failing"),
    [
        ({"shift": 3.0}, {"r_hat"}),
        ({"diverging": 3}, {"divergences"}),
        ({"depth_hits": 5}, {"tree_depth"}),
        ({"energy_ar": 0.99}, {"e_bfmi"}),
    ],
)
def test_each_problem_fails_its_check(kwargs, failing):
    verdict = probgen.diagnose(fake_fit(**kwargs))
    assert not verdict.ok
    assert failing <= {c.name for c in verdict.failed}, verdict.report()
    assert "NOT TRUSTWORTHY" in verdict.report()


def test_few_draws_fail_ess_and_mcse():
    verdict = probgen.diagnose(fake_fit(draws=60), mcse_rel_max=0.05)
    failed = {c.name for c in verdict.failed}
    assert {"ess_bulk", "ess_tail", "mcse"} <= failed


def test_thresholds_are_configurable():
    fit = fake_fit(diverging=3)
    assert probgen.diagnose(fit, max_divergences=5).ok
    assert probgen.diagnose(fit, ess_min=10).ok is False  # still 3 divergences


def test_verdict_as_dict():
    d = probgen.diagnose(fake_fit()).to_dict()
    assert d["ok"] is True and len(d["checks"]) == 7


def test_diagnose_rejects_non_fits():
    with pytest.raises(ValueError, match="posterior group"):
        probgen.diagnose({"a": 1})
