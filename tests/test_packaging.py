"""What the package declares: every third-party module it imports, and nothing the library does not need."""

import ast
import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Import name -> distribution name, where they differ
DISTRIBUTIONS = {
    "PIL": "pillow",
    "yaml": "pyyaml",
    "stable_baselines3": "stable-baselines3",
    "sb3_contrib": "sb3-contrib",
    "rl_zoo3": "rl-zoo3",
}
# Declared for RL Zoo's own scripts (which import them without declaring them) and for gymnasium's MuJoCo envs
FOR_RL_ZOO = {"requests", "moviepy", "seaborn", "scipy", "mujoco"}


def requirements(text: str) -> set[str]:
    names = set()
    for line in text.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(re.split(r"[\[<>=!~ ]", line, maxsplit=1)[0].lower())
    return names


def declared() -> tuple[set[str], dict[str, set[str]]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = {name: requirements(value) for name, value in config["options.extras_require"].items()}
    return requirements(config["options"]["install_requires"]), extras


def third_party_imports(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "sb3_td3x"}


def distributions(modules: set[str]) -> set[str]:
    return {DISTRIBUTIONS.get(name, name).lower() for name in modules}


def test_the_library_declares_what_it_imports_and_nothing_of_the_benchmark():
    install, extras = declared()
    # The package's modules, hyperparams/ included (installed as sb3_td3x.hyperparams), the benchmark apart
    files = [path for path in (ROOT / "sb3_td3x").rglob("*.py") if "benchmark" not in path.parts]
    files += list((ROOT / "hyperparams").glob("*.py"))
    library = distributions(third_party_imports(files))
    assert library <= install, library - install
    # Nothing installed that neither the library imports nor RL Zoo's scripts need
    assert install - library <= FOR_RL_ZOO, install - library - FOR_RL_ZOO
    assert not install & extras["benchmark"], install & extras["benchmark"]


def test_the_benchmark_extra_covers_the_benchmark():
    install, extras = declared()
    benchmark = distributions(third_party_imports(list((ROOT / "sb3_td3x" / "benchmark").rglob("*.py"))))
    assert benchmark <= install | extras["benchmark"], benchmark - install - extras["benchmark"]
    # The tests extra brings the benchmark's and PostgreSQL's
    assert "sb3_td3x" in extras["tests"]
    config = (ROOT / "setup.cfg").read_text()
    assert "sb3_td3x[benchmark,postgres]" in config


def test_missing_extra_is_one_line(monkeypatch):
    import importlib.util

    from sb3_td3x.benchmark import require_extra

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "rliable" else real(name))
    with pytest.raises(SystemExit) as error:
        require_extra(("rliable", "numpy"))
    message = str(error.value)
    assert message.count("\n") == 0 and "missing: rliable" in message and 'pip install "sb3_td3x[benchmark]"' in message
    require_extra(("numpy",))  # present: nothing happens


def test_only_the_buffers_ask_which_kind_of_buffer_there_is():
    # The loss and the priority update live with the buffers: an algorithm asks its buffer, never its type
    buffer_modules = {"common/buffers.py", "common/indexed_buffer.py"}
    library = [
        path
        for path in (ROOT / "sb3_td3x").rglob("*.py")
        if "benchmark" not in path.parts and path.relative_to(ROOT / "sb3_td3x").as_posix() not in buffer_modules
    ]
    assert len(library) > 20
    found = []
    for path in library:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("isinstance", "issubclass"):
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                # SB3's base ReplayBuffer says that there is a buffer at all, not which kind
                if any(name.endswith(("ReplayBuffer", "ReplayHooks")) and name != "ReplayBuffer" for name in names):
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_the_library_never_imports_the_benchmark():
    # The arrow goes from the benchmark to the library, never back
    library = [path for path in (ROOT / "sb3_td3x").rglob("*.py") if "benchmark" not in path.parts]
    library += [ROOT / "_sb3_td3x_zoo_hook.py", *(ROOT / "hyperparams").glob("*.py")]
    assert len(library) > 20
    found = []
    for path in library:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            if any(name == "sb3_td3x.benchmark" or name.startswith("sb3_td3x.benchmark.") for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_the_analysis_does_not_import_the_runner(tmp_path):
    # A report is rebuilt from committed files alone: the analysis, the GIF tool and --report-only never load the runner
    analysis = sorted(path.stem for path in (ROOT / "sb3_td3x" / "benchmark" / "analysis").glob("*.py"))
    assert {"report", "runs", "stats", "tasks"} <= set(analysis)
    script = f"""
import importlib, sys
for name in {analysis!r}:
    importlib.import_module("sb3_td3x.benchmark.analysis" + ("" if name == "__init__" else "." + name))
import sb3_td3x.benchmark.video
from sb3_td3x.benchmark.__main__ import main
assert main(["--env", "Pendulum-v1", "--report-only", "--results", {str(tmp_path)!r}]) == 1
print(sorted(name for name in sys.modules if name.startswith("sb3_td3x.benchmark.running")))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
