#!/usr/bin/python3
"""Independent reference forward pass for MLX-format decoder models.

This is a development tool, not part of the Go build: it produces the golden
logits that the Go engine is tested against. It deliberately shares no code
with the Go implementation. Everything is written from the format and
architecture descriptions (MLX affine quantization, mlx-lm model files) and
computed in float64 with torch, so the goldens are as close to the exact
mathematical result as practical; the Go engine (float32) is expected to match
them within a small tolerance.

Conventions that are a choice (mlx-lm itself computes in the weights' dtype):
  * every weight is widened to float64 before use (dequantized affine weights
    are scale*q + bias computed in float64);
  * gemma's (1 + w) RMSNorm weight is formed in float64 (not rounded to the
    storage dtype);
  * the gemma embedding scale is sqrt(hidden_size) rounded to bfloat16, as
    gemma3_text does explicitly (and gemma2 does implicitly for bf16 models).

Usage as a script (one model dir, prints logits summary):
    /usr/bin/python3 forward.py MODEL_DIR [TOKEN ...]
"""

import glob
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# safetensors


class FormatError(Exception):
    """The model files do not follow the expected layout."""


_NP_DTYPES = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
    "F64": np.dtype("<f8"),
}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_safetensors(path):
    """Returns {name: (dtype_str, numpy array)} with raw stored values.

    BF16 is returned as uint16 bit patterns (see to_float64); U32 as uint32.
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise FormatError(f"{path}: shorter than the 8-byte header length")
    (hlen,) = struct.unpack("<Q", data[:8])
    if 8 + hlen > len(data):
        raise FormatError(f"{path}: header length {hlen} exceeds file size")
    header = json.loads(data[8 : 8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _NP_DTYPES:
            raise FormatError(f"{path}: {name}: unsupported dtype {dt}")
        npdt = _NP_DTYPES[dt]
        shape = tuple(info["shape"])
        start, end = info["data_offsets"]
        n = int(np.prod(shape)) if shape else 1
        if end - start != n * npdt.itemsize or base + end > len(data):
            raise FormatError(f"{path}: {name}: bad data_offsets {start},{end}")
        arr = np.frombuffer(data, dtype=npdt, count=n, offset=base + start)
        out[name] = (dt, arr.reshape(shape).copy())
    return out


def to_float64(dt, arr):
    if dt == "BF16":
        return (arr.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if dt in ("F16", "F32", "F64"):
        return arr.astype(np.float64)
    raise FormatError(f"dtype {dt} is not a float dtype")


def bf16_round(x):
    """Rounds a python float to the nearest bfloat16 (ties to even)."""
    b = np.array([x], dtype=np.float32).view(np.uint32)[0]
    b = int(b)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return float(np.array([b << 16], dtype=np.uint32).view(np.float32)[0])


# ---------------------------------------------------------------------------
# MLX affine quantization


def unpack_affine(packed, bits, k):
    """Unpacks a [N, k*bits/32] uint32 array into [N, k] integer codes.

    Each row is a little-endian bit stream; element j occupies bits
    [j*bits, (j+1)*bits), least significant bit first.
    """
    n = packed.shape[0]
    raw = packed.astype("<u4").view(np.uint8).reshape(n, -1)  # little-endian bytes
    bitstream = np.unpackbits(raw, axis=1, bitorder="little")  # [N, 32*words]
    need = k * bits
    if bitstream.shape[1] != need:
        raise FormatError(f"packed row holds {bitstream.shape[1]} bits, need {need}")
    b = bitstream.reshape(n, k, bits).astype(np.int64)
    weights = (1 << np.arange(bits, dtype=np.int64))[None, None, :]
    return (b * weights).sum(axis=2)


def pack_affine(codes, bits):
    """Inverse of unpack_affine (used by the self-test)."""
    n, k = codes.shape
    b = ((codes[:, :, None] >> np.arange(bits)[None, None, :]) & 1).astype(np.uint8)
    raw = np.packbits(b.reshape(n, k * bits), axis=1, bitorder="little")
    return raw.view("<u4").reshape(n, -1)


def dequantize_affine(packed, scales, biases, bits, group_size):
    n = packed.shape[0]
    if packed.shape[1] * 32 % bits:
        raise FormatError(f"packed width {packed.shape[1]} not divisible for bits={bits}")
    k = packed.shape[1] * 32 // bits
    if scales.shape != biases.shape or scales.shape[0] != n:
        raise FormatError(f"scales {scales.shape} / biases {biases.shape} mismatch rows {n}")
    if scales.shape[1] * group_size != k:
        raise FormatError(
            f"weight has {k} inputs but scales cover {scales.shape[1]}x{group_size}"
        )
    q = unpack_affine(packed, bits, k).astype(np.float64)
    s = np.repeat(scales, group_size, axis=1)
    bi = np.repeat(biases, group_size, axis=1)
    return s * q + bi


# ---------------------------------------------------------------------------
# Model files


class Weights:
    """All tensors of a model dir, dequantized lazily, with use tracking."""

    def __init__(self, model_dir, config):
        self.dir = model_dir
        self.files = {}  # file name -> sha256
        self.raw = {}
        self.used = set()
        cfg_path = os.path.join(model_dir, "config.json")
        self.files["config.json"] = sha256_file(cfg_path)
        index = os.path.join(model_dir, "model.safetensors.index.json")
        if os.path.exists(index):
            self.files["model.safetensors.index.json"] = sha256_file(index)
            with open(index) as f:
                wmap = json.load(f)["weight_map"]
            names = sorted(set(wmap.values()))
        else:
            wmap = None
            names = sorted(
                os.path.basename(p)
                for p in glob.glob(os.path.join(model_dir, "model*.safetensors"))
            )
        if not names:
            raise FormatError(f"{model_dir}: no model*.safetensors")
        for name in names:
            p = os.path.join(model_dir, name)
            self.files[name] = sha256_file(p)
            for t, v in read_safetensors(p).items():
                if t in self.raw:
                    raise FormatError(f"tensor {t} appears in more than one shard")
                if wmap is not None and wmap.get(t) != name:
                    raise FormatError(f"tensor {t} is in {name} but index says {wmap.get(t)}")
                self.raw[t] = v
        if wmap is not None:
            missing = set(wmap) - set(self.raw)
            if missing:
                raise FormatError(f"index lists tensors not found: {sorted(missing)[:5]}")
        q = config.get("quantization")
        if q is None:
            qc = config.get("quantization_config")
            if isinstance(qc, dict) and "bits" in qc:
                q = qc
        self.quant = q or {}
        mode = self.quant.get("mode", "affine")
        if mode != "affine":
            raise FormatError(f"quantization mode {mode} not supported by the reference")
        self.stats = {"quantized": {}, "float": {}}

    def has(self, name):
        return name in self.raw

    def tensor(self, name):
        """A float tensor (norm weights, Linear biases, unquantized matrices)."""
        if name not in self.raw:
            raise FormatError(f"missing tensor {name}")
        dt, arr = self.raw[name]
        self.used.add(name)
        return torch.from_numpy(to_float64(dt, arr))

    def quant_params(self, path):
        ov = self.quant.get(path)
        if ov is False:
            raise FormatError(f"{path}.scales present but config says {path} is not quantized")
        if isinstance(ov, dict):
            bits = ov.get("bits", self.quant.get("bits"))
            gs = ov.get("group_size", self.quant.get("group_size"))
            if ov.get("mode", "affine") != "affine":
                raise FormatError(f"{path}: mode {ov.get('mode')} not supported")
        else:
            bits = self.quant.get("bits")
            gs = self.quant.get("group_size")
        if bits is None or gs is None:
            raise FormatError(f"{path} is quantized but config has no bits/group_size")
        return int(bits), int(gs)

    def matrix(self, path):
        """Dense [out, in] float64 matrix of module `path` (Linear or Embedding)."""
        wname = path + ".weight"
        if path + ".scales" in self.raw:
            bits, gs = self.quant_params(path)
            wdt, packed = self.raw[wname]
            if wdt != "U32":
                raise FormatError(f"{wname}: quantized weight must be U32, got {wdt}")
            sdt, scales = self.raw[path + ".scales"]
            bdt, biases = self.raw[path + ".biases"]
            w = dequantize_affine(
                packed, to_float64(sdt, scales), to_float64(bdt, biases), bits, gs
            )
            self.used.update([wname, path + ".scales", path + ".biases"])
            self.stats["quantized"][path] = (bits, gs, sdt)
            return torch.from_numpy(w)
        t = self.tensor(wname)
        self.stats["float"][path] = self.raw[wname][0]
        return t

    def linear(self, path):
        w = self.matrix(path)
        b = self.tensor(path + ".bias") if (path + ".bias") in self.raw else None
        return w, b

    def float_dtype(self, path):
        """Storage dtype of the float output of module `path` (scales dtype if quantized)."""
        if path + ".scales" in self.raw:
            return self.raw[path + ".scales"][0]
        return self.raw[path + ".weight"][0]

    def unused(self):
        return sorted(set(self.raw) - self.used)


# ---------------------------------------------------------------------------
# RoPE


class Rope:
    """Rotary embedding over the first `dims` features.

    inv_freq[i] is the angle per position of pair i; position p is first
    multiplied by pos_scale; `mscale` multiplies the rotated features before
    rotation (SuScaled/YaRN). Non-traditional layout pairs (x[i], x[i+dims/2]);
    traditional pairs (x[2i], x[2i+1]).
    """

    def __init__(self, dims, inv_freq, traditional=False, pos_scale=1.0, mscale=1.0,
                 kind="default", dynamic=None):
        self.dims = dims
        self.inv_freq = np.asarray(inv_freq, dtype=np.float64)
        self.traditional = traditional
        self.pos_scale = pos_scale
        self.mscale = mscale
        self.kind = kind
        self.dynamic = dynamic  # (base, factor, max_pos) for dynamic NTK
        assert self.inv_freq.shape == (dims // 2,)

    def describe(self):
        return {
            "kind": self.kind,
            "dims": self.dims,
            "traditional": self.traditional,
            "pos_scale": self.pos_scale,
            "mscale": self.mscale,
            "inv_freq": [float("%.9g" % v) for v in self.inv_freq],
        }

    def apply(self, x, seq_len):
        """x: [L, heads, head_dim] at positions 0..L-1."""
        L = x.shape[0]
        inv = self.inv_freq
        if self.dynamic is not None:
            base, factor, maxpos = self.dynamic
            s = max(seq_len, maxpos)
            b2 = base * ((factor * s / maxpos) - (factor - 1)) ** (self.dims / (self.dims - 2))
            inv = b2 ** (-np.arange(0, self.dims, 2, dtype=np.float64) / self.dims)
        pos = np.arange(L, dtype=np.float64) * self.pos_scale
        theta = torch.from_numpy(pos[:, None] * inv[None, :])  # [L, dims/2]
        cos = torch.cos(theta)[:, None, :].to(x.dtype)
        sin = torch.sin(theta)[:, None, :].to(x.dtype)
        d = self.dims
        rot = x[..., :d] * self.mscale
        rest = x[..., d:]
        if self.traditional:
            x1, x2 = rot[..., 0::2], rot[..., 1::2]
            o1 = x1 * cos - x2 * sin
            o2 = x1 * sin + x2 * cos
            out = torch.stack([o1, o2], dim=-1).reshape(rot.shape)
        else:
            x1, x2 = rot[..., : d // 2], rot[..., d // 2 :]
            out = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
        return torch.cat([out, rest], dim=-1)


def default_inv_freq(dims, base):
    return base ** (-np.arange(0, dims, 2, dtype=np.float64) / dims)


def make_rope(dims, base, traditional, scaling, max_pos):
    """mlx-lm rope_utils.initialize_rope, resolved to a Rope."""
    rtype = "default"
    if scaling is not None:
        rtype = scaling.get("type") or scaling.get("rope_type", "default")
    if rtype == "default":
        return Rope(dims, default_inv_freq(dims, base), traditional)
    if rtype == "linear":
        return Rope(dims, default_inv_freq(dims, base), traditional,
                    pos_scale=1.0 / scaling["factor"], kind="linear")
    if rtype == "dynamic":
        return Rope(dims, default_inv_freq(dims, base), traditional, kind="dynamic",
                    dynamic=(base, scaling["factor"], max_pos))
    if rtype == "llama3":
        factor = scaling["factor"]
        low = scaling.get("low_freq_factor", 1.0)
        high = scaling.get("high_freq_factor", 4.0)
        old = scaling.get("original_max_position_embeddings", 8192)
        low_wl, high_wl = old / low, old / high
        periods = base ** (np.arange(0, dims, 2, dtype=np.float64) / dims)
        wl = 2 * math.pi * periods
        p = np.where(wl > low_wl, periods * factor, periods)
        medium = (wl > high_wl) & (wl < low_wl)
        smooth = (old / wl - low) / (high - low)
        p = np.where(medium, p / ((1 - smooth) / factor + smooth), p)
        return Rope(dims, 1.0 / p, traditional, kind="llama3")
    if rtype in ("yarn", "deepseek_yarn", "telechat3-yarn"):
        sf = scaling["factor"]
        orig = scaling.get("original_max_position_embeddings", 4096)
        beta_fast = scaling.get("beta_fast", 32)
        beta_slow = scaling.get("beta_slow", 1)
        msc = scaling.get("mscale", 1)
        msc_all = scaling.get("mscale_all_dim", 0)

        def corr_dim(rot):
            return dims * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

        lo = max(math.floor(corr_dim(beta_fast)), 0)
        hi = min(math.ceil(corr_dim(beta_slow)), dims - 1)

        def get_mscale(scale, m):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

        mscale = get_mscale(sf, msc) / get_mscale(sf, msc_all)
        if lo == hi:
            hi += 0.001
        ramp = np.clip((np.arange(dims // 2, dtype=np.float64) - lo) / (hi - lo), 0, 1)
        mask = 1.0 - ramp
        extra = base ** (np.arange(0, dims, 2, dtype=np.float64) / dims)
        inter = sf * extra
        periods = (inter * extra) / (inter * mask + extra * (1 - mask))
        return Rope(dims, 1.0 / periods, traditional, mscale=mscale, kind="yarn")
    if rtype == "longrope":
        return su_scaled_rope(dims, base, max_pos,
                              scaling["original_max_position_embeddings"],
                              scaling["long_factor"])
    raise FormatError(f"unsupported rope type {rtype}")


def su_scaled_rope(dims, base, max_pos, orig_max_pos, long_factor, long_mscale=None):
    """mlx-lm SuScaledRoPE: always the long factors; mscale on the rotated part."""
    periods = np.asarray(long_factor, dtype=np.float64) * (
        base ** (np.arange(0, dims, 2, dtype=np.float64) / dims)
    )
    factor = max_pos / orig_max_pos
    if long_mscale:
        mscale = long_mscale
    elif factor <= 1.0:
        mscale = 1.0
    else:
        mscale = math.sqrt(1 + math.log(factor) / math.log(orig_max_pos))
    return Rope(dims, 1.0 / periods, False, mscale=mscale, kind="longrope")


# ---------------------------------------------------------------------------
# Architectures resolved to one explicit description


class Spec:
    pass


def _req(cfg, key):
    if key not in cfg:
        raise FormatError(f"config.json lacks required key {key!r}")
    return cfg[key]


def resolve(cfg, weights):
    """Maps config.json to an explicit Spec, with mlx-lm's per-arch defaults."""
    mt = _req(cfg, "model_type")
    if mt == "mistral":
        mt = "llama"
    s = Spec()
    s.arch = mt
    s.hidden = _req(cfg, "hidden_size")
    s.n_layers = _req(cfg, "num_hidden_layers")
    s.inter = _req(cfg, "intermediate_size")
    s.n_heads = _req(cfg, "num_attention_heads")
    s.vocab = _req(cfg, "vocab_size")
    s.qkv_bias = s.o_bias = s.mlp_bias = False
    s.qk_norm = False
    s.norm_plus_one = False
    s.embed_scale = None
    s.attn_softcap = None
    s.final_softcap = None
    s.fused_qkv = s.fused_gate_up = False
    s.act = "silu"
    s.post_norms = False
    s.windows = [None] * s.n_layers

    if mt == "llama":
        s.eps = _req(cfg, "rms_norm_eps")
        s.n_kv = cfg.get("num_key_value_heads") or s.n_heads
        s.head_dim = cfg.get("head_dim") or s.hidden // s.n_heads
        s.qkv_bias = s.o_bias = bool(cfg.get("attention_bias", False))
        s.mlp_bias = bool(cfg.get("mlp_bias", False))
        s.tied = cfg.get("tie_word_embeddings", True)
        rope = make_rope(s.head_dim, cfg.get("rope_theta", 10000),
                         cfg.get("rope_traditional", False), cfg.get("rope_scaling"),
                         cfg.get("max_position_embeddings"))
        s.ropes = [rope] * s.n_layers
        lt = cfg.get("layer_types") or ["full_attention"] * s.n_layers
        if len(lt) != s.n_layers:
            raise FormatError("layer_types length differs from num_hidden_layers")
        if "full_attention" not in lt:
            raise FormatError("llama layer_types needs at least one full_attention layer")
        sw = cfg.get("sliding_window")
        s.windows = [sw if t == "sliding_attention" else None for t in lt]
        s.scale = s.head_dim ** -0.5
    elif mt == "qwen2":
        s.eps = _req(cfg, "rms_norm_eps")
        s.n_kv = _req(cfg, "num_key_value_heads")
        s.head_dim = s.hidden // s.n_heads  # config head_dim is ignored by mlx-lm
        s.qkv_bias = True
        s.tied = cfg.get("tie_word_embeddings", True)
        rope = make_rope(s.head_dim, cfg.get("rope_theta", 1000000),
                         cfg.get("rope_traditional", False), cfg.get("rope_scaling"),
                         cfg.get("max_position_embeddings", 32768))
        s.ropes = [rope] * s.n_layers
        s.scale = s.head_dim ** -0.5
    elif mt == "qwen3":
        s.eps = _req(cfg, "rms_norm_eps")
        s.n_kv = _req(cfg, "num_key_value_heads")
        s.head_dim = _req(cfg, "head_dim")
        s.qk_norm = True
        s.tied = _req(cfg, "tie_word_embeddings")
        rope = make_rope(s.head_dim, _req(cfg, "rope_theta"), False,
                         cfg.get("rope_scaling"), _req(cfg, "max_position_embeddings"))
        s.ropes = [rope] * s.n_layers
        s.scale = s.head_dim ** -0.5
    elif mt == "phi3":
        s.eps = _req(cfg, "rms_norm_eps")
        s.n_kv = cfg.get("num_key_value_heads") or s.n_heads
        s.head_dim = s.hidden // s.n_heads
        s.fused_qkv = s.fused_gate_up = True
        s.tied = cfg.get("tie_word_embeddings", False)
        rope_dim = int(s.head_dim * cfg.get("partial_rotary_factor", 1.0))
        base = cfg.get("rope_theta", 10000)
        sc = cfg.get("rope_scaling")
        if sc:
            if not ("long_factor" in sc and "type" in sc):
                raise FormatError("phi3 rope_scaling must contain long_factor and type")
            if sc["type"] not in ("longrope", "su", "linear"):
                sc = None  # mlx-lm warns and drops it
        if sc and sc["type"] in ("longrope", "su"):
            rope = su_scaled_rope(rope_dim, base,
                                  cfg.get("max_position_embeddings", 131072),
                                  cfg.get("original_max_position_embeddings", 4096),
                                  sc["long_factor"])
        else:
            ps = 1.0
            if sc and sc["type"] == "linear":
                ps = 1.0 / sc["factor"]
            rope = Rope(rope_dim, default_inv_freq(rope_dim, base),
                        cfg.get("rope_traditional", False), pos_scale=ps,
                        kind="linear" if ps != 1.0 else "default")
        s.ropes = [rope] * s.n_layers
        s.scale = s.head_dim ** -0.5
    elif mt == "gemma2":
        s.eps = _req(cfg, "rms_norm_eps")
        s.n_kv = _req(cfg, "num_key_value_heads")
        s.head_dim = _req(cfg, "head_dim")
        s.norm_plus_one = True
        s.post_norms = True
        s.act = "gelu_tanh"
        s.tied = True
        s.embed_scale = bf16_round(s.hidden ** 0.5)
        s.attn_softcap = cfg.get("attn_logit_softcapping", 50.0)
        s.final_softcap = cfg.get("final_logit_softcapping", 30.0)
        s.scale = 1.0 / (cfg.get("query_pre_attn_scalar", 144.0) ** 0.5)
        rope = Rope(s.head_dim, default_inv_freq(s.head_dim, cfg.get("rope_theta", 10000)),
                    cfg.get("rope_traditional", False))
        s.ropes = [rope] * s.n_layers
    elif mt == "gemma3_text":
        s.eps = cfg.get("rms_norm_eps", 1e-6)
        s.n_kv = cfg.get("num_key_value_heads", 1)
        s.head_dim = cfg.get("head_dim", 256)
        s.norm_plus_one = True
        s.post_norms = True
        s.qk_norm = True
        s.act = "gelu_tanh"
        s.tied = not weights.has("lm_head.weight")
        s.embed_scale = bf16_round(s.hidden ** 0.5)
        s.scale = cfg.get("query_pre_attn_scalar", 256) ** -0.5
        pattern = cfg.get("sliding_window_pattern", 6)
        window = cfg.get("sliding_window", 512)
        local = Rope(s.head_dim, default_inv_freq(s.head_dim, cfg.get("rope_local_base_freq", 10000.0)))
        glob_rope = make_rope(s.head_dim, cfg.get("rope_theta", 1000000.0), False,
                              cfg.get("rope_scaling"), cfg.get("max_position_embeddings", 32768))
        s.ropes, s.windows = [], []
        for i in range(s.n_layers):
            sliding = (i + 1) % pattern != 0
            s.ropes.append(local if sliding else glob_rope)
            s.windows.append(window if sliding else None)
    else:
        raise FormatError(f"model_type {mt} not supported by the reference")
    if s.n_heads % s.n_kv:
        raise FormatError(f"{s.n_heads} heads not a multiple of {s.n_kv} kv heads")
    return s


