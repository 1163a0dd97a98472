"""Random-weight LEDITS++ and Qwen-Image-Edit pipelines of the real architectures, built offline.

The components follow diffusers' own fast tests (``tests/pipelines/ledits_pp`` and
``tests/pipelines/qwenimage``); where those download a tiny tokenizer from the hub, these build one
here: OpenAI CLIP's vocabulary from open_clip (:mod:`.clip_tokenizer`) for LEDITS++, and for Qwen a
byte-level tokenizer that keeps Qwen2's special tokens at their real ids (the text encoder looks the
image placeholder up by id).
"""
from __future__ import annotations

import torch

# Qwen2-VL's special tokens and their ids in the real vocabulary.
QWEN_SPECIAL = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|vision_start|>": 151652,
                "<|vision_end|>": 151653, "<|vision_pad|>": 151654, "<|image_pad|>": 151655, "<|video_pad|>": 151656}


def random_ledits_pp(*, seed: int = 0, device: str | torch.device = "cpu"):
    """A tiny ``LEditsPPPipelineStableDiffusion`` with random weights (diffusers' fast-test shapes).

    Examples
    --------
    >>> pipe = random_ledits_pp()
    >>> type(pipe).__name__
    'LEditsPPPipelineStableDiffusion'
    """
    from diffusers import (AutoencoderKL, DPMSolverMultistepScheduler, LEditsPPPipelineStableDiffusion,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    from .clip_tokenizer import clip_tokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    torch.manual_seed(seed)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4)
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=49406, eos_token_id=49407, pad_token_id=49407, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=5, vocab_size=49408))
    pipe = LEditsPPPipelineStableDiffusion(
        vae=vae, text_encoder=text_encoder, tokenizer=clip_tokenizer(), unet=unet,
        scheduler=DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++", solver_order=2, steps_offset=1),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def qwen_tokenizer():
    """A byte-level ``Qwen2Tokenizer`` (no merges) with Qwen2-VL's special tokens at their real ids."""
    from transformers import Qwen2Tokenizer

    from .clip_tokenizer import _bytes_to_unicode

    vocab = {char: i for i, char in enumerate(_bytes_to_unicode().values())}
    vocab.update(QWEN_SPECIAL)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": [t for t in QWEN_SPECIAL if t != "<|endoftext|>"]})
    return tokenizer


def random_qwen_image_edit(*, seed: int = 0, device: str | torch.device = "cpu"):
    """A tiny ``QwenImageEditPipeline`` with random weights (diffusers' fast-test shapes).

    Note: the pipeline encodes its input at about one megapixel whatever the output size; on a CPU a
    test keeps that small by patching ``calculate_dimensions`` (see ``tests/test_editors.py``).

    Examples
    --------
    >>> pipe = random_qwen_image_edit()  # doctest: +SKIP
    """
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageEditPipeline, \
        QwenImageTransformer2DModel
    from transformers import (Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessor,
                              Qwen2VLProcessor, Qwen2VLVideoProcessor)

    torch.manual_seed(seed)
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=2, attention_head_dim=16, num_attention_heads=3,
        joint_attention_dim=16, guidance_embeds=False, axes_dims_rope=(8, 4, 4))
    torch.manual_seed(seed)
    vae = AutoencoderKLQwenImage(base_dim=24, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1,
                                 temperal_downsample=[False, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    torch.manual_seed(seed)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "rope_theta": 1000000.0,
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        hidden_size=16, vocab_size=151680, vision_end_token_id=151653, vision_start_token_id=151652,
        vision_token_id=151654)
    text_encoder = Qwen2_5_VLForConditionalGeneration(config)
    tokenizer = qwen_tokenizer()
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer,
                                 video_processor=Qwen2VLVideoProcessor())
    pipe = QwenImageEditPipeline(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
                                 text_encoder=text_encoder, tokenizer=tokenizer, processor=processor)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)
