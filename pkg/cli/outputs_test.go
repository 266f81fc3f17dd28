package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
)

// outputsFixture is a work folder with a sealed session, audio files and links into both, as
// the output tests need. Links live under links/, which TreeHash leaves out (it cannot hash a link
// to a folder); everything else is hashed.
type outputsFixture struct {
	root, sess, other, mp3, wav, art string
}

func newOutputsFixture(t *testing.T) *outputsFixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &outputsFixture{root: root, sess: filepath.Join(root, "town-hall"), other: filepath.Join(root, "other-room"),
		mp3: filepath.Join(root, "in.mp3"), wav: filepath.Join(root, "in.wav"), art: filepath.Join(root, "cover.png")}
	for _, s := range []string{f.sess, f.other} {
		if err := os.CopyFS(s, os.DirFS(demoSession)); err != nil {
			t.Fatal(err)
		}
		if err := session.Seal(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	toneMP3(t, f.mp3, 3, 440)
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=f=330:d=2:sample_rate=48000", "-c:a", "pcm_s16le", f.wav)
	testArtwork(t, f.art, 1400, 1400)
	links := filepath.Join(root, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ name, target string }{
		{"tracks", filepath.Join(f.sess, "tracks")}, // a link to a folder inside the session
		{"sess", f.sess},  // a link to the session
		{"in.mp3", f.mp3}, // a link to an input file
		{"new.mp3", filepath.Join(f.sess, "new.mp3")}, // a dangling link into the session
	} {
		if err := os.Symlink(l.target, filepath.Join(links, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []struct{ name, target string }{
		{"hard.mp3", f.mp3},
		{"hard-track.opus", filepath.Join(f.sess, "tracks", "ada-1.opus")},
	} {
		if err := os.Link(l.target, filepath.Join(links, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *outputsFixture) tree(t *testing.T) map[string]string {
	return testutil.TreeHash(t, f.root, func(rel string) bool { return rel == "links" })
}

// TestOutputsNeverOverwriteInputs runs every command that writes a file or folder with its output
// pointed at what it reads or into a recorded session, spelt every way a path can reach there.
// Each is refused with exit status 2, naming the flag, before anything is written: the whole
// work folder is byte-identical afterwards and the session still verifies. A raw recording, its
// export or a private key is refused inside a podcast site too: the site is uploaded as it is. On the old code mix,
// trim, export, keygen, feed init, record and demo wrote into the session with exit 0, and
// clip's same-file refusal was exit 3 and missed a FILE@OFFSET input.
func TestOutputsNeverOverwriteInputs(t *testing.T) {
	f := newOutputsFixture(t)
	t.Chdir(f.root)
	site := newTestSite(t)
	inside := filepath.Join(f.other, "site") // a site someone moved into a session folder
	if err := os.Rename(site, inside); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(newTestSite(t), filepath.Join(f.root, "pub")); err != nil { // a site, uploaded as it is
		t.Fatal(err)
	}
	mustRun(t, "clip", f.mp3, "--start", "0", "--duration", "1s", "-o", filepath.Join(f.root, "episode.mp3"))
	before := f.tree(t)

	ini := func(dir string, extra ...string) []string { return append(initArgs(dir, ""), extra...) }
	clip := func(in, out string) []string {
		return []string{"clip", in, "--start", "0", "--duration", "1s", "-o", out}
	}
	tests := []struct {
		args []string
		flag string
		why  string
	}{
		{[]string{"mix", "town-hall", "-o", "town-hall/tracks/ada-1.opus"}, "-o", "mix over a track of the session it reads"},
		{[]string{"mix", "town-hall", "-o", "town-hall/new.mp3"}, "-o", "mix to a new file inside the session it reads"},
		{[]string{"mix", "town-hall", "-o", "town-hall/../town-hall/mix.mp3"}, "-o", "the same, spelt with .."},
		{[]string{"mix", "town-hall", "-o", "links/tracks/new.mp3"}, "-o", "through a link to a folder inside the session"},
		{[]string{"mix", "links/sess", "-o", "town-hall/new.mp3"}, "-o", "the session given through a link, the output by its own name"},
		{[]string{"mix", "town-hall", "-o", "links/new.mp3"}, "-o", "through a dangling link whose target is in the session"},
		{[]string{"mix", "town-hall", "-o", "links/hard-track.opus"}, "-o", "a hard link to a track of the session"},
		{[]string{"mix", "town-hall", "-o", "town-hall"}, "-o", "the session folder itself"},
		{[]string{"mix", "in.wav@1", "-o", "in.wav"}, "-o", "an input given as FILE@OFFSET"},
		{[]string{"mix", "in.wav", "--artwork", "cover.png", "-o", "cover.png"}, "-o", "the artwork is an input too"},
		{[]string{"mix", "in.wav", "-o", "other-room/mix.mp3"}, "-o", "mix into a session it does not read"},
		{clip("in.mp3", "in.mp3"), "-o", "clip over its input"},
		{clip("in.mp3", "./links/../in.mp3"), "-o", "clip over its input, spelt differently"},
		{clip("in.mp3", "links/in.mp3"), "-o", "clip to a link to its input"},
		{clip("in.mp3", "links/hard.mp3"), "-o", "clip to a hard link of its input"},
		{clip("town-hall", "town-hall/mix.opus"), "-o", "clip a session into its live mix's name"},
		{clip("town-hall/tracks/ada-1.opus", "town-hall/tracks/ada-1.opus"), "-o", "clip a track over itself"},
		{clip("in.mp3", "other-room/tracks/x.opus"), "-o", "clip a file into a session's tracks"},
		{[]string{"trim", "town-hall", "--cut", "0-1", "-o", "town-hall/mix.opus"}, "-o", "trim a session into its own folder"},
		{[]string{"trim", "in.mp3", "--cut", "0-1", "-o", "links/hard.mp3"}, "-o", "trim to a hard link of its input"},
		{[]string{"export", "town-hall", "-o", "town-hall/manifest.json"}, "-o", "export over the session's manifest"},
		{[]string{"export", "town-hall", "-o", "links/sess/town-hall.tar"}, "-o", "export into the session through a link"},
		{[]string{"export", "town-hall", "-o", "other-room/town-hall.tar"}, "-o", "export into another session"},
		{[]string{"keygen", "-o", "town-hall/sign.key"}, "-o", "a key into a session"},
		{[]string{"record", "http://127.0.0.1:9/whep/x", "--consent", "assume", "-o", "town-hall/again"}, "-o", "record a new session inside another"},
		{[]string{"record", "http://127.0.0.1:9/whep/x", "--consent", "assume", "-o", "links/tracks/again"}, "-o", "the same through a link"},
		{[]string{"demo", "-o", "town-hall"}, "-o", "demo into a session (it would delete town-hall/session and town-hall/site)"},
		{[]string{"demo", "-o", "links/tracks/demo"}, "-o", "demo into a session through a link"},
		{ini("town-hall/site"), "SITE", "feed init inside a session"},
		{ini("links/sess", "--into-existing"), "SITE", "feed init into a session through a link, even with --into-existing"},
		{[]string{"feed", "build", "other-room/site"}, "SITE", "feed build of a site inside a session"},
		{[]string{"publish", "other-room/site", "in.mp3", "--title", "T"}, "SITE", "publish into a site inside a session"},
		{[]string{"publish", "other-room/site", "town-hall", "--title", "T"}, "SITE", "publish a session into a site inside another"},
		{[]string{"unpublish", "other-room/site", "some-episode"}, "SITE", "unpublish from a site inside a session"},
		{[]string{"record", "http://127.0.0.1:9/whep/x", "--consent", "assume", "-o", "pub/raw"}, "-o", "a raw recording into a web root would be published"},
		{[]string{"export", "town-hall", "-o", "pub/episodes/town-hall.tar"}, "-o", "an export of a recording into a web root"},
		{[]string{"keygen", "-o", "pub/sign.key"}, "-o", "a private key into a web root"},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, tt.args...)
		t.Logf("%s: %s", tt.why, strings.TrimSpace(stderr))
		if code != ExitUsage {
			t.Errorf("%s: spacecast %s: exit %d, want %d: %s", tt.why, strings.Join(tt.args, " "), code, ExitUsage, stderr)
		}
		if !strings.Contains(stderr, tt.flag+" ") {
			t.Errorf("%s: the message does not name %s: %s", tt.why, tt.flag, stderr)
		}
	}
	testutil.SameTree(t, "after every refused command", before, f.tree(t))
	// other-room holds the site moved in after it was sealed; its tree is compared above.
	if _, stderr, code := run(t, "verify", "town-hall"); code != 0 {
		t.Errorf("verify town-hall after the refused commands: exit %d: %s", code, stderr)
	}

	// What is not refused: an output beside the session, and a folder whose manifest.json is a
	// web app's, not a session's.
	webapp := filepath.Join(f.root, "webapp")
	if err := os.Mkdir(webapp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(webapp, "manifest.json"), []byte(`{"name":"app","icons":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, clip("in.mp3", "webapp/clip.mp3")...)
	mustRun(t, clip("town-hall/tracks/ada-1.opus", "ada-clip.mp3")...)
}

// TestFeedInitFolders: feed init makes a site only where it replaces nothing. Every refused case
// leaves the folder byte-identical; --into-existing adds a site beside other files but never over
// a site's own files, above all never over episodes.json. On the old code every refused case but
// the podcast.yaml one was written over with exit 0.
func TestFeedInitFolders(t *testing.T) {
	art := filepath.Join(t.TempDir(), "cover.png")
	testArtwork(t, art, 1400, 1400)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	toneMP3(t, mp3, 2, 440)
	lost := newTestSite(t) // a site with an episode whose podcast.yaml was lost
	mustRun(t, "publish", lost, mp3, "--title", "Episode 1")
	if err := os.Remove(filepath.Join(lost, "podcast.yaml")); err != nil {
		t.Fatal(err)
	}
	folder := func(files ...string) string {
		dir := filepath.Join(t.TempDir(), "site")
		for _, f := range files {
			p := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("the user's "+f+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	withSession := func(dir string) string {
		if err := os.CopyFS(filepath.Join(dir, "rec", "2025", "town-hall"), os.DirFS(demoSession)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	refused := []struct {
		dir   string
		extra []string
		want  []string
		why   string
	}{
		{lost, nil, []string{"episodes.json", "feed build"}, "a site that lost its podcast.yaml"},
		{lost, []string{"--into-existing"}, []string{"episodes.json", "feed build"}, "the same with --into-existing: episodes.json is never replaced"},
		{folder("index.html"), nil, []string{"index.html"}, "another web root"},
		{folder("index.html", "about.html"), []string{"--into-existing"}, []string{"index.html"}, "another web root with --into-existing: its index.html would be replaced"},
		{folder("feed.xml"), []string{"--into-existing"}, []string{"feed.xml"}, "a stray feed.xml"},
		{folder("assets/logo.svg"), []string{"--into-existing"}, []string{"assets"}, "an assets folder the page's assets would land in"},
		{folder("artwork.png"), []string{"--into-existing"}, []string{"artwork.png"}, "an artwork.png the show's artwork would replace"},
		{folder("notes.txt"), nil, []string{"notes.txt", "--into-existing"}, "a folder with other files: the flag is named"},
		{withSession(folder("notes.txt")), []string{"--into-existing"}, []string{"recorded session", "rec/2025/town-hall"}, "a folder holding a recording, which the site's upload would publish"},
	}
	for _, tt := range refused {
		before := testutil.TreeHash(t, tt.dir, nil)
		_, stderr, code := run(t, append(initArgs(tt.dir, art), tt.extra...)...)
		t.Logf("%s: %s", tt.why, strings.TrimSpace(stderr))
		if code != ExitBadInput {
			t.Errorf("%s: exit %d, want %d: %s", tt.why, code, ExitBadInput, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: the message does not mention %q: %s", tt.why, w, stderr)
			}
		}
		testutil.SameTree(t, tt.why, before, testutil.TreeHash(t, tt.dir, nil))
	}

	made := []struct {
		dir   string
		extra []string
		keep  []string
		why   string
	}{
		{filepath.Join(t.TempDir(), "new"), nil, nil, "a folder that does not exist"},
		{folder(), nil, nil, "an empty folder"},
		{folder(".git/HEAD", ".gitignore", "README.md", "LICENSE", "CNAME"), nil, []string{".git/HEAD", "README.md", "LICENSE", "CNAME"}, "a new repository's furniture does not count"},
		{folder("notes.txt", "sub/page.html"), []string{"--into-existing"}, []string{"notes.txt", "sub/page.html"}, "other files with --into-existing stay as they were"},
	}
	for _, tt := range made {
		if _, stderr, code := run(t, append(initArgs(tt.dir, art), tt.extra...)...); code != 0 {
			t.Errorf("%s: exit %d: %s", tt.why, code, stderr)
			continue
		}
		if _, err := os.Stat(filepath.Join(tt.dir, "podcast.yaml")); err != nil {
			t.Errorf("%s: no podcast.yaml: %v", tt.why, err)
		}
		for _, k := range tt.keep {
			if b, err := os.ReadFile(filepath.Join(tt.dir, k)); err != nil || string(b) != "the user's "+k+"\n" {
				t.Errorf("%s: %s changed: %q, %v", tt.why, k, b, err)
			}
		}
		feedClean(t, tt.dir)
	}
}

// TestSiteCommandsOnAFolderThatIsNoSite: feed build, publish and unpublish on a folder without
// podcast.yaml refuse with exit 3 and leave it as it was. The old feed build left its lock file
// (.spacecast.lock) behind in the folder.
func TestSiteCommandsOnAFolderThatIsNoSite(t *testing.T) {
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	toneMP3(t, mp3, 2, 440)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testutil.TreeHash(t, dir, nil)
	for _, args := range [][]string{
		{"feed", "build", dir},
		{"publish", dir, mp3, "--title", "T"},
		{"unpublish", dir, "t"},
	} {
		_, stderr, code := run(t, args...)
		if code != ExitBadInput || !strings.Contains(stderr, "podcast.yaml") {
			t.Errorf("spacecast %s: exit %d, want %d and a word on podcast.yaml: %s", strings.Join(args, " "), code, ExitBadInput, stderr)
		}
		testutil.SameTree(t, strings.Join(args[:len(args)-1], " "), before, testutil.TreeHash(t, dir, nil))
	}
}

// TestDemoFolder: demo deletes DIR/session and DIR/site on every run, so it refuses a DIR holding
// anything it did not make (exit 2, untouched); an earlier demo's folder, marked or from before
// the marker, is its own. The old demo deleted a user's session/ and site/ in any DIR.
func TestDemoFolder(t *testing.T) {
	user := t.TempDir()
	for _, p := range []string{"session/manifest.json", "site/podcast.yaml", "site/episodes.json"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(user, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(user, p), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := testutil.TreeHash(t, user, nil)
	_, stderr, code := run(t, "demo", "-o", user, "--length", "20s")
	if code != ExitUsage || !strings.Contains(stderr, "-o "+user) {
		t.Errorf("demo into a user's folder: exit %d, want %d: %s", code, ExitUsage, stderr)
	}
	testutil.SameTree(t, "demo into a user's folder", before, testutil.TreeHash(t, user, nil))

	for _, tt := range []struct {
		files map[string]string
		why   string
	}{
		{map[string]string{".spacecast-demo": "x", "notes.txt": "x"}, "a folder with demo's marker"},
		{map[string]string{"episode.mp3": "x", "site/podcast.yaml": "base_url: " + demoBaseURL}, "an earlier demo's folder from before the marker"},
		{nil, "an empty folder"},
	} {
		dir := t.TempDir()
		for p, c := range tt.files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := checkDemoFolder(dir); err != nil {
			t.Errorf("%s: refused: %v", tt.why, err)
		}
	}
}
