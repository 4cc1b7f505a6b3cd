// Load generator for bench/serve.sh: concurrent streaming clients against
// mlxk-serve's /v1/completions, with no dependencies beyond Node's fetch.
//
//   node serve.mjs tokenizer VOCAB OUT
//       write a byte-level tokenizer.json with VOCAB tokens (the 256 bytes,
//       then placeholder words), so a random-weight model of any vocabulary
//       streams text for every token it samples
//   node serve.mjs run URL MODEL CLIENTS REQUESTS PROMPT MAXTOK VOCAB [SEED]
//       CLIENTS clients each send REQUESTS streamed completions one after
//       the other (PROMPT random token ids, MAXTOK tokens); prints one JSON
//       line: tokens, wall time, aggregate tokens/s, time to first token
//       percentiles, per-request decode speed
import { writeFileSync } from "node:fs";

const [cmd, ...args] = process.argv.slice(2);

function byteAlphabet() {
  const out = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if ((b >= 33 && b <= 126) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)) out.push(String.fromCodePoint(b));
    else out.push(String.fromCodePoint(256 + n++));
  }
  return out;
}

function tokenizer(vocabSize, out) {
  const vocab = {};
  byteAlphabet().forEach((s, i) => (vocab[s] = i));
  // "Ġw123": a space then a word, in the byte-level alphabet.
  for (let i = 256; i < vocabSize; i++) vocab[`\u0120w${i}`] = i;
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  const doc = {
    version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: bl, post_processor: null, decoder: bl,
    model: { type: "BPE", vocab, merges: [], dropout: null, unk_token: null, continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: false, byte_fallback: false },
  };
  writeFileSync(out, JSON.stringify(doc));
}

// xorshift32: reproducible prompts without dependencies.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

async function one(url, model, prompt, maxTokens) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt, max_tokens: maxTokens, temperature: 0.7, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok) throw new Error(`status ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = "";
  let first = 0;
  let last = 0;
  let usage = null;
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!ev.startsWith("data: ") || ev === "data: [DONE]") continue;
      const c = JSON.parse(ev.slice(6));
      if (c.error) throw new Error(JSON.stringify(c.error));
      if (c.usage) usage = c.usage;
      if (c.choices?.[0]?.text) {
        const now = performance.now();
        if (!first) first = now;
        last = now;
      }
    }
  }
  const tokens = usage?.completion_tokens ?? 0;
  return { ttft: first - t0, tokens, decodeS: (last - first) / 1000, totalS: (performance.now() - t0) / 1000 };
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function run(url, model, clients, requests, promptLen, maxTokens, vocab, seed) {
  const next = rng(seed);
  const prompts = Array.from({ length: clients * requests }, () =>
    Array.from({ length: promptLen }, () => 256 + (next() % (vocab - 256))));
  const t0 = performance.now();
  const results = [];
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let r = 0; r < requests; r++) results.push(await one(url, model, prompts[c * requests + r], maxTokens));
  }));
  const wall = (performance.now() - t0) / 1000;
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  const ttfts = results.map((r) => r.ttft);
  const speeds = results.filter((r) => r.decodeS > 0).map((r) => (r.tokens - 1) / r.decodeS);
  return {
    clients, requests: results.length, prompt_tokens: promptLen, max_tokens: maxTokens, tokens,
    wall_s: +wall.toFixed(3),
    aggregate_tok_s: +(tokens / wall).toFixed(2),
    ttft_p50_ms: +pct(ttfts, 50).toFixed(1),
    ttft_p99_ms: +pct(ttfts, 99).toFixed(1),
    per_request_decode_tok_s: +(speeds.reduce((a, b) => a + b, 0) / speeds.length).toFixed(2),
  };
}

if (cmd === "tokenizer") {
  tokenizer(Number(args[0]), args[1]);
} else if (cmd === "run") {
  const [url, model, clients, requests, promptLen, maxTokens, vocab, seed] = args;
  const out = await run(url, model, +clients, +requests, +promptLen, +maxTokens, +vocab, +(seed ?? 1));
  console.log(JSON.stringify(out));
} else {
  console.error("usage: node serve.mjs tokenizer VOCAB OUT | run URL MODEL CLIENTS REQUESTS PROMPT MAXTOK VOCAB [SEED]");
  process.exit(2);
}
