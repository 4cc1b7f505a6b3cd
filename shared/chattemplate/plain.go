package chattemplate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Plain renders messages without a chat template: MLX Knife's fallback for
// models without a template, or whose template fails
// (mlxk-spec §7.6, format_conversation):
//
//	"\n\n".join(parts) + "\n\nAssistant: "
//
// where each system, user and assistant message gives the part
// "System: <content>", "Human: <content>" or "Assistant: <content>"; other
// roles (tool, developer, …) are dropped. One user message "test input"
// gives "Human: test input\n\nAssistant: ". Contents are massaged as for
// Render first (text parts joined, null → ""); a content that is still not
// a string is written as its JSON (Python json.dumps) text.
//
// (For single-shot prompts with --no-chat-template MLX Knife uses the raw
// prompt, not this format; that is the caller's choice.)
func Plain(messages json.RawMessage) (string, error) {
	v, err := decodeJSON(messages)
	if err != nil {
		return "", fmt.Errorf("chattemplate: messages: %w", err)
	}
	if !v.IsList() {
		return "", fmt.Errorf("chattemplate: messages must be a JSON array")
	}
	if err := massageMessages(v); err != nil {
		return "", err
	}
	var parts []string
	for _, m := range v.AsList().Items {
		d := m.AsDict()
		role, _ := d.Get("role")
		var prefix string
		switch {
		case !role.IsString():
			continue
		case role.AsString() == "system":
			prefix = "System: "
		case role.AsString() == "user":
			prefix = "Human: "
		case role.AsString() == "assistant":
			prefix = "Assistant: "
		default:
			continue
		}
		content, _ := d.Get("content")
		text := ""
		if content.IsString() {
			text = content.AsString()
		} else if text, err = pyJSON(content); err != nil {
			return "", err
		}
		parts = append(parts, prefix+text)
	}
	return strings.Join(parts, "\n\n") + "\n\nAssistant: ", nil
}
