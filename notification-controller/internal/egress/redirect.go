package egress

import (
	"net/http"
	"strings"
)

// MaxRedirects is the most redirects one request follows; past it the last redirect response
// is returned as the answer.
const MaxRedirects = 5

// safeHeaders are the only request headers kept on a redirect to another origin: none of them
// carries a credential.
var safeHeaders = []string{"Accept", "Accept-Encoding", "Content-Type", "User-Agent"}

// CheckRedirect is an http.Client CheckRedirect. It follows at most MaxRedirects redirects. A
// redirect to another origin than the first request's (scheme, host and port) drops every header
// but safeHeaders: Authorization (so basic auth and tokens), the Secret's custom headers, and
// signatures. Credentials in the first URL's userinfo, path or query do not follow either, since
// a redirect's URL is the server's; a redirect back to the first origin gets the headers again.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return http.ErrUseLastResponse
	}
	if origin(req.URL.Scheme, req.URL.Hostname(), req.URL.Port()) ==
		origin(via[0].URL.Scheme, via[0].URL.Hostname(), via[0].URL.Port()) {
		return nil
	}
	kept := http.Header{}
	for _, k := range safeHeaders {
		if v, ok := req.Header[k]; ok {
			kept[k] = v
		}
	}
	req.Header = kept
	return nil
}

// origin returns scheme://host:port with the scheme's default port filled in.
func origin(scheme, host, port string) string {
	scheme = strings.ToLower(scheme)
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(host) + ":" + port
}
