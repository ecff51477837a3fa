"""
Side-by-side GIF of benchmark runs: each configuration's trained model is filmed by RL Zoo's ``record_video``
(deterministic actions, the same seed for every panel), then the videos are shrunk, labelled and put next to each
other in one small GIF, for the README.

Usage (it reads the runs' scratch folders, ``--root`` of the runner, which keep RL Zoo's log folders with the final
models; ``--budget`` picks the runs of that training budget)::

    python -m sb3_td3x.benchmark.video --env Hopper-v4 --configs td3x_recommended td3 --seed 0 \\
        --output docs/hopper-100k.gif
    python -m sb3_td3x.benchmark.video --env Hopper-v4 --budget 500000 --configs td3x_writeup td3 --seed 0 \\
        --output docs/hopper-500k.gif
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sb3_td3x.benchmark import require_extra
from sb3_td3x.benchmark.configs import CONFIGS
from sb3_td3x.benchmark.layout import DEFAULT_ROOT, STANDARD_BUDGET, budget_key, scratch_folder

if TYPE_CHECKING:
    from PIL import Image


def zoo_folder(root: Path | str, env_id: str, config: str, seed: int, budget: int = STANDARD_BUDGET) -> Path:
    """
    :param root: Folder of the benchmark's run folders (``--root`` of the runner).
    :param env_id: Gymnasium environment id.
    :param config: Configuration name.
    :param seed: Seed of the run.
    :param budget: Training budget of the run in env steps (runs of each budget have their own folder).
    :return: RL Zoo's log folder of that run (which ``record_video`` reads with ``-f``).
    """
    folder = scratch_folder(root, budget_key(env_id, budget), config, seed) / "zoo"
    algo = CONFIGS[config].algo
    if not (folder / algo / f"{env_id}_1" / f"{env_id}.zip").is_file():
        budget_arg = "" if budget == STANDARD_BUDGET else f" -n {budget}"
        raise FileNotFoundError(
            f"no final model of {config} seed {seed} under {folder} (expected {algo}/{env_id}_1/{env_id}.zip): "
            f"train the run first, e.g. python -m sb3_td3x.benchmark --env {env_id} --configs {config} "
            f"--seeds {seed}{budget_arg}"
        )
    return folder


def record(
    algo: str,
    env_id: str,
    folder: Path,
    output: Path,
    n_steps: int,
    seed: int,
    python: str = sys.executable,
    camera: str | None = None,
) -> Path:
    """
    Film one trained model with ``python -m rl_zoo3.record_video`` (deterministic actions, first experiment).

    :param algo: RL Zoo algorithm name.
    :param env_id: Gymnasium environment id.
    :param folder: RL Zoo's log folder.
    :param output: Folder of the video.
    :param n_steps: Env steps to film.
    :param seed: Seed of the filmed environment.
    :param python: Python interpreter that runs RL Zoo.
    :param camera: Name of the model camera to film with (the env's ``camera_name`` keyword), None for the env's
        default view.
    :return: path of the mp4 file.
    """
    command = [python, "-m", "rl_zoo3.record_video", "--algo", algo, "--env", env_id, "-f", str(folder)]
    command += ["--exp-id", "1", "-n", str(n_steps), "--seed", str(seed), "--deterministic", "-o", str(output)]
    if camera is not None:
        command += ["--env-kwargs", f"camera_name:{camera!r}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    videos = sorted(output.glob("*.mp4"))
    if not videos:
        raise RuntimeError(f"rl_zoo3.record_video wrote no mp4 into {output}")
    return videos[-1]


def default_camera(env_id: str) -> str | None:
    """
    :param env_id: Gymnasium environment id.
    :return: ``"track"`` for Gymnasium's MuJoCo environments, whose models have a camera of that name that follows
        the body (their default view in Gymnasium 1.x is a free camera that stays where the episode started, so a
        hopper leaves the picture), else None.
    """
    import gymnasium as gym

    try:
        entry_point = gym.spec(env_id).entry_point
    except gym.error.Error:
        return None
    return "track" if isinstance(entry_point, str) and entry_point.startswith("gymnasium.envs.mujoco") else None


def read_frames(video: Path) -> list[np.ndarray]:
    """:return: the RGB frames of an mp4 file."""
    import imageio.v2 as imageio

    return [np.asarray(frame)[..., :3] for frame in imageio.mimread(video, memtest=False)]


def compose(
    panels: Sequence[Sequence[np.ndarray]],
    labels: Sequence[str],
    width: int = 200,
    every: int = 4,
    label_height: int = 18,
) -> list[Image.Image]:
    """
    Put the panels' frames side by side, each shrunk to ``width`` pixels, with its label above it.

    :param panels: Frames (H, W, 3 uint8) of each panel; a shorter panel keeps its last frame.
    :param labels: One label per panel.
    :param width: Width of one panel in pixels (the height follows the frames' aspect ratio).
    :param every: Keep every ``every``-th frame.
    :param label_height: Height of the label strip in pixels.
    :return: the composed frames.
    """
    from PIL import Image, ImageDraw

    if len(panels) != len(labels) or not panels:
        raise ValueError(f"need one label per panel, got {len(panels)} panels and {len(labels)} labels")
    if any(len(frames) == 0 for frames in panels):
        raise ValueError("every panel needs at least one frame")
    if width < 16 or every < 1:
        raise ValueError(f"width must be >= 16 and every >= 1, got width={width}, every={every}")
    height = round(width * panels[0][0].shape[0] / panels[0][0].shape[1])
    n_frames = max(len(frames) for frames in panels)
    composed = []
    for index in range(0, n_frames, every):
        canvas = Image.new("RGB", (width * len(panels), height + label_height), "white")
        draw = ImageDraw.Draw(canvas)
        for position, (frames, label) in enumerate(zip(panels, labels, strict=True)):
            frame = Image.fromarray(frames[min(index, len(frames) - 1)]).resize((width, height), Image.Resampling.BILINEAR)
            canvas.paste(frame, (position * width, label_height))
            draw.text((position * width + 4, 3), label, fill="black")
        composed.append(canvas)
    return composed


def write_gif(frames: Sequence[Image.Image], path: Path, fps: float, colors: int = 64) -> None:
    """
    Write the frames as a looping GIF with one shared palette of ``colors`` colours, so that it stays small; the palette is
    drawn from up to 16 frames spread over the clip, so that colours that appear only later are kept.

    :param frames: The frames, all of one size.
    :param path: Path of the GIF (its folder is created).
    :param fps: Frames per second.
    :param colors: Size of the palette (2 to 256).
    """
    from PIL import Image

    if not 2 <= colors <= 256:
        raise ValueError(f"colors must be in [2, 256], got {colors}")
    path.parent.mkdir(parents=True, exist_ok=True)
    picks = sorted({round(i) for i in np.linspace(0, len(frames) - 1, min(len(frames), 16))})
    width, height = frames[0].size
    sample = Image.new("RGB", (width, height * len(picks)))
    for row, index in enumerate(picks):
        sample.paste(frames[index], (0, row * height))
    palette = sample.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    quantized = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    quantized[0].save(path, save_all=True, append_images=quantized[1:], duration=round(1000 / fps), loop=0, optimize=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sb3_td3x.benchmark.video", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=DEFAULT_ROOT, help="the runs' folder (--root of the runner; default %(default)s)")
    parser.add_argument("--env", default="Hopper-v4", help="Gymnasium environment id")
    parser.add_argument(
        "--budget",
        type=int,
        default=STANDARD_BUDGET,
        help="training budget of the runs to film, in env steps (-n of the runner; default %(default)s)",
    )
    parser.add_argument("--configs", nargs="+", required=True, help="configurations to film, left to right")
    parser.add_argument("--seed", type=int, default=0, help="seed of the runs to film, and of the filmed episodes")
    parser.add_argument("--labels", nargs="+", help="panel labels (default: the configuration names)")
    parser.add_argument(
        "--camera",
        help="model camera to film with (default: 'track' for MuJoCo envs, which follows the body; 'none': the env's view)",
    )
    parser.add_argument("-n", "--n-steps", type=int, default=500, help="env steps to film")
    parser.add_argument("--width", type=int, default=200, help="width of one panel in pixels")
    parser.add_argument("--every", type=int, default=4, help="keep every N-th frame")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second of the GIF")
    parser.add_argument("--colors", type=int, default=64, help="colours in the GIF's palette (2-256)")
    parser.add_argument("--output", required=True, help="path of the GIF")
    args = parser.parse_args(argv)
    unknown = [name for name in args.configs if name not in CONFIGS]
    if unknown:
        parser.error(f"--configs: unknown configuration(s) {unknown} (known: {', '.join(CONFIGS)})")
    if args.labels is not None and len(args.labels) != len(args.configs):
        parser.error(f"--labels: one per configuration ({len(args.configs)}), got {len(args.labels)}")
    if args.budget < 1:
        parser.error(f"--budget: a training budget in env steps, >= 1 (got {args.budget})")
    if args.n_steps < 1 or args.width < 16 or args.every < 1 or args.fps <= 0 or not 2 <= args.colors <= 256:
        parser.error("--n-steps and --every must be >= 1, --width >= 16, --fps > 0, --colors in [2, 256]")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    require_extra(("PIL", "imageio"))
    folders = [zoo_folder(args.root, args.env, config, args.seed, args.budget) for config in args.configs]
    camera = default_camera(args.env) if args.camera is None else (None if args.camera == "none" else args.camera)
    panels = []
    with tempfile.TemporaryDirectory() as scratch:
        for config, folder in zip(args.configs, folders, strict=True):
            video = record(
                CONFIGS[config].algo, args.env, folder, Path(scratch) / config, args.n_steps, args.seed, camera=camera
            )
            panels.append(read_frames(video)[: args.n_steps])
    frames = compose(panels, args.labels or args.configs, width=args.width, every=args.every)
    output = Path(args.output)
    write_gif(frames, output, args.fps, colors=args.colors)
    print(f"{output}: {len(frames)} frames, {output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
