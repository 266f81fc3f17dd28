package feed

import (
	"strings"
	"testing"
)

func TestSplitCategory(t *testing.T) {
	for in, want := range map[string][2]string{
		"Technology": {"Technology", ""}, "News > Tech News": {"News", "Tech News"}, "News>Tech News": {"News", "Tech News"},
		"Society & Culture > Documentary": {"Society & Culture", "Documentary"}, "TV & Film": {"TV & Film", ""},
	} {
		cat, sub, err := SplitCategory(in)
		if err != nil || cat != want[0] || sub != want[1] {
			t.Errorf("SplitCategory(%q) = %q, %q, %v", in, cat, sub, err)
		}
	}
	for in, msg := range map[string]string{
		"Podcasting": "is not an Apple category", "technology": `use "Technology"`, "Tech News": `use "News > Tech News"`,
		"Technology > Podcasting": "Technology has no subcategories (use \"Technology\")", "News > tech news": `use "News > Tech News"`,
		"News > ": "empty subcategory", "Games & Hobbies": "is not an Apple category",
	} {
		if _, _, err := SplitCategory(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("SplitCategory(%q) = %v, want an error saying %q", in, err, msg)
		}
	}
	n := 0
	for _, subs := range Categories {
		n += len(subs)
	}
	// Apple's 2019 list: 19 categories, 91 subcategories.
	if len(Categories) != 19 || n != 91 {
		t.Errorf("Apple's list has 19 categories and 91 subcategories; ours %d and %d", len(Categories), n)
	}
}

func TestPersonRoles(t *testing.T) {
	for _, tt := range []struct{ group, role, msg string }{
		{"", "", ""}, {"cast", "host", ""}, {"Cast", "Guest", ""}, {"", "co-host", ""}, {"visuals", "Cover Art Designer", ""},
		{"writing", "editor", ""}, {"video post-production", "editor", ""},
		{"", "composer", `belongs to group "Audio Post-Production"`}, {"band", "drummer", `group "band" is not in`},
		{"cast", "sidekick", `role "sidekick" is not in group "Cast"`},
	} {
		err := CheckPersonRole(tt.group, tt.role)
		if (tt.msg == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
			t.Errorf("CheckPersonRole(%q, %q) = %v, want %q", tt.group, tt.role, err, tt.msg)
		}
	}
	for role, group := range map[string]string{"guest": "Cast", "Editor": "Writing", "camera operator": "Video Production"} {
		if g, ok := RoleGroup(role); !ok || g != group {
			t.Errorf("RoleGroup(%q) = %q, %v; want %q", role, g, ok, group)
		}
	}
	if _, ok := RoleGroup("wizard"); ok {
		t.Error("RoleGroup found a group for wizard")
	}
}
