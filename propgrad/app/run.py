"""What every tab's handler makes of its boxes before anything runs: the models, the shuffle test's settings, the
input image, and the package's progress callback.

Gradio-free: ``progress`` is anything called as ``progress(fraction, desc=...)`` (``gr.Progress`` in the app).
Running and showing is :mod:`.results` (``explain_for_app``, ``compare_for_app``).
"""
from __future__ import annotations

import os

from . import model_inputs
from .abandoned import RunAbandoned, caller_left
from .parsing import check_suffixes, in_range

NO_MODEL = ("`models`: choose at least one bundled model, name a hub classifier or upload a .pt2 / TorchScript "
            "file")


def package_progress(progress):
    """The package's ``progress(fraction, message)`` callback, shown through the app's progress bar; it raises
    :class:`~.abandoned.RunAbandoned` once the run's visitor has left (:mod:`.abandoned`)."""
    def report(fraction, message=""):
        if caller_left():
            raise RunAbandoned(message)
        progress(float(fraction), desc=message)

    return report


def chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids="", outputs_are="auto", extra=(),
                  missing: str = NO_MODEL) -> list:
    """Every model the shared model controls name, in the order bundled, hub, uploaded, ``extra``."""
    spec = model_inputs.model_spec(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    chosen = model_inputs.build_models(spec) + list(extra)
    if not chosen:
        raise ValueError(missing)
    return chosen


def shuffle_test_settings(n_permutations, alpha) -> tuple[int, float]:
    """(permutations, alpha), checked before any slow work so that a typo does not cost a diffusion sweep."""
    return in_range(n_permutations, "n_permutations", "permutations"), in_range(alpha, "alpha")


def load_input(image, name: str = "image"):
    """The uploaded image as RGB, or a ValueError naming the box; a file's name and hash travel with it (for
    report.json's settings)."""
    from ..images import IMAGE_FORMATS, IMAGE_SUFFIXES, load_image

    if image is None:
        # The box refuses a file that is no image as it arrives and stays empty: this message follows that refusal,
        # so it says what the box takes ("missing" alone contradicted the upload the user had just made).
        raise ValueError(f"`{name}` is missing: upload an image ({IMAGE_FORMATS}; a file "
                         "that is not one is refused as it arrives), or pick an example below")
    if isinstance(image, (str, os.PathLike)):
        check_suffixes([str(image)], IMAGE_SUFFIXES, name=name)
    return load_image(image, name=name)  # it notes the file's name and SHA-256 for report.json
