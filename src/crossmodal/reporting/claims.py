"""The paper's claims about Table I, tested on our accuracies with confidence intervals.

Each claim is a signed contrast between Table I cells ("which cells minus which") that the paper
says is positive (above ``margin``). Where each comes from, quoted from van Tulder & de Bruijne,
IEEE TMI 2019 (Sec. V-A and VI; docs/method.md lists the repo's reading of the paper):

* ``pfn_with_md_a0``, ``pfn_with_md_apos``, ``md_with_pfn_a0``, ``md_with_pfn_apos``,
  ``pfn_overall``, ``md_overall`` -- Sec. V-A: "Comparing individual techniques over all
  different combinations, both modality dropout and per-feature normalization consistently
  provide an improvement of the classification accuracy." Sec. VII: "modality dropout and
  per-feature normalization are crucial to maximize the number of cross-modality features and
  obtain the best cross-modality classification results." The four conditional contrasts take
  one technique with the other present (at alpha = 0 and averaged over alpha > 0); the two
  ``overall`` contrasts average over every other setting ("over all different combinations").
* ``md_same`` -- Sec. VI-A: "Modality dropout improved the accuracy of the axial neural network
  in both same-modality and cross-modality classification experiments (Table I)".
* ``sim_plain`` -- Sec. V-A: "it can give an important improvement if either modality dropout or
  per-feature normalization is missing"; Sec. VI-A: "This was different for all other
  combinations: there, increasing the weight of the similarity term produced more similar
  features and a better cross-modality classification accuracy."
* ``sim_combination`` -- Sec. V-A: "Removing the similarity term from this combination of
  methods decreased the cross-modality performance only a little"; Sec. VI-A: "the results of
  this combination were only slightly better if the similarity term was included."
* ``sim_gain_smaller_with_both`` -- Sec. V-A: "if both are present the additional improvement
  of the similarity term is small"; Sec. VII: "The similarity term has a strong influence in
  models without either modality dropout or per-feature normalization, but has only a minor
  positive contribution if both other techniques are used." Tested as an interaction: the
  similarity term's gain for the plain network minus its gain for the combination.
* ``combination_vs_baseline_all``, ``combination_vs_baseline_single`` -- Sec. VI: "The
  cross-modality classification accuracy obtained using this combination of methods was higher
  than that obtained with the baseline method"; Sec. V-A: "the axial neural network with the
  additions discussed in this paper can provide much better cross-modality results than the
  baseline methods".
* ``smaller_drop_than_baseline`` -- Sec. V-A: "the baseline methods achieve a much lower
  accuracy in cross-modality classification than in same-modality classification. The axial
  neural network also shows a drop in performance going from same-modality to cross-modality
  classification, but this drop is much smaller."
* ``same_cost_below_2`` -- Sec. VI: "the best cross-modality classification accuracy, without
  affecting the same-modality classification accuracy too much"; Sec. VI-A: "they also
  maintained most of the original same-modality performance". "Too much" is read as 2 points
  (``margin = -2``) against the basic network (no dropout, no normalization, alpha = 0).
* ``single_baseline_same`` -- Sec. VI-B: "features learned for one specific modality give a
  slightly better same-modality accuracy" (the paper's own OAI numbers give -0.2).

"The combination" is modality dropout + per-feature normalization + the similarity term,
averaged over the configured alpha > 0: Sec. V-A "The best cross-modality accuracy was obtained
with a combination of modality dropout, per-feature normalization and the similarity term".

Contrast syntax: terms ``setting[cells]`` joined by `` + `` / `` - ``; ``setting`` is ``same``
or ``cross``; ``cells`` is ``baseline-all``, ``baseline-single`` or
``md{0|1|*}-pfn{0|1|*}-a{0|>0|*|<alpha>}`` (``*``: every configured value, ``>0``: every
configured alpha above 0). A term is the mean over its cells; the grid decides which cells exist,
so the paper's difference is the same contrast on the paper's values of those cells (NaN where
the paper has no such cell or the dataset has no ``paper:`` key).

Statistics. A unit is one (fold, seed) (:func:`crossmodal.reporting.cell.unit_means`); the contrast is
evaluated per unit -- paired: every term of a unit comes from the same fold's test scans and
forests -- and ``our_difference`` is its mean over the ``n`` units. The 95 % interval is
Student's t interval over the ``n_folds`` fold means of those differences (seeds averaged within
each fold), mean +- t(0.975, n_folds - 1) x SD / sqrt(n_folds). Why per fold and not over the n
units: seeds are nested in folds -- the seeds of a fold share its training and test scans, so
they vary only by training noise, while the folds also vary by which scans are tested on. A t
interval over all n = folds x seeds units as if independent would count that shared test-set
variation once per seed and come out too narrow (by up to sqrt(seeds)); the fold means are
independent draws of the same mean for a balanced design, and more seeds still narrow the
interval by shrinking the training noise in each fold mean. With one seed both are the same.
Why not a bootstrap: with 3 folds a percentile bootstrap of the mean never leaves the range of
the three values, and the range of 3 draws covers the median of a symmetric distribution with
probability only 1 - 2 x 0.5^3 = 75 %, so its nominal 95 % is badly anti-conservative; the t
interval has exact 95 % coverage for normal differences and widens with t(0.975, 2) = 4.30 as it
should at 3 folds. Caveats: folds still share training scans, so even the fold means are not
fully independent; and each of the claims has its own 95 % interval, without a correction for
testing several. Zero spread (every fold the same difference) gives a zero-width interval at
that difference; one fold gives no interval (NaN).

Verdict: ``holds`` when the interval lies above ``margin``, ``contradicted`` when it lies below,
``undecided`` when it contains the margin (or there is no interval: one fold), ``untested`` when
the grid lacks a cell of the contrast. ``paper_in_ci``: whether the paper's difference lies
inside our interval (the sign can hold while the size does not); empty without either.

Output ``results/{ds}/claims.tsv``: columns ``CLAIM_COLUMNS``, one row per claim, numbers
rounded to 3 decimals.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import cell_networks, parse_model_id
from crossmodal.common.tsv_tables import read_table
from crossmodal.evaluation.evaluate import read_accuracy
from crossmodal.reporting.cell import SETTINGS, unit_means, with_seeds
from crossmodal.reporting.paper_table import describe_cell, load_paper_table

CLAIM_COLUMNS = [
    "dataset",
    "key",
    "claim",
    "contrast",
    "margin",
    "paper_difference",
    "our_difference",
    "ci_low",
    "ci_high",
    "n",
    "n_folds",
    "verdict",
    "paper_in_ci",
    "section",
]
VERDICTS = ("holds", "contradicted", "undecided", "untested")
LEVEL = 0.95
COMBINATION = "md1-pfn1-a>0"


@dataclass(frozen=True)
class Claim:
    """One claim of the paper about Table I: ``contrast`` > ``margin`` (percentage points)."""

    key: str
    claim: str
    contrast: str
    section: str
    margin: float = 0.0


CLAIMS = (
    Claim("pfn_with_md_a0",
          "With modality dropout, per-feature normalization raises cross-modality accuracy (α = 0)",
          "cross[md1-pfn1-a0] - cross[md1-pfn0-a0]", "V-A, VII"),
    Claim("pfn_with_md_apos",
          "With modality dropout, per-feature normalization raises cross-modality accuracy (mean over α > 0)",
          "cross[md1-pfn1-a>0] - cross[md1-pfn0-a>0]", "V-A, VII"),
    Claim("md_with_pfn_a0",
          "With per-feature normalization, modality dropout raises cross-modality accuracy (α = 0)",
          "cross[md1-pfn1-a0] - cross[md0-pfn1-a0]", "V-A, VII"),
    Claim("md_with_pfn_apos",
          "With per-feature normalization, modality dropout raises cross-modality accuracy (mean over α > 0)",
          "cross[md1-pfn1-a>0] - cross[md0-pfn1-a>0]", "V-A, VII"),
    Claim("pfn_overall",
          "Per-feature normalization raises cross-modality accuracy (mean over dropout and α)",
          "cross[md*-pfn1-a*] - cross[md*-pfn0-a*]", "V-A"),
    Claim("md_overall",
          "Modality dropout raises cross-modality accuracy (mean over normalization and α)",
          "cross[md1-pfn*-a*] - cross[md0-pfn*-a*]", "V-A"),
    Claim("md_same",
          "Modality dropout raises same-modality accuracy (mean over normalization and α)",
          "same[md1-pfn*-a*] - same[md0-pfn*-a*]", "VI-A"),
    Claim("sim_plain",
          "The similarity term raises cross-modality accuracy of the plain network (mean over α > 0 vs α = 0)",
          "cross[md0-pfn0-a>0] - cross[md0-pfn0-a0]", "V-A, VI-A"),
    Claim("sim_combination",
          "The similarity term raises cross-modality accuracy with dropout and normalization (mean over α > 0 vs α = 0)",
          "cross[md1-pfn1-a>0] - cross[md1-pfn1-a0]", "V-A, VI-A"),
    Claim("sim_gain_smaller_with_both",
          "The similarity term gains less with dropout and normalization than without either",
          "cross[md0-pfn0-a>0] - cross[md0-pfn0-a0] - cross[md1-pfn1-a>0] + cross[md1-pfn1-a0]",
          "V-A, VI-A, VII"),
    Claim("combination_vs_baseline_all",
          "Dropout + normalization + similarity beats features from all modalities (cross-modality)",
          f"cross[{COMBINATION}] - cross[baseline-all]", "V-A, VI"),
    Claim("combination_vs_baseline_single",
          "Dropout + normalization + similarity beats features from the training modality (cross-modality)",
          f"cross[{COMBINATION}] - cross[baseline-single]", "V-A, VI"),
    Claim("smaller_drop_than_baseline",
          "Dropout + normalization + similarity loses less from same- to cross-modality than baseline-all",
          f"same[baseline-all] - cross[baseline-all] - same[{COMBINATION}] + cross[{COMBINATION}]",
          "V-A"),
    Claim("same_cost_below_2",
          "Dropout + normalization + similarity costs less than 2 points of same-modality accuracy vs the basic network",
          f"same[{COMBINATION}] - same[md0-pfn0-a0]", "VI, VI-A", margin=-2.0),
    Claim("single_baseline_same",
          "Features from the training modality give better same-modality accuracy than from all modalities",
          "same[baseline-single] - same[baseline-all]", "VI-B"),
)  # fmt: skip

_TERM_RE = re.compile(r"^(?P<setting>same|cross)\[(?P<cells>[^\]]+)\]$")
_AXIAL_SELECTOR_RE = re.compile(r"^md(?P<md>[01*])-pfn(?P<pfn>[01*])-a(?P<alpha>\*|>0|[0-9.]+)$")


@dataclass(frozen=True)
class Term:
    """One term of a contrast: ``weight`` (+1/-1) x mean of ``setting`` over ``selector``'s cells."""

    weight: int
    setting: str
    selector: str


