"""Which models to run, described once: every front end (``explain``, studies, the app) fills a
:class:`ModelSpec` and calls :meth:`ModelSpec.build`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArgumentError, not_one_of
from .base import OUTPUTS_ARE

# The model a run uses when none is named: bundled, ImageNet, runs anywhere.
DEFAULT_MODEL = "EfficientNet-Lite0 (ImageNet)"


@dataclass(frozen=True)
class ModelSpec:
    """The models: registered names, model files (with how to read them) and Hugging Face classifiers.

    ``input_size``, ``mean``, ``std``, ``class_names`` and ``outputs_are`` apply to the ``files``
    (None: the file's own, see :func:`propgrad.models.load_model_file`); ``file_labels`` optionally
    names each file's model.

    Examples
    --------
    >>> ModelSpec(names="EfficientNet-Lite0 (ImageNet)").names
    ('EfficientNet-Lite0 (ImageNet)',)
    >>> ModelSpec(outputs_are="logit")
    Traceback (most recent call last):
    ...
    propgrad.errors.ArgumentError: `outputs_are` must be one of 'auto', 'logits', 'probabilities' or 'scores', got 'logit'; did you mean 'logits'?
    """

    names: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    hub: tuple[str, ...] = ()
    input_size: tuple[int, int] | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    class_names: tuple[str, ...] | None = None
    outputs_are: str = "auto"
    file_labels: tuple[str, ...] | None = None

    def __post_init__(self):
        for name in ("names", "files", "hub"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
        for name in ("input_size", "mean", "std", "class_names", "file_labels"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        if str(self.outputs_are).strip().lower() not in OUTPUTS_ARE:
            raise not_one_of("outputs_are", self.outputs_are, OUTPUTS_ARE)
        if self.file_labels is not None and len(self.file_labels) != len(self.files):
            raise ArgumentError("file_labels", f"has {len(self.file_labels)} names for {len(self.files)} files")

    @property
    def empty(self) -> bool:
        return not (self.names or self.files or self.hub)

    def to_dict(self) -> dict:
        """Every field but the display labels (which do not change results)."""
        return {"names": self.names, "files": self.files, "hub": self.hub, "input_size": self.input_size,
                "mean": self.mean, "std": self.std, "class_names": self.class_names,
                "outputs_are": self.outputs_are}

    def check(self) -> None:
        """Fail before any work when a named model is not registered or a file is missing
        (cheap: nothing is loaded)."""
        from .bundled import bundled_model_names

        known = bundled_model_names()
        for name in self.names:
            if name not in known:
                raise not_one_of("models", name, known)
        for path in self.files:
            if not Path(path).is_file():
                raise ArgumentError("models", f"files: no such file {path!r}")

    def build(self, *, default: str | None = DEFAULT_MODEL, get_bundled: Callable | None = None,
              allow_folders: bool = True) -> list:
        """Every model, loaded, in the order names, hub, files; :data:`DEFAULT_MODEL` when none is named.

        ``get_bundled`` replaces :func:`propgrad.models.get_model` (the app shares one loaded copy per
        process); ``allow_folders`` False takes hub ids only, never a folder on this machine.
        """
        from .base import softmax_for
        from .bundled import get_model
        from .files import load_model_file
        from .hub import load_hub_classifier

        get_bundled = get_bundled or get_model
        chosen = [get_bundled(name) for name in self.names]
        chosen += [load_hub_classifier(source, allow_folders=allow_folders) for source in self.hub]
        labels = self.file_labels or (None,) * len(self.files)
        for path, label in zip(self.files, labels):
            chosen.append(load_model_file(
                path, input_size=self.input_size, mean=self.mean, std=self.std,
                class_names=list(self.class_names) if self.class_names else None, name=label,
                apply_softmax=softmax_for(self.outputs_are)))
        if not chosen and default:
            chosen = [get_bundled(default)]
        return chosen
