"""A user's own classifier file -> a Model, without ever running code hidden in the file.

Accepted formats, told apart by content (not by file name):

- ``.pt2`` archives written by ``torch.export.save`` (loaded with ``torch.export.load(...).module()``);
- TorchScript archives written by ``torch.jit.save`` / ``ScriptModule.save``;
- the method's authors' ConvMixer checkpoints, ``torch.save({"paras": ..., "state_dict": ...})``.

Files are read through :mod:`propgrad.models.safe_load`: pickled content only by torch's weights-only
unpickler, and every pickled entry of a ``.pt2`` checked before ``torch.export.load`` sees it.
"""
from __future__ import annotations

import re

import os
import warnings
from pathlib import Path

import torch
from PIL import Image

from ..errors import in_one_line
from .safe_load import CHECKPOINT, PT2, check_pt2_entries, code_in_pickles, detect_format, read_checkpoint, refuse
from .convmixer import ConvMixerClassifier, convmixer_from_checkpoint, is_convmixer_checkpoint
from .torch_model import (
    ALREADY_PROBABILITIES, AUTO, IMAGENET_MEAN, IMAGENET_STD, SAY_LOGITS, OutputShapeError, ResizeNormalize,
    TorchClassifier, check_class_names, check_mean_std, check_size, short_error,
)

DEFAULT_INPUT_SIZE = (224, 224)
PROBE_SHADES = (128, 0, 255)  # the grey, black and white images a model file is probed with while loading
PROBES = "grey, black and white probe images"  # what the words say of them


def _input_spec(program) -> tuple[int | None, tuple[int, int] | None]:
    """Static batch size and (height, width) of an exported program's one image input, where fixed."""
    user_inputs = set(program.graph_signature.user_inputs)
    shapes = [
        node.meta["val"].shape
        for node in program.graph.nodes
        if node.op == "placeholder" and node.name in user_inputs and hasattr(node.meta.get("val"), "shape")
    ]
    if len(shapes) != 1 or len(shapes[0]) != 4:
        described = [tuple(str(side) for side in shape) for shape in shapes]
        raise ValueError(
            f"the exported model takes inputs {described}; propgrad feeds one image batch of shape "
            f"(batch, 3, height, width)"
        )
    shape = shapes[0]
    static = [side if isinstance(side, int) else None for side in shape]
    if static[1] is not None and static[1] != 3:
        raise ValueError(f"the exported model takes {static[1]} input channels; propgrad feeds RGB images (3)")
    size = (static[2], static[3]) if static[2] is not None and static[3] is not None else None
    return static[0], size


def _load_pt2(path: Path):
    check_pt2_entries(path)
    try:
        program = torch.export.load(str(path))
    except Exception as error:
        raise refuse(path, f"torch.export.load failed ({short_error(error)})") from None
    try:
        batch, size = _input_spec(program)
    except ValueError as error:
        raise ValueError(f"model file {path.name!r}: {error}") from None
    return program.module(), batch, size


def _load_torchscript(path: Path):
    try:
        with warnings.catch_warnings():  # torch's notice that TorchScript is deprecated, on every load: not the user's
            warnings.simplefilter("ignore", FutureWarning)
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        # TorchScript's own unpickler refuses Python callables ("RuntimeError: __builtin__.print"): said as the
        # refusal it is, not as a failure to read.
        refused = code_in_pickles(path)
        if refused is not None:
            raise refused from None
        raise refuse(path, f"torch.jit.load failed ({short_error(error)})") from None
    return module.eval()