def parse_contrast(contrast: str) -> list[Term]:
    """The terms of a contrast such as ``"cross[md1-pfn1-a0] - cross[baseline-all]"``.

    Raises:
        InputError: (a ``ValueError``) text that is not ``term (+|- term)*``.
    """
    tokens = contrast.split()
    if len(tokens) % 2 == 0:
        raise InputError(f"contrast {contrast!r}: expected terms joined by ' + ' or ' - '")
    terms = []
    for sign, token in zip(["+"] + tokens[1::2], tokens[0::2]):
        match = _TERM_RE.match(token)
        if sign not in "+-" or match is None:
            raise InputError(f"contrast {contrast!r}: cannot read {sign!r} {token!r}")
        _check_selector(match["cells"], contrast)
        terms.append(Term(1 if sign == "+" else -1, match["setting"], match["cells"]))
    return terms


def _check_selector(selector: str, contrast: str) -> None:
    if selector not in ("baseline-all", "baseline-single") and not _AXIAL_SELECTOR_RE.match(selector):
        raise InputError(f"contrast {contrast!r}: unknown cells {selector!r}")


def select_cells(selector: str, cells: list[str]) -> list[str]:
    """The cells of ``cells`` that a term's selector names (see the module docstring).

    Args:
        selector: ``baseline-all``, ``baseline-single`` or ``md{..}-pfn{..}-a{..}``.
        cells: the dataset's cell ids (``crossmodal.common.model_ids.cell_ids``).

    Returns:
        The matching cell ids, in the order of ``cells`` (empty when the grid has none).
    """
    if selector in ("baseline-all", "baseline-single"):
        return [c for c in cells if c == selector]
    want = _AXIAL_SELECTOR_RE.match(selector)
    chosen = []
    for cell in cells:
        if not cell.startswith("axial-"):
            continue
        spec = parse_model_id(cell, [])
        if want["md"] not in ("*", str(int(spec.modality_dropout))):
            continue
        if want["pfn"] not in ("*", str(int(spec.per_feature_norm))):
            continue
        alpha = want["alpha"]
        if alpha == "*" or (alpha == ">0" and spec.alpha > 0) or (
            alpha not in ("*", ">0") and float(alpha) == spec.alpha
        ):
            chosen.append(cell)
    return chosen


