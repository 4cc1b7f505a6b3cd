#!/usr/bin/python3
"""Self-test of forward.py that needs no Go generator.

Checks the affine packing against known-answer vectors, a quantize/dequantize
round trip for every bit width, and runs every architecture on tiny random
models written here with numpy (post-sanitize tensor names, MLX safetensors
layout). The attention/RoPE path is cross-checked against a slow per-element
loop implementation, causality is checked by extending the sequence, and
quantized variants must stay close to their float source.

    /usr/bin/python3 selftest.py
"""

import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import forward as fw  # noqa: E402


# ---------------------------------------------------------------------------
# writers


def f32_to_bf16_bits(a):
    b = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return b.astype(np.uint16)


def write_safetensors(path, tensors):
    """tensors: {name: (dtype_str, numpy array of stored values)}; MLX-style, unpadded."""
    header, blobs, off = {}, [], 0
    for name, (dt, arr) in tensors.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "mlx"}
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def quantize(w, bits, gs):
    """MLX-style affine quantizer; returns (packed, scales_f32, biases_f32)."""
    n, k = w.shape
    g = w.reshape(n, k // gs, gs).astype(np.float64)
    mx_, mn = g.max(axis=2), g.min(axis=2)
    nb = (1 << bits) - 1
    scale = np.maximum((mx_ - mn) / nb, 1e-7)
    use_min = np.abs(mn) > np.abs(mx_)
    scale = np.where(use_min, scale, -scale)
    edge = np.where(use_min, mn, mx_)
    q0 = np.rint(edge / scale)
    nz = q0 != 0
    scale = np.where(nz, edge / np.where(nz, q0, 1), scale)
    bias = np.where(nz, edge, 0.0)
    # scales/biases are stored in bf16 here; quantize against the stored values.
    s16 = (f32_to_bf16_bits(scale).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    b16 = (f32_to_bf16_bits(bias).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    q = np.clip(np.rint((g - b16[:, :, None]) / s16[:, :, None]), 0, nb).astype(np.int64)
    return fw.pack_affine(q.reshape(n, k), bits), s16, b16


# ---------------------------------------------------------------------------
# packing checks


def check_packing():
    cases = [
        (4, [1, 2, 3, 4, 5, 6, 7, 8], "21436587"),
        (8, [1, 2, 3, 4], "01020304"),
        (2, [3, 2, 1, 0] * 4, "1b1b1b1b"),
        (3, [1, 2, 3, 4, 5, 6, 7, 0] * 4, "d1581f" * 4),
        (6, [1, 2, 3, 4] * 8, "813010" * 8),
        (5, [1, 2, 3, 4, 5, 6, 7, 8] * 4, "410c52cc41" * 4),
    ]
    for bits, vals, hexbytes in cases:
        codes = np.array([vals], dtype=np.int64)
        packed = fw.pack_affine(codes, bits)
        got = packed.astype("<u4").tobytes().hex()
        assert got == hexbytes, (bits, got, hexbytes)
        back = fw.unpack_affine(packed, bits, len(vals))
        assert (back == codes).all(), bits
    rng = np.random.default_rng(7)
    for bits in (2, 3, 4, 5, 6, 8):
        for gs in (32, 64, 128):
            w = rng.normal(size=(5, 256)).astype(np.float32)
            p, s, b = quantize(w, bits, gs)
            d = fw.dequantize_affine(p, s, b, bits, gs)
            # MLX's quantizer moves the scale so one edge is exact, which can
            # clip the other edge; only the typical error is bounded.
            err = np.abs(d - w).reshape(5, -1, gs).mean(axis=2)
            assert (err <= np.abs(s) * 0.5).all(), (bits, gs)
            # exact decode: w = scale*q + bias with codes read back
            codes = rng.integers(0, 1 << bits, size=(3, 256))
            sc = rng.normal(size=(3, 256 // gs))
            bi = rng.normal(size=(3, 256 // gs))
            d = fw.dequantize_affine(fw.pack_affine(codes, bits), sc, bi, bits, gs)
            want = np.repeat(sc, gs, axis=1) * codes + np.repeat(bi, gs, axis=1)
            assert np.array_equal(d, want), (bits, gs)
    print("packing: known-answer vectors and round trips OK")


# ---------------------------------------------------------------------------
# tiny models


BASE = dict(hidden_size=64, num_hidden_layers=3, intermediate_size=128,
            num_attention_heads=4, num_key_value_heads=2, vocab_size=256,
            rms_norm_eps=1e-5)


def arch_configs():
    return {
        "llama": dict(BASE, model_type="llama", tie_word_embeddings=False,
                      rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0,
                                    "original_max_position_embeddings": 64}),
        "mistral": dict(BASE, model_type="mistral", head_dim=32),
        "qwen2": dict(BASE, model_type="qwen2", head_dim=999),
        "qwen3": dict(BASE, model_type="qwen3", head_dim=32, tie_word_embeddings=True,
                      rope_theta=1000000.0, max_position_embeddings=4096),
        "phi3": dict(BASE, model_type="phi3", partial_rotary_factor=0.75,
                     max_position_embeddings=131072, original_max_position_embeddings=4096,
                     rope_scaling={"type": "longrope", "long_factor": [1.0 + 0.5 * i for i in range(6)],
                                   "short_factor": [1.0] * 6}),
        "gemma2": dict(BASE, model_type="gemma2", head_dim=16, query_pre_attn_scalar=16,
                       attn_logit_softcapping=5.0, final_logit_softcapping=10.0),
        "gemma3_text": dict(BASE, model_type="gemma3_text", head_dim=16, query_pre_attn_scalar=16,
                            sliding_window=4, sliding_window_pattern=3, num_hidden_layers=3),
    }


def tensor_shapes(cfg):
    mt = cfg["model_type"]
    H, L, I, V = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") if mt in ("qwen3", "gemma2", "gemma3_text", "llama", "mistral") else None
    hd = hd or H // nh
    shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,)}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = (H,)
        shapes[p + "post_attention_layernorm.weight"] = (H,)
        if mt.startswith("gemma"):
            shapes[p + "pre_feedforward_layernorm.weight"] = (H,)
            shapes[p + "post_feedforward_layernorm.weight"] = (H,)
        if mt == "phi3":
            shapes[p + "self_attn.qkv_proj.weight"] = ((nh + 2 * nkv) * hd, H)
            shapes[p + "mlp.gate_up_proj.weight"] = (2 * I, H)
        else:
            shapes[p + "self_attn.q_proj.weight"] = (nh * hd, H)
            shapes[p + "self_attn.k_proj.weight"] = (nkv * hd, H)
            shapes[p + "self_attn.v_proj.weight"] = (nkv * hd, H)
            shapes[p + "mlp.gate_proj.weight"] = (I, H)
            shapes[p + "mlp.up_proj.weight"] = (I, H)
        if mt == "qwen2":
            for n in "qkv":
                shapes[p + f"self_attn.{n}_proj.bias"] = (shapes[p + f"self_attn.{n}_proj.weight"][0],)
        if mt in ("qwen3", "gemma3_text"):
            shapes[p + "self_attn.q_norm.weight"] = (hd,)
            shapes[p + "self_attn.k_norm.weight"] = (hd,)
        shapes[p + "self_attn.o_proj.weight"] = (H, nh * hd)
        shapes[p + "mlp.down_proj.weight"] = (H, I)
    if not cfg.get("tie_word_embeddings", mt in ("llama", "mistral", "qwen2", "gemma2", "gemma3_text")):
        shapes["lm_head.weight"] = (V, H)
    return shapes


def make_model(root, name, cfg, seed, bits=None, gs=64, overrides=None):
    rng = np.random.default_rng(seed)
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    tensors = {}
    gemma = cfg["model_type"].startswith("gemma")
    for t, shp in tensor_shapes(cfg).items():
        if len(shp) == 1:
            base = 0.0 if gemma else 1.0
            w = (base + 0.1 * rng.normal(size=shp)).astype(np.float32)
        else:
            w = (rng.normal(size=shp) / math.sqrt(shp[1]) * (3.0 if "embed" in t else 1.0)).astype(np.float32)
        mod = t[: -len(".weight")] if t.endswith(".weight") else None
        if bits and len(shp) == 2 and mod is not None:
            b, g = bits, gs
            if overrides and mod in overrides:
                b, g = overrides[mod]["bits"], overrides[mod]["group_size"]
            p, s, bi = quantize(w, b, g)
            tensors[t] = ("U32", p)
            tensors[mod + ".scales"] = ("BF16", f32_to_bf16_bits(s))
            tensors[mod + ".biases"] = ("BF16", f32_to_bf16_bits(bi))
        else:
            tensors[t] = ("BF16", f32_to_bf16_bits(w))
    c = dict(cfg)
    if bits:
        c["quantization"] = {"group_size": gs, "bits": bits, **(overrides or {})}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    return d


# ---------------------------------------------------------------------------
# slow loop cross-check of rope + attention


def slow_rope(vec, pos, rope):
    v = [float(x) * (rope.mscale if i < rope.dims else 1.0) for i, x in enumerate(vec)]
    out = list(v)
    half = rope.dims // 2
    for i in range(half):
        th = pos * rope.pos_scale * float(rope.inv_freq[i])
        a, b = (2 * i, 2 * i + 1) if rope.traditional else (i, i + half)
        out[a] = v[a] * math.cos(th) - v[b] * math.sin(th)
        out[b] = v[a] * math.sin(th) + v[b] * math.cos(th)
    return out


def slow_attention_layer0(m, tokens):
    """Output of layer 0's attention block (before o_proj) computed with loops."""
    s, L = m.spec, m.layers[0]
    n = len(tokens)
    h = m.embed[torch.tensor(tokens)]
    if s.embed_scale:
        h = h * s.embed_scale
    x = m._rms(h, L["in_norm"])
    q = m._lin(x, L["q"]).reshape(n, s.n_heads, s.head_dim)
    k = m._lin(x, L["k"]).reshape(n, s.n_kv, s.head_dim)
    v = m._lin(x, L["v"]).reshape(n, s.n_kv, s.head_dim)
    if s.qk_norm:
        q, k = m._rms(q, L["q_norm"]), m._rms(k, L["k_norm"])
    rope = s.ropes[0]
    out = np.zeros((n, s.n_heads, s.head_dim))
    for hq in range(s.n_heads):
        hk = hq // (s.n_heads // s.n_kv)
        for i in range(n):
            qi = slow_rope(q[i, hq].tolist(), i, rope)
            sc = []
            for j in range(n):
                ok = j <= i and (s.windows[0] is None or i - j < s.windows[0])
                if not ok:
                    sc.append(None)
                    continue
                kj = slow_rope(k[j, hk].tolist(), j, rope)
                z = sum(a * b for a, b in zip(qi, kj)) * s.scale
                if s.attn_softcap:
                    z = math.tanh(z / s.attn_softcap) * s.attn_softcap
                sc.append(z)
            mx_ = max(z for z in sc if z is not None)
            e = [0.0 if z is None else math.exp(z - mx_) for z in sc]
            tot = sum(e)
            for j in range(n):
                out[i, hq] += e[j] / tot * v[j, hk].numpy()
    return out.reshape(n, -1)


def fast_attention_layer0(m, tokens):
    captured = {}
    orig = m._lin

    def spy(x, wb):
        if wb is m.layers[0]["o"] and "o" not in captured:
            captured["o"] = x.clone()
        return orig(x, wb)

    m._lin = spy
    try:
        m.forward(tokens)
    finally:
        m._lin = orig
    return captured["o"].numpy()


def main():
    torch.set_num_threads(1)
    check_packing()
    toks = [5, 77, 3, 250, 18, 18, 99, 140, 1, 64]
    with tempfile.TemporaryDirectory() as root:
        for i, (name, cfg) in enumerate(arch_configs().items()):
            d = make_model(root, name + "-bf16", cfg, seed=100 + i)
            m = fw.Model(d)
            lg = m.forward(toks)
            assert torch.isfinite(lg).all()
            # causality: a prefix gives the same logits
            lp = m.forward(toks[:6])
            assert torch.allclose(lg[:6], lp, atol=1e-10), name
            # loop cross-check of rope/attention
            a = slow_attention_layer0(m, toks)
            b = fast_attention_layer0(m, toks)
            err = np.abs(a - b).max()
            assert err < 1e-9, (name, err)
            res = []
            for bits in (8, 4):
                dq = make_model(root, f"{name}-{bits}bit", cfg, seed=100 + i, bits=bits)
                lq = fw.Model(dq).forward(toks)
                rel = float((lq - lg).abs().max() / lg.abs().max())
                res.append(rel)
            assert res[0] < res[1] < 0.5, (name, res)
            extra = ""
            if name == "gemma3_text":
                lnw = m.forward(toks, no_window=True)
                diff = (lnw - lg).abs().max(dim=1).values
                assert float(diff[:4].max()) < 1e-12 and float(diff[4:].min()) > 1e-6, diff
                extra = f" window effect pos>=4 min {float(diff[4:].min()):.3g}"
            print(f"{name:12s} ok: loop-vs-einsum {err:.1e}; rel err 8bit {res[0]:.4f} 4bit {res[1]:.4f}{extra}")
        # mixed bits with a per-module override
        cfg = arch_configs()["qwen2"]
        ov = {"model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 6},
              "model.embed_tokens": {"group_size": 64, "bits": 8}}
        d = make_model(root, "qwen2-mixed", cfg, seed=102, bits=3, gs=32, overrides=ov)
        m = fw.Model(d)
        assert m.w.stats["quantized"]["model.layers.0.mlp.down_proj"][:2] == (6, 32)
        assert m.w.stats["quantized"]["model.embed_tokens"][:2] == (8, 64)
        assert m.w.stats["quantized"]["model.layers.1.mlp.down_proj"][:2] == (3, 32)
        print("mixed-bit overrides ok")
    print("selftest OK")


if __name__ == "__main__":
    sys.exit(main())
