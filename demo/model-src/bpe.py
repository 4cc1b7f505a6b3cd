"""Byte-level BPE in the Qwen2 / GPT-2 style: training, encoding and the
Hugging Face tokenizer.json writer.

Pre-tokenization uses the Qwen2 Split pattern. The corpus is ASCII (see
extract_web.py), where \\p{L} is [A-Za-z] and \\p{N} is [0-9], so Python's
re module runs the same pattern; encode() refuses non-ASCII text rather than
silently splitting it differently from the real tokenizer.
"""
import collections
import heapq
import json
import re

# The pattern written into tokenizer.json (Oniguruma syntax, as Qwen2 has it).
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# The same pattern for ASCII input in Python's re.
_ASCII_PATTERN = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]"
    r"| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_SPECIAL_RE = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) \
        + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_MAP = bytes_to_unicode()


def pretokenize(text):
    if not text.isascii():
        raise ValueError("non-ASCII text: the Python pre-tokenizer only mirrors the pattern on ASCII")
    return _ASCII_PATTERN.findall(text)


def to_symbols(piece):
    return "".join(BYTE_MAP[b] for b in piece.encode("utf-8"))


def train(texts, vocab_size):
    """Learn merges until the vocabulary (256 bytes + merges, without the
    special tokens) has vocab_size entries. Ties between equally frequent
    pairs go to the lexicographically smallest pair, so the result depends
    only on the input."""
    words = collections.Counter()
    for t in texts:
        for p in pretokenize(t):
            words[to_symbols(p)] += 1
    vocab = [BYTE_MAP[b] for b in range(256)]
    known = set(vocab)
    order = sorted(words)
    seqs = [list(w) for w in order]
    freqs = [words[w] for w in order]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pair_count[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    # Max-heap by count (then smallest pair) with lazy deletion: an entry is
    # live only while its count equals the pair's current count.
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_size and heap:
        negc, best = heapq.heappop(heap)
        if pair_count.get(best, 0) != -negc:
            continue
        a, b = best
        new = a + b
        merges.append((a, b))
        if new not in known:
            known.add(new)
            vocab.append(new)
        changed = set()
        for i in sorted(where.pop(best)):
            s = seqs[i]
            f = freqs[i]
            for x, y in zip(s, s[1:]):
                pair_count[(x, y)] -= f
                changed.add((x, y))
            out = []
            j = 0
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                where[(x, y)].add(i)
                changed.add((x, y))
        pair_count.pop(best, None)
        changed.discard(best)
        for p in changed:
            c = pair_count.get(p, 0)
            if c <= 0:
                pair_count.pop(p, None)
            else:
                heapq.heappush(heap, (-c, p))
    return vocab, merges


class Encoder:
    """Encodes like the Rust tokenizers crate for this tokenizer's
    configuration: special tokens first, then Split, then BPE per piece with
    lowest-rank-first, leftmost merges."""

    def __init__(self, vocab, merges):
        self.ids = {t: i for i, t in enumerate(vocab)}
        for k, t in enumerate(SPECIAL_TOKENS):
            self.ids[t] = len(vocab) + k
        self.rank = {m: r for r, m in enumerate(merges)}
        self.cache = {}

    def _bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        s = list(to_symbols(piece))
        while len(s) > 1:
            best, at = None, -1
            for j in range(len(s) - 1):
                r = self.rank.get((s[j], s[j + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, j
            if best is None:
                break
            s[at:at + 2] = [s[at] + s[at + 1]]
        out = [self.ids[x] for x in s]
        self.cache[piece] = out
        return out

    def encode(self, text):
        out = []
        pos = 0
        for m in _SPECIAL_RE.finditer(text):
            for p in pretokenize(text[pos:m.start()]):
                out.extend(self._bpe(p))
            out.append(self.ids[m.group(0)])
            pos = m.end()
        for p in pretokenize(text[pos:]):
            out.extend(self._bpe(p))
        return out


def tokenizer_json(vocab, merges):
    """The tokenizer.json document, shaped like Qwen2's."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                  "use_regex": False}
    added = [{"id": len(vocab) + k, "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for k, t in enumerate(SPECIAL_TOKENS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated",
             "invert": False},
            byte_level]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(vocab)},
                  "merges": [[a, b] for a, b in merges]},
    }


def load(path):
    """Vocab (without special tokens) and merges from a tokenizer.json we wrote."""
    d = json.load(open(path))
    vocab = [None] * len(d["model"]["vocab"])
    for t, i in d["model"]["vocab"].items():
        vocab[i] = t
    merges = [tuple(m) for m in d["model"]["merges"]]
    return vocab, merges
