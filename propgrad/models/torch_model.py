"""The shared work of every torch classifier: images -> a normalised tensor batch -> the network -> outputs.

**Preprocessing.** PIL images become a normalised float tensor batch the way torchvision's classic transforms
do it (``transforms.v2.functional``: ``resize``, ``center_crop``, ``pil_to_tensor``, ``to_dtype(scale=True)``,
``normalize``), written out here so that the app does not import torchvision, which brings sympy and triton and
held about 170 MB of the server's memory (issue 23); a test checks that the tensors are bit for bit
torchvision's. Every image is resized on its own (PIL resampling, which antialiases like torchvision's
``Resize`` on PIL input), so a batch is exactly the stack of its one-image batches: predictions never depend on
how images were grouped.

**Running.** :class:`TorchClassifier` batches, picks the device, runs in inference mode and turns logits into
probabilities. A binary classifier with ONE output (a logit, or a probability from a final sigmoid) is presented
as two columns ``[1 - p, p]`` (negative, positive), so that downstream code needs no special case: the
argmax flips exactly where p crosses 0.5, and ``|d(1 - p)| == |dp|`` gives both columns one score.
At exactly p = 0.5 the argmax picks the first column, so the negative class wins ties; a positive
prediction needs p > 0.5 (:func:`propgrad.score.prediction_flips` thresholds one column the same way).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..device import pick_device
from ..errors import ArgumentError
from ..images import MAX_SIDE
from .base import ALREADY_PROBABILITIES, AUTO, PROBABILITY, SIMILARITY

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def check_size(size, name: str = "input_size") -> tuple[int, int]:
    """``size`` as a (height, width) pair of positive ints; an int means a square.

    Examples
    --------
    >>> check_size(128)
    (128, 128)
    >>> check_size((100_000, 100_000))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    propgrad.errors.ArgumentError: `input_size` asks for 100,000 x 100,000 px; the limit is 2,048 a side, ...
    """
    if isinstance(size, bool):
        raise TypeError(f"`{name}` must be an int or a (height, width) pair of ints, got {size!r}")
    if isinstance(size, int):
        size = (size, size)
    if not isinstance(size, Sequence) or isinstance(size, str) or len(size) != 2:
        raise TypeError(f"`{name}` must be an int or a (height, width) pair of ints, got {size!r}")
    if not all(isinstance(side, int) and not isinstance(side, bool) for side in size):
        raise TypeError(f"`{name}` must hold ints, got {size!r}")
    if min(size) < 1:
        raise ValueError(f"`{name}` must be positive, got {tuple(size)}")
    if max(size) > MAX_SIDE:
        # 100000 x 100000 grew to 23 GB resizing the first step until the kernel killed the process.
        raise ArgumentError(name, f"asks for {size[0]:,} x {size[1]:,} px; the limit is {MAX_SIDE:,} a side, as for an "
                                  f"input image (see docs/faults-and-limits.md)")
    return int(size[0]), int(size[1])


def check_mean_std(mean, std) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Validate per-channel normalisation constants: three numbers each, every ``std`` above zero.

    Examples
    --------
    >>> check_mean_std((0.5, 0.5, 0.5), [0.5, 0.5, 0.5])
    ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    """
    checked = []
    for label, values in (("mean", mean), ("std", std)):
        try:
            numbers = tuple(float(value) for value in values)
        except (TypeError, ValueError):
            raise TypeError(f"`{label}` must be three numbers (one per RGB channel), got {values!r}") from None
        if len(numbers) != 3:
            raise ValueError(f"`{label}` must have 3 values (one per RGB channel), got {len(numbers)}")
        if not all(number == number and abs(number) != float("inf") for number in numbers):
            raise ValueError(f"`{label}` must be finite, got {numbers}")
        checked.append(numbers)
    if min(checked[1]) <= 0:
        raise ValueError(f"`std` must be positive in every channel, got {checked[1]}")
    return checked[0], checked[1]


def _check_images(images) -> list[Image.Image]:
    if isinstance(images, Image.Image):
        raise TypeError("`images` must be a list of PIL images; wrap a single image in a list")
    images = list(images)
    for index, image in enumerate(images):
        if not isinstance(image, Image.Image):
            raise TypeError(f"`images[{index}]` must be a PIL image, got {type(image).__name__}")
    return images


