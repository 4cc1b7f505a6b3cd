#!/usr/bin/python3
"""Writes golden logits for every model dir under MODELS_DIR into OUT_DIR.

    /usr/bin/python3 golden.py MODELS_DIR OUT_DIR

One gzip'd JSON per model (OUT_DIR/<model>.json.gz, byte-for-byte
reproducible); the format is described in OUT_DIR/README.md. After writing,
prints sanity checks: quantized vs float source, float32 vs bfloat16 of the
same seed, and the effect of gemma3's sliding window.
"""

import gzip
import io
import json
import os
import re
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import forward as fw  # noqa: E402

FORMAT = "mlxk-golden-v1"
SEQUENCES = [
    [1, 17, 42, 99, 3, 200, 7],
    [255, 0, 128, 64, 32, 16, 8, 4, 2, 1, 100, 250],
]
GREEDY_STEPS = 12
SIG = 7  # significant digits kept


def r7(v):
    return float("%.*g" % (SIG, v))


def top2(row):
    """Index of the maximum (lowest index on ties), its value and the margin to the runner-up."""
    vals = row.tolist()
    best = max(vals)
    idx = vals.index(best)
    rest = vals[:idx] + vals[idx + 1:]
    return idx, best, best - max(rest)


def golden_for(model_dir, name):
    m = fw.Model(model_dir)
    seqs = []
    for base in SEQUENCES:
        toks = [t % m.spec.vocab for t in base]
        lg = m.forward(toks)
        seq = list(toks)
        greedy, margins, tops = [], [], []
        for _ in range(GREEDY_STEPS):
            row = m.forward(seq)[-1]
            idx, best, margin = top2(row)
            greedy.append(idx)
            margins.append(r7(margin))
            tops.append(r7(best))
            seq.append(idx)
        seqs.append({
            "tokens": toks,
            "logits": [[r7(v) for v in row.tolist()] for row in lg],
            "greedy": greedy,
            "greedy_margin": margins,
            "greedy_top_logit": tops,
        })
    q = {p: {"bits": b, "group_size": g, "scales_dtype": dt}
         for p, (b, g, dt) in sorted(m.w.stats["quantized"].items())}
    doc = {
        "format": FORMAT,
        "model": name,
        "files": dict(sorted(m.w.files.items())),
        "model_type": m.config.get("model_type"),
        "reference": {"compute": "float64", "significant_digits": SIG,
                      "greedy_tie_break": "lowest token id",
                      "greedy_recompute": "full forward over prompt+generated each step"},
        "resolved": fw.describe(m.spec),
        "quantized_modules": q,
        "float_modules": dict(sorted(m.w.stats["float"].items())),
        "sequences": seqs,
    }
    return m, doc


def write_gz(path, doc):
    raw = json.dumps(doc, separators=(",", ":")).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(raw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return len(raw), len(buf.getvalue())


# ---------------------------------------------------------------------------
# sanity checks


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def agree(a, b):
    return float((a.argmax(dim=-1) == b.argmax(dim=-1)).double().mean())


def same_source_weights(ma, mb):
    """True if the two models hold the same tensors up to float rounding.

    Each float tensor of the lower-precision model must equal the other's
    values rounded to its dtype, i.e. both were derived from one set of
    weights (same seed) rather than drawn separately.
    """
    if set(ma.w.raw) != set(mb.w.raw):
        return False
    for t in ma.w.raw:
        (da, a), (db, b) = ma.w.raw[t], mb.w.raw[t]
        fa, fb = fw.to_float64(da, a), fw.to_float64(db, b)
        lo, lo_dt, hi = (fb, db, fa) if _rank(db) < _rank(da) else (fa, da, fb)
        if not np.array_equal(lo, _round_to(hi, lo_dt)):
            return False
    return True


def _rank(dt):
    return {"BF16": 0, "F16": 1, "F32": 2, "F64": 3}[dt]


def _round_to(x, dt):
    if dt == "BF16":
        b = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        rb = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint32)
        return (rb << 16).view(np.float32).astype(np.float64)
    if dt == "F16":
        return x.astype(np.float16).astype(np.float64)
    return x.astype(np.float32).astype(np.float64)


def source_of(name, names):
    """The float model a variant derives from, by the generator's naming."""
    for suffix, src in ((r"-q\d+-f16$", "-f16"), (r"-q\d+$", "-bf16"),
                        (r"-sharded$", "-bf16"), (r"-bf16$", "-f32"), (r"-f16$", "-f32")):
        if re.search(suffix, name):
            cand = re.sub(suffix, src, name)
            if cand in names:
                return cand
    return None


def sanity(models, logits):
    lines = []
    for name in sorted(models):
        src = source_of(name, models)
        if src is None:
            continue
        errs = [rel_err(x, y) for x, y in zip(logits[name], logits[src])]
        ag = np.mean([agree(x, y) for x, y in zip(logits[name], logits[src])])
        kind = "float" if not models[name].w.stats["quantized"] else "quant"
        extra = ""
        if kind == "float":
            extra = f", same weights after rounding: {same_source_weights(models[name], models[src])}"
        lines.append(f"{name} vs {src}: rel max err {max(errs):.2e}, argmax agree {ag:.2f}{extra}")
    for name, m in sorted(models.items()):
        if any(w is not None for w in m.spec.windows):
            win = min(w for w in m.spec.windows if w is not None)
            toks = logits[name + "#tokens"][1]
            full = m.forward(toks, no_window=True)
            lw = m.forward(toks)
            d = (full - lw).abs().max(dim=1).values
            inside = float(d[:win].max())
            beyond = float(d[win:].min()) if len(toks) > win else float("nan")
            lines.append(f"{name}: window {win}: |windowed - unwindowed| max at pos<{win} "
                         f"{inside:.1e}, min at pos>={win} {beyond:.2e}")
    return lines


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    src, out = argv[1], argv[2]
    os.makedirs(out, exist_ok=True)
    names = sorted(d for d in os.listdir(src) if os.path.isfile(os.path.join(src, d, "config.json")))
    if not names:
        print(f"no model dirs under {src}")
        return 1
    stale = set(f for f in os.listdir(out) if f.endswith(".json.gz")) - {n + ".json.gz" for n in names}
    for f in sorted(stale):
        os.remove(os.path.join(out, f))
        print(f"removed stale {f}")
    models, logits = {}, {}
    total_gz = 0
    for name in names:
        m, doc = golden_for(os.path.join(src, name), name)
        raw, gz = write_gz(os.path.join(out, name + ".json.gz"), doc)
        total_gz += gz
        models[name] = m
        logits[name] = [torch.tensor(s["logits"], dtype=torch.float64) for s in doc["sequences"]]
        logits[name + "#tokens"] = [s["tokens"] for s in doc["sequences"]]
        margins = [x for s in doc["sequences"] for x in s["greedy_margin"]]
        print(f"{name:28s} {m.spec.arch:12s} json {raw/1024:6.1f} KiB gz {gz/1024:5.1f} KiB "
              f"min greedy margin {min(margins):.2e}")
    print(f"total {len(names)} models, {total_gz/1024:.1f} KiB gzip")
    print("sanity:")
    for line in sanity(models, logits):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
