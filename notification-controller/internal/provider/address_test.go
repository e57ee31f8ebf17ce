package provider

import (
	"strings"
	"testing"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/pkg/steps"
)

func TestCheckAddressStallsOnRefusedLiterals(t *testing.T) {
	const token = "xoxb-never-in-a-message"
	strict, allowing := &egress.Policy{}, &egress.Policy{AllowInternal: true}
	cases := []struct {
		policy  *egress.Policy
		field   string
		address string
		want    string // "" when allowed
	}{
		{strict, "spec.address", "http://169.254.169.254/latest/meta-data/",
			"spec.address: 169.254.169.254 is a link-local address, which notifications never reach"},
		{allowing, "spec.address", "http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
		{allowing, "secret 'hook' key 'address'", "https://u:" + token + "@[fd00:ec2::254]/" + token,
			"secret 'hook' key 'address': [fd00:ec2::254] is a cloud metadata address"},
		{strict, "spec.proxy", "http://10.0.0.8:3128",
			"spec.proxy: 10.0.0.8:3128 is a private address, refused unless notification-controller runs with --allow-internal-addresses"},
		{strict, "spec.address", "http://127.0.0.1:8080/hook/" + token, "spec.address: 127.0.0.1:8080 is a loopback address"},
		{strict, "spec.address", "http://localhost:8080/hook", "spec.address: localhost:8080 resolves to 127.0.0.1"},
		{allowing, "spec.address", "http://127.0.0.1:8080/hook", ""},
		// Names are checked when dialled.
		{strict, "spec.address", "https://hooks.slack.com/services/" + token, ""},
		{strict, "spec.address", "", ""},
	}
	for _, tc := range cases {
		err := checkAddress(tc.policy, tc.field, tc.address)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.address, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.address, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("the message leaks the token: %v", err)
		}
		if o := steps.Classify(err, "Failed"); o.Kind != steps.Stalling || o.Reason != notificationv1.AddressRefusedReason {
			t.Errorf("%s: classified %+v, want stalled with %s", tc.address, o, notificationv1.AddressRefusedReason)
		}
	}
}
