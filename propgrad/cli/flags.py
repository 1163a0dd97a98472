"""The flags `explain` and `study` share, derived from the registry of intervention kinds and the model spec."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ArgumentError
from ..kinds import DEFAULT_KIND, KINDS, InterventionSpec
from ..models.base import OUTPUTS_ARE
from ..models.spec import DEFAULT_MODEL, ModelSpec

# Fields every front end sets its own way: the name (a study's table), and the region (explain compares regions).
_NOT_FLAGS = {"name", "region", "feather"}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults as one would type them ("0.8 0.2", not a Python tuple), but not the uninformative
    "(default: None)", a switch's "(default: False)" or a second default where the help gives one."""

    def _get_help_string(self, action):
        if (action.default is None or action.default is argparse.SUPPRESS or action.nargs == 0
                or "(default" in (action.help or "")):
            return action.help
        if isinstance(action.default, (list, tuple)):
            return f"{action.help} (default: {' '.join(map(str, action.default))})"
        return super()._get_help_string(action)


def flag_name(field: str, rules) -> str:
    return rules.flag or "--" + field.replace("_", "-")


def dest_name(field: str, rules) -> str:
    # From the flag, not the field: a kind's `model` (--editor-model) must not collide with --model.
    return flag_name(field, rules).lstrip("-").replace("-", "_")


def _kinds(takes_image_only: bool) -> list[type[InterventionSpec]]:
    return [spec for spec in KINDS.values() if spec.takes_image or not takes_image_only]


def _argparse_options(rules, kind) -> dict:
    options: dict = {"type": kind.base, "metavar": rules.metavar}
    if kind.count is not None:
        if rules.append:
            options["action"] = "append"
        else:
            options["nargs"] = kind.count
    return {key: value for key, value in options.items() if value is not None}


def _shown(default) -> str:
    if isinstance(default, tuple):
        return " ".join(str(value) for value in default)
    return str(default)


def add_intervention_flags(parser: argparse.ArgumentParser, *, takes_image_only: bool = False):
    """One flag per field of every registered kind: the kind's ``selector`` field chooses the kind, the
    others are shared by name; returns the group (for more flags). A selector may be another kind's field
    (``--instruction`` picks InstructPix2Pix alone and is the guided editor's text with ``--editor``), so
    which combinations make sense is decided by :func:`spec_from_args`, not by argparse.

    Defaults stay None here and come from the chosen kind's spec, so a flag given for a kind that
    does not use it is an error rather than silently ignored.
    """
    kinds = _kinds(takes_image_only)
    default = KINDS[DEFAULT_KIND]
    group = parser.add_argument_group(
        f"intervention (choose one; default: --{default.selector} {default.options()[default.selector][2]})")
    for spec in kinds:
        rules, kind, _ = spec.options()[spec.selector]
        group.add_argument(flag_name(spec.selector, rules), dest=dest_name(spec.selector, rules), help=rules.help_text(),
                             **_argparse_options(rules, kind))
    selectors = {spec.selector for spec in kinds}
    users: dict[str, list[type[InterventionSpec]]] = {}
    for spec in kinds:
        for field in spec.options():
            if field not in _NOT_FLAGS and field not in selectors:
                users.setdefault(field, []).append(spec)
    for field, specs in users.items():
        rules, kind, field_default = specs[0].options()[field]
        text = rules.help_text()
        if len(specs) < len(kinds):
            text += " (" + ", ".join(flag_name(s.selector, s.options()[s.selector][0]) for s in specs) + " only)"
        defaults = {_shown(s.options()[field][2]) for s in specs if s.options()[field][2] not in (None, ())}
        if len(defaults) == 1:
            text += f" (default: {defaults.pop()})"
        group.add_argument(flag_name(field, rules), dest=dest_name(field, rules), default=None, help=text,
                           **_argparse_options(rules, kind))
    return group


def add_region_flags(group, *, repeatable: bool = False) -> None:
    """``--region`` and ``--feather``, worded by the shared region fields; ``repeatable`` for explain,
    where several regions are compared."""
    options = InterventionSpec.options()
    rules = options["region"][0]
    group.add_argument("--region", action="append" if repeatable else "store", metavar=rules.metavar,
                       help=rules.help_text() + ("; repeat it to compare regions in one run" if repeatable else ""))
    feather = options["feather"][0]
    group.add_argument("--feather", type=float, default=0.0, metavar=feather.metavar, help=feather.help_text())


def spec_from_args(args, *, absolute_paths: bool = False, **fields) -> InterventionSpec:
    """The spec the flags describe (``fields`` adds e.g. the region); a flag the chosen kind does not take
    is an error naming the kinds that take it. ``absolute_paths`` for a study, which may resume elsewhere."""
    given = [spec.selector for spec in KINDS.values()
             if getattr(args, dest_name(spec.selector, spec.options()[spec.selector][0]), None) is not None]
    # The kind whose fields hold every selector given: --editor with --instruction is the guided editor.
    chosen = [spec for spec in KINDS.values() if spec.selector in given and set(given) <= set(spec.options())]
    if given and not chosen:
        flags = [flag_name(s.selector, s.options()[s.selector][0]) for s in KINDS.values() if s.selector in given]
        raise ArgumentError(" / ".join(flags), "choose one intervention: these flags each choose a different one")
    spec = chosen[0] if chosen else KINDS[DEFAULT_KIND]
    options = spec.options()
    values = dict(fields)
    for field, (rules, _, _) in options.items():
        value = getattr(args, dest_name(field, rules), None)
        if field in _NOT_FLAGS or value is None:
            continue
        if rules.path:  # a missing file is the flag's fault, named as the user typed it
            for path in value if isinstance(value, list) else [value]:
                if not Path(path).is_file():
                    raise ArgumentError(flag_name(field, rules), _not_a_file(path))
        if absolute_paths and rules.path:
            value = [str(Path(v).resolve()) for v in value] if isinstance(value, list) else str(Path(value).resolve())
        values[field] = value
    for other in KINDS.values():
        for field, (rules, _, _) in other.options().items():
            if field not in options and field not in _NOT_FLAGS and getattr(args, dest_name(field, rules),
                                                                            None) is not None:
                flag = flag_name(field, rules)
                raise ArgumentError(flag, f"does not apply to {flag_name(spec.selector, options[spec.selector][0])}"
                                    f" interventions")
    return spec(**values)