def t_interval(differences: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Student's t interval of the mean of paired differences.

    Args:
        differences: shape ``(n,)``, one difference per unit (percentage points).
        level: coverage, e.g. 0.95.

    Returns:
        ``(low, high)``: mean -+ t((1 + level) / 2, n - 1) x SD (ddof = 1) / sqrt(n); a
        zero-width interval at the mean when every difference is the same; ``(nan, nan)`` for
        fewer than two differences.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf((1 + level) / 2, len(d) - 1)) * float(d.std(ddof=1)) / math.sqrt(len(d))
    return float(d.mean()) - half, float(d.mean()) + half


def verdict(ci_low: float, ci_high: float, margin: float = 0.0) -> str:
    """``holds`` / ``contradicted`` / ``undecided`` for an interval against ``margin``."""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "undecided"
    if ci_low > margin:
        return "holds"
    if ci_high < margin:
        return "contradicted"
    return "undecided"


def cell_units(
    accuracy: pd.DataFrame, *, dataset: str, modalities: list[str], cells: list[str]
) -> dict[tuple[str, str], pd.Series]:
    """Per-unit accuracy of every cell and setting.

    Args:
        accuracy: ``evaluate`` rows of every network of the dataset, all folds and seeds.
        dataset: dataset key.
        modalities: the dataset's modalities.
        cells: the dataset's cell ids.

    Returns:
        ``(cell, setting)`` -> accuracy (percent) indexed by ``(fold, seed)``.

    Raises:
        InputError: see :func:`crossmodal.reporting.cell.unit_means`.
    """
    networks = with_seeds(accuracy)["network"]
    out = {}
    for cell in cells:
        rows = accuracy[networks.isin(cell_networks(cell, modalities))]
        units = unit_means(rows, dataset=dataset, cell=cell, modalities=modalities)
        for setting in SETTINGS:
            chosen = units[units["setting"] == setting]
            out[(cell, setting)] = chosen.set_index(["fold", "seed"])["accuracy_percent"]
    return out


