// llama.cpp (the prebuilt CPU binaries of node-llama-cpp, pinned in
// package.json) on the GGUF twin of a benchmark model, measured the way
// `enginebench run` measures the Go engine, printing the same JSON fields:
//
//   node bench/engine/llama.mjs MODEL.gguf THREADS PROMPT GEN REPS
//
// Token ids are fed directly (the GGUF has no tokenizer); sampling is
// greedy. llama.cpp preallocates its KV cache (f16) for contextSize.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {statSync} from "node:fs";

const [modelPath, threadsArg = "2", promptArg = "512", genArg = "128", repsArg = "2"] = process.argv.slice(2);
const threads = Number(threadsArg), promptN = Number(promptArg), genN = Number(genArg), reps = Number(repsArg);

// The same pseudo-random prompt as enginebench (a 32-bit LCG).
function tokenIDs(n, vocab) {
    const out = [];
    let x = 12345;
    for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out.push((x >>> 8) % vocab);
    }
    return out;
}

const now = () => performance.now() / 1000;
const baseRSS = process.resourceUsage().maxRSS / 1e3;
const llama = await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error});

let t0 = now();
const model = await llama.loadModel({modelPath, gpuLayers: 0, useMmap: true});
const context = await model.createContext({
    contextSize: 1024, batchSize: 512, sequences: 1, flashAttention: false,
    threads: {ideal: threads, min: threads},
});
const loadS = now() - t0;
const seq = context.getSequence();
const arch = model.fileInfo.metadata.general.architecture;
const md = model.fileInfo.metadata[arch];
const vocab = Number(md.vocab_size);
const toks = tokenIDs(promptN, vocab);

async function decode(first, n) {
    const it = seq.evaluate([first], {temperature: 0, yieldEogToken: true});
    const t = now();
    for (let i = 0; i < n; i++) {
        const r = await it.next();
        if (r.done) throw new Error("generation stopped early");
    }
    const s = now() - t;
    await it.return();
    return n / s;
}

// Time to first token: a 32-token prompt right after loading.
t0 = now();
{
    const it = seq.evaluate(toks.slice(0, 32), {temperature: 0, yieldEogToken: true});
    await it.next();
    await it.return();
}
const ttftMs = (now() - t0) * 1e3;

// Prefill: the best of reps runs of the whole prompt.
let best = Infinity;
for (let r = 0; r < reps; r++) {
    await seq.clearHistory();
    t0 = now();
    await seq.evaluateWithoutGeneratingNewTokens(toks);
    best = Math.min(best, now() - t0);
}
const prefill = promptN / best;
const decodeAfter = await decode(toks[0], genN);
await seq.clearHistory();
const decode0 = await decode(toks[0], genN);

console.log(JSON.stringify({
    engine: "llama.cpp", model: arch, threads,
    load_s: loadS, ttft32_ms: ttftMs, prefill_tok_s: prefill, decode_tok_s: decodeAfter, decode0_tok_s: decode0,
    peak_rss_mb: process.resourceUsage().maxRSS / 1e3, node_base_rss_mb: baseRSS,
    weight_mb: statSync(modelPath).size / 1e6,
    // f16 keys and values for every position of the context
    kv_mb: context.contextSize * md.block_count * 2 * md.attention.head_count_kv * md.attention.key_length * 2 / 1e6,
    prompt_tokens: promptN, gen_tokens: genN,
    cpu_s: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
}));
await context.dispose();
await model.dispose();
