"""A user's own classifier file -> a Model, without ever running code hidden in the file.

Accepted formats, told apart by content (not by file name):

- ``.pt2`` archives written by ``torch.export.save`` (loaded with ``torch.export.load(...).module()``);
- TorchScript archives written by ``torch.jit.save`` / ``ScriptModule.save``;
- the method's authors' ConvMixer checkpoints, ``torch.save({"paras": ..., "state_dict": ...})``.

Pickled content is only ever read by torch's weights-only unpickler, which refuses to import
anything but tensors and plain containers. ``torch.export.load`` itself unpickles some archive entries
without that restriction, so every pickled entry of a ``.pt2`` is checked with the weights-only
unpickler first and the archive is refused if one would need more.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import zipfile
from pathlib import Path

import torch
from PIL import Image

from .convmixer import ConvMixerClassifier, convmixer_from_checkpoint, is_convmixer_checkpoint
from .preprocess import IMAGENET_MEAN, IMAGENET_STD, ResizeNormalize, check_mean_std, check_size
from .torch_model import AUTO, TorchClassifier, check_class_names, short_error

DEFAULT_INPUT_SIZE = (224, 224)
ACCEPTED_FORMATS = (
    "accepted formats: a .pt2 file written by torch.export.save(torch.export.export(model, ...)), "
    "a TorchScript file written by torch.jit.save(torch.jit.trace(model, ...)), or a ConvMixer checkpoint "
    "{'paras': ..., 'state_dict': ...} as the method's authors save it"
)
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL = 0x80
_PICKLED_SUFFIXES = (".pt", ".pth", ".pkl", ".bin")
# .pt2 constants stored through these are unpickled without restriction (pickle.loads / torchbind).
_UNSAFE_CONSTANT_PREFIXES = ("custom_obj", "opaque_obj")

PT2 = "pt2"
TORCHSCRIPT = "torchscript"
CHECKPOINT = "checkpoint"


def _refuse(path: Path, why: str) -> ValueError:
    return ValueError(f"model file {path.name!r}: {why}; {ACCEPTED_FORMATS}")


def _unsafe(path: Path, imports: list[str]) -> ValueError:
    calls = f" (it would call {', '.join(imports[:3])})" if imports else ""
    return ValueError(
        f"model file {path.name!r} was refused: loading it would run code stored in the file{calls}. "
        f"propgrad never unpickles arbitrary objects; save the model with torch.export.save or "
        f"torch.jit.save, or save only tensors and plain containers"
    )


def _pickled_imports(data: bytes) -> list[str]:
    """The callables a pickle would import ("module.name"), read statically without running anything."""
    if data[:4] == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist() if name.endswith(".pkl"))
        except (zipfile.BadZipFile, OSError):
            return []
    imports, strings = [], []
    position = 0
    while position < len(data):  # a legacy torch.save file is several pickles in a row
        try:
            for opcode, argument, offset in pickletools.genops(data[position:]):
                if opcode.name in ("GLOBAL", "INST") and isinstance(argument, str):
                    imports.append(argument.replace(" ", "."))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    imports.append(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(argument, str):
                    strings.append(argument)
                if opcode.name == "STOP":
                    position += offset + 1
                    break
            else:
                break
        except Exception:  # garbage after the last complete pickle: what was read so far is enough
            break
    return imports


def _foreign(imports: list[str]) -> list[str]:
    """Imports outside what torch's weights-only unpickler allows for tensors and containers."""
    allowed_modules = ("torch", "collections", "_codecs", "numpy")
    return [name for name in dict.fromkeys(imports) if name.split(".")[0] not in allowed_modules]


def _unpickling_failed(path: Path, data: bytes, error: Exception) -> ValueError:
    foreign = _foreign(_pickled_imports(data))
    if foreign or "Unsupported global" in str(error):
        return _unsafe(path, foreign)
    return _refuse(path, "the pickled content cannot be read by torch.load (weights only)")