def describe(s):
    return {
        "arch": s.arch,
        "hidden": s.hidden,
        "layers": s.n_layers,
        "heads": s.n_heads,
        "kv_heads": s.n_kv,
        "head_dim": s.head_dim,
        "intermediate": s.inter,
        "vocab": s.vocab,
        "rms_norm_eps": s.eps,
        "tied": bool(s.tied),
        "qkv_bias": s.qkv_bias,
        "o_bias": s.o_bias,
        "mlp_bias": s.mlp_bias,
        "qk_norm": s.qk_norm,
        "norm_plus_one": s.norm_plus_one,
        "post_norms": s.post_norms,
        "act": s.act,
        "embed_scale": s.embed_scale,
        "attn_scale": s.scale,
        "attn_softcap": s.attn_softcap,
        "final_softcap": s.final_softcap,
        "fused_qkv": s.fused_qkv,
        "fused_gate_up": s.fused_gate_up,
        "windows": s.windows,
        "ropes": [r.describe() for r in s.ropes],
    }


# ---------------------------------------------------------------------------
# Forward


class Model:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = json.load(f)
        self.w = Weights(model_dir, self.config)
        self.spec = resolve(self.config, self.w)
        self._load()
        left = self.w.unused()
        if left:
            # mlx-lm loads strictly: stray tensors would make it refuse the model.
            raise FormatError(f"{model_dir}: tensors not used by {self.spec.arch}: {left[:8]}")

    def _linear(self, path, want_bias):
        """Linear weight and bias; the bias must exist iff the architecture has one."""
        wb = self.w.linear(path)
        if (wb[1] is not None) != want_bias:
            raise FormatError(f"{path}: bias {'missing' if want_bias else 'unexpected'}")
        return wb

    def _norm_w(self, name):
        w = self.w.tensor(name)
        return w + 1.0 if self.spec.norm_plus_one else w

    def _load(self):
        s, w = self.spec, self.w
        self.embed = w.matrix("model.embed_tokens")
        if self.embed.shape != (s.vocab, s.hidden):
            raise FormatError(f"embed_tokens shape {tuple(self.embed.shape)}")
        self.layers = []
        for i in range(s.n_layers):
            p = f"model.layers.{i}."
            L = {}
            L["in_norm"] = self._norm_w(p + "input_layernorm.weight")
            L["post_attn_norm"] = self._norm_w(p + "post_attention_layernorm.weight")
            if s.post_norms:
                L["pre_ff_norm"] = self._norm_w(p + "pre_feedforward_layernorm.weight")
                L["post_ff_norm"] = self._norm_w(p + "post_feedforward_layernorm.weight")
            qd, kd = s.n_heads * s.head_dim, s.n_kv * s.head_dim
            if s.fused_qkv:
                wqkv, bqkv = self._linear(p + "self_attn.qkv_proj", False)
                if wqkv.shape != (qd + 2 * kd, s.hidden):
                    raise FormatError(f"{p}qkv_proj shape {tuple(wqkv.shape)}")
                L["q"] = (wqkv[:qd], None if bqkv is None else bqkv[:qd])
                L["k"] = (wqkv[qd:qd + kd], None if bqkv is None else bqkv[qd:qd + kd])
                L["v"] = (wqkv[qd + kd:], None if bqkv is None else bqkv[qd + kd:])
            else:
                for n, d in (("q", qd), ("k", kd), ("v", kd)):
                    L[n] = self._linear(p + f"self_attn.{n}_proj", s.qkv_bias)
                    if L[n][0].shape != (d, s.hidden):
                        raise FormatError(f"{p}{n}_proj shape {tuple(L[n][0].shape)}")
            L["o"] = self._linear(p + "self_attn.o_proj", s.o_bias)
            if L["o"][0].shape != (s.hidden, qd):
                raise FormatError(f"{p}o_proj shape {tuple(L['o'][0].shape)}")
            if s.qk_norm:
                L["q_norm"] = self._norm_w(p + "self_attn.q_norm.weight")
                L["k_norm"] = self._norm_w(p + "self_attn.k_norm.weight")
            if s.fused_gate_up:
                wgu, bgu = self._linear(p + "mlp.gate_up_proj", False)
                if wgu.shape != (2 * s.inter, s.hidden):
                    raise FormatError(f"{p}gate_up_proj shape {tuple(wgu.shape)}")
                L["gate"] = (wgu[: s.inter], None if bgu is None else bgu[: s.inter])
                L["up"] = (wgu[s.inter:], None if bgu is None else bgu[s.inter:])
            else:
                L["gate"] = self._linear(p + "mlp.gate_proj", s.mlp_bias)
                L["up"] = self._linear(p + "mlp.up_proj", s.mlp_bias)
            L["down"] = self._linear(p + "mlp.down_proj", s.mlp_bias)
            self.layers.append(L)
        self.final_norm = self._norm_w("model.norm.weight")
        if s.tied:
            if w.has("lm_head.weight") and s.arch in ("llama", "qwen2", "qwen3"):
                # Their sanitize drops lm_head.weight when tied (anything else
                # under lm_head stays unused and is reported below).
                w.used.add("lm_head.weight")
            self.head = self.embed
        else:
            self.head = w.matrix("lm_head")
            if self.head.shape != (s.vocab, s.hidden):
                raise FormatError(f"lm_head shape {tuple(self.head.shape)}")

    def to(self, dtype):
        """Casts every weight to dtype (e.g. float32 to estimate f32 round-off)."""
        c = lambda t: None if t is None else t.to(dtype)
        self.embed, self.head, self.final_norm = c(self.embed), c(self.head), c(self.final_norm)
        for L in self.layers:
            for k, v in L.items():
                L[k] = (c(v[0]), c(v[1])) if isinstance(v, tuple) else c(v)
        return self

    @staticmethod
    def _lin(x, wb):
        w, b = wb
        y = x @ w.T
        return y if b is None else y + b

    def _rms(self, x, w):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + self.spec.eps) * w

    def forward(self, tokens, no_window=False):
        """Logits [L, vocab] (float64) for the whole token sequence."""
        s = self.spec
        toks = torch.tensor(tokens, dtype=torch.long)
        if (toks < 0).any() or (toks >= s.vocab).any():
            raise ValueError("token id out of range")
        n = len(tokens)
        h = self.embed[toks]
        if s.embed_scale is not None:
            h = h * s.embed_scale
        i_idx = torch.arange(n)[:, None]
        j_idx = torch.arange(n)[None, :]
        causal = j_idx <= i_idx
        r = s.n_heads // s.n_kv
        for li, L in enumerate(self.layers):
            x = self._rms(h, L["in_norm"])
            q = self._lin(x, L["q"]).reshape(n, s.n_heads, s.head_dim)
            k = self._lin(x, L["k"]).reshape(n, s.n_kv, s.head_dim)
            v = self._lin(x, L["v"]).reshape(n, s.n_kv, s.head_dim)
            if s.qk_norm:
                q = self._rms(q, L["q_norm"])
                k = self._rms(k, L["k_norm"])
            q = s.ropes[li].apply(q, n)
            k = s.ropes[li].apply(k, n)
            # GQA: query head hq reads kv head hq // r.
            k = k.repeat_interleave(r, dim=1)
            v = v.repeat_interleave(r, dim=1)
            scores = torch.einsum("ihd,jhd->hij", q, k) * s.scale
            if s.attn_softcap:
                scores = torch.tanh(scores / s.attn_softcap) * s.attn_softcap
            mask = causal
            win = s.windows[li]
            if win is not None and not no_window:
                mask = mask & (i_idx < j_idx + win)
            scores = scores.masked_fill(~mask[None], float("-inf"))
            p = torch.softmax(scores, dim=-1)
            o = torch.einsum("hij,jhd->ihd", p, v).reshape(n, s.n_heads * s.head_dim)
            o = self._lin(o, L["o"])
            if s.post_norms:
                h = h + self._rms(o, L["post_attn_norm"])
                m = self._rms(h, L["pre_ff_norm"])
            else:
                h = h + o
                m = self._rms(h, L["post_attn_norm"])
            g = self._lin(m, L["gate"])
            u = self._lin(m, L["up"])
            if s.act == "silu":
                a = g * torch.sigmoid(g)
            else:
                a = 0.5 * g * (1 + torch.tanh(math.sqrt(2 / math.pi) * (g + 0.044715 * g ** 3)))
            d = self._lin(a * u, L["down"])
            if s.post_norms:
                h = h + self._rms(d, L["post_ff_norm"])
            else:
                h = h + d
        h = self._rms(h, self.final_norm)
        logits = h @ self.head.T
        if s.final_softcap:
            logits = torch.tanh(logits / s.final_softcap) * s.final_softcap
        return logits


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    m = Model(argv[1])
    toks = [int(t) for t in argv[2:]] or [1, 2, 3, 4, 5]
    lg = m.forward(toks)
    print(json.dumps(describe(m.spec))[:400])
    for i, row in enumerate(lg):
        top = torch.topk(row, 3)
        print(i, [(int(a), round(float(b), 5)) for b, a in zip(top.values, top.indices)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
