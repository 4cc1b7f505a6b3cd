#!/usr/bin/python3
"""Train the demo's byte-level BPE tokenizer and write tokenizer.json and
tokenizer_config.json.

usage: train_tokenizer.py <chapters.jsonl> <out-dir> [vocab-size]
The vocabulary has vocab-size entries in total (default 4096): 256 byte
tokens, merges, and the 3 special tokens at the end.
"""
import json
import os
import sys
import time

import bpe
import data


def main():
    chapters, out = sys.argv[1], sys.argv[2]
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    texts = list(data.plain_texts(data.samples(data.load_chapters(chapters), seed=0)))
    t0 = time.time()
    vocab, merges = bpe.train(texts, total - len(bpe.SPECIAL_TOKENS))
    print(f"trained {len(vocab)} tokens, {len(merges)} merges in {time.time() - t0:.0f}s",
          file=sys.stderr)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(bpe.tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=None)
    added = {str(len(vocab) + k): {"content": t, "lstrip": False, "normalized": False,
                                   "rstrip": False, "single_word": False, "special": True}
             for k, t in enumerate(bpe.SPECIAL_TOKENS)}
    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": data.CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 512,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    enc = bpe.Encoder(vocab, merges)
    n = sum(len(enc.encode(t)) for t in texts)
    c = sum(len(t) for t in texts)
    print(f"corpus: {c} chars, {n} tokens, {c / n:.2f} chars/token", file=sys.stderr)


if __name__ == "__main__":
    main()
