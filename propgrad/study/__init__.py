"""Studies: images x interventions x models -> a results table, aggregates and figures.

| module | job |
| --- | --- |
| ``definition`` | the study as frozen dataclasses; read from TOML; its fingerprint |
| ``inputs`` | a folder, a .txt/.csv list or a Hugging Face data set -> image references |
| ``items`` | image x intervention work units, each with its own seed |
| ``build`` | specs -> interventions and models (in each worker) |
| ``worker`` | one item -> results.csv and curves.csv rows |
| ``store`` | the results folder: append as items finish, resume, canonical order |
| ``engines``, ``ray_engine`` | in-process, local processes, Ray |
| ``aggregate``, ``flip_prediction``, ``figures``, ``report`` | Table 3 rows, flip prediction, figures, summary files |
| ``runner`` | :func:`run_study` (a definition) and :func:`run_images` (objects in memory) |
"""
from .aggregate import MeanCurve, SummaryRow
from .definition import InputSpec, InterventionSpec, ModelSpec, StudyDefinition, from_toml
from .engines import InProcess, Processes
from .flip_prediction import FlipPrediction, flip_prediction
from .report import StudyReport, write_report
from .runner import run_images, run_study
from .store import DefinitionMismatch


def __getattr__(name: str):
    # Ray is optional: its engine is imported only when asked for.
    if name == "RayEngine":
        from .ray_engine import RayEngine

        return RayEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DefinitionMismatch", "FlipPrediction", "InProcess", "InputSpec", "InterventionSpec", "MeanCurve", "ModelSpec",
    "Processes", "RayEngine", "StudyDefinition", "StudyReport", "SummaryRow", "flip_prediction", "from_toml",
    "run_images", "run_study", "write_report",
]
