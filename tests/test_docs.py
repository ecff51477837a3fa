"""The README and the pages under docs/: every link resolves, the README stays short, its results match the reports."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    lines = page.read_text().splitlines()
    in_code = False
    found = set()
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_link_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    targets = LINK.findall(text)
    assert targets
    for target in targets:
        if re.match(r"^(https?:|mailto:)", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading for #{anchor} in {resolved.name}"


def test_readme_is_short_and_every_page_is_linked_from_it():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme, page.name


def markdown_tables(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line indices of each table: a run of lines that start with '|'."""
    tables, start = [], None
    for i, line in enumerate([*lines, ""]):
        if line.startswith("|") and start is None:
            start = i
        elif not line.startswith("|") and start is not None:
            tables.append((start, i))
            start = None
    return tables


def table_rows(lines: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """A table's header and its rows keyed by the backticked name of their first cell."""
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = re.fullmatch(r"`([^`]+)`", cells[0])
        if name:
            rows[name.group(1)] = dict(zip(header, cells, strict=True))
    return header, rows


# README column -> the column of the report it copies (any other column has the same name in one of the report's tables)
README_TO_REPORT = {"final IQM [95% CI]": "final IQM"}
# README columns that are words, not numbers
PROSE_COLUMNS = {"config", "what it is"}


def test_readme_results_tables_match_the_reports_they_link():
    """Every number of a results table in the README is the one the report linked right after the table prints."""
    lines = (ROOT / "README.md").read_text().splitlines()
    checked = 0
    for start, end in markdown_tables(lines):
        header, rows = table_rows(lines[start:end])
        if "final IQM [95% CI]" not in header:
            continue
        after = "\n".join(lines[end : end + 12])
        link = re.search(r"(results/[\w.-]+)/summary\.md", after)
        assert link, f"README line {start + 1}: a results table must link its report (results/<name>/summary.md)"
        report_lines = (ROOT / link.group(1) / "summary.md").read_text().splitlines()
        report_tables = [table_rows(report_lines[a:b]) for a, b in markdown_tables(report_lines)]
        main = next(table for _, table in report_tables if "final IQM" in next(iter(table.values()), {}))
        baseline = next(name for name, row in main.items() if row.get("vs td3") == "(baseline)")
        assert rows, f"README line {start + 1}: no configuration rows"
        for name, row in rows.items():
            assert name in main, f"{name} is in the README's table but not in {link.group(1)}/summary.md"
            for column, value in row.items():
                if column in PROSE_COLUMNS:
                    continue
                if column.startswith("P("):  # the README words the probability of improvement its own way
                    expected = "-" if name == baseline else next(v for k, v in main[name].items() if k.startswith("P("))
                else:
                    wanted = README_TO_REPORT.get(column, column)
                    found = [table[name][wanted] for _, table in report_tables if wanted in table.get(name, {})]
                    assert found, f"README column {column!r} is in no table of {link.group(1)}/summary.md"
                    expected = found[0]
                assert value == expected, (name, column)
                checked += 1
    assert checked >= 8


def test_readme_first_command_range_is_the_benchmark_runs_at_20k():
    """The README's expected outcome of its first command: the range and mean of the recommended set's evaluations at
    20k steps over its ten head-to-head runs, read from the committed result files."""
    import numpy as np

    scores = []
    for seed in range(10):
        data = np.load(ROOT / "results" / "runs" / "Hopper-v4" / "td3x_recommended" / f"seed_{seed}" / "evaluations.npz")
        (index,) = np.flatnonzero(data["timesteps"] == 20_000)
        scores.append(float(data["results"][index].mean()))
    text = " ".join((ROOT / "README.md").read_text().split())
    expected = f"lay between {min(scores):.0f} and {max(scores):.0f}, mean {np.mean(scores):.0f}"
    assert expected in text, expected


@pytest.mark.parametrize(
    "report, sentence",
    [
        (
            "Hopper-v4-500k",
            "On ten seeds TD7 ends with an IQM of {td7:final_iqm} against {td3:final_iqm} for stock TD3, and a TD7 run "
            "ends above a `td3` run with probability {td7:p_improvement} [{td7:p_improvement_low}, "
            "{td7:p_improvement_high}] at 500k and {td7:p_improvement_300k} [{td7:p_improvement_300k_low}, "
            "{td7:p_improvement_300k_high}] at 300k",
        ),
        (
            "Hopper-v4-500k",
            "the checkpointed TD3X set ends at {td3x_ckpt_progress:final_iqm}, TD3X with CrossQ's networks (shown "
            "better at 100k, below) at {td3x_crossq256_lap:final_iqm} and the write-up's agent at "
            "{td3x_writeup:final_iqm}",
        ),
        (
            "Hopper-v4",
            "ends with a final IQM of {td3x_crossq256_lap:final_iqm} against `td3`'s {td3:final_iqm}, and a run of it "
            "ends above a `td3` run with probability {td3x_crossq256_lap:p_improvement} "
            "[{td3x_crossq256_lap:p_improvement_low}, {td3x_crossq256_lap:p_improvement_high}], at "
            "{td3x_crossq256_lap:cpu_hours} CPU hours per run against `td3`'s {td3:cpu_hours}",
        ),
        (
            "Hopper-v4",
            "the recommended set's final IQM is {td3x_recommended:final_iqm}, and a run of it ends above a `td3` run "
            "with probability {td3x_recommended:p_improvement} [{td3x_recommended:p_improvement_low}, "
            "{td3x_recommended:p_improvement_high}]",
        ),
        (
            "Hopper-v4/screening",
            "final IQM {crossq256:final_iqm} [{crossq256:final_iqm_low}, {crossq256:final_iqm_high}] for sb3-contrib's "
            "against {td3x_crossq256_lap:final_iqm} [{td3x_crossq256_lap:final_iqm_low}, "
            "{td3x_crossq256_lap:final_iqm_high}] for `td3x_crossq256_lap`, at {crossq256:cpu_hours} and "
            "{td3x_crossq256_lap:cpu_hours} CPU hours per run",
        ),
        (
            "Hopper-v4/screening",
            "with 512, {crossq512:final_iqm} [{crossq512:final_iqm_low}, {crossq512:final_iqm_high}] against "
            "{td3x_crossq512:final_iqm} [{td3x_crossq512:final_iqm_low}, {td3x_crossq512:final_iqm_high}] for "
            "`td3x_crossq512` and {td3x_crossq512_lap:final_iqm} [{td3x_crossq512_lap:final_iqm_low}, "
            "{td3x_crossq512_lap:final_iqm_high}] for `td3x_crossq512_lap`, at {crossq512:cpu_hours}, "
            "{td3x_crossq512:cpu_hours} and {td3x_crossq512_lap:cpu_hours}",
        ),
    ],
)
def test_readme_prose_numbers_are_the_reports(report, sentence):
    """The numbers the README's result sentences quote, filled in from the reports' summary.csv."""
    import csv

    with open(ROOT / "results" / report / "summary.csv") as file:
        rows = {row["config"]: row for row in csv.DictReader(file)}

    def value(match: re.Match) -> str:
        config, column = match.group(1).split(":")
        number = float(rows[config][column])
        return f"{number:.2f}" if column.startswith(("p_improvement", "cpu_hours")) else f"{number:.0f}"

    expected = re.sub(r"\{([^}]+)\}", value, sentence)
    assert expected in " ".join((ROOT / "README.md").read_text().split()), expected


def python_blocks(page: Path) -> list[str]:
    """The ```python blocks of a page, in order."""
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


EXAMPLE_PAGES = [page for page in PAGES if python_blocks(page)]


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[page.name for page in EXAMPLE_PAGES])
def test_every_python_example_runs_as_written(page, tmp_path, monkeypatch):
    """A page's blocks run in order, as a reader would paste them, each after the ones above it (their imports)."""
    monkeypatch.chdir(tmp_path)  # what the examples save goes there
    namespace: dict = {"__name__": "__docs__"}
    for number, code in enumerate(python_blocks(page)):
        # As written, but with budgets a test can afford: each learn() makes 300 steps, 100 of them random
        code = re.sub(r"\.learn\([\d_]+\)", ".learn(300)", code)
        code = re.sub(r"learning_starts=[\d_]+", "learning_starts=100", code)
        exec(compile(code, f"{page.name}#{number}", "exec"), namespace)
