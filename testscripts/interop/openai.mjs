// Drives mlxk-serve with the official OpenAI JavaScript client and prints
// one JSON object describing what the client saw, for the testscripts to
// check (interop_openai.txtar).
//
// usage: node openai.mjs <base-url> <model> [api-key]
import OpenAI from "openai";
import { expectError as expectErrorWith } from "./expect.mjs";

const [base, model, apiKey] = process.argv.slice(2);
if (!base || !model) {
  console.error("usage: node openai.mjs <base-url> <model> [api-key]");
  process.exit(2);
}

const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: apiKey ?? "unused", maxRetries: 0, timeout: 120_000 });
const messages = [
  { role: "system", content: "You are a storyteller." },
  { role: "user", content: "Tell me a story about Noah." },
];
const out = {};

// Describe an error the way a client program sees it.
const expectError = (fn) => expectErrorWith(fn, described);

function described(e) {
  return {
    class: e.constructor.name,
    status: e.status ?? null,
    code: e.code ?? null,
    type: e.type ?? null,
    param: e.param ?? null,
    request_id: e.requestID ?? null,
    message: e.message,
  };
}

// models.list (paginated iteration) and models.retrieve.
const listed = [];
for await (const m of client.models.list()) listed.push(m);
out.models = listed.map((m) => ({ id: m.id, object: m.object, context_length: m.context_length, loaded: m.loaded }));
const one = await client.models.retrieve(model);
out.retrieved = { id: one.id, capabilities: one.capabilities };

// Chat, whole and streamed, with greedy decoding: the two texts agree.
// A first short request puts the prompt in the prefix cache, so that the
// three requests below compute alike (a cold prefill and a cache hit may
// round differently and flip a near tie).
await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 1 });
const chat = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 24, seed: 7 });
out.chat = {
  object: chat.object,
  model: chat.model,
  role: chat.choices[0].message.role,
  content: chat.choices[0].message.content,
  finish_reason: chat.choices[0].finish_reason,
  usage: chat.usage,
};

const stream = await client.chat.completions.create({
  model, messages, temperature: 0, max_tokens: 24, seed: 7, stream: true, stream_options: { include_usage: true },
});
let text = "";
let chunks = 0;
let finish = null;
let usage = null;
for await (const c of stream) {
  chunks++;
  if (c.usage) usage = c.usage;
  for (const ch of c.choices) {
    text += ch.delta?.content ?? "";
    if (ch.finish_reason) finish = ch.finish_reason;
  }
}
out.chat_stream = {
  content: text, chunks, finish_reason: finish, usage, same_as_whole: text === out.chat.content,
  same_usage: usage?.prompt_tokens === chat.usage.prompt_tokens && usage?.completion_tokens === chat.usage.completion_tokens,
};

// The stream helper that accumulates the final message.
const runner = client.chat.completions.stream({ model, messages, temperature: 0, max_tokens: 24, seed: 7 });
const final = await runner.finalChatCompletion();
out.chat_stream_helper = { content: final.choices[0].message.content, same_as_whole: final.choices[0].message.content === out.chat.content };

// Text completions, whole and streamed.
const prompt = "In the beginning";
const cmpl = await client.completions.create({ model, prompt, temperature: 0, max_tokens: 12 });
out.completion = {
  object: cmpl.object,
  text: cmpl.choices[0].text,
  finish_reason: cmpl.choices[0].finish_reason,
  usage: cmpl.usage,
};
let ctext = "";
for await (const c of await client.completions.create({ model, prompt, temperature: 0, max_tokens: 12, stream: true })) {
  ctext += c.choices[0]?.text ?? "";
}
out.completion_stream = { text: ctext, same_as_whole: ctext === out.completion.text };

// Logprobs come back in the client's types.
const lp = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 3, logprobs: true, top_logprobs: 2 });
const content = lp.choices[0].logprobs?.content ?? [];
out.logprobs = { tokens: content.length, top: content[0]?.top_logprobs?.length ?? 0, finite: content.every((t) => Number.isFinite(t.logprob)) };

