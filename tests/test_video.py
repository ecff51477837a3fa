"""The benchmark's GIF tool: composing the panels, writing the GIF, finding the runs' models."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sb3_td3x.benchmark import video

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 160, 30)


def solid_frames(colors: list[tuple[int, int, int]], height: int = 60, width: int = 80) -> list[np.ndarray]:
    """:return: one frame (H, W, 3 uint8) of a single colour per entry of ``colors``."""
    return [np.full((height, width, 3), color, dtype=np.uint8) for color in colors]


def test_compose_lays_out_panels_side_by_side_with_labels():
    left = solid_frames([RED] * 9)
    right = solid_frames([BLUE, BLUE, GREEN])  # shorter: keeps its last frame (GREEN)
    frames = video.compose([left, right], ["left", "right"], width=40, every=2, label_height=12)
    # frames 0, 2, 4, 6, 8 of the longest panel
    assert len(frames) == 5
    # the height follows the frames' aspect ratio (60 / 80 of the width), plus the label strip
    assert all(frame.size == (80, 12 + 30) for frame in frames)
    first, last = np.asarray(frames[0]), np.asarray(frames[-1])
    assert tuple(first[25, 20]) == RED and tuple(first[25, 60]) == BLUE
    assert tuple(last[25, 20]) == RED and tuple(last[25, 60]) == GREEN
    # each label strip has text (dark pixels) on white
    strip = first[:12]
    assert (strip[:, :40] < 100).any() and (strip[:, 40:] < 100).any()
    assert (strip == 255).mean() > 0.5


@pytest.mark.parametrize(
    "panels, labels, kwargs, message",
    [
        ([solid_frames([RED])], ["a", "b"], {}, "one label per panel"),
        ([], [], {}, "one label per panel"),
        ([solid_frames([RED]), []], ["a", "b"], {}, "at least one frame"),
        ([solid_frames([RED])], ["a"], {"width": 8}, "width must be >= 16"),
        ([solid_frames([RED])], ["a"], {"every": 0}, "every >= 1"),
    ],
)
def test_compose_rejects_bad_input(panels, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        video.compose(panels, labels, **kwargs)


def test_write_gif_round_trip(tmp_path: Path):
    frames = video.compose([solid_frames([RED, GREEN, BLUE])], ["run"], width=32, every=1)
    path = tmp_path / "sub" / "clip.gif"
    video.write_gif(frames, path, fps=20)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
        assert gif.info["duration"] == 50
        colors = []
        for index in range(3):
            gif.seek(index)
            colors.append(tuple(np.asarray(gif.convert("RGB"))[20, 16]))
    # one shared palette of 64 colours keeps these solid colours (up to the palette's rounding)
    for got, want in zip(colors, [RED, GREEN, BLUE], strict=True):
        assert np.abs(np.array(got) - np.array(want)).max() <= 8


def test_zoo_folder_names_the_missing_run(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"td3 seed 3.*--configs td3 --seeds 3"):
        video.zoo_folder(tmp_path, "Hopper-v4", "td3", 3)
    model = tmp_path / "Hopper-v4" / "td3" / "seed_3" / "zoo" / "td3" / "Hopper-v4_1" / "Hopper-v4.zip"
    model.parent.mkdir(parents=True)
    model.touch()
    assert video.zoo_folder(tmp_path, "Hopper-v4", "td3", 3) == tmp_path / "Hopper-v4" / "td3" / "seed_3" / "zoo"


def test_zoo_folder_of_a_longer_budget(tmp_path: Path):
    # runs of another budget than the standard one live under <env>-<budget> (the runner's folder), not under <env>
    standard = tmp_path / "Hopper-v4" / "td3" / "seed_0" / "zoo" / "td3" / "Hopper-v4_1" / "Hopper-v4.zip"
    standard.parent.mkdir(parents=True)
    standard.touch()
    with pytest.raises(FileNotFoundError, match=r"--configs td3 --seeds 0 -n 500000"):
        video.zoo_folder(tmp_path, "Hopper-v4", "td3", 0, budget=500_000)
    long = tmp_path / "Hopper-v4-500k" / "td3" / "seed_0" / "zoo" / "td3" / "Hopper-v4_1" / "Hopper-v4.zip"
    long.parent.mkdir(parents=True)
    long.touch()
    assert video.zoo_folder(tmp_path, "Hopper-v4", "td3", 0, budget=500_000) == long.parents[2]


def test_default_root_is_the_runners():
    from sb3_td3x.benchmark.__main__ import parse_args as runner_args

    assert video.parse_args(["--configs", "td3", "--output", "x.gif"]).root == runner_args(["--configs", "td3"]).root


def test_main_films_each_config_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for config, algo in (("td3", "td3"), ("td3x_recommended", "td3x")):
        model = tmp_path / "Hopper-v4" / config / "seed_0" / "zoo" / algo / "Hopper-v4_1" / "Hopper-v4.zip"
        model.parent.mkdir(parents=True)
        model.touch()
    calls = []

    def fake_record(algo, env_id, folder, output, n_steps, seed, python="python", camera=None):
        calls.append((algo, env_id, Path(folder).parts[-3], n_steps, seed, camera))
        return Path(algo)

    colors = {"td3x": [RED, RED, GREEN, GREEN] * 5, "td3": [BLUE] * 20}
    monkeypatch.setattr(video, "record", fake_record)
    monkeypatch.setattr(video, "read_frames", lambda path: solid_frames(colors[str(path)]))
    output = tmp_path / "out.gif"
    argv = ["--root", str(tmp_path), "--configs", "td3x_recommended", "td3", "-n", "8", "--every", "2"]
    video.main([*argv, "--width", "32", "--output", str(output)])
    # MuJoCo: the model's tracking camera
    assert calls == [("td3x", "Hopper-v4", "td3x_recommended", 8, 0, "track"), ("td3", "Hopper-v4", "td3", 8, 0, "track")]
    with Image.open(output) as gif:
        assert gif.n_frames == 4  # 8 filmed steps, every 2nd frame: RED, GREEN, RED, GREEN on the left
        frame = np.asarray(gif.convert("RGB"))
        gif.seek(1)
        second = np.asarray(gif.convert("RGB"))
    assert np.abs(frame[20, 16].astype(int) - RED).max() <= 8
    assert np.abs(frame[20, 48].astype(int) - BLUE).max() <= 8
    assert np.abs(second[20, 16].astype(int) - GREEN).max() <= 8


def test_parse_args_rejects_unknown_configs_and_labels(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        video.parse_args(["--configs", "nope", "--output", "x.gif"])
    assert "--configs: unknown configuration" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        video.parse_args(["--configs", "td3", "--labels", "a", "b", "--output", "x.gif"])
    assert "--labels: one per configuration" in capsys.readouterr().err


def test_default_camera():
    assert video.default_camera("Hopper-v4") == "track"
    assert video.default_camera("Pendulum-v1") is None
    assert video.default_camera("NoSuchEnv-v0") is None


def test_record_passes_the_camera_to_record_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    commands = []

    def fake_run(command, capture_output, text):
        commands.append(command)
        (tmp_path / "clip.mp4").touch()
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(video.subprocess, "run", fake_run)
    assert video.record("td3", "Hopper-v4", tmp_path, tmp_path, 50, 3, python="py", camera="track") == tmp_path / "clip.mp4"
    assert video.record("td3", "Hopper-v4", tmp_path, tmp_path, 50, 3, python="py") == tmp_path / "clip.mp4"
    with_camera, without = commands
    assert with_camera[:3] == ["py", "-m", "rl_zoo3.record_video"] and "--deterministic" in with_camera
    assert with_camera[with_camera.index("--seed") + 1] == "3" and with_camera[with_camera.index("-n") + 1] == "50"
    assert with_camera[-2:] == ["--env-kwargs", "camera_name:'track'"]
    assert "--env-kwargs" not in without


def test_write_gif_palette_size(tmp_path: Path):
    frames = video.compose([solid_frames([RED, GREEN, BLUE, (250, 250, 250)])], ["run"], width=32, every=1)
    video.write_gif(frames, tmp_path / "four.gif", fps=10, colors=4)
    with Image.open(tmp_path / "four.gif") as gif:
        assert len(gif.getpalette()) // 3 <= 4
    with pytest.raises(ValueError, match=r"colors must be in \[2, 256\]"):
        video.write_gif(frames, tmp_path / "bad.gif", fps=10, colors=1)
