// Package reasoning splits a model's streamed output into reasoning and
// answer text, for the "reasoning" fields of the OpenAI-style API and for
// mlxk run's reasoning display.
//
// Two families of markup exist:
//   - tag pairs, as mlx-lm knows them (tokenizer_utils._infer_thinking):
//     <think>…</think> (Qwen3, QwQ, DeepSeek-R1 and its distills),
//     <longcat_think>…</longcat_think>, and the multi-token
//     <|channel>thought…<channel|>; plus <thinking>…</thinking>, which
//     mlx-knife 2.0.3 lists for "claude" models. Chat templates often open
//     the tag in the prompt (DeepSeek-R1, Qwen3 with thinking on), so the
//     output starts inside reasoning and only the closing tag appears:
//     that is the startInReasoning argument of NewParser, which
//     PromptOpensReasoning decides the way mlx-lm's server does.
//   - gpt-oss "harmony" messages: a header
//     <|start|>assistant<|channel|>NAME[ to=RECIPIENT][<|constrain|>…]
//     then <|message|>, the content, and <|end|> (or <|return|> / <|call|>,
//     which are end-of-sequence tokens). Channel "analysis" is reasoning,
//     "final" the answer, "commentary" a user-visible preamble (answer);
//     a message addressed to a recipient is a tool call. The prompt ends
//     with <|start|>assistant, so the output starts with <|channel|>.
//
// Markers are matched on decoded text, like mlx-lm's TextStateMachine, and
// a suffix that could be the beginning of a marker is held back until it
// is decided, so markers split across chunks are never shown. The text
// between markers is passed through unchanged (no trimming: Qwen3's
// "\n\n" after </think> reaches the caller, who may strip it).
package reasoning

import (
	"strings"
	"unicode/utf8"
)

// Kind is the reasoning markup a model uses.
type Kind int

const (
	// None: no reasoning markup; everything is answer.
	None Kind = iota
	// Think: <think>…</think>.
	Think
	// LongcatThink: <longcat_think>…</longcat_think>.
	LongcatThink
	// ChannelThought: <|channel>thought…<channel|> (mlx-lm's multi-token
	// thinking mode).
	ChannelThought
	// Thinking: <thinking>…</thinking> (mlx-knife's "claude" pattern).
	Thinking
	// Harmony: gpt-oss channels (analysis, commentary, final).
	Harmony
)

var kindNames = [...]string{"none", "think", "longcat_think", "channel_thought", "thinking", "harmony"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + itoa(int(k)) + ")"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// Markers returns the strings that open and close reasoning for k. For
// Harmony they are the analysis header's end and the message end; None
// has none.
func (k Kind) Markers() (start, end string) {
	switch k {
	case Think:
		return "<think>", "</think>"
	case LongcatThink:
		return "<longcat_think>", "</longcat_think>"
	case ChannelThought:
		return "<|channel>thought", "<channel|>"
	case Thinking:
		return "<thinking>", "</thinking>"
	case Harmony:
		return "<|channel|>analysis<|message|>", "<|end|>"
	}
	return "", ""
}

// SegmentKind says what a piece of output is.
type SegmentKind int

const (
	// Answer is text for the user ("content").
	Answer SegmentKind = iota
	// Reasoning is the model's thinking ("reasoning"/"reasoning_content").
	Reasoning
	// ToolCall is a harmony message addressed to a recipient (a function
	// call's arguments); Segment.Recipient names it.
	ToolCall
)

func (k SegmentKind) String() string {
	switch k {
	case Answer:
		return "answer"
	case Reasoning:
		return "reasoning"
	case ToolCall:
		return "tool_call"
	}
	return "SegmentKind(" + itoa(int(k)) + ")"
}

// Segment is a run of output text of one kind, markers removed.
type Segment struct {
	Kind SegmentKind
	Text string
	// Recipient is the harmony "to=" target of a ToolCall segment (for
	// example "functions.get_weather"); empty otherwise.
	Recipient string
}

// appendSegment appends text to segs, merging it into the last segment
// when that has the same kind and recipient; empty text is dropped.
func appendSegment(segs []Segment, kind SegmentKind, recipient, text string) []Segment {
	if text == "" {
		return segs
	}
	if n := len(segs); n > 0 && segs[n-1].Kind == kind && segs[n-1].Recipient == recipient {
		segs[n-1].Text += text
		return segs
	}
	return append(segs, Segment{Kind: kind, Text: text, Recipient: recipient})
}

// heldSuffix returns the length of the longest suffix of s that is a
// proper prefix of one of markers: text that may still become a marker.
func heldSuffix(s string, markers ...string) int {
	best := 0
	for _, m := range markers {
		for k := min(len(m)-1, len(s)); k > best; k-- {
			if strings.HasSuffix(s, m[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// completeRunes moves cut back so that s[:cut] does not end with the first
// bytes of an incomplete UTF-8 sequence.
func completeRunes(s string, cut int) int {
	for back := 1; back <= utf8.UTFMax-1 && back <= cut; back++ {
		c := s[cut-back]
		if c < utf8.RuneSelf {
			return cut
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRuneInString(s[cut-back : cut]) {
				return cut - back
			}
			return cut
		}
	}
	return cut
}
