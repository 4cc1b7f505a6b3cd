#!/usr/bin/python3
"""Train the demo model on CPU with Debian's python3-torch, in two stages.

usage: train.py <chapters.jsonl> <tokenizer-dir> <work-dir> <stage>

  base     from scratch on the whole text (all books), EPOCHS passes;
  stories  continues from <work-dir>/base/model.pt on the narrative books
           only (STORY_BOOKS), so that answers read like stories.

Deterministic given SEED: one thread, seeded data order and initialization.
Checkpoints go to <work-dir>/<stage>/ckpt.pt every CKPT_EVERY steps;
rerunning the same command resumes from the last one. The final weights are
written to <work-dir>/<stage>/model.pt.
"""
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

import bpe
import data
from model import Config, Llama

SEED = 1234
EPOCHS = 2            # passes over the text, each with freshly drawn chat formats
SEQ = 512             # tokens per training window
BATCH = 8             # windows per step (4096 tokens)
LR = 2e-3
LR_MIN = 2e-4
WARMUP = 60
WEIGHT_DECAY = 0.1
CLIP = 1.0
CKPT_EVERY = 50
EVAL_EVERY = 100
HOLDOUT_EVERY = 50    # every 50th chapter is kept out of training for the eval loss

# Stage "stories": the narrative books, 2 more passes at a lower learning rate.
STORY_BOOKS = {"Genesis", "Exodus", "Joshua", "Judges", "Ruth", "1 Samuel", "2 Samuel",
               "1 Kings", "2 Kings", "Esther", "Daniel", "Jonah", "Tobit", "Judith",
               "Matthew", "Mark", "Luke", "John", "Acts"}
STAGES = {
    "base": dict(books=None, epochs=EPOCHS, seed=SEED, lr=LR, lr_min=LR_MIN, warmup=WARMUP),
    "stories": dict(books=STORY_BOOKS, epochs=2, seed=SEED + 100, lr=1e-3, lr_min=1e-4,
                    warmup=20),
}


def windows(token_lists, rng, length):
    """Packs samples into windows of length tokens, each starting at a sample
    boundary; the sample that does not fit is cut at the window's end."""
    order = list(range(len(token_lists)))
    rng.shuffle(order)
    out, cur = [], []
    for i in order:
        cur.extend(token_lists[i])
        if len(cur) >= length:
            out.append(cur[:length])
            cur = []
    return out


def build(chapters, enc, epochs, seed=SEED, books=None):
    train = [c for i, c in enumerate(chapters) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    held = [c for i, c in enumerate(chapters) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    if books is not None:
        train = [c for c in train if c["book"] in books]
    rng = random.Random(seed)
    wins = []
    for e in range(epochs):
        toks = [enc.encode(s) for s in data.samples(train, seed=seed + e)]
        wins.extend(windows(toks, rng, SEQ + 1))
    evals = windows([enc.encode(s) for s in data.samples(held, seed=SEED - 1)],
                    random.Random(SEED), SEQ + 1)
    return torch.tensor(wins, dtype=torch.long), torch.tensor(evals[:32], dtype=torch.long)


def lr_at(step, total, lr=LR, lr_min=LR_MIN, warmup=WARMUP):
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * min(1.0, t)))


@torch.no_grad()
def eval_loss(model, evals):
    model.eval()
    tot = 0.0
    for i in range(0, len(evals), BATCH):
        x = evals[i:i + BATCH]
        logits = model(x[:, :-1])
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                               reduction="sum").item()
    model.train()
    return tot / (len(evals) * SEQ)


def main():
    chapters_path, tokdir, root, stage = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    st_cfg = STAGES[stage]
    work = os.path.join(root, stage)
    os.makedirs(work, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    vocab, merges = bpe.load(os.path.join(tokdir, "tokenizer.json"))
    enc = bpe.Encoder(vocab, merges)
    cfg = Config(vocab_size=len(vocab) + len(bpe.SPECIAL_TOKENS))
    wins, evals = build(data.load_chapters(chapters_path), enc, st_cfg["epochs"],
                        st_cfg["seed"], st_cfg["books"])
    steps = len(wins) // BATCH
    log = open(os.path.join(work, "train.log"), "a")

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()

    model = Llama(cfg)
    if stage != "base":
        model.load_state_dict(torch.load(os.path.join(root, "base", "model.pt"))["model"])
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=st_cfg["lr"], betas=(0.9, 0.95), eps=1e-8)
    start = 0
    ckpt = os.path.join(work, "ckpt.pt")
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        say(f"resumed at step {start}")
    else:
        n = sum(p.numel() for p in model.parameters())
        say(f"stage {stage}: {json.dumps({k: v for k, v in st_cfg.items() if k != 'books'})}")
        say(f"config {json.dumps(cfg.dict())}")
        say(f"params {n}, windows {len(wins)}, steps {steps}, tokens/step {BATCH * SEQ}")
    t0 = time.time()
    ema = None
    for step in range(start, steps):
        lr = lr_at(step, steps, st_cfg["lr"], st_cfg["lr_min"], st_cfg["warmup"])
        for g in opt.param_groups:
            g["lr"] = lr
        x = wins[step * BATCH:(step + 1) * BATCH]
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        done = step + 1
        if done % 10 == 0:
            rate = (done - start) * BATCH * SEQ / (time.time() - t0)
            say(f"step {done}/{steps} loss {loss.item():.4f} ema {ema:.4f} lr {lr:.2e} "
                f"{rate:.0f} tok/s")
        if done % EVAL_EVERY == 0 or done == steps:
            say(f"eval step {done} loss {eval_loss(model, evals):.4f}")
        if done % CKPT_EVERY == 0 or done == steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": done},
                       ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
    torch.save({"config": cfg.dict(), "model": model.state_dict()}, os.path.join(work, "model.pt"))
    say("done")


if __name__ == "__main__":
    main()
