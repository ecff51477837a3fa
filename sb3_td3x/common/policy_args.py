"""
Checks of the policies' network arguments (``policy_kwargs``), run before any network is built: out of range, torch
would stop with a message that names no argument (``net_arch=[-3]``: "Trying to create tensor with negative
dimension"; ``n_critics=0``: "optimizer got an empty parameter list"), or build a layer of width 0 that fails at the
first forward pass.
"""

from collections.abc import Sequence
from typing import Any

from sb3_td3x.common.training_args import is_integer_at_least


def check_layer_widths(name: str, arch: Any, min_layers: int = 0) -> None:
    """
    :param name: The argument's name, for the message (e.g. ``net_arch['qf']``)
    :param arch: Its value: the widths of the hidden layers
    :param min_layers: The fewest hidden layers allowed (0: an empty list, a linear network, is allowed)
    :raises ValueError: unless ``arch`` is a list (or tuple) of at least ``min_layers`` integers >= 1
    """
    if not isinstance(arch, (list, tuple)) or not all(is_integer_at_least(width, 1) for width in arch):
        raise ValueError(f"{name} must be a list of layer widths (integers >= 1), got {arch!r}")
    if len(arch) < min_layers:
        raise ValueError(f"{name} must have at least {min_layers} hidden layer(s) for this policy, got {arch!r}")


def check_net_arch(net_arch: Any, keys: Sequence[str] = ("pi", "qf"), min_layers: int = 0) -> None:
    """
    Check SB3's ``net_arch`` of an actor-critic policy: None (the policy's default), one list of widths for every
    network, or a dict with one list per network.

    :param net_arch: The policy's ``net_arch``
    :param keys: The networks a dict must name (SB3's TD3: ``"pi"`` and ``"qf"``); empty: only a list is allowed
    :param min_layers: The fewest hidden layers allowed in each list
    :raises ValueError: naming ``net_arch`` (or its entry) and what it must be
    """
    if net_arch is None:
        return
    if isinstance(net_arch, dict):
        if not keys:
            raise ValueError(f"net_arch must be a list of layer widths (integers >= 1), got {net_arch!r}")
        missing = [key for key in keys if key not in net_arch]
        if missing:
            raise ValueError(f"net_arch as a dict needs the keys {list(keys)}, got {net_arch!r} (missing {missing})")
        for key in keys:
            check_layer_widths(f"net_arch[{key!r}]", net_arch[key], min_layers)
        return
    check_layer_widths("net_arch", net_arch, min_layers)