def _resize(image: Image.Image, size: int | tuple[int, int]) -> Image.Image:
    """torchvision's ``resize(image, size, BILINEAR)`` of a PIL image: an int is the short side (the long side
    scaled and truncated), a pair is (height, width); an image of that size already is returned as it is."""
    height, width = image.height, image.width
    if isinstance(size, int):
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = size, int(size * long / short)
        new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    else:
        new_height, new_width = size
    if (new_height, new_width) == (height, width):
        return image
    return image.resize((new_width, new_height), resample=Image.BILINEAR)


def _center_crop(image: Image.Image, crop: int) -> Image.Image:
    """torchvision's ``center_crop`` of a PIL image at least ``crop`` pixels on each side."""
    top = int(round((image.height - crop) / 2.0))
    left = int(round((image.width - crop) / 2.0))
    return image.crop((left, top, left + crop, top + crop))


def _normalised(pils: list[Image.Image], mean, std) -> torch.Tensor:
    if not pils:
        return torch.empty(0, 3, 0, 0)
    # pil_to_tensor, then to_dtype(float32, scale=True): the same operations, in the same order, as torchvision.
    tensors = [torch.as_tensor(np.array(pil, copy=True)).view(pil.size[1], pil.size[0], 3).permute((2, 0, 1))
               .to(torch.float32).mul_(1.0 / 255) for pil in pils]
    batch = torch.stack(tensors)
    mean = torch.as_tensor(list(mean), dtype=batch.dtype).view(-1, 1, 1)
    std = torch.as_tensor(list(std), dtype=batch.dtype).view(-1, 1, 1)
    return batch.sub(mean).div_(std)


@dataclass(frozen=True)
class ResizeNormalize:
    """``Resize((h, w))`` + ``ToTensor`` + ``Normalize(mean, std)``: squash to a fixed size.

    Examples
    --------
    >>> from PIL import Image
    >>> batch = ResizeNormalize((128, 128), (0.5,) * 3, (0.5,) * 3)([Image.new("RGB", (300, 200))])
    >>> tuple(batch.shape)
    (1, 3, 128, 128)
    """

    size: tuple[int, int]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self):
        object.__setattr__(self, "size", check_size(self.size, "size"))
        mean, std = check_mean_std(self.mean, self.std)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        """A float32 tensor of shape (len(images), 3, h, w)."""
        pils = [_resize(image.convert("RGB"), self.size) for image in _check_images(images)]
        return _normalised(pils, self.mean, self.std)


