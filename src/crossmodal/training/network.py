"""The axial network, the shared-autoencoder baseline and their representation normalizations.

Architecture (docs/method.md; the paper's Fig. 2 is not in its text, this is our
reading). For patch size P (odd, >= 9) and widths (w1, w2, w3), F features:

=====================================  ==========================  =========================
encoder layer                          channels                    edge length (P = 15 / 11)
=====================================  ==========================  =========================
conv 3^3 valid, BN, LeakyReLU          1 -> w1                     13 / 9
conv 3^3 stride 2 valid, BN, LeakyReLU w1 -> w2                    6 / 4
conv 3^3 valid, BN, LeakyReLU          w2 -> w3                    4 / 2
conv k^3 valid (k = remaining edge)    w3 -> F                     1 / 1
=====================================  ==========================  =========================

The decoder mirrors it with transposed convolutions (BN + LeakyReLU after every inner layer);
its last layer is linear, so that it can reproduce the full range of (normalized) intensities.
The transposed convolutions are :class:`crossmodal.training.layers.ConvTranspose3d`:
``torch.nn.ConvTranspose3d``'s parameters and function, its last layer computed faster on the CPU.

Choices the paper leaves open, made to follow its Keras implementation's defaults:

* weights Glorot-uniform, biases zero (Keras' ``glorot_uniform`` / ``zeros``);
* LeakyReLU slope 0.3 (Keras' ``LeakyReLU()`` default; the paper does not state it);
* convolutions followed by batch normalization have no bias (BN's shift makes it redundant);
* batch normalization with PyTorch's defaults (momentum 0.1, eps 1e-5) rather than Keras'
  (0.99 i.e. 0.01 here, 1e-3): the demo configurations train for only a few hundred steps and
  the slower Keras average would leave the running statistics used at encoding time unsettled.
  Config ``method.bn_momentum`` and ``method.bn_eps`` switch to Keras' values.

The representation normalizations and the batch-normalization settings follow a
:class:`~crossmodal.training.method.MethodSettings` (config ``method``; the defaults are the readings
above and in docs/method.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import ModelSpec, parse_model_id
from crossmodal.training import layers
from crossmodal.training.method import DEFAULT as DEFAULT_METHOD
from crossmodal.training.method import MethodSettings

LEAKY_SLOPE = 0.3
GLOBAL_NORM_EPS = 1e-5


def layer_sizes(patch_size: int) -> tuple[int, int, int, int]:
    """Edge lengths inside the encoder for a cubic patch.

    Args:
        patch_size: edge length P of the input patch in voxels; odd and at least 9.

    Returns:
        ``(s1, s2, s3, k)``: edge length after the first, second (strided) and third
        convolution, and the kernel size of the last convolution (= s3, giving 1^3).

    Raises:
        InputError: ``patch_size`` is even or smaller than 9.
    """
    if patch_size < 9 or patch_size % 2 == 0:
        raise InputError(
            f"patch_size {patch_size} is not supported by the axial network: use an odd size "
            f">= 9 (config key datasets.<ds>.patch_size)"
        )
    s1 = patch_size - 2
    s2 = (s1 - 3) // 2 + 1
    s3 = s2 - 2
    return s1, s2, s3, s3


def _bn_lrelu(channels: int, method: MethodSettings) -> list[nn.Module]:
    return [nn.BatchNorm3d(channels, eps=method.bn_eps, momentum=method.bn_momentum), nn.LeakyReLU(LEAKY_SLOPE)]


class Encoder(nn.Module):
    """One modality's encoding transformation f^m (before representation normalization).

    Args:
        patch_size: input edge length P (odd, >= 9).
        widths: channels ``(w1, w2, w3)`` of the three inner convolutions.
        features: size F of the representation.
        method: batch-normalization momentum and epsilon.
    """

    def __init__(self, patch_size: int, widths: tuple[int, int, int], features: int,
                 method: MethodSettings = DEFAULT_METHOD):  # fmt: skip
        super().__init__()
        w1, w2, w3 = widths
        k = layer_sizes(patch_size)[3]
        self.layers = nn.Sequential(
            nn.Conv3d(1, w1, 3, bias=False), *_bn_lrelu(w1, method),
            nn.Conv3d(w1, w2, 3, stride=2, bias=False), *_bn_lrelu(w2, method),
            nn.Conv3d(w2, w3, 3, bias=False), *_bn_lrelu(w3, method),
            nn.Conv3d(w3, features, k),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode one modality.

        Args:
            x: patches ``[B, 1, P, P, P]``.

        Returns:
            Features ``[B, F]`` (not normalized).
        """
        return self.layers(x).flatten(1)