def name_list(text: str | None, flag: str) -> list[str] | None:
    """Comma-separated names, or @FILE with one name per line; None when ``flag`` was not given."""
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise ValueError(f"`{flag}`: no such file {str(path)!r}")
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"`{flag}` is empty: give comma-separated names or @file.txt with one per line")
    return names


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """The model flags `explain` and `study` share (see :class:`propgrad.models.spec.ModelSpec`)."""
    models = parser.add_argument_group(f"models (default: the bundled {DEFAULT_MODEL} classifier)")
    models.add_argument("--model", action="append", metavar="NAME",
                        help="bundled model by name (see `python -m propgrad models`); repeatable")
    models.add_argument("--model-file", action="append", metavar="PATH",
                        help="your classifier: torch.export .pt2, TorchScript, or the authors' ConvMixer "
                        "checkpoint; never unpickled with arbitrary code; repeatable")
    models.add_argument("--hub-model", action="append", metavar="ID_OR_FOLDER",
                        help="a Hugging Face image classifier (transformers): hub id (the local hub cache, else "
                        "downloaded where the hub is reachable) or a folder written by save_pretrained; repeatable")
    models.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                        help="input size of --model-file models (resize to H x W); default: the size a .pt2 "
                        "was exported with, 128 for ConvMixer checkpoints, else 224")
    models.add_argument("--mean", type=float, nargs=3,
                        help="per-channel mean for --model-file normalisation (after scaling to [0, 1]); "
                        "default: 0.5 for ConvMixer checkpoints, else ImageNet's 0.485 0.456 0.406")
    models.add_argument("--std", type=float, nargs=3,
                        help="per-channel std for --model-file normalisation; default: 0.5 for ConvMixer "
                        "checkpoints, else ImageNet's 0.229 0.224 0.225")
    models.add_argument("--outputs-are", choices=list(OUTPUTS_ARE), default="auto",
                        help="what --model-file models return: logits (softmax; one output: sigmoid), "
                        "probabilities (used as they are), scores (raw), auto (judged on probe images)")
    models.add_argument("--class-names", metavar="NAMES",
                        help="class names of --model-file models: 'cat,dog' or @names.txt (one per line)")


def _not_a_file(path) -> str:
    """Why a path a flag names is no file: a folder said so ("does not exist" of a folder that does read as wrong)."""
    if Path(path).is_dir():
        return f"names a folder, not a file: {str(path)!r}; give the files themselves (a shell expands folder/*.png)"
    return f"names a file that does not exist: {str(path)!r}"


def model_spec_from_args(args, *, absolute_paths: bool = False) -> ModelSpec:
    """The models the flags name."""
    for path in args.model_file or ():
        if not Path(path).is_file():
            raise ArgumentError("--model-file", _not_a_file(path))
    if not args.model_file:
        # They describe --model-file models only: given alone they were ignored without a word.
        for flag, value in (("--class-names", args.class_names), ("--input-size", args.input_size),
                            ("--mean", args.mean), ("--std", args.std),
                            ("--outputs-are", args.outputs_are != "auto" and args.outputs_are)):
            if value:
                raise ArgumentError(flag, "describes --model-file models; give the model file too, or leave it out")
    files = [str(Path(p).resolve()) if absolute_paths else p for p in args.model_file or ()]
    spec = ModelSpec(names=tuple(args.model or ()), files=tuple(files), hub=tuple(args.hub_model or ()),
                     input_size=args.input_size and tuple(args.input_size), mean=args.mean and tuple(args.mean),
                     std=args.std and tuple(args.std), class_names=name_list(args.class_names, "--class-names"),
                     outputs_are=args.outputs_are)
    spec.check()  # an unknown --model is named by its flag, before anything loads
    return spec


def add_scoring_flags(parser: argparse.ArgumentParser, *, seed_help: str = "seed of the shuffle test"):
    """Outputs of interest, the statistic and the shuffle test's settings; returns the group."""
    from ..score import DEFAULT_ALPHA, DEFAULT_PERMUTATIONS, GRADIENT, STATISTICS

    scoring = parser.add_argument_group("scoring")
    scoring.add_argument("--outputs", default="predicted",
                         help="outputs of interest: 'predicted' (class predicted on step 0), 'all', 'vector' (the "
                         "whole output vector as one score: half the L1 norm of its central-difference gradient, "
                         "averaged over steps; needs --statistic gradient; a one-output model keeps its output), "
                         "or comma-separated "
                         "class names / indices")
    scoring.add_argument("--statistic", choices=list(STATISTICS), default=GRADIENT,
                         help="what is measured and shuffle-tested: 'gradient' (the paper's E[|grad_X F|], "
                         "two-sided), 'correlation' (|Pearson r| with the step: monotone trends only), "
                         "'mutual-information' (KSG estimate with 5 neighbours, as the authors': any dependence; slower null)")
    scoring.add_argument("--permutations", type=int, default=DEFAULT_PERMUTATIONS, help="shuffle-test permutations")
    scoring.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="significance level")
    scoring.add_argument("--seed", type=int, default=0, help=seed_help)
    return scoring
