"""The one error of loading a model, shared by the loader and its runtimes."""


class ModelLoadError(RuntimeError):
    """The model folder is missing, incomplete, stale or not loadable by the chosen runtime."""
