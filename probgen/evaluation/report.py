"""The posterior predictive check report: one folder, one ``index.html``.

:func:`ppc_report` writes, for one fit::

    out/
      index.html        the report: fit, diagnostics verdict, checks, LOO, pictures
      ppc.csv           the ppc table (probgen.evaluation.ppc.ppc), verdict column added
      loo.csv           elpd_loo, se, p_loo and the Pareto k counts
      loo_pit.csv       the LOO-PIT uniformity test of each observed variable
      *.png             the pictures that apply to the model (probgen.evaluation.plots)

Every part is computed before anything lands under ``out``: the folder is
built in a temporary folder beside it and renamed into place at the end, so a
failure halfway leaves no half report under the final name. A part that cannot
be computed for this fit (LOO of a fit without log likelihood, a view
arviz_plots cannot draw for this data) is reported in ``index.html`` as not
computed, with the reason, never left out silently.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: replicated values (draws x elements of every observed variable) above which
#: the posterior predictive is drawn from a thinned posterior (every k-th
#: draw), so a report on 784-pixel images does not need gigabytes
MAX_REPLICATED_VALUES = 20_000_000

#: LOO-PIT (table and figure) only for variables with at most this many
#: elements: arviz_stats smooths importance weights once per element, which
#: takes minutes for 100,000 pixels; larger variables are reported as skipped
MAX_LOO_PIT_ELEMENTS = 5_000

#: the PIT figure of a larger variable uses a seeded random subset of elements
MAX_PIT_ELEMENTS = 10_000

#: Pareto k above which PSIS-LOO is unreliable (the value probgen.loo warns at)
PARETO_K_LIMIT = 0.7

#: two-sided level at which a posterior predictive p-value flags a check
ALPHA = 0.05


@dataclass
class Figure:
    """One picture of the report: its file, caption, or why it is missing."""

    file: str
    title: str
    caption: str
    error: str | None = None


@dataclass
class PPCReport:
    """What :func:`write_report` wrote and found.

    Attributes
    ----------
    path : Path
        The report folder.
    table : DataFrame
        The ppc table, with a ``verdict`` column (one line per check).
    verdict_lines : list of str
        ``ppc_verdict``'s one line per check.
    flagged : list of str
        The verdict lines of the checks ``ppc_verdict`` flags at level ALPHA.
    trustworthy : bool
        ``probgen.diagnose(fit).ok``.
    diagnostics : str
        The diagnostics report.
    figures : list of Figure
    problems : list of str
        Parts that could not be computed, one line each (also in index.html).
    """

    path: Path
    table: pd.DataFrame
    verdict_lines: list[str]
    flagged: list[str]
    trustworthy: bool
    diagnostics: str
    figures: list[Figure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# checking the arguments


def check_fit(fit: Any, function: str = "ppc_report") -> None:
    """Refuse early what is not a probgen fit with a posterior and observed data."""
    if not isinstance(fit, xr.DataTree):
        raise TypeError(f"{function}: fit must be an xarray.DataTree, got {type(fit).__name__}")
    groups = list(fit.children)
    if "posterior" not in groups:
        hint = (
            " (it looks like a prior predictive: check it with ppc(fit, group='prior_predictive'))"
            if "prior_predictive" in groups
            else ""
        )
        raise ValueError(
            f"{function}: the fit has no posterior group{hint}; its groups are {groups}"
        )
    if "observed_data" not in groups:
        raise ValueError(f"{function}: the fit has no observed_data group; nothing to check")
    if "probgen_model" not in fit.attrs:
        raise ValueError(
            f"{function}: this DataTree was not made by probgen (no 'probgen_model' attribute)"
        )


def check_out(out: str | os.PathLike, overwrite: bool, function: str = "ppc_report") -> Path:
    """The report folder as a Path; refuses a file, or a non-empty folder unless overwrite."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"{function}: out must be a path, got {type(out).__name__}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{function}: out {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{function}: the folder {str(out)!r} exists and is not empty; "
            "choose another or pass overwrite=True (--overwrite)"
        )
    return out


# --------------------------------------------------------------------------
# the parts


