"""The policies' network arguments (net_arch, n_critics), refused out of range by name before any network is built."""

import numpy as np
import pytest
import torch as th

from sb3_td3x import DDPGX, DQNX, TD3X, TD7
from sb3_td3x.common.policy_args import check_layer_widths, check_net_arch

# (algorithm, policy, env id): every policy class of the package with net_arch / n_critics
ACTOR_CRITIC = [
    (TD3X, "MlpPolicy", "Pendulum-v1"),
    (TD3X, "NoisyMlpPolicy", "Pendulum-v1"),
    (TD3X, "CrossQPolicy", "Pendulum-v1"),
    (DDPGX, "MlpPolicy", "Pendulum-v1"),
    (TD7, "MlpPolicy", "Pendulum-v1"),
]
BAD_NET_ARCH = [
    ([64, 0], r"net_arch must be a list of layer widths \(integers >= 1\), got \[64, 0\]"),
    ([-3], r"net_arch must be a list of layer widths"),
    ([64, 2.5], r"net_arch must be a list of layer widths"),
    ([64, True], r"net_arch must be a list of layer widths"),
    ("64", r"net_arch must be a list of layer widths"),
    (dict(pi=[64], qf=[0]), r"net_arch\['qf'\] must be a list of layer widths"),
    (dict(pi=[-1], qf=[64]), r"net_arch\['pi'\] must be a list of layer widths"),
    (dict(pi=[64]), r"net_arch as a dict needs the keys \['pi', 'qf'\].*missing \['qf'\]"),
]


def _ids(case: tuple) -> str:
    return f"{case[0].__name__}-{case[1]}"


@pytest.mark.parametrize("algo, policy, env_id", ACTOR_CRITIC, ids=[_ids(case) for case in ACTOR_CRITIC])
@pytest.mark.parametrize("net_arch, match", BAD_NET_ARCH)
def test_bad_net_arch_is_refused_by_name(algo, policy, env_id, net_arch, match):
    # Without the check: torch's "negative dimension" error, a width-0 layer that fails at the first forward pass,
    # or SB3's assertion about the missing key
    with pytest.raises(ValueError, match=match):
        algo(policy, env_id, policy_kwargs=dict(net_arch=net_arch))


@pytest.mark.parametrize("algo, policy, env_id", ACTOR_CRITIC, ids=[_ids(case) for case in ACTOR_CRITIC])
@pytest.mark.parametrize("n_critics", [0, -1, 1.0, None])
def test_bad_n_critics_is_refused_by_name(algo, policy, env_id, n_critics):
    # Without the check, n_critics=0 stops with torch's "optimizer got an empty parameter list"
    with pytest.raises(ValueError, match="n_critics must be an integer >= 1"):
        algo(policy, env_id, policy_kwargs=dict(n_critics=n_critics))


@pytest.mark.parametrize("algo, policy, env_id", ACTOR_CRITIC, ids=[_ids(case) for case in ACTOR_CRITIC])
def test_good_network_arguments_build_those_networks(algo, policy, env_id):
    # A tuple, numpy integers and a dict with the two keys are SB3's spellings too; one critic is allowed
    model = algo(
        policy,
        env_id,
        policy_kwargs=dict(net_arch=dict(pi=(np.int64(8), 6), qf=[np.int32(5)]), n_critics=1),
        learning_starts=0,
        batch_size=4,
    )
    widths = {
        name: [layer.out_features for layer in net.modules() if hasattr(layer, "out_features")]
        for name, net in (("actor", model.actor), ("critic", model.critic))
    }
    if algo is TD7:  # TD7's actor reads the embedding besides; its critics are batched into one module
        assert widths["actor"][-2:] == [6, 1] and model.critic.n_critics == 1
    else:
        assert len(model.critic.q_networks) == 1
        assert widths["actor"] == [8, 6, 1] and widths["critic"] == [5, 1]
    model.learn(8)


def test_linear_networks_stay_allowed_where_sb3_allows_them():
    # SB3 builds a linear network for net_arch=[]; TD7's networks need their first layer
    model = TD3X("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[]))
    assert not any(isinstance(module, th.nn.ReLU) for module in model.actor.modules())
    with pytest.raises(ValueError, match=r"net_arch must have at least 1 hidden layer\(s\) for this policy, got \[\]"):
        TD7("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[]))


@pytest.mark.parametrize(
    "policy_kwargs, match",
    [
        (dict(net_arch=[0]), r"net_arch must be a list of layer widths"),
        (dict(net_arch=[32, -2]), r"net_arch must be a list of layer widths"),
        # A Q-network is one network: SB3's DQN takes no dict
        (dict(net_arch=dict(pi=[32], qf=[32])), r"net_arch must be a list of layer widths"),
    ],
)
def test_noisy_q_network_refuses_bad_net_arch(policy_kwargs, match):
    with pytest.raises(ValueError, match=match):
        DQNX("NoisyMlpPolicy", "CartPole-v1", policy_kwargs=policy_kwargs)


def test_the_checks_themselves():
    check_net_arch(None)
    check_net_arch([], min_layers=0)
    check_net_arch(dict(pi=[1], qf=[2], vf=[3]))  # SB3 ignores other keys; so does the check
    check_layer_widths("encoder_net_arch", (np.uint8(3),))
    with pytest.raises(ValueError, match="net_arch must be a list of layer widths"):
        check_net_arch(dict(pi=[1], qf=[1]), keys=())
    with pytest.raises(ValueError, match=r"widths must have at least 2 hidden layer\(s\)"):
        check_layer_widths("widths", [4], min_layers=2)