class Decoder(nn.Module):
    """One modality's decoding transformation g^m: the mirror image of :class:`Encoder`.

    Args:
        patch_size: output edge length P (odd, >= 9).
        widths: channels ``(w1, w2, w3)`` of the mirrored encoder.
        features: size F of the representation.
        method: batch-normalization momentum and epsilon.
    """

    def __init__(self, patch_size: int, widths: tuple[int, int, int], features: int,
                 method: MethodSettings = DEFAULT_METHOD):  # fmt: skip
        super().__init__()
        w1, w2, w3 = widths
        k = layer_sizes(patch_size)[3]
        self.layers = nn.Sequential(
            layers.ConvTranspose3d(features, w3, k, bias=False), *_bn_lrelu(w3, method),
            layers.ConvTranspose3d(w3, w2, 3, bias=False), *_bn_lrelu(w2, method),
            layers.ConvTranspose3d(w2, w1, 3, stride=2, bias=False), *_bn_lrelu(w1, method),
            layers.ConvTranspose3d(w1, 1, 3),
        )  # fmt: skip

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Decode a representation.

        Args:
            h: representation ``[B, F]``.

        Returns:
            Reconstruction ``[B, 1, P, P, P]``.
        """
        return self.layers(h[:, :, None, None, None])


class GlobalNorm(nn.Module):
    """Normalize each feature vector to zero mean and unit SD across its F features (Sec. II-C).

    Uses the population SD and ``sqrt(var + 1e-5)`` so that a constant vector does not divide by
    zero. Parameter-free and the same in training and evaluation.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Normalize each row.

        Args:
            h: features ``[B, F]``.

        Returns:
            ``[B, F]``, each row with zero mean and unit (population) SD.
        """
        mean = h.mean(dim=1, keepdim=True)
        var = h.var(dim=1, unbiased=False, keepdim=True)
        return (h - mean) / torch.sqrt(var + GLOBAL_NORM_EPS)


class BatchScalarNorm(nn.Module):
    """Normalize a batch of feature vectors by one mean and one SD over the batch and all features.

    The "one scalar over the batch" reading of the global normalization (config
    ``method.global_norm: batch``): batch normalization of a single channel spanning all F
    features, without learnable scale or shift; in evaluation mode its running averages.

    Args:
        method: batch-normalization momentum and epsilon.
    """

    def __init__(self, method: MethodSettings = DEFAULT_METHOD):
        super().__init__()
        self.norm = nn.BatchNorm1d(1, eps=method.bn_eps, momentum=method.bn_momentum, affine=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Normalize.

        Args:
            h: features ``[B, F]``.

        Returns:
            ``[B, F]``.
        """
        return self.norm(h[:, None, :])[:, 0, :]


def global_norm(reading: str, method: MethodSettings = DEFAULT_METHOD) -> nn.Module:
    """The global normalization of one reading (``method.global_norm``, resolved at alpha).

    Args:
        reading: ``vector`` (:class:`GlobalNorm`), ``batch`` (:class:`BatchScalarNorm`) or
            ``none`` (identity).
        method: batch-normalization momentum and epsilon (``batch`` only).

    Returns:
        A module mapping ``[B, F]`` to ``[B, F]``.

    Raises:
        InputError: an unknown reading.
    """
    if reading == "vector":
        return GlobalNorm()
    if reading == "batch":
        return BatchScalarNorm(method)
    if reading == "none":
        return nn.Identity()
    raise InputError(f"global normalization {reading!r}: use vector, batch or none")


def representation_norm(
    per_feature: bool, features: int, method: MethodSettings = DEFAULT_METHOD, alpha: float = 0.0
) -> nn.Module:
    """The normalization applied to one modality's features before averaging.

    Args:
        per_feature: True: batch normalization per feature without learnable scale or shift
            (the paper's per-feature normalization, Sec. II-D), after the global normalization
            where ``method.global_before_per_feature``; False: the global normalization
            (:func:`global_norm` of ``method.global_norm`` at ``alpha``).
        features: size F of the representation.
        method: the readings of the open points (default: the schema's defaults, docs/method.md).
        alpha: the network's similarity weight (resolves ``none_at_alpha0``).

    Returns:
        A module mapping ``[B, F]`` to ``[B, F]``. Each modality gets its own instance, so the
        per-feature running statistics are kept per modality.
    """
    reading = method.global_norm_for(alpha)
    if per_feature:
        norm = nn.BatchNorm1d(features, eps=method.bn_eps, momentum=method.bn_momentum, affine=False)
        return nn.Sequential(global_norm(reading, method), norm) if method.global_before_per_feature else norm
    return global_norm(reading, method)


class NetOutput(NamedTuple):
    """What a forward pass returns.

    Attributes:
        reconstruction: ``[B, M, P, P, P]``, g^m(f(x)) for every modality m.
        representation: ``[B, F]``, the mean f(x) of the normalized features present.
        features: ``[B, M, F]``, the normalized f^m(x^m) of every modality (also absent ones).
        present: ``[B, M]`` bool, the modalities that entered the mean.
    """

    reconstruction: torch.Tensor
    representation: torch.Tensor
    features: torch.Tensor
    present: torch.Tensor


