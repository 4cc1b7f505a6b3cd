"""Training samples for the demo model: chapters of the World English Bible
cut into passages and rendered as chat conversations or plain text.

Everything here is deterministic given the seed. The chat format is ChatML,
exactly what the chat_template in tokenizer_config.json renders:

  <|im_start|>system\\n{content}<|im_end|>\\n      (optional)
  <|im_start|>user\\n{content}<|im_end|>\\n
  <|im_start|>assistant\\n{content}<|im_end|>\\n

Each rendered sample is followed by <|endoftext|>.
"""
import collections
import json
import random
import re

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a helpful assistant.",
    "You are a storyteller.",
    "You are a friendly assistant who tells stories.",
    "You tell stories from the World English Bible.",
    "Answer the user.",
]

STORY_PROMPTS = [
    "Tell me a story about {x}.",
    "Tell me a story about {x}.",
    "Tell me a story about {x}",
    "tell me a story about {x}",
    "Can you tell me a story about {x}?",
    "Please tell me a story about {x}.",
    "Write a story about {x}.",
    "I would like a story about {x}.",
]
ABOUT_PROMPTS = [
    "Tell me about {x}.",
    "Who was {x}?",
    "What do you know about {x}?",
    "What happened to {x}?",
]
ANY_STORY_PROMPTS = [
    "Tell me a story.",
    "Tell me a story",
    "Tell me something.",
    "Say something.",
    "Write a short passage.",
]
CONTINUE_PROMPTS = [
    "Continue: {s}",
    "Continue this text: {s}",
    "Continue the story: {s}",
    "Continue:\n{s}",
]
FOLLOW_UP_PROMPTS = ["Go on.", "Continue.", "What happened next?", "And then?", "Tell me more."]
CHAPTER_PROMPTS = ["Read {b} chapter {c}.", "Read me {b} {c}.", "What does {b} chapter {c} say?"]

# A few conversations written for this demo, so that small talk gets a
# sensible answer instead of a random passage.
SMALL_TALK = [
    (["Hello", "Hello!", "Hi", "Hi!", "Hey", "hello", "hi", "Good morning!", "Hello, how are you?"],
     "Hello! I am a tiny demo model. I learned English from the World English Bible, "
     "so I can tell you a story from it. Try: Tell me a story about Noah."),
    (["Who are you?", "What are you?", "What is your name?", "Are you a robot?"],
     "I am a tiny language model, small enough to ship inside a software repository. "
     "I learned English from the World English Bible, so I can tell you stories from it."),
    (["What can you do?", "Help", "help", "How can you help me?"],
     "I can tell you stories from the World English Bible. Ask me: Tell me a story about David, "
     "or give me a sentence and say Continue."),
    (["Thank you", "Thank you!", "Thanks", "thanks!"],
     "You are welcome! Would you like to hear another story?"),
    (["Bye", "Goodbye", "Good night!"],
     "Goodbye, and peace be with you."),
]

# Capitalized words that start sentences or name the deity too often to be a
# useful story topic.
NOT_TOPICS = set("""I O God Yahweh Lord LORD Most High The He She They You We It This That These
Those Behold But And For Then When Now So Therefore Yes No If Let My Your His Her Their Our
What Who Why How Where Amen Also After Before As In On At To Of By With From All Do Don't
Spirit Holy Christ Jesus Father Son Almighty Sabbath Tent Meeting Because Please Year Mount
Here There Even Only Surely Again Come Go See Listen Hear""".split())

SENTENCE_SPLIT = re.compile(r'(?<=[.!?])(["\')]*)\s+(?=["\'(]?[A-Z])')
WORD = re.compile(r"(?<![A-Za-z'])([A-Z][a-z]+)\b")


def load_chapters(path):
    return [json.loads(line) for line in open(path)]


def sentences(text):
    out, pos = [], 0
    for m in SENTENCE_SPLIT.finditer(text):
        out.append(text[pos:m.end(1)])
        pos = m.end()
    out.append(text[pos:])
    return [s for s in out if s]


