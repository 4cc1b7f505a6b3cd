#!/usr/bin/python3
"""Extract plain English prose from the World English Bible SWORD module.

The Debian package sword-text-web ships the text as a SWORD "zText" module:
  <t>.bzs  block index, 12 bytes per block: offset, compressed size, size (u32 LE)
  <t>.bzv  verse index, 10 bytes per entry: block, start, length (u32, u32, u16 LE)
  <t>.bzz  zlib-compressed blocks of OSIS XML fragments
for t in {ot, nt}. Entries are in canonical order, so concatenating them gives
the whole OSIS text. This script strips the markup (Strong's numbers, notes,
headings), keeps paragraph and poetry line breaks, folds typography to ASCII
and writes one JSON object per chapter:
  {"book": "Genesis", "chapter": 1, "paragraphs": ["In the beginning, ...", ...]}

usage: extract_web.py <module-dir> <out.jsonl>
"""
import html
import json
import re
import struct
import sys
import unicodedata
import zlib


def read_entries(moddir, testament):
    """Yield the OSIS fragment of every non-empty index entry, in order."""
    bzs = open(f"{moddir}/{testament}.bzs", "rb").read()
    bzv = open(f"{moddir}/{testament}.bzv", "rb").read()
    bzz = open(f"{moddir}/{testament}.bzz", "rb").read()
    blocks = {}
    for j in range(len(bzv) // 10):
        block, start, length = struct.unpack("<IIH", bzv[j * 10:j * 10 + 10])
        if length == 0:
            continue
        if block not in blocks:
            off, size, _ = struct.unpack("<III", bzs[block * 12:block * 12 + 12])
            blocks[block] = zlib.decompress(bzz[off:off + size])
        yield blocks[block][start:start + length].decode("utf-8")


# Typography folded to ASCII so that the tokenizer and the model see plain text.
FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2014": "--", "\u2013": "-", "\u2026": "...", "\u00a0": " ",
}


def fold(s):
    for k, v in FOLD.items():
        s = s.replace(k, v)
    # Remaining accented letters (a few proper names): drop the accent.
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if ord(c) < 128)


DROP_ELEMENTS = re.compile(
    r"<(note|title|speaker|catchWord)\b[^>]*?(?<!/)>.*?</\1>", re.S)
PARA_BREAK = re.compile(
    r'<div\b[^>]*type="x-p"[^>]*/>|<lg\b[^>]*/>|<lb\b[^>]*/>|<div\b[^>]*type="book"[^>]*/>')
LINE_BREAK = re.compile(r'<l\b[^>]*eID=[^>]*/>|<item\b[^>]*>')
ANY_TAG = re.compile(r"<[^>]+>")


def clean(fragment):
    # A note sits where the space between two words was; keep the space.
    s = DROP_ELEMENTS.sub(" ", fragment)
    s = PARA_BREAK.sub("\n\n", s)
    s = LINE_BREAK.sub("\n", s)
    s = ANY_TAG.sub("", s)
    s = fold(html.unescape(s))
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in s.split("\n")]
    s = "\n".join(lines)
    s = re.sub(r"\n{3,}", "\n\n", s).strip()
    # Spaces the markup left before punctuation ("word ," -> "word,").
    s = re.sub(r" +([,.;:!?])", r"\1", s)
    return s


def main():
    moddir, out = sys.argv[1], sys.argv[2]
    # Verse entries continue the same paragraph: join them with a space.
    osis = " ".join(list(read_entries(moddir, "ot")) + list(read_entries(moddir, "nt")))
    # Book names come from the USFM header milestones; chapters from <chapter sID>.
    token = re.compile(
        r'<milestone n="([^"]*)" type="x-usfm-h"/>|<chapter\b[^>]*\bn="(\d+)"[^>]*sID="[^"]*"[^>]*/>')
    book, chapter, pos = None, None, 0
    chapters = []

    def flush(end):
        if book and chapter is not None:
            text = clean(osis[pos:end])
            paras = [p for p in text.split("\n\n") if p.strip()]
            if paras:
                chapters.append({"book": book, "chapter": chapter, "paragraphs": paras})

    for m in token.finditer(osis):
        flush(m.start())
        if m.group(1) is not None:
            book, chapter = fold(m.group(1)), None
        else:
            chapter = int(m.group(2))
        pos = m.end()
    flush(len(osis))
    with open(out, "w") as f:
        for c in chapters:
            f.write(json.dumps(c, ensure_ascii=True) + "\n")
    nchars = sum(len(p) for c in chapters for p in c["paragraphs"])
    print(f"{len(chapters)} chapters, {nchars} characters", file=sys.stderr)


if __name__ == "__main__":
    main()
