"""Layers of the networks with a faster CPU computation of the same function.

:class:`ConvTranspose3d` is ``torch.nn.ConvTranspose3d`` (the same parameters, state-dict keys and
initialization) whose forward pass, for the decoders' last layer (3^3 kernel, stride 1, no
padding, one output channel) on the CPU in float32, is computed as one matrix product and a
col2im fold instead of oneDNN's transposed convolution. oneDNN vectorizes over output channels,
so with one output channel that layer ran at a few GFLOP/s and was the most expensive layer of
the training step; the matrix product with the kernel taps as rows runs at full width and the
fold is nine strided additions (measured: ``benchmarks/training_throughput.py`` and
docs/performance.md, "The training step"). Its backward pass is PyTorch's own
(``aten::convolution_backward``, the direction oneDNN computes fast). Every other case (a
stride, more output channels, CUDA, bf16 autocast) is ``torch.nn.ConvTranspose3d``'s forward.

The result equals PyTorch's within float32 rounding (sums in a different order), not bit for bit
(``tests/training/test_layers.py``).
"""

from __future__ import annotations

import torch
from torch import nn

KERNEL = 3


def col2im_stride1(cols: torch.Tensor) -> torch.Tensor:
    """Add every kernel tap's contribution at its offset: the fold of a stride-1 3^3 transposed conv.

    Args:
        cols: ``[3, 3, 3, B, D, H, W]``: ``cols[a, b, c, n, d, h, w]`` is what input voxel
            ``(d, h, w)`` of sample n contributes through kernel tap ``(a, b, c)``.

    Returns:
        ``[B, D + 2, H + 2, W + 2]``: ``out[n, d + a, h + b, w + c]`` summed over taps and voxels.
    """
    k = KERNEL
    _, _, _, n, d, h, w = cols.shape
    # one axis at a time: 9 strided additions instead of 27 into the full output
    along_w = cols.new_zeros(k, k, n, d, h, w + k - 1)
    for c in range(k):
        along_w[..., c : c + w] += cols[:, :, c]
    along_h = cols.new_zeros(k, n, d, h + k - 1, w + k - 1)
    for b in range(k):
        along_h[..., b : b + h, :] += along_w[:, b]
    out = cols.new_zeros(n, d + k - 1, h + k - 1, w + k - 1)
    for a in range(k):
        out[:, a : a + d] += along_h[a]
    return out


def _cpu_autocast_enabled() -> bool:
    """Whether CPU autocast is on (``torch.is_autocast_enabled`` takes a device from torch 2.4)."""
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:
        return torch.is_autocast_cpu_enabled()


class _TransposedConvToOneChannel(torch.autograd.Function):
    """Stride-1, unpadded 3^3 transposed convolution with one output channel (see the module)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        n, channels, d, h, w = x.shape
        # x as [voxels, channels] (a view for channels-last input); taps as rows
        voxels = x.permute(0, 2, 3, 4, 1).reshape(-1, channels)
        cols = weight.reshape(channels, KERNEL**3).t() @ voxels.t()
        out = col2im_stride1(cols.view(KERNEL, KERNEL, KERNEL, n, d, h, w))
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return out.unsqueeze(1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        wanted = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad, x, weight, [1] if ctx.has_bias else None,
            [1, 1, 1], [0, 0, 0], [1, 1, 1], True, [0, 0, 0], 1, wanted,
        )  # fmt: skip
        return grad_x, grad_w, grad_b


class ConvTranspose3d(nn.ConvTranspose3d):
    """``torch.nn.ConvTranspose3d`` with a faster CPU forward pass for one output channel.

    Same constructor, parameters and state-dict keys as ``torch.nn.ConvTranspose3d``.
    """

    def uses_fold(self, x: torch.Tensor) -> bool:
        """Whether :meth:`forward` computes ``x`` by matrix product and fold (see the module)."""
        return (
            self.out_channels == 1
            and self.kernel_size == (KERNEL,) * 3
            and self.stride == (1, 1, 1)
            and self.padding == (0, 0, 0)
            and self.output_padding == (0, 0, 0)
            and self.dilation == (1, 1, 1)
            and self.groups == 1
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and not _cpu_autocast_enabled()
        )

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """Transposed convolution of ``x`` ``[B, C, D, H, W]``; see ``torch.nn.ConvTranspose3d``."""
        if output_size is None and self.uses_fold(x):
            return _TransposedConvToOneChannel.apply(x, self.weight, self.bias)
        return super().forward(x, output_size)


def as_torch_nn(module: nn.Module) -> nn.Module:
    """``module`` computed by ``torch.nn``'s own layers, for comparisons with the reference step.

    Args:
        module: a network, or a single layer.

    Returns:
        ``module`` with every :class:`ConvTranspose3d` in it replaced, in place, by a
        ``torch.nn.ConvTranspose3d`` that holds the same parameter tensors (shared, not copied);
        a :class:`ConvTranspose3d` given alone comes back as its ``torch.nn`` counterpart.
    """

    def plain(layer: ConvTranspose3d) -> nn.ConvTranspose3d:
        twin = nn.ConvTranspose3d(
            layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding,
            output_padding=layer.output_padding, groups=layer.groups, bias=layer.bias is not None,
            dilation=layer.dilation, device="meta",
        )  # fmt: skip
        twin.weight, twin.bias = layer.weight, layer.bias
        return twin

    if isinstance(module, ConvTranspose3d):
        return plain(module)
    for parent in list(module.modules()):
        for name, child in parent.named_children():
            if isinstance(child, ConvTranspose3d):
                setattr(parent, name, plain(child))
    return module
