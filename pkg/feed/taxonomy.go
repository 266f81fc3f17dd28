package feed

import (
	"fmt"
	"sort"
	"strings"
)

// Categories is Apple Podcasts' category list: each category and its subcategories, spelled
// (and capitalised) exactly as itunes:category text must be. It is the list Apple published
// with the 2019 revision (19 categories; Apple Podcasts for Creators, "Apple Podcasts
// categories"). In podcast.yaml a category is written "Category" or "Category > Subcategory".
var Categories = map[string][]string{
	"Arts":                    {"Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"},
	"Business":                {"Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"},
	"Comedy":                  {"Comedy Interviews", "Improv", "Stand-Up"},
	"Education":               {"Courses", "How To", "Language Learning", "Self-Improvement"},
	"Fiction":                 {"Comedy Fiction", "Drama", "Science Fiction"},
	"Government":              nil,
	"History":                 nil,
	"Health & Fitness":        {"Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"},
	"Kids & Family":           {"Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"},
	"Leisure":                 {"Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"},
	"Music":                   {"Music Commentary", "Music History", "Music Interviews"},
	"News":                    {"Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News"},
	"Religion & Spirituality": {"Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"},
	"Science":                 {"Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature", "Physics", "Social Sciences"},
	"Society & Culture":       {"Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"},
	"Sports":                  {"Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"},
	"Technology":              nil,
	"True Crime":              nil,
	"TV & Film":               {"After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"},
}

// CategorySeparator joins a category and its subcategory in podcast.yaml: "Technology" or
// "News > Tech News".
const CategorySeparator = " > "

// CategoryError says why a category is not one of Apple's. Use is the spelling to use instead
// when the text makes it plain (a wrong capitalisation, a subcategory given alone), else "".
type CategoryError struct {
	Category string // as given
	Use      string
	msg      string
}

func (e *CategoryError) Error() string { return e.msg }

func categoryErr(c, use, format string, a ...any) error {
	return &CategoryError{Category: c, Use: use, msg: fmt.Sprintf(format, a...)}
}

// SplitCategory splits "Category > Subcategory" into its parts (sub is "" for a bare category)
// and checks both against Apple's list. The error (a *CategoryError) says what is wrong and suggests the right
// spelling when only the capitalisation or the parent category is off.
func SplitCategory(c string) (cat, sub string, err error) {
	cat, sub, _ = strings.Cut(c, ">")
	cat, sub = strings.TrimSpace(cat), strings.TrimSpace(sub)
	subs, ok := Categories[cat]
	if !ok {
		for name := range Categories {
			if strings.EqualFold(name, cat) {
				return "", "", categoryErr(c, name, "%q is not an Apple category (category names are case-sensitive: use %q)", cat, name)
			}
		}
		// A subcategory given alone: name its parent.
		for name, list := range Categories {
			for _, s := range list {
				if strings.EqualFold(s, cat) {
					return "", "", categoryErr(c, name+CategorySeparator+s, "%q is a subcategory (use %q)", cat, name+CategorySeparator+s)
				}
			}
		}
		return "", "", categoryErr(c, "", "%q is not an Apple category (use one of: %s)", cat, strings.Join(CategoryNames(), ", "))
	}
	if sub == "" {
		if strings.Contains(c, ">") {
			return "", "", categoryErr(c, cat, "%q has an empty subcategory (use %q or name a subcategory)", c, cat)
		}
		return cat, "", nil
	}
	for _, s := range subs {
		if s == sub {
			return cat, sub, nil
		}
		if strings.EqualFold(s, sub) {
			return "", "", categoryErr(c, cat+CategorySeparator+s, "%q is not a subcategory of %s (names are case-sensitive: use %q)", sub, cat, cat+CategorySeparator+s)
		}
	}
	if len(subs) == 0 {
		return "", "", categoryErr(c, cat, "%s has no subcategories (use %q)", cat, cat)
	}
	return "", "", categoryErr(c, "", "%q is not a subcategory of %s (use one of: %s)", sub, cat, strings.Join(subs, ", "))
}

