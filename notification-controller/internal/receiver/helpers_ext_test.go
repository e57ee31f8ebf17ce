package receiver_test

import (
	"encoding/base64"
	"encoding/json"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