def _thin_for_replicates(fit: xr.DataTree) -> tuple[xr.DataTree, int]:
    """``fit`` thinned by a stride k so the replicated data stay under the limit."""
    obs = fit["observed_data"]
    elements = sum(int(np.prod(obs[v].shape)) for v in obs.data_vars)
    post = fit["posterior"]
    samples = post.sizes["chain"] * post.sizes["draw"]
    k = max(1, math.ceil(samples * elements / MAX_REPLICATED_VALUES))
    if k == 1 or "posterior_predictive" in fit.children:
        return fit, 1
    k = min(k, post.sizes["draw"])
    return fit.isel(draw=slice(None, None, k), missing_dims="ignore"), k


def loo_table(elpd: Any) -> pd.DataFrame:
    """One row: elpd_loo, se, p_loo, n, draws and the Pareto k counts of an ELPDData."""
    k = np.asarray(elpd.pareto_k).ravel()
    good = float(getattr(elpd, "good_k", PARETO_K_LIMIT))
    return pd.DataFrame(
        [
            {
                "elpd_loo": float(elpd.elpd),
                "se": float(elpd.se),
                "p_loo": float(elpd.p),
                "n": int(elpd.n_data_points),
                "draws": int(elpd.n_samples),
                "good_k_threshold": good,
                f"k <= {good:.2f} (good)": int(np.sum(k <= good)),
                f"{good:.2f} < k <= 1 (bad)": int(np.sum((k > good) & (k <= 1))),
                "k > 1 (very bad)": int(np.sum(k > 1)),
                "max_k": float(np.nanmax(k)) if k.size else float("nan"),
            }
        ]
    )


def loo_pit_table(values: xr.Dataset) -> pd.DataFrame:
    """The LOO-PIT uniformity test per variable, as :func:`probgen.evaluation.ppc.loo_pit`
    computes it, from values already at hand."""
    from probgen.evaluation.ppc import PIT_COLUMNS, uniformity_pvalue

    rows = []
    for name, da in values.data_vars.items():
        flat = np.asarray(da.values, dtype=float).ravel()
        flat = flat[np.isfinite(flat)]  # missing observations have no PIT
        rows.append(
            {
                "variable": name,
                "n": int(flat.size),
                "p_value": uniformity_pvalue(flat),
                "method": "pot_c",
            }
        )
    return pd.DataFrame(rows, columns=PIT_COLUMNS)


#: how ppc_verdict ends the line of a check it flags
_MISFIT = "the model does not reproduce this"


def _flagged(line: str) -> bool:
    """Whether ppc_verdict flagged the check (the report follows its rule, ties included)."""
    return line.endswith(_MISFIT)


