#!/usr/bin/python3
"""Write the trained model as a Hugging Face style float folder with mlx-lm
tensor names: model.safetensors (float32), config.json,
generation_config.json, the tokenizer files and a model card. The project's
MLX writer (mlxk-clone convert, see quantize.sh) turns it into the 4-bit
MLX model.

usage: export.py <model.pt> <tokenizer-dir> <out-dir>
"""
import json
import os
import shutil
import struct
import sys

import torch

import bpe
from model import Config

HERE = os.path.dirname(os.path.abspath(__file__))


def write_safetensors(path, tensors, metadata):
    """safetensors: u64 LE header length, JSON header, raw little-endian data."""
    header = {"__metadata__": metadata}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        b = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ckpt, tokdir, out = sys.argv[1], sys.argv[2], sys.argv[3]
    st = torch.load(ckpt)
    # model.pt carries its config; a training checkpoint (ckpt.pt) has the defaults.
    c = st.get("config") or Config().dict()
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), st["model"], {"format": "pt"})
    vocab, _ = bpe.load(os.path.join(tokdir, "tokenizer.json"))
    ids = {t: len(vocab) + k for k, t in enumerate(bpe.SPECIAL_TOKENS)}
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": c["hidden_size"],
        "intermediate_size": c["intermediate_size"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_attention_heads": c["num_attention_heads"],
        "num_key_value_heads": c["num_key_value_heads"],
        "head_dim": c["head_dim"],
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "rms_norm_eps": c["rms_norm_eps"],
        "rope_theta": c["rope_theta"],
        "max_position_embeddings": c["max_position_embeddings"],
        "vocab_size": c["vocab_size"],
        "tie_word_embeddings": True,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "torch_dtype": "float32",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    gen = {"bos_token_id": ids["<|endoftext|>"],
           "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]]}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
        f.write("\n")
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(tokdir, name), os.path.join(out, name))
    shutil.copyfile(os.path.join(HERE, "MODEL_CARD.md"), os.path.join(out, "README.md"))
    n = sum(t.numel() for t in st["model"].values())
    print(f"exported {n} parameters to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
