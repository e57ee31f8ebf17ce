package manifest

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Meta is what every created object has.
type Meta struct {
	Name, Namespace string
	// Labels are the --label flags, `key=value` each.
	Labels []string
}

// objectMeta checks m and returns the object's metadata; what names the kind in errors.
func (m Meta) objectMeta(what string) (metav1.ObjectMeta, error) {
	if err := checkName(what, m.Name); err != nil {
		return metav1.ObjectMeta{}, err
	}
	if errs := validation.IsDNS1123Label(m.Namespace); len(errs) > 0 {
		return metav1.ObjectMeta{}, fmt.Errorf("namespace %q: %s", m.Namespace, errs[0])
	}
	om := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace}
	for _, l := range m.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return om, fmt.Errorf("--label %q: want key=value", l)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return om, fmt.Errorf("--label %q: key: %s", l, errs[0])
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return om, fmt.Errorf("--label %q: value: %s", l, errs[0])
		}
		if om.Labels == nil {
			om.Labels = map[string]string{}
		}
		om.Labels[k] = v
	}
	return om, nil
}

// interval checks a duration flag that must be positive.
func interval(flag string, d time.Duration) (metav1.Duration, error) {
	if d <= 0 {
		return metav1.Duration{}, fmt.Errorf("--%s must be positive, not %s", flag, d)
	}
	return metav1.Duration{Duration: d}, nil
}

// optionalDuration is nil for zero, else d; negative is refused.
func optionalDuration(flag string, d time.Duration) (*metav1.Duration, error) {
	if d < 0 {
		return nil, fmt.Errorf("--%s must not be negative, not %s", flag, d)
	}
	if d == 0 {
		return nil, nil
	}
	return &metav1.Duration{Duration: d}, nil
}

// parseURL checks --url: present, one of schemes, a host, and no password in it (credentials
// belong in a Secret, never in a spec anyone may read).
func parseURL(flag, raw string, schemes ...string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("--%s is required", flag)
	}
	if !strings.Contains(raw, "://") && strings.Contains(raw, "@") && strings.Contains(raw, ":") {
		return nil, fmt.Errorf("--%s %q: write an scp-style address as ssh://user@host/path", flag, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--%s: not a URL: %v", flag, redactErr(err, raw))
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return nil, fmt.Errorf("--%s: the scheme must be %s", flag, strings.Join(schemes, ":// or ")+"://")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--%s: no host", flag)
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("--%s holds a password: give credentials with --username and --password, which go into a Secret", flag)
	}
	return u, nil
}

// redactErr drops the URL, which may hold a password, from a url.Parse error.
func redactErr(err error, raw string) string {
	return strings.ReplaceAll(err.Error(), raw, "…")
}

// checkLabel refuses a namespace name the API server would refuse.
func checkLabel(flag, v string) error {
	if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
		return fmt.Errorf("--%s %q: %s", flag, v, errs[0])
	}
	return nil
}