// CategoryNames returns Apple's top-level categories, sorted.
func CategoryNames() []string {
	names := make([]string, 0, len(Categories))
	for name := range Categories {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// PersonRoles is the Podcasting 2.0 person taxonomy (podcast-namespace taxonomy.json): each
// group and its roles, in the taxonomy's spelling. podcast:person role and group attributes match
// it case-insensitively; a missing role means "host" and a missing group "cast".
var PersonRoles = map[string][]string{
	"Creative Direction":    {"Director", "Assistant Director", "Executive Producer", "Senior Producer", "Producer", "Associate Producer", "Development Producer", "Creative Director"},
	"Cast":                  {"Host", "Co-Host", "Guest Host", "Guest", "Voice Actor", "Narrator", "Announcer", "Reporter"},
	"Writing":               {"Author", "Editorial Director", "Co-Writer", "Writer", "Songwriter", "Guest Writer", "Story Editor", "Managing Editor", "Script Editor", "Script Coordinator", "Researcher", "Editor", "Fact Checker", "Translator", "Transcriber", "Logger"},
	"Audio Production":      {"Studio Coordinator", "Technical Director", "Technical Manager", "Audio Engineer", "Remote Recording Engineer", "Post Production Engineer"},
	"Audio Post-Production": {"Audio Editor", "Sound Designer", "Foley Artist", "Composer", "Theme Music", "Music Production", "Music Contributor"},
	"Administration":        {"Production Coordinator", "Booking Coordinator", "Production Assistant", "Content Manager", "Marketing Manager", "Sales Representative", "Sales Manager"},
	"Visuals":               {"Graphic Designer", "Cover Art Designer"},
	"Community":             {"Social Media Manager"},
	"Misc.":                 {"Consultant", "Intern"},
	"Video Production":      {"Camera Operator", "Lighting Designer", "Camera Grip", "Assistant Camera"},
	"Video Post-Production": {"Editor", "Assistant Editor"},
}

// Default person role and group (Podcasting 2.0 person tag: a missing attribute means these).
const (
	DefaultRole  = "host"
	DefaultGroup = "cast"
)

// RoleGroup returns the taxonomy group that has role (case-insensitive) in its canonical
// spelling, preferring Cast, then Writing (a role such as "Editor" is in two groups); ok is
// false when no group has it. It lets `--person NAME:ROLE` fill in the group.
func RoleGroup(role string) (group string, ok bool) {
	role = strings.TrimSpace(role)
	for _, g := range []string{"Cast", "Writing"} {
		if hasFold(PersonRoles[g], role) {
			return g, true
		}
	}
	for _, g := range sortedKeys(PersonRoles) {
		if hasFold(PersonRoles[g], role) {
			return g, true
		}
	}
	return "", false
}

// CheckPersonRole checks a podcast:person's role and group against the taxonomy (both
// case-insensitive; empty means the defaults, host and cast). The error says what to use.
func CheckPersonRole(group, role string) error {
	if role == "" {
		role = DefaultRole
	}
	if group == "" {
		group = DefaultGroup
	}
	g, ok := lookupFold(PersonRoles, group)
	if !ok {
		return fmt.Errorf("group %q is not in the Podcasting 2.0 person taxonomy (use one of: %s)", group, strings.Join(sortedKeys(PersonRoles), ", "))
	}
	if !hasFold(PersonRoles[g], role) {
		if other, ok := RoleGroup(role); ok {
			return fmt.Errorf("role %q belongs to group %q, not %q (set group: %s)", role, other, g, strings.ToLower(other))
		}
		return fmt.Errorf("role %q is not in group %q of the Podcasting 2.0 person taxonomy (use one of: %s)", role, g, strings.Join(PersonRoles[g], ", "))
	}
	return nil
}

func hasFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func lookupFold(m map[string][]string, key string) (string, bool) {
	for k := range m {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