def load_model_file(
    path: str | os.PathLike,
    *,
    input_size: int | tuple[int, int] | None = None,
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
    class_names: list[str] | None = None,
    name: str | None = None,
    apply_softmax: bool | str = AUTO,
    batch_size: int = 16,
    device: str | None = None,
) -> TorchClassifier:
    """Load a user's image classifier file as a Model.

    Parameters
    ----------
    path
        A ``.pt2`` (``torch.export.save``), a TorchScript file (``torch.jit.save``) or a ConvMixer
        checkpoint in the method's authors' format; the format is read from the content.
    input_size
        (height, width) images are resized to. Default: the exported program's static size if it has
        one, else 224 x 224; 128 x 128 for ConvMixer checkpoints.
    mean, std
        Per-channel normalisation after scaling to [0, 1]. Default: ImageNet's; 0.5 for ConvMixer.
    class_names
        One name per output; default "class 0".."class k-1" (["cat", "dog"] for two-class ConvMixers).
        For a binary classifier with a single output: 2 names (negative, positive) or 1 (the positive
        class; the negative becomes "not <name>").
    name
        Display name; default the file name (e.g. "convmixer_unbiased.pth").
    apply_softmax
        "auto" (default): softmax over the outputs unless a row already is a probability vector;
        True: always; False: report the raw outputs (``output_kind`` "similarity"). A single output is
        a binary classifier, presented as the two columns [1 - p, p]: p = sigmoid(output) with True,
        and with "auto" unless the probe's outputs lie in [0, 1] (then p = the output, and a later
        output outside [0, 1] raises ``ValueError`` asking for ``apply_softmax=True``); False keeps the
        one raw column (its flips then threshold it at 0.5, right for a probability, not for a logit).
        ``"already probabilities"`` (``torch_model.ALREADY_PROBABILITIES``) uses the outputs as they are
        without asking the probe. :func:`~propgrad.models.base.softmax_for` maps the words
        'auto', 'logits', 'probabilities', 'scores' to these settings.

    Notes
    -----
    The model runs once on grey, black and white images while loading, to learn the number of
    outputs, to check they have shape (batch, classes) and to settle "auto". Every problem raises
    ``ValueError`` naming the file.

    Examples
    --------
    >>> model = load_model_file("classifier.pt2", class_names=["benign", "malignant"])  # doctest: +SKIP
    >>> model.predict([image]).shape  # doctest: +SKIP
    (1, 2)
    """
    path = Path(path)
    kind = detect_format(path)
    display = name or path.name
    if input_size is not None:
        input_size = check_size(input_size)
    if (mean is None) != (std is None):
        raise ValueError("give both `mean` and `std`, or neither")
    if mean is not None:
        mean, std = check_mean_std(mean, std)

    if kind == CHECKPOINT:
        checkpoint = read_checkpoint(path)
        if not is_convmixer_checkpoint(checkpoint):
            what = "a state_dict without its architecture" if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise refuse(path, f"it holds {what}, which propgrad cannot run")
        network = convmixer_from_checkpoint(checkpoint, repr(path.name))
        extra = {key: value for key, value in (("input_size", input_size), ("mean", mean), ("std", std)) if value}
        classifier = ConvMixerClassifier(
            network, name=display, class_names=class_names, apply_softmax=apply_softmax,
            batch_size=batch_size, device=device, **extra,
        )
        classifier.source = str(path.resolve())  # the report names the file by its name and SHA-256
        classifier.description = file_description(
            path.name, "ConvMixer checkpoint in the method's authors' format", classifier, len(classifier.output_names),
            "as given" if input_size is not None else "the authors'", asked=apply_softmax,
            normalised="as given" if mean is not None else "the authors'")
        return classifier

    fixed_batch = None
    if kind == PT2:
        network, fixed_batch, exported_size = _load_pt2(path)
        if input_size is None:
            input_size = exported_size
        elif exported_size is not None and input_size != exported_size:
            raise ValueError(
                f"`input_size` {input_size} does not match the exported model's fixed input size "
                f"{exported_size} in {path.name!r}; leave `input_size` out or re-export"
            )
    else:
        network = _load_torchscript(path)

    classifier = TorchClassifier(
        name=display,
        output_names=[],
        load=lambda resolved: network.to(resolved),
        transform=ResizeNormalize(input_size or DEFAULT_INPUT_SIZE, mean or IMAGENET_MEAN, std or IMAGENET_STD),
        apply_softmax=apply_softmax,
        batch_size=batch_size,
        device=device,
        fixed_batch_size=fixed_batch,
    )
    # Several images (unless the export fixed the batch size), so that a network hard-wired to a batch
    # of one is caught here and not mid-run; grey, black and white, so that a single logit is unlikely
    # to stay inside [0, 1] and be taken for a probability.
    shades = [Image.new("RGB", classifier.transform.size[::-1], (value,) * 3) for value in PROBE_SHADES]
    try:
        if fixed_batch:
            # Every shade in its own (padded) batch: a batch of one must not probe the grey image alone.
            outputs = torch.cat([classifier.forward(classifier.transform([shade] * fixed_batch)) for shade in shades])
        else:
            outputs = classifier.forward(classifier.transform(shades))
    except OutputShapeError as error:  # "model file 'x': model 'x' returned ...; check `input_size`": twice, wrongly
        raise ValueError(f"model file {path.name!r} {error.problem}") from None
    except Exception as error:
        channels = re.search(r"to have (\d+) channels, but got 3 channels", str(error))
        # "check `input_size`" sent the owner of a greyscale model to the wrong setting.
        advice = (f"the network takes {channels.group(1)}-channel images and propgrad gives it RGB: export it with "
                  "a first layer that takes 3 channels (a greyscale model can average them itself)" if channels
                  else "where the network takes another size, set `input_size`")
        # One line: TorchScript's message is its whole traceback, the model's own error on its last line.
        height, width = classifier.transform.size
        raise ValueError(f"model file {path.name!r} failed on plain grey, black and white test images of "
                         f"{width}x{height} px: {in_one_line(error)}; {advice}") from None
    classifier.output_names = check_class_names(
        class_names, outputs.shape[1], f"model file {path.name!r}", classifier.apply_softmax
    )
    classifier.settle(outputs)  # on the probe, independent of the user's images
    classifier.source = str(path.resolve())  # the report names the file by its name and SHA-256
    size_from = ("fixed by the export" if kind == PT2 and exported_size is not None and input_size == exported_size
                 else "as given" if input_size is not None else
                 "propgrad's default: a TorchScript file does not store one" if kind != PT2 else
                 "propgrad's default: the export left it open")
    what = "torch.export (.pt2) model" if kind == PT2 else "TorchScript model"
    classifier.description = file_description(path.name, what, classifier, outputs.shape[1], size_from,
                                              asked=apply_softmax,
                                              normalised="as given" if mean is not None else "ImageNet's")
    if guessed_probability(apply_softmax, classifier, outputs.shape[1]):
        # A guess a run's notes repeat beside its result: a logit that stays inside [0, 1] reads as a probability.
        classifier.caveat = (f"{display}'s single output was read as a probability ('auto': it stayed inside [0, 1] "
                             f"on {PROBES}); if the model returns a logit, {SAY_LOGITS}")
    return classifier


