"""Convert the method authors' ConvMixer checkpoints (.pth) into safetensors files with model cards.

    python assets/authors/convert.py [SOURCE_FOLDER]

SOURCE_FOLDER defaults to ``../shared/third_party/propgrad-authors`` beside the repository. The .pth
files are read with propgrad's weights-only loader (nothing in them can run code); this folder gets
``<stem>.safetensors`` (float32 weights; metadata: ``paras`` as JSON, the source, the stored
``performance``), ``<stem>.md`` (a model card) and the authors' ``LICENSE``. The photos in the source
folder are never copied (their data set's licence does not allow it), nor are the .pth files.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from propgrad.models.authors import VARIANTS  # noqa: E402

SOURCE_REPOSITORY = "PropGrad/Interventional-XAI (https://github.com/PropGrad/Interventional-XAI)"
SPLIT_NAMES = {"unbiased": "unbiased test split", "dcats": "dark-cats test split (dark cats, light dogs)",
               "ddogs": "dark-dogs test split (dark dogs, light cats)"}


def _read(path: Path) -> dict:
    try:  # the module that opens pickled files safely (moved out of files.py when import cycles were broken)
        from propgrad.models.safe_load import read_checkpoint
    except ImportError:
        from propgrad.models.files import read_checkpoint
    checkpoint = read_checkpoint(path)
    for key in ("paras", "state_dict"):
        if key not in checkpoint:
            raise ValueError(f"{path.name}: not one of the authors' ConvMixer checkpoints (no {key!r})")
    return checkpoint


def _card(stem: str, name: str, split: str, paras: dict, performance: dict) -> str:
    accuracy = performance.get("acc", {})
    loss = performance.get("loss", {})
    rows = "\n".join(f"| {SPLIT_NAMES.get(key, key)} | {value:.1f} % | {loss.get(key, float('nan')):.3f} |"
                     for key, value in accuracy.items())
    return f"""# {name}

- **Task**: cats (class 0) vs dogs (class 1), softmax over two logits.
- **Model**: ConvMixer (Trockman & Kolter, "Patches Are All You Need?"), dim {paras['dim']}, depth {paras['depth']},
  kernel size {paras['kernel_size']}, patch size {paras['patch_size']}; {paras['n_classes']} outputs.
- **Training data**: {split} (the authors' splits of the Kaggle "Dogs vs. Cats" photos by fur colour).
- **Preprocessing**: resize to 128 x 128, scale to [0, 1], normalise with mean 0.5 and std 0.5 per channel.
- **Source**: {SOURCE_REPOSITORY}, file `{stem}.pth`, the code release of Penzel & Denzler,
  "Locally Explaining Prediction Behavior via Gradual Interventions and Measuring Property Gradients"
  (WACV 2026). Trained by the authors, not by this project.
- **Licence**: MIT (see `LICENSE` in this folder).
- **Conversion**: `python assets/authors/convert.py` read the checkpoint with torch's weights-only loader and
  wrote the float32 weights unchanged to `{stem}.safetensors`; `paras` and `performance` are in its metadata.

Accuracies stored in the checkpoint's `performance` field (the authors' test splits):

| test split | accuracy | loss |
| --- | --- | --- |
{rows}
"""


def convert(source: Path, target: Path = HERE) -> list[Path]:
    from safetensors.torch import save_file

    written = []
    for stem, (name, split) in VARIANTS.items():
        checkpoint = _read(source / f"{stem}.pth")
        paras = {key: int(value) for key, value in checkpoint["paras"].items()}
        performance = checkpoint.get("performance", {})
        tensors = {key: value.float().contiguous() for key, value in checkpoint["state_dict"].items()}
        metadata = {"paras": json.dumps(paras), "performance": json.dumps(performance), "name": name,
                    "source": f"{SOURCE_REPOSITORY}: {stem}.pth", "licence": "MIT", "class_names": "cat,dog"}
        weights = target / f"{stem}.safetensors"
        save_file(tensors, str(weights), metadata=metadata)
        weights.chmod(0o644)  # safetensors writes 0600; the files ship to every reader of the repository
        card = target / f"{stem}.md"
        card.write_text(_card(stem, name, split, paras, performance))
        written += [weights, card]
    shutil.copyfile(source / "LICENSE", target / "LICENSE")
    written.append(target / "LICENSE")
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "third_party" / "propgrad-authors"
    for path in convert(folder):
        print(f"wrote {path.relative_to(ROOT)}")
