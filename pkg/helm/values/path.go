package values

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxIndex bounds list indexes in a target path (the API allows five digits).
const maxIndex = 99999

type pathElem struct {
	key     string
	index   int
	isIndex bool
}

// SetPath puts value at path in values, creating maps and lists on the way and replacing what
// is in the way. A path is keys separated by dots, each optionally followed by list indexes,
// e.g. `a.b[0].c`; a backslash makes the next character part of the key (`a\.b` is the key
// "a.b"). Lists grow with nulls to reach an index.
func SetPath(values map[string]any, path string, value any) error {
	elems, err := parsePath(path)
	if err != nil {
		return fmt.Errorf("targetPath %q: %w", path, err)
	}
	_, err = setIn(values, elems, value)
	return err
}

func parsePath(p string) ([]pathElem, error) {
	var (
		elems   []pathElem
		cur     strings.Builder
		pending bool // a key is being read
	)
	flush := func(required bool) error {
		if !pending {
			if required {
				return errors.New("empty key")
			}
			return nil
		}
		elems = append(elems, pathElem{key: cur.String()})
		cur.Reset()
		pending = false
		return nil
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) {
				return nil, errors.New("ends with a backslash")
			}
			i++
			cur.WriteByte(p[i])
			pending = true
		case '.':
			afterIndex := len(elems) > 0 && elems[len(elems)-1].isIndex && !pending
			if err := flush(!afterIndex); err != nil {
				return nil, err
			}
			if i == len(p)-1 {
				return nil, errors.New("ends with a dot")
			}
		case '[':
			if err := flush(len(elems) == 0); err != nil {
				return nil, err
			}
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, errors.New("unclosed '['")
			}
			n, err := strconv.Atoi(p[i+1 : i+end])
			if err != nil || n < 0 || n > maxIndex {
				return nil, fmt.Errorf("index %q is not a number from 0 to %d", p[i+1:i+end], maxIndex)
			}
			elems = append(elems, pathElem{index: n, isIndex: true})
			i += end
		case ']':
			return nil, errors.New("']' without '['")
		default:
			cur.WriteByte(c)
			pending = true
		}
	}
	if err := flush(len(elems) == 0); err != nil {
		return nil, err
	}
	return elems, nil
}

func setIn(cur any, elems []pathElem, value any) (any, error) {
	if len(elems) == 0 {
		return value, nil
	}
	e := elems[0]
	if e.isIndex {
		list, _ := cur.([]any)
		for len(list) <= e.index {
			list = append(list, nil)
		}
		v, err := setIn(list[e.index], elems[1:], value)
		if err != nil {
			return nil, err
		}
		list[e.index] = v
		return list, nil
	}
	m, ok := cur.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	v, err := setIn(m[e.key], elems[1:], value)
	if err != nil {
		return nil, err
	}
	m[e.key] = v
	return m, nil
}