def _safe(name: str) -> str:
    """A variable name as a file-name part."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _figures(
    fit: xr.DataTree,
    names: list[str],
    statistics: Any,
    seed: int,
    folder: Path,
    loo_pit_vars: Sequence[str],
    pit_values: xr.Dataset | None,
) -> list[Figure]:
    """Draw every picture that applies; a picture that fails is kept with its error."""
    from probgen.evaluation import plots

    jobs: list[tuple[Figure, Callable[[Path], Any]]] = []

    def add(file: str, title: str, caption: str, draw: Callable[[Path], Any]) -> None:
        jobs.append((Figure(file, title, caption), draw))

    add(
        "ppc_tstat.png",
        "Test statistics",
        "Distribution of each checked statistic over the replicated data sets; the "
        "dot is the observed value.",
        lambda p: plots.plot_ppc_tstat(fit, p, statistics=statistics, seed=seed),
    )
    for var in names:
        discrete = plots.is_discrete(fit, var)
        dims = fit["observed_data"][var].dims
        pooled = f" All {' x '.join(dims)} elements are pooled." if len(dims) > 1 else ""
        add(
            f"ppc_dist_{_safe(var)}.png",
            f"{var}: predictive distribution",
            f"The observed {var} ({'ECDF' if discrete else 'density'}) over those of "
            f"replicated data sets.{pooled}",
            lambda p, v=var: plots.plot_ppc_dist(fit, p, var_names=v, seed=seed),
        )
        size = int(np.prod(fit["observed_data"][var].shape))
        subset = (
            f" A seeded random {MAX_PIT_ELEMENTS} of the {size} elements."
            if size > MAX_PIT_ELEMENTS
            else ""
        )
        add(
            f"ppc_pit_{_safe(var)}.png",
            f"{var}: PIT",
            "Δ-ECDF of the probability integral transform of each observed value under "
            "its predictive distribution, with a simultaneous band; inside the band is "
            f"consistent with calibration.{pooled}{subset}",
            lambda p, v=var: plots.plot_ppc_pit(
                fit, p, var_names=v, seed=seed, max_elements=MAX_PIT_ELEMENTS
            ),
        )
        if var in loo_pit_vars:
            add(
                f"loo_pit_{_safe(var)}.png",
                f"{var}: LOO-PIT",
                "Δ-ECDF of the leave-one-out PIT values (each observation judged by the "
                f"model fitted without it).{pooled}",
                lambda p, v=var: plots.plot_loo_pit(fit, p, var_names=v, values=pit_values),
            )
        if discrete:
            add(
                f"rootogram_{_safe(var)}.png",
                f"{var}: rootogram",
                "Observed frequency of each value against its predictive frequency "
                f"(square-root scale).{pooled}",
                lambda p, v=var: plots.plot_ppc_rootogram(fit, p, var_names=v, seed=seed),
            )
    if plots.IMAGE_MODELS.get(fit.attrs.get("probgen_model")) in names:
        add(
            "images.png",
            "Generated and real images",
            "Left: images generated from the posterior predictive; right: observed images.",
            lambda p: plots.plot_image_grid(fit, p, n=16, seed=seed),
        )
    done = []
    for fig, draw in jobs:
        try:
            with warnings.catch_warnings(record=True) as caught:
                # arviz_plots' advice (binary data, sample counts) is console noise
                # here; probgen's own notes on what a picture leaves out go into
                # its caption
                warnings.simplefilter("always")
                draw(folder / fig.file)
            notes = [str(w.message) for w in caught if str(w.message).startswith("plot_")]
            if notes:
                fig.caption += " Note: " + " ".join(notes)
        except Exception as exc:  # reported in the page, not hidden
            fig.error = f"{type(exc).__name__}: {exc}"
            (folder / fig.file).unlink(missing_ok=True)
        done.append(fig)
    return done


# --------------------------------------------------------------------------
# html


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.alarm{background:#fde2e2;border:3px solid #c00;padding:.8em 1em;color:#900}
.ok{background:#e5f5e5;border:2px solid #393;padding:.8em 1em}
.warn{background:#fff4d6;border:2px solid #d90;padding:.6em 1em}
tr.flag td{background:#fde2e2}pre{white-space:pre-wrap}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _num(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _esc(x)
    if not np.isfinite(v):
        return _esc(v)
    return f"{v:.4g}"


def _table_html(df: pd.DataFrame, flags: Sequence[bool] | None = None) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    rows = []
    for i, (_, row) in enumerate(df.iterrows()):
        cells = "".join(
            f'<td class="num">{_num(v)}</td>'
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
            else f"<td>{_esc(v)}</td>"
            for v in row
        )
        cls = ' class="flag"' if flags is not None and flags[i] else ""
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _html(
    fit: xr.DataTree,
    *,
    trustworthy: bool,
    diagnostics: str,
    table: pd.DataFrame,
    flags: list[bool],
    loo: pd.DataFrame | None,
    loo_warnings: list[str],
    loo_pit: pd.DataFrame | None,
    figures: list[Figure],
    problems: list[str],
    stride: int,
    seed: int,
) -> str:
    a = fit.attrs
    model = a.get("probgen_model", "?")
    chains, draws = fit["posterior"].sizes["chain"], fit["posterior"].sizes["draw"]
    title = f"Posterior predictive check: {model}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f"<p>model <b>{_esc(model)}</b> · backend <b>{_esc(a.get('backend', '?'))}</b>"
        f" (sampler {_esc(a.get('sampler', '?'))}) · {chains} chains x {draws} draws"
        f" · configuration <code>{_esc(a.get('probgen_config', '{}'))}</code>"
        f" · report seed {seed} · written "
        f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>",
    ]
    if trustworthy:
        parts.append(f'<div class="ok"><b>Diagnostics:</b><pre>{_esc(diagnostics)}</pre></div>')
    else:
        parts.append(
            '<div class="alarm"><h2>⚠ This fit is not shown trustworthy</h2>'
            "<p>The sampler diagnostics below did not all pass, so the posterior may be "
            "wrong and every check in this report describes that possibly wrong "
            "posterior. Fix the fit first.</p>"
            f"<pre>{_esc(diagnostics)}</pre></div>"
        )
    if problems:
        items = "".join(f"<li>{_esc(p)}</li>" for p in problems)
        parts.append(f'<div class="warn"><b>Not computed:</b><ul>{items}</ul></div>')
    parts.append("<h2>Posterior predictive checks</h2>")
    if stride > 1:
        parts.append(
            f"<p>Replicated data from every {stride}th posterior draw (the full "
            "replicated data would not fit in memory).</p>"
        )
    prob = table.attrs.get("prob", 0.89)
    parts.append(
        f"<p>For each statistic T: T of the observed data, the mean and central "
        f"{prob:.0%} interval of T over replicated data sets, and the posterior "
        "predictive p-value P(T(y_rep) ≥ T(y)). Rows in red are the checks the model "
        "fails: the observed value is in either tail of the replicated ones at "
        f"two-sided level {ALPHA:g} (a p-value below {ALPHA / 2:g}, or replicates "
        f"strictly above the observed value more than {1 - ALPHA / 2:g} of the time; "
        "ties, such as a count's 5% quantile that is 0 in every data set, are no "
        'misfit). Table: <a href="ppc.csv">ppc.csv</a>.</p>'
    )
    parts.append(_table_html(table, flags))
    parts.append("<h2>Leave-one-out cross-validation (PSIS-LOO)</h2>")
    if loo is not None:
        parts.append(_table_html(loo))
        parts.append('<p>Table: <a href="loo.csv">loo.csv</a>.</p>')
        for w in loo_warnings:
            parts.append(f'<div class="warn"><b>High Pareto k:</b> {_esc(w)}</div>')
    else:
        parts.append("<p>Not computed (see above).</p>")
    parts.append("<h3>LOO-PIT uniformity test</h3>")
    if loo_pit is not None:
        parts.append(
            "<p>p-value of a test that the LOO-PIT values are uniform (small: the "
            'leave-one-out predictive distributions are miscalibrated). Table: <a href="'
            'loo_pit.csv">loo_pit.csv</a>.</p>'
        )
        parts.append(_table_html(loo_pit))
    else:
        parts.append("<p>Not computed (see above).</p>")
    parts.append("<h2>Pictures</h2>")
    for fig in figures:
        if fig.error is None:
            parts.append(
                f'<figure><h3>{_esc(fig.title)}</h3><img src="{_esc(fig.file)}" '
                f'alt="{_esc(fig.title)}"><figcaption>{_esc(fig.caption)}</figcaption></figure>'
            )
        else:
            parts.append(
                f'<figure><h3>{_esc(fig.title)}</h3><div class="warn">not drawn: '
                f"{_esc(fig.error)}</div></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------
# the public functions


def write_report(
    fit: xr.DataTree,
    out: str | os.PathLike,
    *,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> PPCReport:
    """Write the report folder and return what it found (:func:`ppc_report` returns
    only the folder). Parameters as :func:`ppc_report`."""
    from probgen.diagnostics import diagnose
    from probgen.errors import HighParetoKWarning
    from probgen.evaluation import plots
    from probgen.evaluation.loo import loo
    from probgen.evaluation.ppc import loo_pit_values, ppc, ppc_verdict
    from probgen.evaluation.ppc import resolve_statistics as _resolve_statistics
    from probgen.results import model_from_fit
    from probgen.settings import check_count

    check_fit(fit)
    out = check_out(out, overwrite)
    seed = check_count("seed", seed, minimum=0)
    model_from_fit(fit)  # a fit of a model this installation knows
    names = list(fit["observed_data"].data_vars)
    # unknown statistics are refused before any work (ppc's own rules)
    _resolve_statistics(statistics)

    verdict = diagnose(fit)
    replicated, stride = _thin_for_replicates(fit)
    replicated = plots.with_predictive(replicated, seed=seed)
    table = ppc(replicated, statistics, seed=seed)
    lines = ppc_verdict(table, alpha=ALPHA)
    flags = [_flagged(line) for line in lines]
    table = table.assign(verdict=lines)

    problems: list[str] = []
    loo_df, loo_warnings = None, []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", HighParetoKWarning)
            elpd = loo(fit)
        loo_warnings = [str(w.message) for w in caught if w.category is HighParetoKWarning]
        loo_df = loo_table(elpd)
    except Exception as exc:
        problems.append(f"LOO: {type(exc).__name__}: {exc}")
    loo_pit_df, loo_pit_vars = None, []
    sizes = {v: int(np.prod(fit["observed_data"][v].shape)) for v in names}
    for var in names:
        if sizes[var] > MAX_LOO_PIT_ELEMENTS:
            problems.append(
                f"LOO-PIT of {var}: {sizes[var]} elements, more than "
                f"MAX_LOO_PIT_ELEMENTS = {MAX_LOO_PIT_ELEMENTS} (Pareto smoothing per "
                "element would take minutes); its PIT figure is drawn instead"
            )
        else:
            loo_pit_vars.append(var)
    pit_values = None
    if loo_pit_vars:
        try:
            # computed once for the table and the figures (the smoothing is the cost)
            pit_values = loo_pit_values(replicated, var_names=loo_pit_vars)
            loo_pit_df = loo_pit_table(pit_values)
        except Exception as exc:
            problems.append(f"LOO-PIT: {type(exc).__name__}: {exc}")
            loo_pit_vars = []

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        table.to_csv(tmp / "ppc.csv", index=False)
        if loo_df is not None:
            loo_df.to_csv(tmp / "loo.csv", index=False)
        if loo_pit_df is not None:
            loo_pit_df.to_csv(tmp / "loo_pit.csv", index=False)
        figures = _figures(replicated, names, statistics, seed, tmp, loo_pit_vars, pit_values)
        problems += [f"picture {f.file}: {f.error}" for f in figures if f.error]
        page = _html(
            fit,
            trustworthy=verdict.ok,
            diagnostics=verdict.report(),
            table=table,
            flags=flags,
            loo=loo_df,
            loo_warnings=loo_warnings,
            loo_pit=loo_pit_df,
            figures=figures,
            problems=problems,
            stride=stride,
            seed=seed,
        )
        (tmp / "index.html").write_text(page, encoding="utf-8")
        # mkdtemp makes the folder private; give it the permissions mkdir would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PPCReport(
        path=out,
        table=table,
        verdict_lines=lines,
        flagged=[line for line, f in zip(lines, flags, strict=True) if f],
        trustworthy=verdict.ok,
        diagnostics=verdict.report(),
        figures=figures,
        problems=problems,
    )


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished folder to ``out``; an existing ``out`` is replaced whole."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)  # put the previous report back
        raise
    shutil.rmtree(old, ignore_errors=True)


def ppc_report(
    fit: xr.DataTree,
    out: str | os.PathLike,
    *,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write a posterior predictive check report folder for a fit.

    Parameters
    ----------
    fit : DataTree
        A probgen fit (``probgen.sample`` or ``probgen.load_fit``) with a
        posterior and observed data. Its posterior predictive is generated when
        missing (from a thinned posterior when it would exceed
        :data:`MAX_REPLICATED_VALUES` values).
    out : path
        The report folder. Built beside it under a temporary name and renamed
        into place when complete.
    statistics : list or dict, optional
        As :func:`probgen.evaluation.ppc.ppc`: None for each variable's defaults,
        names of built-ins, functions, or {name: function}.
    seed : int
        Seed of the replicated data and of the pictures' random choices.
    overwrite : bool
        Replace an existing non-empty folder ``out`` (whole, once the new report
        is complete). Default False: such a folder is refused.

    Returns
    -------
    Path
        ``out``, holding ``index.html``, ``ppc.csv``, ``loo.csv``,
        ``loo_pit.csv`` and the PNG pictures that apply to the model.

    Raises
    ------
    TypeError, ValueError
        A fit that is not a probgen fit with a posterior and observed data, an
        unknown statistic, a bad seed, ``out`` naming a file.
    FileExistsError
        ``out`` is a non-empty folder and ``overwrite`` is False.
    """
    return write_report(fit, out, statistics=statistics, seed=seed, overwrite=overwrite).path
