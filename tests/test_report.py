"""The PPC report folder, its pictures and the ``probgen ppc`` / ``fit --ppc`` commands."""

from __future__ import annotations

import html.parser
import os
import warnings
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from fits import prior_fit, quick_fit

import probgen
from probgen.cli import main
from probgen.evaluation import plots
from probgen.evaluation.ppc import COLUMNS, ppc
from probgen.evaluation.report import PPCReport, ppc_report, write_report


# ------------------------------------------------------------------ helpers
class _Links(html.parser.HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("src", "href") and value:
                self.links.append(value)


def links_of(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def assert_png(path: Path) -> None:
    """A readable PNG with real content (not a blank canvas)."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50, image.shape
    assert np.ptp(image[..., :3]) > 0.1, f"{path.name} is blank"


def assert_report_complete(folder: Path, *, loo: bool = True) -> list[str]:
    """index.html, the CSVs, and every link of the page resolving to a file in the folder."""
    for name in ("index.html", "ppc.csv", *(("loo.csv", "loo_pit.csv") if loo else ())):
        assert (folder / name).is_file(), name
    links = links_of(folder / "index.html")
    assert links, "the page links nothing"
    for link in links:
        assert "/" not in link and not link.startswith(("http", "file")), link
        assert (folder / link).is_file(), f"index.html links missing {link}"
        if link.endswith(".png"):
            assert_png(folder / link)
    # every picture in the folder is shown on the page
    pngs = {p.name for p in folder.glob("*.png")}
    assert pngs <= set(links), pngs - set(links)
    # no temporary folder left beside the report
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]
    return links


@pytest.fixture(scope="module")
def schools():
    return quick_fit("eight_schools", seed=1)


@pytest.fixture(scope="module")
def counts():
    """A real Poisson regression fit on the first 300 observations (cheap)."""
    data = probgen.get_model("poisson_regression").default_data()
    data = {"X": data["X"].iloc[:300], "exposure": data["exposure"][:300], "y": data["y"][:300]}
    return quick_fit("poisson_regression", data=data, seed=1)


# ------------------------------------------------------------------ the report
def test_report_of_a_real_fit(schools, tmp_path):
    out = ppc_report(schools, tmp_path / "report", seed=3)
    assert out == tmp_path / "report"
    links = assert_report_complete(out)
    expected = {"ppc_tstat.png", "ppc_dist_y.png", "ppc_pit_y.png", "loo_pit_y.png"}
    assert expected <= set(links)
    assert "rootogram_y.png" not in links  # y is real-valued
    # the CSV is the ppc table of the same replicated data (same seed), plus verdicts
    table = pd.read_csv(out / "ppc.csv")
    assert list(table.columns) == [*COLUMNS, "verdict"]
    again = ppc(schools, seed=3)
    np.testing.assert_allclose(table["p_value"], again["p_value"])
    np.testing.assert_allclose(table["observed"], again["observed"])
    loo = pd.read_csv(out / "loo.csv")
    assert loo["n"].item() == 8 and np.isfinite(loo["elpd_loo"].item())
    assert loo.filter(like="k ").sum(axis=1).item() == 8  # every k counted once
    page = (out / "index.html").read_text(encoding="utf-8")
    for line in table["verdict"]:
        assert line.replace(">", "&gt;").replace("<", "&lt;") in page
    # the title names the model, backend and draws; the verdict is the diagnose one
    assert "eight_schools" in page and "numpyro" in page and "2 chains x 100 draws" in page
    verdict = probgen.diagnose(schools)
    assert verdict.headline() in page
    assert ("not shown trustworthy" in page) == (not verdict.ok)


def test_untrustworthy_fit_says_so_at_the_top(schools, tmp_path, monkeypatch):
    import probgen.evaluation.report as report_module

    monkeypatch.setattr(report_module, "_figures", lambda *a, **k: [])  # not needed here
    bad = schools.copy()
    stats = bad["sample_stats"].to_dataset()
    stats["diverging"] = stats["diverging"] | True  # every transition diverged
    bad["sample_stats"] = stats
    report = write_report(bad, tmp_path / "bad")
    assert not report.trustworthy
    page = (tmp_path / "bad" / "index.html").read_text(encoding="utf-8")
    banner = page.index("not shown trustworthy")
    assert banner < page.index("Posterior predictive checks")  # before any check


def test_a_misfit_is_flagged_in_red(schools, tmp_path, monkeypatch):
    import probgen.evaluation.report as report_module
    from probgen.evaluation.command import print_summary

    monkeypatch.setattr(report_module, "_figures", lambda *a, **k: [])  # not needed here
    shifted = schools.copy()
    shifted["observed_data"] = shifted["observed_data"].to_dataset() + 1000.0
    report = write_report(shifted, tmp_path / "shifted", statistics=["mean", "sd"])
    assert report.flagged == [report.verdict_lines[0]]  # the mean, not the sd
    page = (tmp_path / "shifted" / "index.html").read_text(encoding="utf-8")
    assert page.count('<tr class="flag">') == 1
    assert print_summary(report, strict=True) == 1
    honest = write_report(schools, tmp_path / "honest", statistics=["mean", "sd"])
    assert honest.flagged == []
    assert print_summary(honest, strict=True) == (0 if honest.trustworthy else 1)


def test_count_model_gets_a_rootogram(counts, tmp_path):
    report = write_report(counts, tmp_path / "counts")
    links = assert_report_complete(report.path)
    assert "rootogram_y.png" in links
    assert not [f for f in report.figures if f.error], report.problems
    assert "prop_zero" in set(report.table["statistic"])


def test_existing_folder_is_refused_then_replaced_whole(schools, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError, match="overwrite"):
        ppc_report(schools, out)
    assert (out / "stale.txt").exists()
    ppc_report(schools, out, overwrite=True)
    assert not (out / "stale.txt").exists()
    assert_report_complete(out)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        ppc_report(schools, tmp_path / "file")


def test_failure_halfway_leaves_no_report(schools, tmp_path, monkeypatch):
    import probgen.evaluation.report as report

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # the pictures come after the CSVs are written in the temporary folder
    monkeypatch.setattr(report, "_figures", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ppc_report(schools, tmp_path / "half")
    assert list(tmp_path.iterdir()) == []  # neither the report nor its temp folder


def test_bad_arguments_are_refused_early(schools, tmp_path):
    with pytest.raises(ValueError, match="unknown statistic 'kurtosis'"):
        ppc_report(schools, tmp_path / "a", statistics=["sd", "kurtosis"])
    with pytest.raises(TypeError, match="DataTree"):
        ppc_report({"posterior": 1}, tmp_path / "b")
    prior = probgen.sample_prior_predictive("eight_schools", draws=20)
    with pytest.raises(ValueError, match="no posterior group"):
        ppc_report(prior, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ pictures
def test_two_dim_variables_make_one_panel(tmp_path):
    fit = prior_fit("bernoulli_naive_bayes")  # X (obs, feature): 1797 x 64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # arviz: "X looks binary"
        pc = plots.plot_ppc_pit(fit, tmp_path / "pit.png", var_names="X", max_elements=3000)
    figure = pc.viz["figure"].item()
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 1
    assert_png(tmp_path / "pit.png")
    tree = plots.pooled(fit, ["X"], ("observed_data",), max_elements=3000)
    assert tree["observed_data"]["X"].shape == (3000,)
    assert tree.attrs["subset"] == {"X": (3000, 1797 * 64)}


def test_tstat_panels_are_the_table_statistics(counts):
    fit = plots.with_predictive(counts, seed=2)
    tree = plots.tstat_tree(fit, ["mean", "sd", "prop_zero"])
    assert list(tree["observed_data"].data_vars) == ["y · mean", "y · sd", "y · prop_zero"]
    table = ppc(fit, ["mean", "sd", "prop_zero"])
    rep = tree["posterior_predictive"].to_dataset()
    for row in table.itertuples():
        label = f"y · {row.statistic}"
        assert tree["observed_data"][label].item() == pytest.approx(row.observed)
        assert float(np.mean(rep[label].values >= row.observed)) == pytest.approx(row.p_value)


@pytest.mark.filterwarnings("ignore::probgen.errors.HighParetoKWarning")
def test_compare_plot(schools, tmp_path):
    other = quick_fit("eight_schools", seed=2, config={"centered": True})
    pc = plots.plot_compare({"noncentered": schools, "centered": other}, tmp_path / "cmp.png")
    assert_png(tmp_path / "cmp.png")
    labels = [t.get_text() for t in pc.viz["figure"].item().axes[0].get_yticklabels()]
    assert set(labels) == {"noncentered", "centered"}
    with pytest.raises(ValueError, match="columns"):
        plots.plot_compare(pd.DataFrame({"elpd": [1.0]}))
    with pytest.raises(TypeError, match="compare table"):
        plots.plot_compare([schools, other])


def test_image_grid_of_a_classifier(tmp_path):
    fit = prior_fit("bernoulli_naive_bayes")
    fig = plots.plot_image_grid(fit, tmp_path / "digits.png", n=9, seed=1)
    assert_png(tmp_path / "digits.png")
    generated, real = fig.subfigs
    assert generated._suptitle.get_text() == "generated"
    assert real._suptitle.get_text() == "real"
    classes = {str(c) for c in range(10)}
    for sub in (generated, real):
        shown = [ax for ax in sub.axes if ax.images]
        assert len(shown) == 9
        assert all(ax.images[0].get_array().shape == (8, 8) for ax in shown)
        assert {ax.get_title() for ax in shown} <= classes
    # the real side shows the fit's own images, labelled with their own classes
    arrays = plots.image_grid_arrays(fit, n=9, seed=1)
    images, labels = arrays["real"]
    X = fit["observed_data"]["X"].values.reshape(-1, 8, 8)
    y = fit["observed_data"]["y"].values
    for image, label in zip(images, labels, strict=True):
        rows = np.flatnonzero((image == X).all(axis=(1, 2)))
        assert rows.size and label in {str(int(y[r])) for r in rows}


def test_image_grid_refuses_other_models(schools):
    with pytest.raises(ValueError, match="not an image model"):
        plots.plot_image_grid(schools)
    with pytest.raises(ValueError, match="not a square"):
        plots.image_side(10)
    assert plots.image_side(784) == 28


def test_drawing_leaves_the_matplotlib_backend_alone(schools):
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    plt.switch_backend("svg")
    try:
        before = plt.get_fignums()
        plots.plot_ppc_tstat(schools, statistics=["sd"])
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == before  # no figure left open in pyplot
    finally:
        plt.switch_backend(previous)


# ------------------------------------------------------------------ commands
def test_ppc_command(schools, tmp_path, capsys):
    path = probgen.save_fit(schools, tmp_path / "fit.nc")
    code = main(["ppc", str(path), "--out", str(tmp_path / "rep"), "--statistics", "mean", "sd"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert str(tmp_path / "rep" / "index.html") in captured.out
    assert "y · sd: observed" in captured.out
    assert set(pd.read_csv(tmp_path / "rep" / "ppc.csv")["statistic"]) == {"mean", "sd"}
    assert_report_complete(tmp_path / "rep")
    # a second run into the same folder needs --overwrite (refused before any work)
    assert main(["ppc", str(path), "--out", str(tmp_path / "rep")]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_ppc_command_refuses_bad_input(schools, tmp_path, capsys):
    out = str(tmp_path / "out")
    cases = {
        "missing": (str(tmp_path / "nope.nc"), [], "no fit file"),
        "not netcdf": (str(tmp_path / "text.nc"), [], "not a netCDF fit"),
        "prior predictive": (str(tmp_path / "prior.nc"), [], "no posterior group"),
        "unknown statistic": (str(tmp_path / "fit.nc"), ["--statistics", "sd", "skew"], "skew"),
    }
    (tmp_path / "text.nc").write_text("this is not a fit\n")
    probgen.save_fit(
        probgen.sample_prior_predictive("eight_schools", draws=10), tmp_path / "prior.nc"
    )
    probgen.save_fit(schools, tmp_path / "fit.nc")
    for name, (path, extra, message) in cases.items():
        code = main(["ppc", path, "--out", out, *extra])
        err = capsys.readouterr().err
        assert code == 2, name
        assert err.startswith("error:") and message in err, (name, err)
        assert "Traceback" not in err
    assert not os.path.exists(out)


def test_fit_with_ppc_writes_the_report(tmp_path, capsys):
    fit_path = tmp_path / "schools.nc"
    argv = ["fit", "eight_schools", "--out", str(fit_path), "--chains", "2", "--draws", "100"]
    argv += ["--warmup", "100", "--no-progress", "--ppc"]
    assert main(argv) == 0, capsys.readouterr().err
    assert fit_path.is_file()
    assert_report_complete(tmp_path / "schools_ppc")
    assert "posterior predictive check report" in capsys.readouterr().out
    # the report folder now exists: a second run is refused before sampling
    assert main(argv) == 2
    assert "not empty" in capsys.readouterr().err


# ------------------------------------------------------------------ the whole zoo
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", probgen.list_models())
def test_report_for_every_model(name, backend, tmp_path):
    fit = prior_fit(name, backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report: PPCReport = write_report(fit, tmp_path / name)
    # LOO needs a pointwise log likelihood (not gp_regression's joint one): when it
    # cannot be computed the page must say so
    assert_report_complete(report.path, loo=False)
    page = (report.path / "index.html").read_text(encoding="utf-8")
    if not (report.path / "loo.csv").exists():
        assert any(p.startswith("LOO:") for p in report.problems)
        assert "Not computed" in page
    failed = {f.file: f.error for f in report.figures if f.error}
    assert not failed
    assert len(report.verdict_lines) == len(report.table)
