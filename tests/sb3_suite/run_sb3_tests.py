"""
Run Stable-Baselines3's own tests twice: with SB3's TD3 / DQN / SAC / DDPG, and with ``TD3X`` / ``DQNX`` / ``SACX`` /
``DDPGX`` swapped in (``swap_plugin.py`` in this folder), and compare the outcomes test by test.

SB3's tests are not part of this repository: get them at the installed SB3 version, e.g.

    git -C <stable-baselines3 clone> archive <commit> tests pyproject.toml | tar -x -C /tmp/sb3src
    python tests/sb3_suite/run_sb3_tests.py /tmp/sb3src/tests --report /tmp/sb3-tests-swapped.md

Each selected file runs in its own ``python -m pytest`` subprocess (cwd: the folder above ``tests/``, so SB3's
``pyproject.toml`` there, if present, gives its pytest settings), with ``OMP_NUM_THREADS=1``, ``PYTHONHASHSEED=0`` and
``-m "not expensive"``. Outcomes are read from pytest's JUnit XML; our classes' names in the test ids
(``test_run[TD3X]``) are mapped back to SB3's (``test_run[TD3]``) to pair the two runs.

This folder has no ``test_*.py`` file and no ``conftest.py``: ``pytest tests`` collects nothing from it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Matches the test ids (and function names, case-insensitively) of our four algorithms: with the swap, pytest names a
# class parameter by its __name__ (TD3X, ...), which -k still matches by substring
ALGOS = "TD3 or DQN or SAC or DDPG"

# SB3 test file -> -k expression (None: the whole file; every test in it is about these four algorithms or HER on them).
# Where a file also covers A2C / PPO, only the tests of our four algorithms run: those whose id names one of them, plus
# the unparametrized tests listed by name whose body builds one of them (and no A2C / PPO).
SELECTION: dict[str, str | None] = {
    "test_run.py": f"{ALGOS} or test_n_critics or test_train_freq",
    "test_save_load.py": (
        f"{ALGOS} or test_save_load_pytorch_var or test_save_load_large_model or test_save_load_no_target_params"
    ),
    "test_predict.py": ALGOS,
    "test_callbacks.py": (
        f"{ALGOS} or test_eval_success_logging or test_eval_callback_logs_are_written_with_the_correct_timestep"
        " or test_checkpoint_additional_info"
    ),
    "test_train_eval_mode.py": ALGOS,
    "test_deterministic.py": ALGOS,
    "test_n_step_replay.py": None,
    "test_spaces.py": f"{ALGOS} or test_sde_multi_dim",
    "test_her.py": None,
    "test_vec_normalize.py": "test_her_normalization or test_offpolicy_normalization",
    "test_custom_policy.py": ALGOS,
    "test_cnn.py": ALGOS,
    "test_dict_env.py": ALGOS,
    "test_identity.py": ALGOS,
    "test_logger.py": ALGOS,
    "test_gae.py": ALGOS,
    "test_sde.py": ALGOS,
    "test_tensorboard.py": ALGOS,
}

MODES = ("sb3", "ours")
SWAPPED = ("TD3", "DQN", "SAC", "DDPG")
OUTCOMES = ("passed", "failed", "skipped", "error")
RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
OURS_NAME = re.compile(r"\b(TD3|DQN|SAC|DDPG)X\b")


def normalize(test_id: str) -> str:
    """``test_run[TD3X]`` -> ``test_run[TD3]``: the id the test has in SB3's run."""
    return OURS_NAME.sub(r"\1", test_id)


