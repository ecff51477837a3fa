"""
Batch renormalization with fewer operations per call: sb3-contrib's ``BatchRenorm1d`` (same parameters, buffers,
state dict and function of the input), computed in three ways by phase.

Batch Renormalization: Towards Reducing Minibatch Dependence in Batch-Normalized Models, Ioffe 2017,
https://arxiv.org/abs/1702.03275; as used by CrossQ (Bhatt et al. 2024, https://arxiv.org/abs/1902.05605).

Why: on a CPU a critic update of CrossQ spends more time in the many small elementwise operations of the batch
renormalization than its matrix products ask for. Contrib's forward computes the batch variance with torch's ``var``
over the batch dimension (slow on a CPU: it walks a ``(batch, features)`` tensor column by column) and makes four
passes over the input after its statistics (subtract, divide, scale, shift), each with its own backward. Here:

- in evaluation mode, and in training mode during the warm-up (a batch normalization with the unbiased batch
  variance; in a 100k-step CrossQ run on Hopper every critic call is in the warm-up), torch's own batch norm kernel,
  with its fused backward;
- after the warm-up, one autograd function: the statistics from a centred copy of the input, which is then touched
  once more (``x * a + b`` with ``a`` and ``b`` of one value per feature), and a backward pass written out.
"""

from typing import Any

import torch as th
import torch.nn.functional as F
from sb3_contrib.common.torch_layers import BatchRenorm1d