def paper_cell_values(paper: str | None, cells: list[str]) -> dict[tuple[str, str], float]:
    """``(cell, setting)`` -> the paper's Table I value (empty without a ``paper`` key).

    Args:
        paper: ``"oai"``, ``"brats"`` or ``None``.
        cells: the dataset's cell ids (cells without a paper value are left out).
    """
    if paper is None:
        return {}
    published = load_paper_table()
    published = published[published["dataset"] == paper]
    out = {}
    for cell in cells:
        keys = describe_cell(cell)
        match = published["model"] == keys["model"]
        for column in ("modality_dropout", "per_feature_norm", "alpha"):
            if not pd.isna(keys[column]):
                match &= published[column] == keys[column]
        for setting in SETTINGS:
            rows = published[match & (published["setting"] == setting)]
            if len(rows) == 1:
                out[(cell, setting)] = float(rows["accuracy_percent"].iloc[0])
    return out


def evaluate_claim(
    claim: Claim,
    units: dict[tuple[str, str], pd.Series],
    paper_values: dict[tuple[str, str], float],
    cells: list[str],
) -> dict:
    """One row of the claims table (without ``dataset``).

    Args:
        claim: the claim.
        units: :func:`cell_units` output.
        paper_values: :func:`paper_cell_values` output.
        cells: the dataset's cell ids.

    Returns:
        The row as a dict with the keys of ``CLAIM_COLUMNS`` but ``dataset``.

    Raises:
        InputError: the cells of the contrast do not have the same units (fold, seed).
    """
    row = {"key": claim.key, "claim": claim.claim, "contrast": claim.contrast,
           "margin": claim.margin, "section": claim.section}  # fmt: skip
    terms = [(t, select_cells(t.selector, cells)) for t in parse_contrast(claim.contrast)]
    if any(not chosen for _, chosen in terms):
        return {**row, "paper_difference": math.nan, "our_difference": math.nan,
                "ci_low": math.nan, "ci_high": math.nan, "n": 0, "n_folds": 0, "verdict": "untested",
                "paper_in_ci": pd.NA}  # fmt: skip
    series = [units[(cell, t.setting)] for t, chosen in terms for cell in chosen]
    index = series[0].index
    if any(not s.index.sort_values().equals(index.sort_values()) for s in series):
        raise InputError(f"claim {claim.key}: its cells were trained on different folds or seeds")
    differences = sum(
        t.weight * sum(units[(cell, t.setting)].reindex(index) for cell in chosen) / len(chosen)
        for t, chosen in terms
    )
    per_fold = differences.groupby(level="fold").mean()  # seeds are nested in folds: module doc
    low, high = t_interval(per_fold.to_numpy())
    paper = sum(
        t.weight * sum(paper_values.get((cell, t.setting), math.nan) for cell in chosen) / len(chosen)
        for t, chosen in terms
    )
    inside = pd.NA if math.isnan(paper) or math.isnan(low) else bool(low <= paper <= high)
    return {**row, "paper_difference": paper, "our_difference": float(differences.mean()),
            "ci_low": low, "ci_high": high, "n": len(differences), "n_folds": len(per_fold),
            "verdict": verdict(low, high, claim.margin), "paper_in_ci": inside}  # fmt: skip


