"""Errors the package raises on purpose, so callers (the app, the command line) can tell them apart."""


class ModelUnavailableError(RuntimeError):
    """A model's weights are neither in a local folder nor downloadable; the message says how to get them."""
