package notifier

import (
	"html"
	"strings"
)

// markdownText renders m as Markdown lines: the title in bold with the severity's icon, the
// summary in italics, the text, the reason and severity, the revision linked to its commit, and
// the other metadata. Webex, Matrix, Lark, Datadog and the pull-request comments show it.
func (m message) markdownText() string {
	var b strings.Builder
	b.WriteString(m.icon() + " **" + m.Title + "**\n")
	if m.Summary != "" {
		b.WriteString("_" + m.Summary + "_\n")
	}
	b.WriteString(m.Text + "\n")
	b.WriteString("**Reason:** " + m.Reason + " · **Severity:** " + m.Severity + "\n")
	if m.Revision != "" {
		rev := m.Revision
		if m.CommitURL != "" {
			rev = markdown{}.link(rev, m.CommitURL)
		}
		b.WriteString("**Revision:** " + rev + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString("**" + f.Key + ":** " + f.Value + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// plainText renders m without markup, for destinations that show text as is.
func (m message) plainText() string {
	var b strings.Builder
	b.WriteString(m.Title + "\n")
	if m.Summary != "" {
		b.WriteString(m.Summary + "\n")
	}
	b.WriteString(m.Text + "\n")
	b.WriteString("Reason: " + m.Reason + " · Severity: " + m.Severity + "\n")
	if m.Revision != "" {
		b.WriteString("Revision: " + m.Revision + "\n")
	}
	if m.CommitURL != "" {
		b.WriteString("Commit: " + m.CommitURL + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString(f.Key + ": " + f.Value + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// icon is ✅ for info events and ❌ for errors.
func (m message) icon() string {
	if m.Error {
		return "❌"
	}
	return "✅"
}

// objectKey identifies the event's object: "<kind>/<namespace>/<name>", the kind in lower case.
func objectKey(e *Event) string {
	o := e.InvolvedObject
	return strings.ToLower(o.Kind) + "/" + o.Namespace + "/" + o.Name
}

// htmlText renders m as HTML lines, for Matrix's formatted_body.
func (m message) htmlText() string {
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString(m.icon() + " <b>" + esc(m.Title) + "</b><br>")
	if m.Summary != "" {
		b.WriteString("<i>" + esc(m.Summary) + "</i><br>")
	}
	b.WriteString(esc(m.Text) + "<br>")
	b.WriteString("<b>Reason:</b> " + esc(m.Reason) + " · <b>Severity:</b> " + esc(m.Severity))
	if m.Revision != "" {
		rev := esc(m.Revision)
		if m.CommitURL != "" {
			rev = `<a href="` + esc(m.CommitURL) + `">` + rev + "</a>"
		}
		b.WriteString("<br><b>Revision:</b> " + rev)
	}
	for _, f := range m.Fields {
		b.WriteString("<br><b>" + esc(f.Key) + ":</b> " + esc(f.Value))
	}
	return b.String()
}
