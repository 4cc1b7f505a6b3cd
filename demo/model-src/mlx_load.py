#!/usr/bin/python3
"""Load the converted 4-bit MLX model back into the torch model (weights
dequantized to float32) and generate with it: an independent check of the
project's MLX writer and a preview of what the engine should print.

usage: mlx_load.py <mlx-model-dir> <float.pt> [prompt ...]
Prints the largest difference between each dequantized weight and the
float original (relative to the group's range), then the greedy and the
temperature-0.7 answers of the dequantized model.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

import bpe
import data
import sample
from model import Config, Llama, generate


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        buf = raw[base + a:base + b]
        if h["dtype"] == "U32":
            arr = np.frombuffer(buf, dtype="<u4").reshape(h["shape"])
        elif h["dtype"] == "BF16":
            u16 = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32).reshape(h["shape"])
        elif h["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype="<f4").reshape(h["shape"])
        else:
            raise ValueError(f"{name}: dtype {h['dtype']} not handled")
        out[name] = arr
    return out


def dequantize(w, scales, biases, bits, group):
    """w[n, k] = scales[n, k/group] * q[n, k] + biases[n, k/group], q packed
    LSB-first in uint32 words."""
    per = 32 // bits
    q = np.stack([(w >> (bits * i)) & ((1 << bits) - 1) for i in range(per)], axis=-1)
    q = q.reshape(w.shape[0], -1).astype(np.float32)
    s = np.repeat(scales, group, axis=1)
    b = np.repeat(biases, group, axis=1)
    return q * s + b


def main():
    mdir, fpt = sys.argv[1], sys.argv[2]
    prompts = sys.argv[3:] or sample.DEFAULT_PROMPTS
    torch.set_num_threads(1)
    cfgj = json.load(open(os.path.join(mdir, "config.json")))
    qc = cfgj["quantization"]
    tensors = {}
    for f in sorted(os.listdir(mdir)):
        if f.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(mdir, f)))
    st = torch.load(fpt)
    cfg = Config(**(st.get("config") or {}))
    model = Llama(cfg)
    sd = {}
    worst = 0.0
    for name, ref in st["model"].items():
        mod = name[:-len(".weight")]
        if mod + ".scales" in tensors:
            w = dequantize(tensors[name], tensors[mod + ".scales"], tensors[mod + ".biases"],
                           qc["bits"], qc["group_size"])
            g = ref.reshape(-1, qc["group_size"])
            rng = (g.max(1).values - g.min(1).values).repeat_interleave(qc["group_size"])
            err = ((torch.from_numpy(w).reshape(-1) - ref.reshape(-1)).abs() / rng).max().item()
            worst = max(worst, err)
        else:
            w = tensors[name]
        sd[name] = torch.from_numpy(np.array(w, dtype=np.float32)).reshape(ref.shape)
    print(f"largest dequantization error: {worst:.3f} of a group's range "
          f"(4-bit rounding alone gives up to {0.5 / 15:.3f})")
    model.load_state_dict(sd)
    model.eval()
    tokdir = mdir
    vocab, merges = bpe.load(os.path.join(tokdir, "tokenizer.json"))
    enc = bpe.Encoder(vocab, merges)
    stop = {len(vocab) + 2, len(vocab)}
    for p in prompts:
        ids = enc.encode(data.render([{"role": "user", "content": p}], add_generation_prompt=True))
        print(f"### {p}")
        for temp in (0.0, 0.7):
            out = generate(model, ids, 120, temp, stop, seed=0)
            print(f"--- temperature {temp}:\n{sample.decode(vocab, out)}\n")


if __name__ == "__main__":
    main()