def pytest_command(tests_dir: Path, file: str, mode: str, junit: Path, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(tests_dir / file), "-q", "-rfEs", "-p", "no:cacheprovider"]
    command += ["-m", "not expensive", f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    if SELECTION[file] is not None:
        command += ["-k", SELECTION[file]]
    if mode == "ours":
        command += ["-p", "swap_plugin"]
    return command + extra


def pytest_env(mode: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    if mode == "ours":
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def read_junit(path: Path) -> dict[str, dict[str, str]]:
    """Test id -> {"outcome", "message"} from pytest's JUnit XML."""
    results: dict[str, dict[str, str]] = {}
    if not path.exists():
        return results
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('file') or case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = _short_message(child)
                if outcome != "skipped":
                    break
        # A test that fails and then errors in teardown has two entries; keep the worst
        previous = results.get(test_id)
        if previous is None or RANK[outcome] > RANK[previous["outcome"]]:
            results[test_id] = {"outcome": outcome, "message": message}
    return results


def _short_message(element: ET.Element) -> str:
    """The ``E   ...`` lines of pytest's traceback (the assertion), else the message attribute."""
    text = element.text or ""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    location = [line for line in text.splitlines() if re.match(r"^\S+\.py:\d+: ", line)]
    message = " | ".join(lines[:6]) if lines else (element.get("message") or "").strip()
    if location:
        message += f"  [{location[-1].strip()}]"
    return message[:1500]


def run(args: argparse.Namespace) -> dict:
    tests_dir = Path(args.tests_dir).resolve()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    files = args.files or list(SELECTION)
    data: dict = {"files": {}, "started": datetime.datetime.now().isoformat(timespec="seconds")}
    for file in files:
        if file not in SELECTION:
            raise SystemExit(f"{file}: not in SELECTION ({', '.join(SELECTION)})")
        if not (tests_dir / file).exists():
            print(f"{file}: not in {tests_dir}, left out", flush=True)
            continue
        data["files"][file] = {"k": SELECTION[file]}
        for mode in args.modes:
            junit = out / f"{file[:-3]}.{mode}.xml"
            junit.unlink(missing_ok=True)
            command = pytest_command(tests_dir, file, mode, junit, args.pytest_args)
            start = time.monotonic()
            try:
                proc = subprocess.run(
                    command, cwd=tests_dir.parent, env=pytest_env(mode), capture_output=True, text=True, timeout=args.timeout
                )
                returncode, output = proc.returncode, proc.stdout + proc.stderr
            except subprocess.TimeoutExpired as error:
                returncode = "timeout"
                output = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
            seconds = time.monotonic() - start
            (out / f"{file[:-3]}.{mode}.log").write_text(" ".join(command) + "\n\n" + output)
            results = read_junit(junit)
            counts = {outcome: sum(r["outcome"] == outcome for r in results.values()) for outcome in OUTCOMES}
            data["files"][file][mode] = {
                "returncode": returncode,
                # ours: swap_plugin's summary lines, one per swapped class (None for SB3's run)
                "swap_confirmed": set(re.findall(r"^swap_plugin: (\w+) -> \S+ \(ok\)$", output, re.M)) == set(SWAPPED)
                if mode == "ours"
                else None,
                "seconds": round(seconds, 1),
                "counts": counts,
                "results": results,
                "command": command,
            }
            print(f"{file:28s} {mode:4s} {counts} rc={returncode} {seconds:.0f}s", flush=True)
    data["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    (out / "results.json").write_text(json.dumps(data, indent=1))
    return data


def differences(file_data: dict) -> tuple[list, list]:
    """(tests worse with ours than with SB3's, other tests whose outcome differs), by normalized id."""
    if not all(mode in file_data for mode in MODES):
        return [], []
    sb3 = file_data["sb3"]["results"]
    ours = {normalize(test_id): result for test_id, result in file_data["ours"]["results"].items()}
    worse, other = [], []
    for test_id in sorted(set(sb3) | set(ours)):
        a, b = sb3.get(test_id), ours.get(test_id)
        a_outcome, b_outcome = (a or {}).get("outcome", "absent"), (b or {}).get("outcome", "absent")
        if a_outcome == b_outcome:
            continue
        row = (test_id, a_outcome, b_outcome, (b or {}).get("message", ""), (a or {}).get("message", ""))
        (worse if a_outcome in ("passed", "skipped") and b_outcome in ("failed", "error") else other).append(row)
    return worse, other


def _table(data: dict) -> list[str]:
    lines = [
        "| file | -k | SB3's: passed / failed / skipped / errors | ours: passed / failed / skipped / errors"
        " | seconds (SB3's / ours) |",
        "|---|---|---|---|---|",
    ]
    totals = {mode: dict.fromkeys(OUTCOMES, 0) for mode in MODES}
    for file, file_data in data["files"].items():
        cells = []
        for mode in MODES:
            if mode not in file_data:
                cells.append("not run")
                continue
            counts = file_data[mode]["counts"]
            for outcome in OUTCOMES:
                totals[mode][outcome] += counts[outcome]
            rc = file_data[mode]["returncode"]
            note = " (timed out)" if rc == "timeout" else "" if rc in (0, 1, 5) else f" (pytest exit code {rc})"
            cells.append(" / ".join(str(counts[o]) for o in OUTCOMES) + note)
        if "ours" in file_data and not file_data["ours"]["swap_confirmed"]:
            cells[1] += " (swap NOT confirmed in the log)"
        seconds = " / ".join(str(file_data[m]["seconds"]) if m in file_data else "-" for m in MODES)
        k = f"`{file_data['k']}`" if file_data["k"] else "(whole file)"
        lines.append(f"| {file} | {k} | {cells[0]} | {cells[1]} | {seconds} |")
    total_seconds = sum(f[m]["seconds"] for f in data["files"].values() for m in MODES if m in f)
    lines.append(
        "| **total** | | "
        + " | ".join(" / ".join(str(totals[m][o]) for o in OUTCOMES) for m in MODES)
        + f" | {total_seconds:.0f} s in all |"
    )
    return lines


def _section(title: str, rows: list[str]) -> list[str]:
    return ["", f"## {title}", "", *(rows or ["None."])]


def markdown(data: dict, command: str, sb3_ref: str) -> str:
    import stable_baselines3

    worse_rows, other_rows, both_rows = [], [], []
    for file_data in data["files"].values():
        worse, other = differences(file_data)
        worse_rows += [f"- `{t}`: SB3's {a}, ours {b}: `{message}`" for t, a, b, message, _ in worse]
        other_rows += [f"- `{t}`: SB3's {a}, ours {b}: `{message or sb3_message}`" for t, a, b, message, sb3_message in other]
        if all(mode in file_data for mode in MODES):
            ours = {normalize(t): r for t, r in file_data["ours"]["results"].items()}
            both_rows += [
                f"- `{t}`: `{r['message']}`"
                for t, r in sorted(file_data["sb3"]["results"].items())
                if r["outcome"] in ("failed", "error") and ours.get(t, {}).get("outcome") in ("failed", "error")
            ]
    lines = [
        "# SB3's own tests with TD3X / DQNX / SACX / DDPGX swapped in",
        "",
        f"- Command: `{command}`",
        f"- Run: {data['started']} to {data['finished']}",
        f"- Stable-Baselines3 installed: {stable_baselines3.__version__}; tests from: {sb3_ref}",
        f'- Python {sys.version.split()[0]}; `OMP_NUM_THREADS=1`, `PYTHONHASHSEED=0`, `-m "not expensive"`',
        "",
        *_table(data),
        *_section("Tests that fail with ours but pass (or skip) with SB3's", worse_rows),
        *_section("Other differences in outcome", other_rows),
        *_section("Tests that fail with both", both_rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Arguments after -- go to pytest.")
    parser.add_argument("tests_dir", help="SB3's tests/ folder (at the installed SB3 version)")
    parser.add_argument("--files", nargs="*", help=f"SB3 test files to run (default: all of {', '.join(SELECTION)})")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES, help="sb3: SB3's classes; ours: swapped")
    parser.add_argument("--out", default="/tmp/sb3_suite_out", help="folder for the JUnit XML, logs and results.json")
    parser.add_argument("--report", help="write the markdown summary here (default: print it)")
    parser.add_argument("--sb3-ref", default="(not given)", help="where SB3's tests come from, for the report")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for each pytest run")
    parser.add_argument("--from-json", action="store_true", help="only rebuild the report from OUT/results.json")
    argv = sys.argv[1:]
    # After "--": more pytest arguments, given to every run
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.pytest_args = argv[split + 1 :]
    if args.from_json:
        data = json.loads((Path(args.out) / "results.json").read_text())
    else:
        data = run(args)
    report = markdown(data, shlex.join(["python", *sys.argv]), args.sb3_ref)
    if args.report:
        Path(args.report).write_text(report)
    else:
        print(report)


if __name__ == "__main__":
    main()
