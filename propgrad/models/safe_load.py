"""Reading torch files without running code hidden in them: format detection and weights-only unpickling.

Pickled content is only ever read by torch's weights-only unpickler, which refuses to import
anything but tensors and plain containers. ``torch.export.load`` itself unpickles some archive entries
without that restriction, so :func:`check_pt2_entries` reads every pickled entry of a ``.pt2`` with the
weights-only unpickler first and refuses the archive if one would need more.

Kept apart from the loaders (``files``, ``convmixer``) so that both can use it without importing each other.
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


def refuse(path: Path, why: str) -> ValueError:
    return ValueError(f"model file {path.name!r}: {why}; {ACCEPTED_FORMATS}")


def _unsafe(path: Path, imports: list[str]) -> ValueError:
    calls = f" (it would call {', '.join(imports[:3])})" if imports else ""
    return ValueError(
        f"model file {path.name!r} was refused: loading it would run code stored in the file{calls}. "
        f"propgrad never unpickles arbitrary objects; save the model with torch.export.save (.pt2) or "
        f"torch.jit.save (TorchScript): a file of tensors alone (a state_dict) is read only as an authors' ConvMixer "
        f"checkpoint, as it holds no architecture"
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


def code_in_pickles(path: Path, data: bytes | None = None) -> ValueError | None:
    """The refusal for a file (or ``data`` read from it) whose pickles would import callables beyond tensors and
    containers, else None."""
    foreign = _foreign(_pickled_imports(path.read_bytes() if data is None else data))
    return _unsafe(path, foreign) if foreign else None


def _unpickling_failed(path: Path, data: bytes, error: Exception) -> ValueError:
    refused = code_in_pickles(path, data)
    if refused is not None:
        return refused
    if "Unsupported global" in str(error):
        return _unsafe(path, [])
    return refuse(path, "the pickled content cannot be read by torch.load (weights only)")


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
        raise refuse(path, "the file is empty")
    with open(path, "rb") as handle:
        start = handle.read(9)
    head = start[:4]
    # First: a safetensors header's length may begin with the pickle protocol's byte (0x80), and the file was then
    # refused as "a state_dict without its architecture". The bundled models are safetensors files: "not a torch
    # model file" left their owner guessing.
    if len(start) == 9 and start[8:9] == b"{" and 0 < int.from_bytes(start[:8], "little") < size:
        raise refuse(path, "it is a safetensors file, weights without the network, which propgrad cannot rebuild from "
                           "it; propgrad's bundled models (the authors' ConvMixers, the lesion classifiers) are picked "
                           "by name")
    if head == _ZIP_MAGIC and not zipfile.is_zipfile(path):
        raise refuse(path, "the zip archive is damaged or truncated")
    if head == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                format_entries = [name for name in names if name.endswith("/archive_format") or name == "archive_format"]
                if format_entries and archive.read(format_entries[0]).strip() == b"pt2":
                    return PT2
        except (zipfile.BadZipFile, OSError) as error:
            raise refuse(path, f"the zip archive is damaged ({error})") from error
        if any("/code/" in name or name.startswith("code/") for name in names):
            return TORCHSCRIPT
        if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
            return CHECKPOINT
        raise refuse(path, "it is a zip archive but none written by torch")
    if head[:1] == bytes([_PICKLE_PROTOCOL]):
        return CHECKPOINT  # torch.save's legacy (non-zip) format, or a bare pickle
    if head[:3] == b"\xff\xd8\xff" or head[:4] == b"\x89PNG":
        raise refuse(path, "it is an image, not a model")
    raise refuse(path, "the content is not a torch model file")


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
        raise refuse(path, f"the file cannot be read by torch.load ({error.__class__.__name__}: {error})") from None


def _parses_as_pickle(data: bytes) -> bool:
    """Whether ``data`` reads as one whole pickle, of any protocol (a protocol-0 pickle has no 0x80 to tell it by),
    read statically: raw tensor bytes fail within a few opcodes."""
    try:
        return any(opcode.name == "STOP" for opcode, _, _ in pickletools.genops(data))
    except Exception:  # not a pickle
        return False


def check_pt2_entries(path: Path) -> None:
    """Refuse a .pt2 whose pickled entries need more than torch's weights-only unpickler.

    Names are compared without regard to case, as torch's archive reader finds them: an entry renamed
    ``data/sample_inputs/MODEL.PT`` holding a protocol-0 pickle passed a check by exact name and first byte, and
    torch.export.load, failing to read it weights-only, unpickled it in full (it ran code).
    """
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        folded = [name.lower() for name in names]
        if len(set(folded)) < len(folded):
            raise refuse(path, "two of its archive entries differ only in case, which torch cannot tell apart")
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
                payload = f"{folder}/{entry['path_name']}".lower()
                (raw_payloads if entry.get("use_pickle") is False else pickled_payloads).add(payload)
        for name in names:
            key = name.lower()
            if name.endswith("/") or (key in raw_payloads and key not in pickled_payloads):
                continue
            data = archive.read(name)
            pickled = (
                key in pickled_payloads or data[:4] == _ZIP_MAGIC or data[:1] == bytes([_PICKLE_PROTOCOL])
                or key.endswith(_PICKLED_SUFFIXES) or _parses_as_pickle(data)
            )
            if not pickled:
                continue
            try:
                torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as error:
                raise _unpickling_failed(path, data, error) from None
            except Exception as error:
                raise refuse(path, f"entry {name!r} of the .pt2 archive cannot be read ({error})") from None