def masked_mean(features: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Mean of the features of the modalities present, divided by their number.

    Args:
        features: ``[B, M, F]``.
        present: ``[B, M]`` bool; at least one True per row.

    Returns:
        ``[B, F]``.
    """
    weights = present.to(features.dtype)
    return (features * weights[:, :, None]).sum(dim=1) / weights.sum(dim=1, keepdim=True)


def _init_keras_style(module: nn.Module, generator: torch.Generator | None) -> None:
    """Glorot-uniform weights and zero biases for every (transposed) convolution."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv3d, nn.ConvTranspose3d)):
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class AxialNet(nn.Module):
    """Axial network: an encoder, a normalization and a decoder per modality (Fig. 1).

    Args:
        n_modalities: M.
        patch_size: P (odd, >= 9).
        widths: ``(w1, w2, w3)``.
        features: F.
        per_feature_norm: per-feature (batch) normalization instead of global normalization.
        generator: random generator for the weight initialization (None: torch's global one).
        method: the readings of the open points (config ``method``; default: the schema's defaults).
        alpha: the similarity weight the network trains with (resolves
            ``method.global_norm: none_at_alpha0``).

    Attributes:
        method: ``method``, kept for encoding (``method.encode_bn_stats``).
    """

    def __init__(
        self,
        n_modalities: int,
        patch_size: int,
        widths: tuple[int, int, int],
        features: int,
        per_feature_norm: bool,
        generator: torch.Generator | None = None,
        method: MethodSettings = DEFAULT_METHOD,
        alpha: float = 0.0,
    ):
        super().__init__()
        widths = tuple(widths)
        self.n_modalities = n_modalities
        self.method = method
        self.encoders = nn.ModuleList(Encoder(patch_size, widths, features, method) for _ in range(n_modalities))
        self.norms = nn.ModuleList(
            representation_norm(per_feature_norm, features, method, alpha) for _ in range(n_modalities)
        )
        self.decoders = nn.ModuleList(Decoder(patch_size, widths, features, method) for _ in range(n_modalities))
        _init_keras_style(self, generator)

    def modality_path(self, m: int) -> nn.Module:
        """The transformation of modality m's patches ``[B, 1, P, P, P]`` into its normalized
        features ``[B, F]`` (encoder and normalization of modality m; shares their parameters)."""
        return nn.Sequential(self.encoders[m], self.norms[m])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Normalized features of every modality.

        Args:
            x: ``[B, M, P, P, P]``.

        Returns:
            ``[B, M, F]``: row m is the normalized f^m(x^m).
        """
        return torch.stack(
            [norm(enc(x[:, m : m + 1])) for m, (enc, norm) in enumerate(zip(self.encoders, self.norms))],
            dim=1,
        )

    def forward(self, x: torch.Tensor, present: torch.Tensor | None = None) -> NetOutput:
        """Encode every modality, average those present, decode every modality.

        Every encoder sees the whole batch (also samples where its modality is dropped), so the
        per-feature normalization's batch statistics always come from B samples; only the mean
        and the similarity term depend on ``present``.

        Args:
            x: ``[B, M, P, P, P]``.
            present: ``[B, M]`` bool (modality dropout); None: all present.

        Returns:
            :class:`NetOutput`.
        """
        if present is None:
            present = torch.ones(x.shape[0], self.n_modalities, dtype=torch.bool, device=x.device)
        features = self.encode(x)
        representation = masked_mean(features, present)
        reconstruction = torch.cat([dec(representation) for dec in self.decoders], dim=1)
        return NetOutput(reconstruction, representation, features, present)


class SharedAutoencoder(nn.Module):
    """Baseline: one encoder, normalization and decoder shared by all modalities.

    The representation gets the global normalization of the axial network without per-feature
    normalization (our choice; the paper does not say), so that baseline and axial features have
    the same scale.

    Args:
        patch_size: P (odd, >= 9).
        widths: ``(w1, w2, w3)``.
        features: F.
        generator: random generator for the weight initialization.
        method: batch-normalization settings and encoding statistics (config ``method``; the
            global normalization of the baseline is always ``vector``).
    """

    n_modalities = 1

    def __init__(
        self,
        patch_size: int,
        widths: tuple[int, int, int],
        features: int,
        generator: torch.Generator | None = None,
        method: MethodSettings = DEFAULT_METHOD,
    ):
        super().__init__()
        widths = tuple(widths)
        self.method = method
        self.encoder = Encoder(patch_size, widths, features, method)
        self.norm = GlobalNorm()
        self.decoder = Decoder(patch_size, widths, features, method)
        _init_keras_style(self, generator)

    def modality_path(self, m: int) -> nn.Module:
        """The shared transformation of one channel's patches ``[B, 1, P, P, P]`` into features
        ``[B, F]`` (the same for every modality m; shares the network's parameters)."""
        return nn.Sequential(self.encoder, self.norm)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The shared transformation applied to every channel separately.

        Args:
            x: ``[B, C, P, P, P]`` (C modalities, or 1).

        Returns:
            ``[B, C, F]``. In training mode the channels share one batch-normalization batch.
        """
        b, c = x.shape[:2]
        h = self.norm(self.encoder(x.reshape(b * c, 1, *x.shape[2:])))
        return h.reshape(b, c, -1)

    def forward(self, x: torch.Tensor, present: torch.Tensor | None = None) -> NetOutput:
        """Plain autoencoder pass.

        Args:
            x: ``[B, 1, P, P, P]``, one modality per sample.
            present: ignored (accepted so both networks share one training loop).

        Returns:
            :class:`NetOutput` with M = 1.
        """
        features = self.encode(x)
        representation = features[:, 0]
        present = torch.ones(x.shape[0], 1, dtype=torch.bool, device=x.device)
        return NetOutput(self.decoder(representation), representation, features, present)


def build_network(
    spec: ModelSpec,
    n_modalities: int,
    patch_size: int,
    widths: tuple[int, int, int],
    features: int,
    generator: torch.Generator | None = None,
    method: MethodSettings = DEFAULT_METHOD,
) -> AxialNet | SharedAutoencoder:
    """The untrained network for a parsed model id.

    Args:
        spec: from :func:`crossmodal.common.model_ids.parse_model_id`.
        n_modalities: M of the dataset (ignored for baselines, which have one path).
        patch_size, widths, features: architecture (config ``patch_size`` and ``network``).
        generator: random generator for the weight initialization.
        method: the readings of the open points (config ``method``; default: the schema's defaults).

    Returns:
        :class:`AxialNet` or :class:`SharedAutoencoder`.
    """
    if spec.kind == "axial":
        return AxialNet(
            n_modalities, patch_size, widths, features, spec.per_feature_norm, generator, method, spec.alpha
        )
    return SharedAutoencoder(patch_size, widths, features, generator, method)


def weights_record(model: AxialNet | SharedAutoencoder, model_id: str, patch_size: int,
                   widths: tuple[int, int, int], features: int, precision: str | None = None) -> dict:  # fmt: skip
    """The content of ``weights.pt`` (docs/architecture.md), tensors on the CPU.

    ``n_modalities`` is the number of encoder/decoder paths: M for axial networks, 1 for the
    shared-autoencoder baselines. ``method`` (the network's :class:`MethodSettings` as a dict)
    is recorded only where it differs from the default readings. ``precision`` (``"fp32"`` or
    ``"bf16"``, what training computed in; ``training.precision: auto`` depends on the machine)
    is recorded where given.
    """
    record = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_id": model_id,
        "n_modalities": int(model.n_modalities),
        "widths": [int(w) for w in widths],
        "features": int(features),
        "patch_size": int(patch_size),
    }
    if model.method != DEFAULT_METHOD:
        record["method"] = dataclasses.asdict(model.method)
    if precision is not None:
        record["precision"] = precision
    return record


def load_network(weights_path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild a trained network from ``weights.pt``, in evaluation mode.

    Args:
        weights_path: a ``weights.pt`` written by :func:`crossmodal.training.train.train`.
        device: where to put the network.

    Returns:
        ``(model, record)``: the network on ``device`` in eval mode, and the weights record
        without ``state_dict`` (``model_id``, ``n_modalities``, ``widths``, ``features``,
        ``patch_size``, and ``method`` and ``precision`` where recorded).

    Raises:
        InputError: the file is not a weights file of this project.
    """
    record = torch.load(weights_path, map_location="cpu", weights_only=True)
    missing = {"state_dict", "model_id", "n_modalities", "widths", "features", "patch_size"} - set(record)
    if missing:
        raise InputError(f"{weights_path}: not a crossmodal weights file (missing {sorted(missing)}); retrain it")
    model_id = record["model_id"]
    if model_id.startswith("baseline-"):
        spec = ModelSpec(kind="baseline")
    else:
        try:
            spec = parse_model_id(model_id, [])
        except ValueError as error:
            raise InputError(f"{weights_path}: {error}") from None
    try:
        method = MethodSettings.from_config(record.get("method"))
    except InputError as error:
        raise InputError(f"{weights_path}: {error}") from None
    model = build_network(
        spec, record["n_modalities"], record["patch_size"], tuple(record["widths"]), record["features"], method=method
    )
    model.load_state_dict(record["state_dict"])
    model.to(device).eval()
    meta = {k: v for k, v in record.items() if k != "state_dict"}
    return model, meta
