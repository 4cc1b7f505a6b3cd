// Times reference tokenizers on the same text and chunking as tokbench:
//   node bench/tokenizer.js <npm dir> <tokenizer dir> <text file> <runs>
// prints "<impl>\t<bytes>\t<tokens>\t<median seconds>" per implementation.
const { createRequire } = require("module");
const fs = require("fs");
const path = require("path");
const [npmDir, tokDir, textPath, runsArg] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(npmDir), "package.json"));
const text = fs.readFileSync(textPath, "utf8");
const paras = text.split("\n\n");
const runs = Number(runsArg || 5);
const bytes = Buffer.byteLength(text);

function time(name, encode) {
  let tokens = 0;
  for (const p of paras) tokens += encode(p); // warm-up and count
  const ts = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (const p of paras) encode(p);
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  ts.sort((a, b) => a - b);
  console.log(`${name}\t${bytes}\t${tokens}\t${ts[Math.floor(ts.length / 2)].toFixed(6)}`);
}

(async () => {
  const tokJSON = fs.readFileSync(path.join(tokDir, "tokenizer.json"), "utf8");
  const cfgJSON = fs.readFileSync(path.join(tokDir, "tokenizer_config.json"), "utf8");
  // Hugging Face's Rust tokenizers through its Node binding (what transformers' fast tokenizers run).
  const rust = req("tokenizers").Tokenizer.fromFile(path.join(tokDir, "tokenizer.json"));
  // encodeSync may not exist in every binding version; fall back to the promise API.
  if (typeof rust.encodeSync === "function") {
    time("rust-tokenizers(node)", (p) => rust.encodeSync(p, null, { addSpecialTokens: false }).getIds().length);
  } else {
    let tokens = 0;
    for (const p of paras) tokens += (await rust.encode(p, null, { addSpecialTokens: false })).getIds().length;
    const ts = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      for (const p of paras) await rust.encode(p, null, { addSpecialTokens: false });
      ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    ts.sort((a, b) => a - b);
    console.log(`rust-tokenizers(node)\t${bytes}\t${tokens}\t${ts[Math.floor(ts.length / 2)].toFixed(6)}`);
  }
  // The pure-JS tokenizer transformers.js uses.
  const { Tokenizer: JSTokenizer } = req("@huggingface/tokenizers");
  const js = new JSTokenizer(JSON.parse(tokJSON), JSON.parse(cfgJSON));
  time("@huggingface/tokenizers(js)", (p) => js.encode(p, { add_special_tokens: false }).ids.length);
})();
