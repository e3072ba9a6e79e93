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


def with_settings(fit, **attrs):
    """A fake fit carrying the sampler settings a probgen fit records."""
    fit.attrs.update(attrs)
    return fit


# ------------------------------------------------------------ one chain
def test_one_chain_reports_what_it_can_and_says_what_it_cannot():
    verdict = probgen.diagnose(fake_fit(chains=1))
    checks = {c.name: c for c in verdict.checks}
    rhat = checks.pop("r_hat")
    assert rhat.passed is None and rhat.value is None and rhat.status == "n/a"
    assert rhat.detail == "not computed: needs >= 2 chains"
    assert all(c.passed for c in checks.values()), verdict.report()
    # not failed, not passed: ok is False (nothing shows the fit trustworthy)
    assert verdict.failed == [] and verdict.not_computed == [rhat]
    assert verdict.ok is False
    report = verdict.report()
    assert report.startswith("NOT VERIFIED") and "[n/a] r_hat" in report
    assert "at least 2 chains" in verdict.suggestion()
    assert verdict.to_dict()["checks"][3]["status"] == "n/a"


def test_one_chain_still_fails_what_it_can_see():
    verdict = probgen.diagnose(fake_fit(chains=1, diverging=3))
    assert {c.name for c in verdict.failed} == {"divergences"}
    assert verdict.report().startswith("NOT TRUSTWORTHY: 1 of 7 diagnostics failed; 1 could not")


def test_constant_variable_is_quiet(recwarn):
    fit = fake_fit()
    fit["posterior"]["a"] = fit["posterior"]["a"] * 0.0  # R-hat and ESS are 0/0
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict.report()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ---------------------------------------------------- what to try next
@pytest.mark.parametrize(
    ("kwargs", "attrs", "expected"),
    [
        ({"diverging": 3}, {"target_accept": 0.8}, "raise target_accept to 0.95 (it was 0.8)"),
        ({"diverging": 3}, {"target_accept": 0.95}, "raise target_accept to 0.99 (it was 0.95)"),
        ({"diverging": 3}, {"target_accept": 0.99}, "reparameterize the model"),
        (
            {"diverging": 3},
            {"target_accept": 0.8, "probgen_config": '{"centered": true}'},
            "the non-centered form (config centered=False), or raise target_accept to 0.95",
        ),
        ({"diverging": 3}, {}, "raise target_accept (e.g. to 0.95)"),
        (
            {"depth_hits": 5},
            {"max_tree_depth": 10, "dense_mass": 0},
            "raise max_tree_depth to 12 (it was 10) or set dense_mass=True",
        ),
        # dense_mass already on: not suggested again
        (
            {"depth_hits": 5},
            {"max_tree_depth": 12, "dense_mass": 1},
            "raise max_tree_depth to 14 (it was 12)",
        ),
        ({"energy_ar": 0.99}, {}, "reparameterize the model"),
        (
            {"shift": 3.0},
            {"draws": 1000, "warmup": 500},
            "run longer: draws=2000, warmup=1000 (it was 1000 and 500)",
        ),
        ({"chains": 1}, {}, "run at least 2 chains"),
        # divergences come first: more draws do not cure them
        ({"diverging": 3, "shift": 3.0}, {"target_accept": 0.8}, "raise target_accept"),
    ],
)
def test_suggestion_follows_what_failed(kwargs, attrs, expected):
    verdict = probgen.diagnose(with_settings(fake_fit(**kwargs), **attrs))
    assert verdict.suggestion().startswith(expected), verdict.suggestion()
    if attrs.get("dense_mass"):
        assert "dense_mass" not in verdict.suggestion()
    assert f"Try: {verdict.suggestion()}" in verdict.report()


def test_warning_message_is_short_and_points_at_the_report():
    fit = with_settings(fake_fit(diverging=3, shift=3.0), target_accept=0.8)
    message = probgen.diagnose(fit).warning_message("eight_schools")
    first, second = message.splitlines()
    assert first.startswith("eight_schools fit NOT TRUSTWORTHY: divergences: 3 of 4000")
    assert first.endswith("also failed: r_hat, ess_bulk, ess_tail, mcse.")
    assert second == (
        "Try: raise target_accept to 0.95 (it was 0.8). Full report: probgen.diagnose(fit)"
    )


def test_ok_verdict_has_no_suggestion():
    verdict = probgen.diagnose(fake_fit())
    assert verdict.suggestion() == "" and "Try:" not in verdict.report()


def test_repr_html_is_a_table_of_the_checks():
    verdict = probgen.diagnose(fake_fit(chains=1, diverging=3))
    page = verdict._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and page.endswith("</div>")
    for check in verdict.checks:
        assert f"<td>{check.name}</td>" in page
    assert page.count(">pass</td>") == 5
    assert page.count(">FAIL</td>") == 1 and page.count(">not computed</td>") == 1
    assert "NOT TRUSTWORTHY" in page and "Try: raise target_accept" in page


def test_repr_html_escapes():
    fit = fake_fit()
    fit["posterior"] = fit["posterior"].dataset.rename({"a": "a<b>"})
    page = probgen.diagnose(fit, ess_min=1e9)._repr_html_()
    assert "<b>" not in page.replace("<p><b>", "").replace("</b></p>", "")
    assert "a&lt;b&gt;" in page


# ---------------------------------------------- through probgen.sample
def test_sample_with_one_chain_keeps_the_draws(capfd):
    import xarray as xr

    with pytest.warns(probgen.UntrustworthyFitWarning) as record:
        fit = probgen.sample("eight_schools", chains=1, draws=200, warmup=200)
    assert isinstance(fit, xr.DataTree)
    assert dict(fit["posterior"].sizes) == {"chain": 1, "draw": 200, "school": 8}
    checks = {c.name: c for c in probgen.diagnose(fit).checks}
    assert checks["r_hat"].detail == "not computed: needs >= 2 chains"
    [warning] = [w for w in record if w.category is probgen.UntrustworthyFitWarning]
    assert "r_hat (needs >= 2 chains)" in str(warning.message)
    assert "probgen.diagnose(fit)" in str(warning.message)
    # attributed to this file (the user's call), not to probgen's code
    assert warning.filename == __file__
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)  # no stray output without a progress bar


def test_a_failing_diagnosis_never_loses_the_fit(monkeypatch):
    def broken(fit, **kwargs):
        raise RuntimeError("the diagnostics broke")

    monkeypatch.setattr("probgen.diagnostics.diagnose", broken)
    with pytest.warns(probgen.UntrustworthyFitWarning) as record:
        fit = probgen.sample("eight_schools", chains=2, draws=50, warmup=50)
    assert fit["posterior"].sizes["draw"] == 50
    [warning] = [w for w in record if w.category is probgen.UntrustworthyFitWarning]
    assert "RuntimeError: the diagnostics broke" in str(warning.message)
    assert "draws are returned unchecked" in str(warning.message)
    assert warning.filename == __file__


def test_warnings_from_deep_inside_probgen_point_at_the_caller():
    import types

    from probgen.errors import warn_user

    # two layers of probgen code between this test and the warning
    inner = types.ModuleType("probgen._layer_inner")
    inner.warn_user = warn_user
    exec("def deep():\n    warn_user('from deep inside', UserWarning)\n", inner.__dict__)
    outer = types.ModuleType("probgen._layer_outer")
    outer.inner = inner
    exec("def call():\n    inner.deep()\n", outer.__dict__)
    with pytest.warns(UserWarning, match="from deep inside") as record:
        outer.call()
    assert record[0].filename == __file__
