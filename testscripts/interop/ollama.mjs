// Drives mlxk-serve's ollama API (/api/*) with ollama's official
// JavaScript client and prints one JSON object describing what the client
// saw, for the testscripts to check (interop_ollama.txtar).
//
// usage: node ollama.mjs <base-url> <model> [api-key]
import { Ollama } from "ollama";
import { expectError as expectErrorWith } from "./expect.mjs";

const [base, model, apiKey] = process.argv.slice(2);
if (!base || !model) {
  console.error("usage: node ollama.mjs <base-url> <model> [api-key]");
  process.exit(2);
}

const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
const client = new Ollama({ host: base, headers });
const messages = [
  { role: "system", content: "You are a storyteller." },
  { role: "user", content: "Tell me a story about Noah." },
];
const greedy = { temperature: 0, num_predict: 24 };
const out = {};

const expectError = (fn) => expectErrorWith(fn, (e) => ({ class: e.constructor.name, status: e.status_code ?? null, message: e.message }));

out.version = (await client.version()).version;
const tags = await client.list();
out.tags = tags.models.map((m) => ({ name: m.name, size: m.size > 0, family: m.details.family, quantization: m.details.quantization_level }));
const shown = await client.show({ model });
out.show = { capabilities: shown.capabilities, template: shown.template.length > 0, family: shown.details.family };

// A first short request puts the prompt in the prefix cache, so the
// requests below compute alike (a cold prefill and a cache hit may round
// differently).
await client.chat({ model, messages, options: { temperature: 0, num_predict: 1 } });

// Chat, whole and streamed with greedy decoding: the pieces add up to the
// whole answer and the last one carries the same counters.
const whole = await client.chat({ model, messages, options: greedy });
out.chat = {
  role: whole.message.role, model: whole.model, done: whole.done, done_reason: whole.done_reason,
  text: whole.message.content, eval_count: whole.eval_count, prompt_eval_count: whole.prompt_eval_count,
  timed: whole.total_duration > 0 && whole.eval_duration > 0,
};
let text = "";
let pieces = 0;
let last = null;
for await (const part of await client.chat({ model, messages, options: greedy, stream: true })) {
  text += part.message.content;
  pieces++;
  last = part;
}
out.chat_stream = {
  same_as_whole: text === whole.message.content, pieces, done: last.done,
  same_counts: last.eval_count === whole.eval_count && last.prompt_eval_count === whole.prompt_eval_count,
};

// Generate: the prompt through the chat template (as ollama does), or raw;
// a stop option ends it early.
const prompt = "Tell me a story about Noah.";
const gen = await client.generate({ model, prompt, system: "You are a storyteller.", options: greedy });
out.generate = { text: gen.response, same_as_chat: gen.response === whole.message.content, done_reason: gen.done_reason };
text = "";
for await (const part of await client.generate({ model, prompt, system: "You are a storyteller.", options: greedy, stream: true })) {
  text += part.response;
}
out.generate_stream = { same_as_whole: text === gen.response };
const raw = await client.generate({ model, prompt: "And God said,", raw: true, options: greedy });
out.raw = { text: raw.response.length > 0, prompt_eval_count: raw.prompt_eval_count };
const word = gen.response.trim().split(/\s+/)[1];
const stopped = await client.generate({ model, prompt, system: "You are a storyteller.", options: { ...greedy, stop: [word] } });
out.stop = { word, shorter: stopped.response.length < gen.response.length, without_word: !stopped.response.includes(word) };
const json = await client.generate({ model, prompt: "Describe Noah as JSON.", format: "json", options: { temperature: 0, num_predict: 16 } });
out.format_json = { starts_with_brace: json.response.trimStart().startsWith("{") };

// Embeddings, new and old endpoints: unit vectors, the same for the same text.
const emb = await client.embed({ model, input: ["Noah", "Rain falls"] });
const old = await client.embeddings({ model, prompt: "Noah" });
const norm = Math.hypot(...emb.embeddings[0]);
out.embed = {
  count: emb.embeddings.length, dims: emb.embeddings[0].length, unit: Math.abs(norm - 1) < 1e-4,
  old_matches_new: old.embedding.every((x, i) => Math.abs(x - emb.embeddings[0][i]) < 1e-5),
};

const ps = await client.ps();
out.ps = ps.models.map((m) => ({ name: m.name, model: m.model, size: m.size > 0 }));

// Errors arrive as the client's ResponseError with ollama's message.
out.errors = {
  not_found: await expectError(() => client.chat({ model: "nobody/nothing", messages })),
  bad_option: await expectError(() => client.chat({ model, messages, options: { temperature: -2 } })),
  unsupported_option: await expectError(() => client.generate({ model, prompt, options: { mirostat: 2 } })),
  stream_not_found: await expectError(async () => {
    for await (const _ of await client.chat({ model: "nobody/nothing", messages, stream: true }));
  }),
};
if (apiKey) {
  const wrong = new Ollama({ host: base, headers: { Authorization: "Bearer wrong-key" } });
  out.errors.auth = await expectError(() => wrong.list());
}

console.log(JSON.stringify(out));
