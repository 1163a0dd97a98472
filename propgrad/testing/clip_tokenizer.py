"""A transformers ``CLIPTokenizer`` built offline from the BPE vocabulary that open_clip ships.

Stable Diffusion's text encoder (and so InstructPix2Pix's) uses OpenAI's CLIP tokenizer. Its files
live on the model hub, which these machines cannot reach; the same byte-pair vocabulary is bundled in
``open_clip_torch`` as ``bpe_simple_vocab_16e6.txt.gz``. Rebuilding the tokenizer from it gives the
same token ids, which lets tests and offline tools tokenise exactly as the real pipeline does.
"""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

# 49152 tokens in all: 256 bytes, 256 bytes with "</w>", the merges, and the two special tokens.
_N_MERGES = 49152 - 256 - 2


def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2's reversible byte -> printable character table; CLIP's vocabulary is written in it.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def open_clip_bpe_path() -> Path:
    """Path of the gzipped BPE merges file bundled with ``open_clip_torch``."""
    import open_clip.tokenizer

    return Path(open_clip.tokenizer.default_bpe())


@functools.lru_cache(maxsize=1)
def _vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    with gzip.open(open_clip_bpe_path(), "rt", encoding="utf-8") as f:
        # The first line is a version header; open_clip keeps merges [1:48895], so do we.
        merges = f.read().split("\n")[1:_N_MERGES + 1]
    pairs = [tuple(line.split()) for line in merges]
    tokens = list(_bytes_to_unicode().values())
    tokens = tokens + [t + "</w>" for t in tokens] + ["".join(p) for p in pairs]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, pairs


def clip_tokenizer(model_max_length: int = 77):
    """A ``transformers.CLIPTokenizer`` with OpenAI CLIP's vocabulary, built without any download.

    Parameters
    ----------
    model_max_length : int
        Sequence length the tokenizer pads and truncates to (77 for Stable Diffusion).

    Returns
    -------
    transformers.CLIPTokenizer
        Token ids match ``open_clip.get_tokenizer("ViT-B-32")`` (start 49406, end/pad 49407).

    Examples
    --------
    >>> tok = clip_tokenizer()
    >>> tok("a photo of a cat").input_ids[:2]
    [49406, 320]
    """
    if isinstance(model_max_length, bool) or not isinstance(model_max_length, int) or model_max_length < 2:
        raise ValueError(f"`model_max_length` must be an integer of at least 2, got {model_max_length!r}")
    from transformers import CLIPTokenizer

    vocab, merges = _vocab_and_merges()
    return CLIPTokenizer(vocab=dict(vocab), merges=list(merges), model_max_length=model_max_length)
