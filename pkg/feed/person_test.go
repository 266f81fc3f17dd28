package feed

import "testing"

func TestPersonLabel(t *testing.T) {
	for _, tc := range []struct {
		why, name, role, label, without string
	}{
		{"a name without a role gets it in brackets", "Brook", "guest", "Brook (guest)", "Brook"},
		{"a name that ends with its role gets no second one (the demo's host)", "Ada (host)", "host", "Ada (host)", "Ada"},
		{"case does not matter", "Ada (Host)", "host", "Ada (Host)", "Ada"},
		{"spaces inside the brackets do not matter", "Ada ( host )", "Host", "Ada ( host )", "Ada"},
		{"a different role in brackets is not this role", "Ada (co-host)", "host", "Ada (co-host) (host)", "Ada (co-host)"},
		{"a role in brackets that is not last does not count", "Ada (host) 2", "host", "Ada (host) 2 (host)", "Ada (host) 2"},
		{"the role as a plain trailing word is part of the name (a surname can be Host)", "Ada Host", "host", "Ada Host (host)", "Ada Host"},
		{"a multi-word role is matched whole", "Cyd (Guest Host)", "guest host", "Cyd (Guest Host)", "Cyd"},
		{"a name that is only the role stays whole", "(host)", "host", "(host)", ""},
		{"no role: the name alone", "Ada (host)", "", "Ada (host)", "Ada (host)"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			if got := PersonLabel(Person{Name: tc.name, Role: tc.role}); got != tc.label {
				t.Errorf("PersonLabel(%q, %q) = %q, want %q", tc.name, tc.role, got, tc.label)
			}
			want := tc.without
			if want == "" {
				want = tc.name
			}
			if got := WithoutRole(tc.name, tc.role); got != want {
				t.Errorf("WithoutRole(%q, %q) = %q, want %q", tc.name, tc.role, got, want)
			}
		})
	}
}
