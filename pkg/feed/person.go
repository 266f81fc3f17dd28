package feed

import "strings"

// StatesRole reports whether a person's name already says the role: it ends with the role in
// round brackets, compared without case, with the spaces inside the brackets not counting. A
// room's display name often does ("Ada (host)"); a line of text then must not add it again.
// "Ada (host)", "Ada (Host)" and "Ada ( host )" state host; "Ada host", "Ada (co-host)" and
// "Ada (host) 2" do not.
func StatesRole(name, role string) bool {
	role = strings.TrimSpace(role)
	name = strings.TrimSpace(name)
	if role == "" || !strings.HasSuffix(name, ")") {
		return false
	}
	open := strings.LastIndexByte(name, '(')
	if open < 0 {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(name[open+1:len(name)-1]), role)
}

// WithoutRole returns name without a trailing "(role)" that StatesRole finds, trimmed, so that a
// podcast:person tag says the role once, in its role attribute. A name that would be left empty
// is returned as it is.
func WithoutRole(name, role string) string {
	if !StatesRole(name, role) {
		return name
	}
	name = strings.TrimSpace(name)
	if rest := strings.TrimSpace(name[:strings.LastIndexByte(name, '(')]); rest != "" {
		return rest
	}
	return name
}

// PersonLabel is how a person reads in a line of text: "Brook (guest)"; the name alone when the
// person has no role or the name already states it (StatesRole).
func PersonLabel(p Person) string {
	if p.Role == "" || StatesRole(p.Name, p.Role) {
		return p.Name
	}
	return p.Name + " (" + p.Role + ")"
}
