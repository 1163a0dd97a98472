"""The paper's patch result on the shipped lesion classifiers, as a propgrad study: does a sticker move p(melanoma)?

Draws melanoma test images (not seen in training), writes them with a list (list.csv) that places the
stickers per image, at a random position beside the lesion and a random scale, writes the study
definition (study.toml: those images x the shipped stickers blended in with opacity 0 -> 1 in 10 steps
x every shipped lesion model, output p(melanoma)), and runs it with the study runner
(``python -m propgrad study run study.toml`` does the same). Prints, per model: mean E[|grad_X F|] of
p(melanoma) over images x stickers (with its standard deviation), the share of images whose mean score
is significant (shuffle test, alpha 0.01), the share of series whose prediction flips, and the mean
p(melanoma) at opacity 0 and 1. Biased models must score markedly higher than unbiased ones; the
ratio biased / unbiased per architecture is the baseline comparison.

    python bench/patch_scores.py [--n 30] [--models cnn effnet_head] [--out DIR] [--workers N | --ray [ADDRESS]]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from propgrad.lesions.generator import MELANOMA, make_dataset, random_patch_placement  # noqa: E402
from propgrad.lesions.models import MODEL_NAMES, VARIANTS, patch_paths  # noqa: E402
from propgrad.lesions.train import TEST_SEED_OFFSET  # noqa: E402
from propgrad.study import from_toml, run_study  # noqa: E402
from propgrad.study.engines import InProcess, Processes  # noqa: E402

BENCH_SEED = 7  # not the training seed 0 nor its test seed 1000: fresh lesions


def melanoma_images(n: int, seed: int = BENCH_SEED + TEST_SEED_OFFSET):
    """``n`` melanomas never seen in training, with what was drawn (for placing stickers beside them)."""
    data = make_dataset(2 * n, seed=seed)
    chosen = [i for i, label in enumerate(data.labels) if label == MELANOMA][:n]
    return [data.images[i] for i in chosen], [data.infos[i] for i in chosen]


def write_study(folder: Path, architectures, n: int, n_patches: int, steps: int, permutations: int) -> Path:
    """Images, list.csv (with per-image sticker placement) and study.toml in ``folder``; returns the TOML."""
    images, infos = melanoma_images(n)
    rng = np.random.default_rng(BENCH_SEED)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with (folder / "list.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "position_x", "position_y", "scale"])
        for number, (image, info) in enumerate(zip(images, infos)):
            # Beside the lesion, as in the biased training data: a sticker covering the lesion would
            # hide the evidence and move any model, biased or not.
            (x, y), scale = random_patch_placement(rng, info)
            name = f"images/melanoma_{number:03d}.png"
            image.save(folder / name)
            writer.writerow([name, "melanoma", repr(x), repr(y), repr(scale)])
    models = [MODEL_NAMES[(a, v)] for a in architectures for v in VARIANTS]
    study = folder / "study.toml"
    study.write_text(
        f"outputs = [\"melanoma\"]\npermutations = {permutations}\nseed = 0\n\n"
        f"[inputs]\nimages = \"list.csv\"\n\n"
        f"[[intervention]]\nkind = \"patch\"\nname = \"stickers\"\nsteps = {steps}\n"
        f"patches = {json.dumps([str(p) for p in patch_paths()[:n_patches]])}\n\n"
        f"[models]\nnames = {json.dumps(models)}\n")
    return study


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="melanoma test images")
    parser.add_argument("--patches", type=int, default=3, help="shipped stickers per image")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--models", nargs="+", default=["cnn", "effnet_head"], choices=["cnn", "effnet_head"])
    parser.add_argument("--out", help="study folder (default: a temporary one); rerun to resume")
    parser.add_argument("--workers", type=int, help="local processes (default: in-process)")
    args = parser.parse_args(argv)
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="patch-scores-"))
    study = write_study(folder, args.models, args.n, args.patches, args.steps, args.permutations)
    started = time.time()
    report = run_study(from_toml(study), folder / "results",
                       engine=Processes(args.workers) if args.workers else InProcess())
    seconds = time.time() - started
    print(f"Patch intervention on {args.n} melanoma test images x {args.patches} stickers, {args.steps} steps "
          f"(opacity 0 -> 1), random position beside the lesion and scale per image; output p(melanoma). "
          f"Study in {folder} ({seconds:.0f} s).\n")
    print("| model | E[abs grad] mean ± std | significant (α=0.01) | series with a flip "
          "| p(melanoma) opacity 0 → 1 |")
    print("| --- | --- | --- | --- | --- |")
    results = {row.model: row for row in report.summary}
    for name, row in results.items():
        print(f"| {name} | {row.score_mean:.4f} ± {row.score_std:.4f} | {row.significant_share:.0%} "
              f"| {row.flip_share:.0%} | {row.output_start:.2f} → {row.output_end:.2f} |")
    print()
    ratios = {}
    for architecture in args.models:
        biased = results[MODEL_NAMES[(architecture, "biased")]]
        unbiased = results[MODEL_NAMES[(architecture, "unbiased")]]
        ratios[architecture] = biased.score_mean / max(unbiased.score_mean, 1e-12)
        print(f"{architecture}: biased / unbiased score ratio {ratios[architecture]:.1f}x")
    print(f"patch_score_ratio_{args.models[0]}: {ratios[args.models[0]]:.2f}")
    return results


if __name__ == "__main__":
    main()
