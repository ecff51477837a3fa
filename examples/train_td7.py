"""
Train TD7 with its own hyperparameters, evaluate its policy checkpoint, and save the model and its replay buffer.

    python examples/train_td7.py --env Hopper-v4 --steps 300000
    python examples/train_td7.py --env Pendulum-v1 --steps 5000 --learning-starts 1000 --zs-dim 64
"""

import argparse

import gymnasium as gym
import torch as th
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_td3x import TD7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v4")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--learning-starts", type=int, default=25_000, help="random steps first (TD7: 25,000)")
    parser.add_argument("--zs-dim", type=int, default=256, help="size of the learned embeddings (TD7: 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default="td7_model", help="path prefix for the model zip and the replay buffer")
    args = parser.parse_args()

    # The networks are small: one thread is fastest on a CPU that runs anything else
    th.set_num_threads(1)
    model = TD7(
        "MlpPolicy",
        gym.make(args.env),
        learning_starts=args.learning_starts,
        policy_kwargs=dict(zs_dim=args.zs_dim),
        seed=args.seed,
        verbose=1,
    )
    model.learn(args.steps)
    # Deterministic actions come from the policy checkpoint (the best assessed policy) once one is taken
    mean, std = evaluate_policy(model, Monitor(gym.make(args.env)), n_eval_episodes=10, deterministic=True)
    print(f"{args.env}: return {mean:.1f} +- {std:.1f} over 10 episodes (policy checkpoint: {model.policy.has_checkpoint})")
    model.save(args.save)
    model.save_replay_buffer(f"{args.save}_replay_buffer")


if __name__ == "__main__":
    main()
