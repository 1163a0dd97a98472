"""The shared work of every torch classifier: batching, device, inference mode, logits -> probabilities."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from ..device import pick_device
from .base import PROBABILITY, SIMILARITY

# softmax modes: "auto" leaves rows that already are probability vectors alone.
AUTO = "auto"
_SUMS_TO_ONE = 2e-2

Network = Callable[[torch.Tensor], torch.Tensor]


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    return batch_size


def check_softmax(apply_softmax) -> bool | str:
    if apply_softmax is None or apply_softmax == AUTO:
        return AUTO
    if isinstance(apply_softmax, bool):
        return apply_softmax
    raise ValueError(f"`apply_softmax` must be True, False or 'auto', got {apply_softmax!r}")


def as_output_matrix(outputs, batch: int, source: str) -> torch.Tensor:
    """Check a network's raw output is one row of scores per image; say clearly what came back if not."""
    if not isinstance(outputs, torch.Tensor):
        raise ValueError(
            f"{source} returned {type(outputs).__name__}, not a tensor; the model must return one tensor "
            f"of shape (batch, classes)"
        )
    if outputs.ndim != 2 or outputs.shape[0] != batch:
        raise ValueError(
            f"{source} returned outputs of shape {tuple(outputs.shape)} for {batch} image(s); a classifier "
            f"must return shape ({batch}, classes)"
        )
    if outputs.shape[1] < 2:
        raise ValueError(
            f"{source} returns {outputs.shape[1]} output per image; export a model that returns one logit "
            f"per class (at least 2 classes)"
        )
    return outputs


def to_probabilities(outputs: torch.Tensor, apply_softmax: bool | str) -> torch.Tensor:
    """Softmax over classes; in "auto" mode a batch that already holds probabilities stays as it is.

    :class:`TorchClassifier` settles "auto" once per model, so every row of every series is treated alike.
    """
    outputs = outputs.float()
    if apply_softmax is False:
        return outputs
    soft = torch.softmax(outputs, dim=1)
    if apply_softmax is True:
        return soft
    return outputs if looks_like_probabilities(outputs) else soft


def looks_like_probabilities(outputs: torch.Tensor) -> bool:
    """Whether every row is non-negative and sums to 1 (within what float16/bfloat16 rounding allows)."""
    return bool(((outputs >= 0).all(dim=1) & ((outputs.float().sum(dim=1) - 1).abs() < _SUMS_TO_ONE)).all())


def check_class_names(class_names, k: int, source: str) -> list[str]:
    """``class_names`` as a list of ``k`` strings; "class 0".."class k-1" when None."""
    if class_names is None:
        return [f"class {index}" for index in range(k)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"`class_names` must be a list of strings, got {type(class_names).__name__}")
    names = [str(name) for name in class_names]
    if len(names) != k:
        raise ValueError(
            f"`class_names` has {len(names)} names but {source} returns {k} outputs per image; "
            f"give exactly {k} names, in the model's output order"
        )
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"`class_names` must be unique; repeated: {duplicates}")
    return names


def short_error(error: BaseException) -> str:
    """The last non-empty line of an error message: TorchScript appends its whole traceback."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{error.__class__.__name__}: {lines[-1] if lines else ''}"[:300]


class TorchClassifier:
    """A torch image classifier behind the :class:`~propgrad.models.base.Model` protocol.

    ``load(device)`` returns the network (called lazily on the first ``predict``, so a loader can
    cache per process); ``transform(images)`` turns PIL images into the input batch.
    ``fixed_batch_size`` is for exported graphs with a static batch dimension: the last batch is
    padded with copies of its last image and the padding's rows are dropped.
    """

    def __init__(
        self,
        *,
        name: str,
        output_names: list[str],
        load: Callable[[torch.device], Network],
        transform: Callable[[list[Image.Image]], torch.Tensor],
        apply_softmax: bool | str = AUTO,
        batch_size: int = 16,
        device: str | torch.device | None = None,
        fixed_batch_size: int | None = None,
    ):
        self.name = name
        self.output_names = list(output_names)
        self.apply_softmax = check_softmax(apply_softmax)
        self.output_kind = SIMILARITY if self.apply_softmax is False else PROBABILITY
        self.batch_size = check_batch_size(fixed_batch_size or batch_size)
        self.fixed_batch_size = fixed_batch_size
        self.device = pick_device(str(device) if device is not None else None)
        self.transform = transform
        self._load = load
        self._network: Network | None = None

    @property
    def network(self) -> Network:
        if self._network is None:
            self._network = self._load(self.device)
        return self._network

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, outputs={len(self.output_names)}, device={self.device})"

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw outputs (n, k) for a prepared input batch, padded to the fixed batch size if needed."""
        n = batch.shape[0]
        if self.fixed_batch_size and n < self.fixed_batch_size:
            padding = batch[-1:].expand(self.fixed_batch_size - n, *batch.shape[1:])
            batch = torch.cat([batch, padding])
        with torch.inference_mode():
            try:
                outputs = self.network(batch.to(self.device))
            except (RuntimeError, TypeError, IndexError) as error:
                # Uploaded networks fail in their own code; the user needs the cause, not its traceback.
                raise ValueError(
                    f"model {self.name!r} failed on an input batch of shape {tuple(batch.shape)}: "
                    f"{short_error(error)}; it must take any batch size of RGB images at its input size"
                ) from None
        if self.fixed_batch_size:
            outputs = outputs[:n] if isinstance(outputs, torch.Tensor) and outputs.ndim >= 1 else outputs
        return as_output_matrix(outputs, n, f"model {self.name!r}")

    def predict(self, images: list[Image.Image]) -> np.ndarray:
        """Class probabilities, float32 array of shape (len(images), len(output_names))."""
        images = list(images)
        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = self.transform(images[start:start + self.batch_size])
            outputs = self.forward(batch)
            if outputs.shape[1] != len(self.output_names):
                raise ValueError(
                    f"model {self.name!r} returned {outputs.shape[1]} outputs per image, expected "
                    f"{len(self.output_names)} (one per output name)"
                )
            if self.apply_softmax == AUTO:
                # Decided once per model, never per row or per batch: one series must not mix raw
                # probabilities with softmaxed ones.
                self.apply_softmax = not looks_like_probabilities(outputs)
            rows.append(to_probabilities(outputs, self.apply_softmax).cpu().numpy())
        if not rows:
            return np.zeros((0, len(self.output_names)), dtype=np.float32)
        return np.concatenate(rows).astype(np.float32, copy=False)
