"""Random-weight InstructPix2Pix pipelines of the real architecture, built offline.

No diffusion weights can be had on these machines. Tests need the real code path and numerics,
benchmarks need the real shapes (speed does not depend on weight values): both get them from these
builders, with the configuration written here instead of downloaded.
"""
from __future__ import annotations

import torch

# Stable Diffusion 1.5 as used by timbrooks/instruct-pix2pix: the UNet takes 8 channels
# (4 noisy latents + 4 image latents), CLIP ViT-L/14's text encoder, the SD VAE.
SD15_UNET = dict(
    sample_size=64, in_channels=8, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)
SD15_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=512,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    scaling_factor=0.18215,
)
SD15_TEXT = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=49406, eos_token_id=49407, pad_token_id=49407,
)
# timbrooks/instruct-pix2pix's scheduler_config.json
PIX2PIX_SCHEDULER = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    prediction_type="epsilon", steps_offset=1,
)

# Small enough for a test on two CPU cores, same block types as the real one.
TINY_UNET = dict(
    sample_size=32, in_channels=8, out_channels=4, layers_per_block=2, block_out_channels=(32, 64),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32,
)
TINY_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, sample_size=64,
    block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2,
    up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=32,
)
TINY_TEXT = dict(
    vocab_size=49408, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
    max_position_embeddings=77, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407,
)

SIZES = {"tiny": (TINY_UNET, TINY_VAE, TINY_TEXT), "sd15": (SD15_UNET, SD15_VAE, SD15_TEXT)}


def random_instruct_pix2pix(size: str = "tiny", *, seed: int = 0, device: str | torch.device = "cpu",
                            dtype: torch.dtype = torch.float32):
    """A ``StableDiffusionInstructPix2PixPipeline`` with random weights, built without any download.

    Parameters
    ----------
    size : {"tiny", "sd15"}
        "tiny": block widths (32, 64), for tests; "sd15": the full Stable Diffusion 1.5 UNet, VAE and
        text encoder of ``timbrooks/instruct-pix2pix``, for benchmarks.
    seed : int
        Seeds the weight initialisation.
    device, dtype
        Where and in which precision the pipeline runs.

    Returns
    -------
    StableDiffusionInstructPix2PixPipeline
        Euler-ancestral scheduler (the model's default), the real CLIP tokenizer, no safety checker.

    Examples
    --------
    >>> pipe = random_instruct_pix2pix("tiny")
    >>> pipe.unet.config.in_channels
    8
    """
    if size not in SIZES:
        raise ValueError(f"`size` must be one of {sorted(SIZES)}, got {size!r}")
    from diffusers import (AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    from .clip_tokenizer import clip_tokenizer

    unet_config, vae_config, text_config = SIZES[size]
    # Initialised on the target device: random init of the full-size UNet takes long on a CPU.
    with torch.device(device):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**unet_config)
        torch.manual_seed(seed)
        vae = AutoencoderKL(**vae_config)
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(CLIPTextConfig(**text_config))
    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=clip_tokenizer(), unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(**PIX2PIX_SCHEDULER),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    pipe.to(device)
    # Built in float32; cast only when asked (diffusers warns on any cast, even a no-op one).
    return pipe if dtype == torch.float32 else pipe.to(dtype=dtype)
