// Package tokenizer implements Hugging Face tokenizer.json tokenizers in
// pure Go: byte-level BPE (Qwen2/3, Llama-3, gpt-oss/o200k) and
// SentencePiece-style BPE with byte fallback (Gemma, Llama-2/Mistral),
// with added tokens, normalizers, pre-tokenizers, post-processors,
// decoders and a streaming detokenizer.
//
// Behaviour follows the Rust tokenizers crate, which transformers and so
// mlx-lm run: the same added-token matching (leftmost-longest, with the
// lstrip/rstrip/single_word/normalized flags and ids assigned as the
// crate assigns them), the same Split semantics (Oniguruma regexes run
// through regexp2, with hand-written scanners for the GPT-2, Qwen2,
// Llama-3 and o200k patterns), the same merge order (lowest rank, then
// leftmost), the same lossy UTF-8 decoding. Decode does not apply
// transformers' clean_up_tokenization_spaces. A Tokenizer is safe for
// concurrent use.
//
// Supported components:
//   - normalizers: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents,
//     Prepend, Replace (String or Regex), Sequence;
//   - pre-tokenizers: Split (all behaviors, invert), ByteLevel, Metaspace,
//     Digits, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer,
//     CharDelimiterSplit, Sequence;
//   - model: BPE (vocab, merges as "a b" or [a, b], ignore_merges,
//     byte_fallback, unk_token, fuse_unk, continuing_subword_prefix,
//     end_of_word_suffix; dropout is ignored);
//   - post-processors: TemplateProcessing (single sequence), ByteLevel,
//     BertProcessing, RobertaProcessing, Sequence;
//   - decoders: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
//     WordPiece, Sequence.
//
// Anything else is reported by New as an *UnsupportedError.
//
// Known differences from the Rust crate, all outside the files this
// package targets:
//   - Unicode: Go's tables are Unicode 15.0; the general categories the
//     patterns use (\p{L}, \p{N}, …, \d) are topped up to 16.0 as
//     Oniguruma has them, but normalization forms are x/text's 15.0 while
//     the crate's are older (NFKC differs on ~130 characters added since);
//     \w and \b inside custom Split regexes follow regexp2.
//   - Metaspace prepend_scheme "first" looks at whether a piece starts the
//     input; a normalizer that prepends text makes later pieces of the
//     first segment start at offset 0 for the crate, not here.
//   - Truncation and padding settings are ignored, as transformers does
//     by default.
package tokenizer
