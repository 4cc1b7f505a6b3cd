package reasoning

import "strings"

// Detect infers a model's reasoning markup.
//
// With a vocabulary (inVocab reports whether a string is one token,
// added tokens included) it follows mlx-lm's _infer_thinking: the first
// tag pair whose both tags are tokens (<think>/</think>, then
// <longcat_think>/</longcat_think>), then <|channel> with <channel|>; and
// then gpt-oss's harmony tokens <|channel|> and <|message|>, which mlx-lm
// does not look for. Without a vocabulary, or when it shows none of these,
// the chat template decides: harmony markers, then each tag pair's
// opening tag.
//
// mlx-knife 2.0.3 decides by the model's name instead (DetectFromName);
// both can be combined by the caller (e.g. Detect first, name second).
func Detect(chatTemplate string, inVocab func(string) bool) Kind {
	if inVocab != nil {
		for _, k := range []Kind{Think, LongcatThink} {
			if start, end := k.Markers(); inVocab(start) && inVocab(end) {
				return k
			}
		}
		if inVocab("<|channel>") && inVocab("<channel|>") {
			return ChannelThought
		}
		if inVocab(hChannel) && inVocab(hMessage) {
			return Harmony
		}
	}
	switch {
	case strings.Contains(chatTemplate, hChannel) && strings.Contains(chatTemplate, hMessage):
		return Harmony
	case strings.Contains(chatTemplate, "<think>"):
		return Think
	case strings.Contains(chatTemplate, "<longcat_think>"):
		return LongcatThink
	case strings.Contains(chatTemplate, "<|channel>") && strings.Contains(chatTemplate, "<channel|>"):
		return ChannelThought
	case strings.Contains(chatTemplate, "<thinking>"):
		return Thinking
	}
	return None
}

// DetectFromName is mlx-knife 2.0.3's rule on the model name or path
// (ReasoningExtractor.detect_model_type): "gpt-oss" → Harmony;
// "deepseek" with "r1" → Think; "claude" → Thinking; "qwq" → Think.
// mlx-knife maps QwQ to the gpt-oss patterns, which never match QwQ's
// <think> output; Think is what QwQ emits.
func DetectFromName(name string) Kind {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "gpt-oss"):
		return Harmony
	case strings.Contains(n, "deepseek") && strings.Contains(n, "r1"):
		return Think
	case strings.Contains(n, "claude"):
		return Thinking
	case strings.Contains(n, "qwq"):
		return Think
	}
	return None
}

// PromptOpensReasoning reports whether the rendered prompt leaves the model
// inside reasoning, so that NewParser should start there. For tag kinds it
// is mlx-lm server's rule: the last opening tag comes after the last
// closing tag (DeepSeek-R1 and Qwen3 templates end the generation prompt
// with "<think>\n"; Qwen3 with thinking off closes it again). For Harmony:
// the prompt ends inside an analysis message (a <|message|> after the last
// <|start|> whose header names the analysis channel, not closed again).
func PromptOpensReasoning(kind Kind, prompt string) bool {
	switch kind {
	case None:
		return false
	case Harmony:
		last := strings.LastIndex(prompt, hStart)
		tail := prompt[max(last, 0):]
		i := strings.Index(tail, hMessage)
		if i < 0 {
			return false
		}
		channel, recipient := parseHeader(tail[:i])
		if channel != "analysis" || recipient != "" {
			return false
		}
		body := tail[i+len(hMessage):]
		for _, m := range messageEnds {
			if strings.Contains(body, m) {
				return false
			}
		}
		return true
	}
	start, end := kind.Markers()
	return strings.LastIndex(prompt, start) > strings.LastIndex(prompt, end)
}