// Several choices in one request: seeded choice i is what seed+i gives alone.
const many = await client.chat.completions.create({ model, messages, n: 2, temperature: 1, max_tokens: 8, seed: 3 });
const alone = await client.chat.completions.create({ model, messages, temperature: 1, max_tokens: 8, seed: 4 });
out.choices = {
  count: many.choices.length,
  indexes: many.choices.map((c) => c.index).join(","),
  second_as_alone: many.choices[1].message.content === alone.choices[0].message.content,
  prompt_once: many.usage.prompt_tokens === alone.usage.prompt_tokens,
  completion_tokens: many.usage.completion_tokens >= alone.usage.completion_tokens,
};

// An aborted stream: the client stops reading; the server carries on.
const ac = new AbortController();
const aborted = await client.chat.completions.create(
  { model, messages, max_tokens: 200, stream: true }, { signal: ac.signal });
let seen = 0;
out.abort = { error: null };
try {
  for await (const _ of aborted) {
    if (++seen === 2) ac.abort();
  }
} catch (e) {
  out.abort.error = e.constructor.name;
}
// The client may still hand out a chunk or two it had buffered.
out.abort.stopped_early = seen >= 2 && seen < 20;
const after = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 4 });
out.after_abort = { finish_reason: after.choices[0].finish_reason };

// The Responses API (stateless): whole and streamed agree; the client's
// output_text helper reads the message item.
const input = [{ role: "user", content: "Tell me a story about Noah." }];
const instructions = "You are a storyteller.";
const resp = await client.responses.create({ model, instructions, input, temperature: 0, max_output_tokens: 24 });
out.responses = {
  object: resp.object, status: resp.status, id_prefix: resp.id.slice(0, 5),
  items: resp.output.map((o) => o.type).join(","), text: resp.output_text,
  incomplete: resp.incomplete_details?.reason ?? null, usage: resp.usage,
};
const rstream = await client.responses.create({ model, instructions, input, temperature: 0, max_output_tokens: 24, stream: true });
let rtext = "";
const rtypes = [];
let rfinal = null;
for await (const ev of rstream) {
  rtypes.push(ev.type);
  if (ev.type === "response.output_text.delta") rtext += ev.delta;
  if (ev.type === "response.completed" || ev.type === "response.incomplete") rfinal = ev.response;
}
out.responses_stream = {
  first: rtypes[0], last: rtypes[rtypes.length - 1], same_as_whole: rtext === resp.output_text,
  final_status: rfinal?.status ?? null, same_usage: rfinal?.usage?.output_tokens === resp.usage.output_tokens,
};
const rhelper = await client.responses.stream({ model, instructions, input, temperature: 0, max_output_tokens: 24 }).finalResponse();
out.responses_helper = { same_as_whole: rhelper.output_text === resp.output_text };

// Embeddings: the client asks for base64 and decodes it; floats agree.
const emb = await client.embeddings.create({ model, input: ["Noah built an ark.", "It rained."] });
const embFloat = await client.embeddings.create({ model, input: "Noah built an ark.", encoding_format: "float" });
const v0 = emb.data[0].embedding;
const norm = Math.sqrt(v0.reduce((s, x) => s + x * x, 0));
out.embeddings = {
  count: emb.data.length, dims: v0.length, unit: Math.abs(norm - 1) < 1e-4,
  base64_matches_float: v0.every((x, i) => Math.abs(x - embFloat.data[0].embedding[i]) < 1e-6),
  prompt_tokens: emb.usage.prompt_tokens > 0,
};

// Errors arrive as the client's typed exceptions.
out.errors = {
  not_found: await expectError(() => client.chat.completions.create({ model: "nobody/nothing", messages })),
  unsupported: await expectError(() => client.chat.completions.create({ model, messages, store: true })),
  bad_value: await expectError(() => client.chat.completions.create({ model, messages, temperature: -2 })),
  unknown_field: await expectError(() => client.completions.create({ model, prompt, frobnicate: true })),
  stateful: await expectError(() => client.responses.create({ model, input, previous_response_id: "resp_0" })),
};
if (apiKey) {
  const wrong = new OpenAI({ baseURL: `${base}/v1`, apiKey: "wrong-key", maxRetries: 0 });
  out.errors.auth = await expectError(() => wrong.models.list());
}

console.log(JSON.stringify(out));
