"""
Train TD3X with any combination of its extras, evaluate it, and save the model and its replay buffer.

    python examples/train_td3x.py --env Hopper-v4 --steps 20000 --replay lap --n-steps 3
    python examples/train_td3x.py --env Pendulum-v1 --steps 15000 --noisy factorized --noise-schedule linear
    python examples/train_td3x.py --env Hopper-v4 --steps 50000 --crossq 512 --replay lap --n-steps 3
"""

import argparse

import gymnasium as gym
import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

from sb3_td3x import TD3X, DecayingNormalActionNoise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v4")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replay", choices=["none", "per", "lap"], default="none")
    parser.add_argument("--n-steps", type=int, default=1)
    parser.add_argument("--noisy", choices=["off", "factorized", "independent"], default="off")
    parser.add_argument(
        "--crossq",
        type=int,
        default=0,
        metavar="WIDTH",
        help="CrossQ's networks (batch renormalization, no target networks) with critics of this width (0: off)",
    )
    parser.add_argument("--noise-std", type=float, default=0.1, help="Gaussian exploration noise (0: none)")
    parser.add_argument("--noise-schedule", choices=["constant", "linear", "exponential"], default="constant")
    parser.add_argument("--noise-final-std", type=float, default=0.02)
    parser.add_argument("--save", default="td3x_model", help="path prefix for the model zip and the replay buffer")
    args = parser.parse_args()
    if args.crossq < 0 or (args.crossq and args.noisy != "off"):
        parser.error(f"--crossq must be a width >= 1 (0: off), without --noisy; got {args.crossq} with --noisy {args.noisy}")

    env = gym.make(args.env)
    n_actions = env.action_space.shape[0]
    action_noise: ActionNoise | None = None
    if args.noise_std > 0 and args.noise_schedule == "constant":
        action_noise = NormalActionNoise(mean=np.zeros(n_actions), sigma=args.noise_std * np.ones(n_actions))
    elif args.noise_std > 0:
        # decays from noise_std to noise_final_std over the whole run (decay_steps=None)
        action_noise = DecayingNormalActionNoise(
            mean=np.zeros(n_actions), sigma=args.noise_std, final_sigma=args.noise_final_std, schedule=args.noise_schedule
        )
    policy, policy_kwargs, policy_delay = "MlpPolicy", dict(net_arch=[400, 300]), 2
    if args.noisy != "off":
        policy, policy_kwargs["noise_kind"] = "NoisyMlpPolicy", args.noisy
    if args.crossq:
        # CrossQ's recipe on TD3: an actor of 256-256, wide critics, the actor updated every third gradient step
        policy, policy_delay = "CrossQPolicy", 3
        policy_kwargs = dict(net_arch=dict(pi=[256, 256], qf=[args.crossq, args.crossq]))

    model = TD3X(
        policy,
        env,
        learning_starts=min(10_000, args.steps // 10),
        policy_delay=policy_delay,
        action_noise=action_noise,
        prioritized_replay=args.replay,
        n_steps=args.n_steps,
        policy_kwargs=policy_kwargs,
        seed=args.seed,
        verbose=1,
    )
    model.learn(args.steps, progress_bar=False)
    model.save(args.save)
    model.save_replay_buffer(f"{args.save}_replay_buffer")

    mean_return, std_return = evaluate_policy(model, Monitor(gym.make(args.env)), n_eval_episodes=10, deterministic=True)
    print(f"{args.env}: mean return {mean_return:.1f} +/- {std_return:.1f} over 10 deterministic episodes")


if __name__ == "__main__":
    main()
