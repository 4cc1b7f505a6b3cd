"""The demo model: a small Llama-architecture decoder in PyTorch whose
parameter names are exactly mlx-lm's (model.embed_tokens.weight,
model.layers.N.self_attn.q_proj.weight, ...), so export is a plain dump.

Numerics follow mlx-lm's llama.py: RMSNorm x*rsqrt(mean(x^2)+eps)*w, RoPE in
the non-traditional layout (feature i rotates with feature i+head_dim/2),
grouped-query attention (kv head j serves query heads j*r..j*r+r-1), SwiGLU
MLP down(silu(gate(x))*up(x)), tied output embedding.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    hidden_size: int = 256
    intermediate_size: int = 768
    num_hidden_layers: int = 6
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 64
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 512

    def dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, length, offset=0):
    half = cfg.head_dim // 2
    inv_freq = cfg.rope_theta ** (-torch.arange(0, half, dtype=torch.float64) * 2 / cfg.head_dim)
    pos = torch.arange(offset, offset + length, dtype=torch.float64)
    ang = torch.outer(pos, inv_freq)
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    # x: [B, H, L, D]; pairs (x[i], x[i + D/2]).
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h, kv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, h * d, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, kv * d, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, kv * d, bias=False)
        self.o_proj = nn.Linear(h * d, cfg.hidden_size, bias=False)

    def forward(self, x, cos, sin, cache=None):
        c = self.cfg
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, c.num_attention_heads, c.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        r = c.num_attention_heads // c.num_key_value_heads
        k = k.repeat_interleave(r, dim=1)
        v = v.repeat_interleave(r, dim=1)
        s = (q @ k.transpose(-1, -2)) * (c.head_dim ** -0.5)
        total = k.shape[2]
        if n > 1:
            # Query i (absolute position total-n+i) sees keys 0..total-n+i.
            mask = torch.ones(n, total, dtype=torch.bool).tril(diagonal=total - n)
            s = s.masked_fill(~mask, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v
        return self.o_proj(o.transpose(1, 2).reshape(b, n, -1))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        resid = std / math.sqrt(2 * self.cfg.num_hidden_layers)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, 0.0, resid)
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids, caches=None, offset=0):
        cos, sin = rope_tables(self.cfg, ids.shape[1], offset)
        x = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i])
        x = self.model.norm(x)
        return x @ self.model.embed_tokens.weight.t()


@torch.no_grad()
def generate(model, prompt_ids, max_tokens, temperature, stop_ids, seed=0):
    """Greedy (temperature 0) or temperature sampling with a KV cache."""
    gen = torch.Generator().manual_seed(seed)
    caches = [{} for _ in model.model.layers]
    logits = model(torch.tensor([prompt_ids]), caches, 0)[0, -1]
    pos = len(prompt_ids)
    out = []
    for _ in range(max_tokens):
        if temperature == 0:
            t = int(torch.argmax(logits))
        else:
            p = torch.softmax(logits.double() / temperature, dim=-1)
            t = int(torch.multinomial(p, 1, generator=gen))
        if t in stop_ids:
            break
        out.append(t)
        if pos >= model.cfg.max_position_embeddings:
            break
        logits = model(torch.tensor([[t]]), caches, pos)[0, -1]
        pos += 1
    return out