def detect_format(path: str | os.PathLike) -> str:
    """Which accepted format ``path`` holds: "pt2", "torchscript" or "checkpoint".

    Decided by the file's content; anything else raises ``ValueError`` naming the file and listing the
    accepted formats.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist; {ACCEPTED_FORMATS}")
    size = path.stat().st_size
    if size == 0:
        raise _refuse(path, "the file is empty")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == _ZIP_MAGIC and not zipfile.is_zipfile(path):
        raise _refuse(path, "the zip archive is damaged or truncated")
    if head == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                format_entries = [name for name in names if name.endswith("/archive_format") or name == "archive_format"]
                if format_entries and archive.read(format_entries[0]).strip() == b"pt2":
                    return PT2
        except (zipfile.BadZipFile, OSError) as error:
            raise _refuse(path, f"the zip archive is damaged ({error})") from error
        if any("/code/" in name or name.startswith("code/") for name in names):
            return TORCHSCRIPT
        if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
            return CHECKPOINT
        raise _refuse(path, "it is a zip archive but none written by torch")
    if head[:1] == bytes([_PICKLE_PROTOCOL]):
        return CHECKPOINT  # torch.save's legacy (non-zip) format, or a bare pickle
    if head[:3] == b"\xff\xd8\xff" or head[:4] == b"\x89PNG":
        raise _refuse(path, "it is an image, not a model")
    raise _refuse(path, "the content is not a torch model file")


def read_checkpoint(path: str | os.PathLike):
    """``torch.load(path, weights_only=True)`` with errors turned into clear ``ValueError``s.

    A pickle that would import anything beyond tensors and plain containers is refused before
    any of it runs.
    """
    path = Path(path)
    detect_format(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise _unpickling_failed(path, path.read_bytes(), error) from None
    except Exception as error:  # torch raises RuntimeError, EOFError, KeyError... for damaged files
        raise _refuse(path, f"the file cannot be read by torch.load ({error.__class__.__name__}: {error})") from None


def _check_pt2_entries(path: Path) -> None:
    """Refuse a .pt2 whose pickled entries need more than torch's weights-only unpickler."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        raw_payloads: set[str] = set()
        pickled_payloads: set[str] = set()
        for name in names:
            if not name.endswith(".json") or "/data/" not in f"/{name}":
                continue
            try:
                config = json.loads(archive.read(name)).get("config", {})
            except (ValueError, AttributeError):
                continue
            if not isinstance(config, dict):
                continue
            folder = name.rsplit("/", 1)[0]
            for entry in config.values():
                if not isinstance(entry, dict) or not isinstance(entry.get("path_name"), str):
                    continue
                if entry["path_name"].startswith(_UNSAFE_CONSTANT_PREFIXES):
                    raise ValueError(
                        f"model file {path.name!r} was refused: it stores Python objects "
                        f"({entry['path_name']}) that torch.export.load would unpickle, which can run code; "
                        f"export a model whose constants are tensors"
                    )
                payload = f"{folder}/{entry['path_name']}"
                (raw_payloads if entry.get("use_pickle") is False else pickled_payloads).add(payload)
        for name in names:
            if name.endswith("/") or (name in raw_payloads and name not in pickled_payloads):
                continue
            data = archive.read(name)
            pickled = (
                name in pickled_payloads or data[:4] == _ZIP_MAGIC or data[:1] == bytes([_PICKLE_PROTOCOL])
                or name.endswith(_PICKLED_SUFFIXES)
            )
            if not pickled:
                continue
            try:
                torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as error:
                raise _unpickling_failed(path, data, error) from None
            except Exception as error:
                raise _refuse(path, f"entry {name!r} of the .pt2 archive cannot be read ({error})") from None


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
    _check_pt2_entries(path)
    try:
        program = torch.export.load(str(path))
    except Exception as error:
        raise _refuse(path, f"torch.export.load failed ({short_error(error)})") from None
    try:
        batch, size = _input_spec(program)
    except ValueError as error:
        raise ValueError(f"model file {path.name!r}: {error}") from None
    return program.module(), batch, size


def _load_torchscript(path: Path):
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        raise _refuse(path, f"torch.jit.load failed ({short_error(error)})") from None
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
            raise _refuse(path, f"it holds {what}, which propgrad cannot run")
        network = convmixer_from_checkpoint(checkpoint, repr(path.name))
        extra = {key: value for key, value in (("input_size", input_size), ("mean", mean), ("std", std)) if value}
        return ConvMixerClassifier(
            network, name=display, class_names=class_names, apply_softmax=apply_softmax,
            batch_size=batch_size, device=device, **extra,
        )

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
    shades = [Image.new("RGB", classifier.transform.size[::-1], (value,) * 3) for value in (128, 0, 255)]
    try:
        if fixed_batch:
            # Every shade in its own (padded) batch: a batch of one must not probe the grey image alone.
            outputs = torch.cat([classifier.forward(classifier.transform([shade] * fixed_batch)) for shade in shades])
        else:
            outputs = classifier.forward(classifier.transform(shades))
    except Exception as error:
        raise ValueError(f"model file {path.name!r}: {error}; check `input_size`") from None
    classifier.output_names = check_class_names(
        class_names, outputs.shape[1], f"model file {path.name!r}", classifier.apply_softmax
    )
    classifier.settle(outputs)  # on the probe, independent of the user's images
    return classifier
