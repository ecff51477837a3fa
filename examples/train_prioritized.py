"""
Prioritized replay for SB3's DQN, SAC and DDPG: train DQNX, SACX or DDPGX, evaluate it, save the model and the replay
buffer (with its priorities), and load both back.

    python examples/train_prioritized.py --algo dqnx --env CartPole-v1 --steps 20000 --replay per --n-steps 3
    python examples/train_prioritized.py --algo sacx --env Pendulum-v1 --steps 10000 --replay lap
    python examples/train_prioritized.py --algo dqnx --env CartPole-v1 --noisy    # NoisyNet instead of epsilon-greedy
"""

import argparse

import gymnasium as gym
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_td3x import DDPGX, DQNX, SACX

ALGOS = {"dqnx": DQNX, "sacx": SACX, "ddpgx": DDPGX}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=list(ALGOS), default="dqnx")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replay", choices=["none", "per", "lap"], default="per")
    parser.add_argument("--n-steps", type=int, default=1)
    parser.add_argument("--noisy", action="store_true", help="DQNX only: a NoisyNet Q-network")
    parser.add_argument("--save", default="prioritized_model", help="path prefix for the model zip and the replay buffer")
    args = parser.parse_args()

    algo = ALGOS[args.algo]
    policy = "NoisyMlpPolicy" if args.noisy else "MlpPolicy"
    model = algo(policy, args.env, prioritized_replay=args.replay, n_steps=args.n_steps, seed=args.seed, verbose=1)
    model.learn(args.steps)
    mean, std = evaluate_policy(model, Monitor(gym.make(args.env)), n_eval_episodes=10, deterministic=True)
    print(f"{args.algo} on {args.env} after {args.steps} steps: {mean:.1f} +- {std:.1f}")

    model.save(f"{args.save}.zip")
    model.save_replay_buffer(f"{args.save}_replay_buffer.pkl")
    loaded = algo.load(f"{args.save}.zip", env=gym.make(args.env))
    loaded.load_replay_buffer(f"{args.save}_replay_buffer.pkl")
    print(f"loaded: {type(loaded.replay_buffer).__name__} with {loaded.replay_buffer.size()} transitions")


if __name__ == "__main__":
    main()