@dataclass(frozen=True)
class ResizeCropNormalize:
    """Resize the short side to ``resize``, centre-crop ``crop`` x ``crop``, then normalise.

    The EfficientNet-Lite evaluation transform: short side 256, crop 224, mean 0.5, std 0.5.

    Examples
    --------
    >>> from PIL import Image
    >>> batch = ResizeCropNormalize(256, 224, (0.5,) * 3, (0.5,) * 3)([Image.new("RGB", (451, 300))])
    >>> tuple(batch.shape)
    (1, 3, 224, 224)
    """

    resize: int
    crop: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self):
        for label in ("resize", "crop"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{label}` must be a positive int, got {value!r}")
        if self.crop > self.resize:
            raise ValueError(f"`crop` ({self.crop}) must not exceed `resize` ({self.resize})")
        mean, std = check_mean_std(self.mean, self.std)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def size(self) -> tuple[int, int]:
        return self.crop, self.crop

    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        """A float32 tensor of shape (len(images), 3, crop, crop)."""
        pils = []
        for image in _check_images(images):
            pils.append(_center_crop(_resize(image.convert("RGB"), self.resize), self.crop))
        return _normalised(pils, self.mean, self.std)


_SUMS_TO_ONE = 2e-2

Network = Callable[[torch.Tensor], torch.Tensor]


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    return batch_size


def check_softmax(apply_softmax) -> bool | str:
    if apply_softmax is None or apply_softmax == AUTO:
        return AUTO
    if isinstance(apply_softmax, bool) or apply_softmax == ALREADY_PROBABILITIES:
        return apply_softmax
    raise ValueError(
        f"`apply_softmax` must be True, False, 'auto' or {ALREADY_PROBABILITIES!r}, got {apply_softmax!r}"
    )


class OutputShapeError(ValueError):
    """A network returned something other than one row of scores per image: ``problem`` says what and what to
    export instead, after the network's name (``source``); advice about the input, given for other failures, does
    not fit it."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source} {problem}")
        self.problem = problem


def as_output_matrix(outputs, batch: int, source: str) -> torch.Tensor:
    """Check a network's raw output is one row of scores per image; say clearly what came back if not."""
    if not isinstance(outputs, torch.Tensor):
        raise OutputShapeError(source, f"returned {type(outputs).__name__}, not a tensor; the model must return one "
                                       "tensor of shape (batch, classes)")
    if outputs.ndim != 2 or outputs.shape[0] != batch:
        raise OutputShapeError(source, f"returned outputs of shape {tuple(outputs.shape)} for {batch} image(s); a "
                                       f"classifier must return shape ({batch}, classes)")
    if outputs.shape[1] < 1:
        raise OutputShapeError(source, f"returns {outputs.shape[1]} output per image; export a model that returns one "
                                       "logit per class, or a single logit (or probability) for a binary task")
    return outputs


def presented_width(k: int, apply_softmax: bool | str) -> int:
    """How many columns a model with ``k`` raw outputs presents: a single output becomes [1 - p, p]
    unless ``apply_softmax`` is False (raw outputs, reported as they are)."""
    return 2 if k == 1 and apply_softmax is not False else k


def to_probabilities(outputs: torch.Tensor, apply_softmax: bool | str, source: str = "the model") -> torch.Tensor:
    """Raw outputs (n, k) -> what the model presents: probabilities, or the raw outputs when False.

    k >= 2: softmax over classes (True), as they are (False, ALREADY_PROBABILITIES), or, in "auto" mode,
    softmax unless the batch already holds probability vectors. k == 1 (a binary classifier's single
    output): ``[1 - p, p]`` with p = sigmoid(output) (True; "auto" when the batch leaves [0, 1]) or p =
    the output itself (ALREADY_PROBABILITIES); False keeps the one raw column. Outputs taken as probabilities
    are refused outside [0, 1], naming ``source`` (:func:`check_probabilities`). :class:`TorchClassifier` settles "auto" once per model, so every
    row of every series is treated alike.

    Examples
    --------
    >>> to_probabilities(torch.tensor([[0.0], [2.0]]), True)
    tensor([[0.5000, 0.5000],
            [0.1192, 0.8808]])
    """
    outputs = outputs.float()
    if apply_softmax is False:
        return outputs
    if apply_softmax == AUTO:
        apply_softmax = settle_softmax(outputs)
    if apply_softmax is not True:
        check_probabilities(outputs, source)
    if outputs.shape[1] > 1:
        return torch.softmax(outputs, dim=1) if apply_softmax is True else outputs
    positive = torch.sigmoid(outputs) if apply_softmax is True else outputs
    # 1 - p (not sigmoid(-x)): exactly |dp| per step, and 1 - p >= p exactly when p <= 0.5 in floats.
    return torch.cat([1 - positive, positive], dim=1)


# How each front end says a model returns logits (the refusal below and an upload's caveat say it alike).
SAY_LOGITS = ("say so: 'Uploaded models return: logits' in the app, --outputs-are logits on the command line, "
              "apply_softmax=True in Python")


# Half-precision rounding can put a softmax's output a hair past 1 (a single output is no softmax's: none there).
_ROUNDING = 1e-3


def check_probabilities(outputs: torch.Tensor, source: str) -> None:
    """Refuse outputs outside [0, 1] from a model taken to return probabilities: several outputs were scored and
    read as "p(banana) 0.28 -> 0.33" while report.json held -0.21. NaN is no evidence of a logit; it passes."""
    single = outputs.shape[1] == 1
    margin = 0.0 if single else _ROUNDING
    outside = (outputs < -margin) | (outputs > 1 + margin)
    if not bool(outside.any()):
        return
    value = float(outputs[outside][0])
    if single:
        raise ValueError(
            f"{source} returned a single output of {value:.4g}, outside [0, 1], after its first outputs lay "
            f"in [0, 1] and were taken as probabilities; it returns a logit, so {SAY_LOGITS}"
        )
    raise ValueError(
        f"{source} returned an output of {value:.4g}, outside [0, 1], where its outputs are taken as "
        f"probabilities; they are not: if it returns logits, {SAY_LOGITS} (or 'scores' to use them raw)"
    )


def settle_softmax(outputs: torch.Tensor) -> bool | str:
    """The "auto" decision for a model, taken on one batch of its raw outputs: True (squash with
    softmax, or sigmoid for a single output) or ALREADY_PROBABILITIES."""
    return ALREADY_PROBABILITIES if looks_like_probabilities(outputs) else True


def looks_like_probabilities(outputs: torch.Tensor) -> bool:
    """Whether every row is non-negative and sums to 1 (within what float16/bfloat16 rounding allows);
    for a single output, whether every value lies in [0, 1]."""
    if outputs.shape[1] == 1:
        return bool(((outputs >= 0) & (outputs <= 1)).all())
    return bool(((outputs >= 0).all(dim=1) & ((outputs.float().sum(dim=1) - 1).abs() < _SUMS_TO_ONE)).all())


def check_class_names(class_names, k: int, source: str, apply_softmax: bool | str = AUTO) -> list[str]:
    """``class_names`` as one name per presented column; "class 0".."class k-1" when None.

    A single output (``k == 1``) presents two columns (negative, positive) unless ``apply_softmax`` is
    False: ``class_names`` may then give 2 names (negative, positive) or 1 (the positive class; the
    negative becomes "not <name>"). With ``apply_softmax=False`` the one raw column is the positive
    class's score and takes the last name given ("class 1" by default).

    Examples
    --------
    >>> check_class_names(["malignant"], 1, "model 'lesion.pt2'")
    ['not malignant', 'malignant']
    """
    if class_names is not None and (isinstance(class_names, str) or not isinstance(class_names, Sequence)):
        raise TypeError(f"`class_names` must be a list of strings, got {type(class_names).__name__}")
    names = None if class_names is None else [str(name) for name in class_names]
    if k == 1:
        names = _binary_names(names, source)
        if apply_softmax is False:
            names = names[-1:]
    elif names is None:
        names = [f"class {index}" for index in range(k)]
    elif len(names) != k:
        raise ArgumentError(
            "class_names", f"has {_names(len(names))} but {source} returns {k} outputs per image; "
            f"give exactly {k} names, in the model's output order"
        )
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ArgumentError("class_names", f"must be unique; repeated: {', '.join(duplicates)}")
    return names


def _binary_names(names: list[str] | None, source: str) -> list[str]:
    if names is None:
        return ["class 0", "class 1"]
    if len(names) == 1:
        return [f"not {names[0]}", names[0]]
    if len(names) == 2:
        return names
    raise ArgumentError(
        "class_names", f"has {_names(len(names))} but {source} returns 1 output per image (a binary "
        f"classifier); give 2 names (negative, positive) or 1 (the positive class)"
    )


def _names(count: int) -> str:
    return "1 name" if count == 1 else f"{count} names"


def short_error(error: BaseException) -> str:
    """The last non-empty line of an error message: TorchScript appends its whole traceback."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    # TorchScript's last line names the error already ("RuntimeError: RuntimeError: Given groups=1...").
    return (last if last.startswith(f"{error.__class__.__name__}:") else f"{error.__class__.__name__}: {last}")[:300]


class TorchClassifier:
    """A torch image classifier behind the :class:`~propgrad.models.base.Model` protocol.

    ``load(device)`` returns the network (called lazily on the first ``predict``, so a loader can
    cache per process); ``transform(images)`` turns PIL images into the input batch.
    ``fixed_batch_size`` is for exported graphs with a static batch dimension: the last batch is
    padded with copies of its last image and the padding's rows are dropped.

    A network with a single output is a binary classifier: give ``output_names`` from
    :func:`check_class_names` (two names, negative and positive) and ``predict`` returns ``[1 - p, p]``;
    with ``apply_softmax=False`` it returns the one raw column (one name).
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

    def settle(self, outputs: torch.Tensor) -> None:
        """Turn "auto" into this model's one decision, taken on ``outputs`` (raw, one batch)."""
        if self.apply_softmax == AUTO:
            # Decided once per model, never per row or per batch: one series must not mix raw
            # probabilities with squashed ones.
            self.apply_softmax = settle_softmax(outputs)

    def predict(self, images: list[Image.Image]) -> np.ndarray:
        """Class probabilities, float32 array of shape (len(images), len(output_names))."""
        images = list(images)
        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = self.transform(images[start:start + self.batch_size])
            outputs = self.forward(batch)
            width = presented_width(outputs.shape[1], self.apply_softmax)
            if width != len(self.output_names):
                binary = " (a single output is shown as two columns [1 - p, p])" if width != outputs.shape[1] else ""
                raise ValueError(
                    f"model {self.name!r} returned {outputs.shape[1]} outputs per image{binary}, expected "
                    f"{len(self.output_names)} (one per output name); name the outputs with check_class_names"
                )
            self.settle(outputs)
            rows.append(to_probabilities(outputs, self.apply_softmax, f"model {self.name!r}").cpu().numpy())
        if not rows:
            return np.zeros((0, len(self.output_names)), dtype=np.float32)
        return np.concatenate(rows).astype(np.float32, copy=False)
