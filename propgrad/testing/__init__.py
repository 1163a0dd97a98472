"""Helpers for tests and benchmarks, not the library: tiny random-weight editors built offline.

| module | what |
| --- | --- |
| ``random_pix2pix`` | a tiny InstructPix2Pix pipeline with random weights (diffusers' dummy components) |
| ``clip_tokenizer`` | a CLIP tokenizer built from a small vocabulary, without a download |
"""
