"""The paper's optimizer: plain stochastic gradient descent (no momentum, no weight decay).

``torch.optim.SGD`` does the same update, but constructing any ``torch.optim`` optimizer
imports ``torch._dynamo``, which costs a short training job about as much as importing
torch itself (docs/performance.md, "Training speed and per-job overhead"). The
update below is the arithmetic of ``torch.optim.SGD``'s own path for these settings
(``param.add_(grad, alpha=-lr)``), so weights are bit-identical to it; plain SGD has no state
to checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


@torch.no_grad()
def sgd_update(params: Iterable[torch.Tensor], lr: float) -> None:
    """One update ``p <- p - lr * grad(p)`` of every parameter that has a gradient.

    Args:
        params: the network's parameters, after ``backward()``.
        lr: learning rate of this update.
    """
    for param in params:
        if param.grad is not None:
            param.add_(param.grad, alpha=-lr)