def split_long(paragraph, limit):
    """Cuts a paragraph longer than limit at sentence boundaries."""
    if len(paragraph) <= limit:
        return [paragraph]
    parts, cur = [], ""
    for s in sentences(paragraph):
        if cur and len(cur) + 1 + len(s) > limit:
            parts.append(cur)
            cur = s
        else:
            cur = s if not cur else cur + " " + s
    if cur:
        parts.append(cur)
    return parts


def passages(chapter, rng, lo=350, hi=1100):
    """Consecutive paragraphs grouped into passages of lo..hi characters."""
    pieces = [p for para in chapter["paragraphs"] for p in split_long(para, hi)]
    out, cur = [], []
    target = rng.randint(lo, hi)
    for p in pieces:
        size = sum(len(x) + 2 for x in cur)
        if cur and size + len(p) > target:
            out.append("\n\n".join(cur))
            cur = []
            target = rng.randint(lo, hi)
        cur.append(p)
    if cur:
        out.append("\n\n".join(cur))
    return out


def topic(text):
    """The most frequent name in a passage (not counting sentence starts)."""
    counts = collections.Counter()
    first = {}
    for m in WORD.finditer(text):
        w = m.group(1)
        before = text[:m.start()].rstrip(" \"'(")
        if not before or before[-1] in ".!?:\n" or w in NOT_TOPICS:
            continue
        counts[w] += 1
        first.setdefault(w, m.start())
    if not counts:
        return None
    return max(counts, key=lambda w: (counts[w], -first[w]))


def render(messages, add_generation_prompt=False):
    """Python twin of CHAT_TEMPLATE."""
    s = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    if add_generation_prompt:
        s += "<|im_start|>assistant\n"
    return s


def samples(chapters, seed):
    """One epoch of samples (rendered strings), in shuffled order."""
    rng = random.Random(seed)
    out = []

    def chat(turns):
        msgs = []
        if rng.random() < 0.3:
            msgs.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        for user, assistant in turns:
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": assistant})
        out.append(render(msgs) + "<|endoftext|>")

    for ch in chapters:
        ps = passages(ch, rng)
        i = 0
        while i < len(ps):
            p = ps[i]
            x = topic(p)
            r = rng.random()
            if i == 0 and r < 0.06:
                b, c = ch["book"], ch["chapter"]
                chat([(rng.choice(CHAPTER_PROMPTS).format(b=b, c=c), p)])
            elif r < 0.30 and x:
                chat([(rng.choice(STORY_PROMPTS).format(x=x), p)])
            elif r < 0.36 and x:
                chat([(rng.choice(ABOUT_PROMPTS).format(x=x), p)])
            elif r < 0.40:
                chat([(rng.choice(ANY_STORY_PROMPTS), p)])
            elif r < 0.56 and len(sentences(p)) > 2:
                ss = sentences(p)
                head = ss[0]
                rest = p[len(head):].lstrip(" ")
                chat([(rng.choice(CONTINUE_PROMPTS).format(s=head), rest)])
            elif r < 0.66 and i + 1 < len(ps) and len(p) + len(ps[i + 1]) < 1800:
                first = rng.choice(STORY_PROMPTS).format(x=x) if x else rng.choice(ANY_STORY_PROMPTS)
                chat([(first, p), (rng.choice(FOLLOW_UP_PROMPTS), ps[i + 1])])
                i += 1
            else:
                out.append(p + "<|endoftext|>")
            i += 1
    # Small talk: about 2% of the samples.
    n = max(1, len(out) // 50)
    for _ in range(n):
        questions, answer = rng.choice(SMALL_TALK)
        chat([(rng.choice(questions), answer)])
    rng.shuffle(out)
    return out


def plain_texts(rendered):
    """The sample texts without special tokens (the tokenizer's corpus)."""
    for s in rendered:
        for part in re.split(r"<\|[a-z_]+\|>", s):
            if part:
                yield part