def claims_table(
    accuracy: pd.DataFrame,
    *,
    dataset: str,
    modalities: list[str],
    cells: list[str],
    paper: str | None,
    claims: tuple[Claim, ...] = CLAIMS,
) -> pd.DataFrame:
    """The claims of the paper tested on one dataset's accuracies.

    Args:
        accuracy: ``evaluate`` rows of every network of the dataset (all folds and seeds).
        dataset: dataset key.
        modalities: the dataset's modalities.
        cells: the dataset's cell ids (``crossmodal.common.model_ids.cell_ids``).
        paper: ``"oai"``/``"brats"`` for a dataset reproducing the paper's, else ``None``.
        claims: the claims to test (default: the paper's, ``CLAIMS``).

    Returns:
        Columns ``CLAIM_COLUMNS``, one row per claim in ``claims`` order (unrounded).

    Raises:
        InputError: see :func:`cell_units` and :func:`evaluate_claim`.
    """
    units = cell_units(accuracy, dataset=dataset, modalities=modalities, cells=cells)
    paper_values = paper_cell_values(paper, cells)
    rows = [{"dataset": dataset, **evaluate_claim(c, units, paper_values, cells)} for c in claims]
    table = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    table["paper_in_ci"] = table["paper_in_ci"].astype("boolean")
    return table