def guessed_probability(asked: bool | str, classifier: TorchClassifier, n_raw: int) -> bool:
    """Whether "auto" read a single output as a probability: a logit that stays inside [0, 1] on the probes reads so
    too, and nothing can tell them apart."""
    return asked == AUTO and n_raw == 1 and classifier.apply_softmax == ALREADY_PROBABILITIES


def file_description(file: str, kind: str, classifier: TorchClassifier, n_raw: int, size_from: str, *,
                     asked: bool | str, normalised: str) -> str:
    """What an uploaded model is and how propgrad runs it, in words (the app's upload check and every report's
    guide say it): a one-logit model whose probe outputs stayed inside [0, 1] was read as a probability, and
    nothing said so."""
    transform = classifier.transform
    height, width = transform.size
    settled = classifier.apply_softmax
    several = n_raw > 1
    outputs = f"its {n_raw} outputs are" if several else "its single output is"
    as_they_are = "they are" if several else "it is"
    if settled is True:
        handling = f"{outputs} read as logits and made probabilities by {'softmax' if several else 'a sigmoid'}"
    elif settled == ALREADY_PROBABILITIES:
        handling = f"{outputs} read as {'probabilities' if several else 'a probability'}, used as {as_they_are}"
    elif settled == AUTO:  # not settled yet: decided on the first batch of the run's images
        handling = (f"{outputs} judged on the run's first images: read as logits unless they already are "
                    "probabilities")
    else:
        handling = f"{outputs} read as raw {'scores' if several else 'score'}, used as {as_they_are}"
    if asked == AUTO:
        why = f"'auto' judged {'them' if several else 'it'} on {PROBES}"
        if settled == AUTO:
            why = "'auto'"
        if guessed_probability(asked, classifier, n_raw):
            why += f"; a logit can stay inside [0, 1] there too: if the model returns a logit, {SAY_LOGITS}"
    else:
        why = "as asked"
    numbers = ", ".join
    return (f"your own {kind} ({file}): input {height} x {width} px ({size_from}), normalised with mean "
            f"{numbers(f'{v:g}' for v in transform.mean)} and std {numbers(f'{v:g}' for v in transform.std)} "
            f"({normalised}); {handling} ({why}).")
