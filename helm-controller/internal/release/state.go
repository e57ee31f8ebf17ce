package release

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// StateKind is what the release looks like in storage, compared with the desired state.
type StateKind string

// Release states, in the order Observe checks them.
const (
	// Absent: no revision in storage, or only uninstalled ones kept as history.
	Absent StateKind = "Absent"
	// Unowned: the newest revision carries owner labels naming someone else.
	Unowned StateKind = "Unowned"
	// Locked: the newest revision is pending (install, upgrade, rollback) or uninstalling,
	// and no action of this process is running on it: a controller stopped in the middle.
	Locked StateKind = "Locked"
	// Busy: an action of this process is running on the release right now.
	Busy StateKind = "Busy"
	// Failed: the newest revision failed.
	Failed StateKind = "Failed"
	// OutOfSync: the newest revision is deployed with another chart or other values.
	OutOfSync StateKind = "OutOfSync"
	// InSync: the newest revision is deployed with the desired chart and values.
	InSync StateKind = "InSync"
)

// Desired is what the release should be.
type Desired struct {
	ChartName    string
	ChartVersion string
	// ConfigDigest is ValuesDigest of the values.
	ConfigDigest string
}

// State is an observation of the release.
type State struct {
	Kind StateKind
	// Current is the newest revision in storage; nil when there is none.
	Current *release.Release
	// Why explains Unowned, Locked and OutOfSync for messages.
	Why string
}

// inFlight holds "<storage namespace>/<name>" of the releases an action of this process is
// running on, so a pending revision of ours is not mistaken for one left by a crash.
var inFlight sync.Map

func (r *Runner) key() string { return r.Target.StorageNamespace + "/" + r.Target.Name }

// begin marks the release busy; the returned function clears it.
func (r *Runner) begin() (func(), error) {
	if _, busy := inFlight.LoadOrStore(r.key(), true); busy {
		return nil, fmt.Errorf("another action is running on release %s", r.key())
	}
	return func() { inFlight.Delete(r.key()) }, nil
}

// Observe reads the newest revision of the release and classifies it against d. owner are the
// labels that mark revisions as the caller's: a revision carrying any of their keys with
// another value is Unowned; one carrying none of them (installed by hand, or by an earlier
// tool) is judged like the caller's own, and the next upgrade labels it.
func (r *Runner) Observe(owner map[string]string, d Desired) (State, error) {
	cur, err := r.cfg.Releases.Last(r.Target.Name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return State{Kind: Absent}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("reading release %s from storage: %w", r.key(), err)
	}
	s := State{Current: cur}
	if other := foreignOwner(cur, owner); other != "" {
		s.Kind, s.Why = Unowned, other
		return s, nil
	}
	status := cur.Info.Status
	switch {
	case status == release.StatusUninstalled:
		s.Kind = Absent
	case status.IsPending() || status == release.StatusUninstalling:
		if _, busy := inFlight.Load(r.key()); busy {
			s.Kind = Busy
		} else {
			s.Kind = Locked
		}
		s.Why = fmt.Sprintf("revision %d is %s", cur.Version, status)
	case status == release.StatusFailed:
		s.Kind = Failed
		s.Why = cur.Info.Description
	default:
		s.Kind, s.Why = compare(cur, d)
	}
	return s, nil
}

// compare says whether a deployed (or superseded) revision matches d.
func compare(cur *release.Release, d Desired) (StateKind, string) {
	if cur.Chart == nil || cur.Chart.Metadata == nil {
		return OutOfSync, "the release has no chart metadata"
	}
	m := cur.Chart.Metadata
	switch {
	case m.Name != d.ChartName:
		return OutOfSync, fmt.Sprintf("chart %s, want %s", m.Name, d.ChartName)
	case m.Version != d.ChartVersion:
		return OutOfSync, fmt.Sprintf("chart version %s, want %s", m.Version, d.ChartVersion)
	case ValuesDigest(cur.Config) != d.ConfigDigest:
		return OutOfSync, "values changed"
	case cur.Info.Status != release.StatusDeployed:
		return OutOfSync, fmt.Sprintf("revision %d is %s", cur.Version, cur.Info.Status)
	}
	return InSync, ""
}

// foreignOwner returns a description of the owner a revision's labels name, when they name
// someone other than owner; "" when the revision is owner's or unlabelled.
func foreignOwner(rel *release.Release, owner map[string]string) string {
	foreign := false
	for k, v := range owner {
		if got, ok := rel.Labels[k]; ok && got != v {
			foreign = true
		}
	}
	if !foreign {
		return ""
	}
	keys := make([]string, 0, len(owner))
	for k := range owner {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + rel.Labels[k]
	}
	return strings.Join(parts, ", ")
}

// Owned reports whether rel carries every owner label with its value.
func Owned(rel *release.Release, owner map[string]string) bool {
	for k, v := range owner {
		if rel.Labels[k] != v {
			return false
		}
	}
	return true
}

// canonicalValues is values as stored: nil and empty are the same.
func canonicalValues(values map[string]any) []byte {
	if len(values) == 0 {
		return []byte("{}")
	}
	b, err := json.Marshal(values)
	if err != nil {
		// Values come from JSON or YAML and always marshal; be distinct rather than equal.
		return []byte(fmt.Sprintf("unmarshalable: %v", err))
	}
	return b
}

// ValuesDigest is the digest of values, `sha256:<hex>` of their JSON (keys sorted), so that
// values parsed from YAML and values read back from Helm's storage compare equal.
func ValuesDigest(values map[string]any) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(canonicalValues(values)))
}

// ValuesChecksum is the SHA1 hex of the same JSON, for status.lastAttemptedValuesChecksum.
func ValuesChecksum(values map[string]any) string {
	return fmt.Sprintf("%x", sha1.Sum(canonicalValues(values)))
}