def write_claims(
    accuracy_paths: list[str | Path],
    output_path: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    cells: list[str],
    paper: str | None,
) -> pd.DataFrame:
    """Rule ``claims``: write ``results/{ds}/claims.tsv``.

    Args:
        accuracy_paths: the ``evaluate`` tables of every network, fold and seed of the dataset.
        output_path: the table (tab-separated, columns ``CLAIM_COLUMNS``, 3 decimals).
        dataset: dataset key.
        modalities: the dataset's modalities.
        cells: the dataset's cell ids.
        paper: the dataset's ``paper`` key or ``None``.

    Returns:
        The table written (unrounded).

    Raises:
        InputError: see :func:`claims_table`.
    """
    table = claims_table(
        read_accuracy(accuracy_paths), dataset=dataset, modalities=modalities, cells=cells,
        paper=paper,
    )  # fmt: skip
    rounded = table.round(3)
    numbers = ["margin", "paper_difference", "our_difference", "ci_low", "ci_high"]
    rounded[numbers] = rounded[numbers] + 0.0  # -0.0 (a sum of terms that cancel) as 0.0
    with atomic_path(output_path) as tmp:
        rounded.to_csv(tmp, sep="\t", index=False)
    return table


def read_claims(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate claims tables written by :func:`write_claims`.

    Raises:
        InputError: a file lacks a column or holds an unknown verdict.
    """
    frames = []
    for path in paths:
        frame = read_table(path, CLAIM_COLUMNS, "claims", text_columns=["dataset", "key"])
        unknown = sorted(set(frame["verdict"]) - set(VERDICTS))
        if unknown:
            raise InputError(f"{path}: unknown verdicts {unknown}; rerun its claims job")
        frames.append(frame[CLAIM_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def verdict_counts(claims: pd.DataFrame) -> str:
    """``"holds: 3, contradicted: 1, undecided: 2"`` (``untested`` only where there are any)."""
    counts = claims["verdict"].value_counts()
    return ", ".join(
        f"{name}: {int(counts.get(name, 0))}"
        for name in VERDICTS
        if name != "untested" or counts.get(name, 0)
    )


def claims_markdown(claims: pd.DataFrame, datasets: list[str]) -> list[str]:
    """The claims of every dataset in words, for the end of ``results/table1.md``.

    Args:
        claims: :func:`read_claims` output.
        datasets: dataset keys in output order.

    Returns:
        Markdown lines: a heading, a note on the statistics, then per dataset its verdict
        counts and one line per claim (verdict, claim, our difference with its interval and n,
        the paper's difference and whether it lies in our interval).
    """
    lines = [
        "",
        "## Which of the paper's claims hold",
        "",
        "Each claim is a difference between cells (results/{ds}/claims.tsv, column contrast) in "
        "percentage points: ours is the mean over the n units (fold, seed), paired within each "
        "unit, with its 95 % Student t interval over the fold means (seeds share their fold's "
        "scans, so the folds are the independent units); it holds when the interval lies above "
        "the claim's margin (0 unless stated), is contradicted when it lies below, and is "
        "undecided when it contains the margin.",
    ]
    for ds in datasets:
        block = claims[claims["dataset"] == ds]
        lines += ["", f"### {ds}", "", verdict_counts(block), ""]
        lines += [f"- {_claim_words(row)}" for row in block.itertuples()]
    return lines


def _claim_words(row) -> str:
    margin = f" (margin {row.margin:+g})" if row.margin else ""
    if row.verdict == "untested":
        return f"untested: {row.claim}{margin}: the grid lacks a cell of `{row.contrast}`."
    interval = "" if pd.isna(row.ci_low) else f" [{_signed(row.ci_low)}, {_signed(row.ci_high)}]"
    units = f"n = {row.n}, {row.n_folds} fold" + ("s" if row.n_folds != 1 else ": no interval")
    text = f"{row.verdict}: {row.claim}{margin}: ours {_signed(row.our_difference)}{interval} ({units})"
    if pd.isna(row.paper_difference):
        return text + "."
    where = "" if pd.isna(row.paper_in_ci) else (
        ", inside our interval" if _is_true(row.paper_in_ci) else ", outside our interval"
    )
    return f"{text}, paper {_signed(row.paper_difference)}{where}."


def _signed(value: float) -> str:
    """``+1.2`` / ``-0.4`` / ``+0.0`` (never ``-0.0``)."""
    return f"{round(float(value), 1) + 0.0:+.1f}"


def _is_true(value) -> bool:
    """``paper_in_ci`` read back from a tsv: a bool or the text ``True``."""
    return value is True or str(value) == "True"
