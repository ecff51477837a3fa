"""
Batch renormalization with fewer operations per call: sb3-contrib's ``BatchRenorm1d`` (same parameters, buffers,
state dict and arithmetic) whose forward pass folds the normalization and the affine transform into one
per-feature scale and shift.

Batch Renormalization: Towards Reducing Minibatch Dependence in Batch-Normalized Models, Ioffe 2017,
https://arxiv.org/abs/1702.03275; as used by CrossQ (Bhatt et al. 2024, https://arxiv.org/abs/1902.05605).

Why: on a CPU a critic update of CrossQ spends more time in the many small elementwise operations of the batch
renormalization than its matrix products ask for. Contrib's forward makes four passes over the ``(batch, features)``
input after its statistics (subtract, divide, scale, shift), each with its own backward; here the statistics come from
a centred copy of the input, which is then touched once more (``x * a + b`` with ``a`` and ``b`` of one value per
feature); and torch's ``var`` over the batch dimension, slow on a CPU, is not used. During the warm-up, when the layer
is a batch normalization with the unbiased batch variance, torch's own batch norm kernel computes it (rescaled to
that variance), with its fused backward: in a 100k-step CrossQ run on Hopper every critic call is in the warm-up.
"""

import torch as th
import torch.nn.functional as F
from sb3_contrib.common.torch_layers import BatchRenorm1d


class FusedBatchRenorm1d(BatchRenorm1d):
    """
    sb3-contrib's :class:`~sb3_contrib.common.torch_layers.BatchRenorm1d` with a forward pass of fewer operations.
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
        if n > 1 and not self.steps > self.warmup_steps:
            # Warm-up: batch normalization with the unbiased batch variance, in torch's own batch norm kernel (one
            # pass for the statistics, one for the output, a fused backward: 2-3x faster on a CPU than the operations
            # below). It normalizes with the biased variance v_b = v_u (n - 1) / n, so with eps' = eps (n - 1) / n
            # and the scale times c = sqrt((n - 1) / n): c (x - mean) / sqrt(v_b + eps') = (x - mean) / sqrt(v_u + eps).
            # It moves the running statistics by momentum towards the batch mean and the unbiased variance.
            c = ((n - 1) / n) ** 0.5
            weight = scale * c if scale is not None else x.new_full((self.num_features,), c)
            self.steps += 1
            return F.batch_norm(x, self.ra_mean, self.ra_var, weight, bias, True, self.momentum, self.eps * c * c)
        # Renormalization (and a batch of one, where the unbiased variance is undefined, as in contrib's layer).
        # The statistics from a centred copy of the input: torch's var / var_mean over the batch dimension of a
        # (batch, features) tensor walk it column by column, about 40x slower on a CPU than these three passes
        batch_mean = x.mean(dim=0)
        centred = x - batch_mean
        batch_var = (centred * centred).sum(dim=0) / (n - 1)
        shift = None
        var = batch_var
        if self.steps > self.warmup_steps:
            running_std = (self.ra_var + self.eps).sqrt()
            batch_std = (batch_var + self.eps).sqrt()
            # Gradients flow through the batch statistics, not through the corrections (Ioffe 2017, Alg. 1)
            r = (batch_std / running_std).detach().clamp(1 / self.rmax, self.rmax)
            d = ((batch_mean - self.ra_mean) / running_std).detach().clamp(-self.dmax, self.dmax)
            # x - mean, with mean = batch_mean - d * sqrt(batch_var) / r, is centred + shift
            shift = d * batch_var.sqrt() / r
            var = batch_var / (r * r)
        with th.no_grad():
            self.ra_mean += self.momentum * (batch_mean - self.ra_mean)
            self.ra_var += self.momentum * (batch_var - self.ra_var)
            self.steps += 1
        # (centred + shift) / sqrt(var + eps) * scale + bias, as centred * a + b with one value of a and b per feature
        a = (var + self.eps).rsqrt()
        if scale is not None:
            a = a * scale
        b = bias if bias is not None else th.zeros_like(a)
        if shift is not None:
            b = b + shift * a
        return th.addcmul(b, centred, a)
