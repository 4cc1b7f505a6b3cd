#!/usr/bin/python3
"""Generate from the trained torch model with the chat template.

usage: sample.py <model.pt> <tokenizer-dir> [--q4] [--max N] [prompt ...]

Prints, for each prompt, the greedy (temperature 0) answer and one sampled
at temperature 0.7 (torch generator seed 0). --q4 first rounds every
Linear/Embedding weight through MLX's 4-bit affine quantizer (group 64), to
preview what the quantized model will say.
"""
import os
import sys

import torch

import bpe
import data
from model import Config, Llama, generate

DEFAULT_PROMPTS = [
    "Tell me a story about Noah.",
    "Continue: In the beginning, God created the heavens and the earth.",
    "Hello",
]


def quantize_dequantize(w, bits=4, group=64):
    """MLX affine quantization (mlx/backend/cpu/quantized.cpp semantics),
    returned dequantized."""
    shape = w.shape
    g = w.reshape(-1, group).double()
    n_bins = 2 ** bits - 1
    wmax, wmin = g.max(dim=1).values, g.min(dim=1).values
    scale = torch.clamp((wmax - wmin) / n_bins, min=1e-7)
    use_min = wmin.abs() > wmax.abs()
    scale = torch.where(use_min, scale, -scale)
    edge = torch.where(use_min, wmin, wmax)
    q0 = torch.round(edge / scale)
    scale = torch.where(q0 != 0, edge / q0, scale)
    bias = torch.where(q0 != 0, edge, torch.zeros_like(edge))
    q = torch.clamp(torch.round((g - bias[:, None]) / scale[:, None]), 0, n_bins)
    return (q * scale[:, None] + bias[:, None]).float().reshape(shape)


def decode(vocab, ids):
    inv = {v: k for k, v in bpe.BYTE_MAP.items()}
    out = bytearray()
    for i in ids:
        if i < len(vocab):
            out.extend(inv[c] for c in vocab[i])
        else:
            out.extend(bpe.SPECIAL_TOKENS[i - len(vocab)].encode())
    return out.decode("utf-8", errors="replace")


def load(ckpt, q4=False):
    st = torch.load(ckpt)
    cfg = Config(**(st.get("config") or {}))
    model = Llama(cfg)
    model.load_state_dict(st["model"])
    if q4:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if p.dim() == 2:
                    p.copy_(quantize_dequantize(p))
    model.eval()
    return model


def main():
    args = sys.argv[1:]
    q4 = "--q4" in args
    args = [a for a in args if a != "--q4"]
    max_tokens = 120
    if "--max" in args:
        i = args.index("--max")
        max_tokens = int(args[i + 1])
        del args[i:i + 2]
    ckpt, tokdir = args[0], args[1]
    prompts = args[2:] or DEFAULT_PROMPTS
    torch.set_num_threads(1)
    vocab, merges = bpe.load(os.path.join(tokdir, "tokenizer.json"))
    enc = bpe.Encoder(vocab, merges)
    model = load(ckpt, q4)
    stop = {len(vocab) + 1 + 1, len(vocab)}  # <|im_end|>, <|endoftext|>
    for p in prompts:
        text = data.render([{"role": "user", "content": p}], add_generation_prompt=True)
        ids = enc.encode(text)
        print(f"### {p}")
        for temp in (0.0, 0.7):
            out = generate(model, ids, max_tokens, temp, stop, seed=0)
            print(f"--- temperature {temp}:\n{decode(vocab, out)}\n")


if __name__ == "__main__":
    main()
