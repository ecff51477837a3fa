"""Head-to-head benchmark of TD3X against stock TD3 through RL Zoo: runner, report and throughput measurement."""

from sb3_td3x.benchmark.configs import ABLATION, CONFIGS, HEAD_TO_HEAD, BenchmarkConfig
from sb3_td3x.benchmark.runner import RunSpec, make_specs, run_all

__all__ = ["ABLATION", "CONFIGS", "HEAD_TO_HEAD", "BenchmarkConfig", "RunSpec", "make_specs", "run_all"]