class _Renormalize(th.autograd.Function):
    """
    The renormalization phase of the layer in training mode, with its gradient written out: one call for the forward
    pass and one for the backward pass, where autograd would take about a dozen operations over the input.

    Per feature, with ``c = x - mean(x)``, ``v = sum(c^2) / (n - 1)`` and the corrections ``r``, ``d`` (computed from
    ``v``, the mean and the running statistics, and held constant for the gradient, Ioffe 2017, Alg. 1):
    ``y = a (c + shift) + bias`` with ``k = (v / r^2 + eps)^(-1/2)``, ``a = scale k`` and ``shift = d sqrt(v) / r``
    (sb3-contrib's ``BatchRenorm1d``: ``(x - (mean - d sqrt(v) / r)) / sqrt(v / r^2 + eps) * scale + bias``).
    Gradients, with ``G1 = sum(g)`` and ``G2 = sum(g c)`` over the batch: ``bias``: ``G1``; ``scale``:
    ``k (G2 + shift G1)``; ``v``: ``scale (G2 + shift G1) dk/dv + a G1 d / (2 r sqrt(v))`` with
    ``dk/dv = -k^3 / (2 r^2)``; ``x``: ``a (g - G1 / n) + 2 c dL/dv / (n - 1)`` (``sum(c) = 0`` removes the mean's
    share of ``v``).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: th.Tensor,
        scale: th.Tensor | None,
        bias: th.Tensor | None,
        ra_mean: th.Tensor,
        ra_var: th.Tensor,
        eps: float,
        rmax: float,
        dmax: float,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        n = x.shape[0]
        # The statistics from a centred copy of the input: torch's var / var_mean over the batch dimension of a
        # (batch, features) tensor walk it column by column, about 40x slower on a CPU than these passes
        batch_mean = x.mean(dim=0)
        centred = x - batch_mean
        batch_var = (centred * centred).sum(dim=0) / (n - 1)
        running_std = (ra_var + eps).sqrt()
        batch_sqrt_var = batch_var.sqrt()
        r = ((batch_var + eps).sqrt() / running_std).clamp(1 / rmax, rmax)
        d = ((batch_mean - ra_mean) / running_std).clamp(-dmax, dmax)
        shift = d * batch_sqrt_var / r
        k = (batch_var / (r * r) + eps).rsqrt()
        a = k * scale if scale is not None else k
        b = shift * a if bias is None else th.addcmul(bias, shift, a)
        ctx.save_for_backward(centred, a, k, shift, r, d, batch_sqrt_var, scale)
        ctx.mark_non_differentiable(batch_mean, batch_var)
        return th.addcmul(b, centred, a), batch_mean, batch_var

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, grad: th.Tensor, _grad_mean: th.Tensor, _grad_var: th.Tensor
    ) -> tuple[th.Tensor | None, ...]:
        centred, a, k, shift, r, d, batch_sqrt_var, scale = ctx.saved_tensors
        n = centred.shape[0]
        g1 = grad.sum(dim=0)
        g2 = (grad * centred).sum(dim=0)
        grad_a = g2 + shift * g1
        grad_k = grad_a * scale if scale is not None else grad_a
        grad_var = grad_k * (-0.5) * k * k * k / (r * r) + a * g1 * d / (2 * r * batch_sqrt_var)
        grad_x = th.addcmul(th.addcmul(-a * g1 / n, centred, 2 * grad_var / (n - 1)), grad, a)
        grad_scale = k * grad_a if scale is not None and ctx.needs_input_grad[1] else None
        grad_bias = g1 if ctx.needs_input_grad[2] else None
        return grad_x, grad_scale, grad_bias, None, None, None, None, None


class FusedBatchRenorm1d(BatchRenorm1d):
    """
    sb3-contrib's :class:`~sb3_contrib.common.torch_layers.BatchRenorm1d`, computed with fewer operations.
    Same constructor, parameters (``scale``, ``bias``), buffers (``ra_mean``, ``ra_var``, ``steps``) and state dict,
    so a network saved with one loads into the other, and the same function of its input: in training mode the batch
    statistics (unbiased variance) until ``steps`` exceeds ``warmup_steps``, then the batch statistics corrected by
    ``r`` (clipped to ``[1 / r_max, r_max]``) and ``d`` (clipped to ``[-d_max, d_max]``) towards the running ones;
    in evaluation mode the running statistics; the running statistics move by ``momentum`` at every training call.

    :param num_features: Number of features of the input ``(batch, num_features)``.
    :param eps: Added to the variance before its square root.
    :param momentum: Rate at which the running statistics follow the batch statistics (PyTorch's convention:
        0.01 is a running average with decay 0.99).
    :param affine: Whether to apply the learned ``scale`` and ``bias``.
    :param warmup_steps: Number of training calls that normalize with the batch statistics alone.
    """

    ra_mean: th.Tensor
    ra_var: th.Tensor
    steps: th.Tensor

    def forward(self, x: th.Tensor) -> th.Tensor:
        """
        :param x: Input, ``(batch, num_features)``.
        :return: The normalized input, same shape.
        """
        if x.dim() != 2:
            raise ValueError(f"FusedBatchRenorm1d expects a 2D input (batch, features), got {x.dim()}D")
        n = x.shape[0]
        scale, bias = (self.scale, self.bias) if self.affine else (None, None)
        if not self.training:
            # The running statistics, which stay as they are: torch's batch norm kernel in evaluation mode
            return F.batch_norm(x, self.ra_mean, self.ra_var, scale, bias, False, 0.0, self.eps)
        if n < 2:
            raise ValueError(
                "FusedBatchRenorm1d: a batch of one in training mode has no batch variance; train on batches of two or"
                " more (batch_size >= 2), or put the layer in evaluation mode to act"
            )
        if not self.steps > self.warmup_steps:
            # Warm-up: batch normalization with the unbiased batch variance, in torch's own batch norm kernel (one
            # pass for the statistics, one for the output, a fused backward: 2-3x faster on a CPU than the same
            # computed operation by operation). It normalizes with the biased variance v_b = v_u (n - 1) / n, so with
            # eps' = eps (n - 1) / n and the scale times c = sqrt((n - 1) / n):
            # c (x - mean) / sqrt(v_b + eps') = (x - mean) / sqrt(v_u + eps). It moves the running statistics by
            # momentum towards the batch mean and the unbiased variance.
            c = ((n - 1) / n) ** 0.5
            weight = scale * c if scale is not None else x.new_full((self.num_features,), c)
            self.steps += 1
            return F.batch_norm(x, self.ra_mean, self.ra_var, weight, bias, True, self.momentum, self.eps * c * c)
        # Renormalization: the batch statistics corrected towards the running ones
        out, batch_mean, batch_var = _Renormalize.apply(
            x, scale, bias, self.ra_mean, self.ra_var, self.eps, self.rmax, self.dmax
        )
        with th.no_grad():
            self.ra_mean += self.momentum * (batch_mean - self.ra_mean)
            self.ra_var += self.momentum * (batch_var - self.ra_var)
            self.steps += 1
        return out
