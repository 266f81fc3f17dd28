package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/cli/ui"
	"github.com/spacecast/spacecast/pkg/demo"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/studio"
)

type demoOptions struct {
	output string
	length time.Duration
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [-o DIR]",
		Short: "Record an embedded live room, then mix, clip, trim, inspect and publish it",
		Long: `Demo starts a live room inside this process, on 127.0.0.1 only: a WHEP endpoint where three
synthetic speakers (speech from the bundled demo session) talk at real time as Opus over WebRTC,
with overlapping turns, one joining late, one leaving and coming back and the host muting for a
while. It records the room through the same WebRTC path and capture engine as 'spacecast record'
into DIR/session, then runs the studio on the recording: mix to a levelled, loudness-normalised
MP3 with chapters, an exact clip and a lossless one, a lossless trim, and inspect. Then it
publishes the episode (its speakers as podcast:person, its chapters, the clip's stretch as a
soundbite) and the clip as a trailer to a podcast site in DIR/site: feed.xml, index.html with a
player each, artwork drawn in code. It prints what it made and the commands to look at it.

Each run replaces DIR/session and DIR/site, so DIR must be new, empty, or an earlier demo's (it
leaves a .spacecast-demo marker there); any other folder is refused and left as it is.

It needs nothing but this binary: no server, no root, no network beyond loopback, no ffmpeg.
The room lasts --length (default 60 s; 0 plays the whole 110 s session).`,
		Example: `  spacecast demo
  spacecast demo -o /tmp/spacecast-demo --length 0`,
		Args: exactArgs("demo", 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd, o, g)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "spacecast-demo", "folder to write the demo into")
	cmd.Flags().DurationVar(&o.length, "length", 60*time.Second, "how long the live room runs (0: the whole session, about 110 s)")
	return cmd
}

func runDemo(cmd *cobra.Command, o *demoOptions, g *globalOptions) error {
	ctx := cmd.Context()
	if o.length < 0 || (o.length > 0 && o.length < 20*time.Second) {
		return usageErr("demo: --length %s: give 20s or more (or 0 for the whole session)", o.length)
	}
	out := o.output
	if err := checkDemoFolder(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return inputErr(fmt.Errorf("demo: -o %s: %w", out, err))
	}
	if err := os.WriteFile(filepath.Join(out, demoMarker), []byte("made by 'spacecast demo', which replaces this folder's session/ and site/ on every run\n"), 0o644); err != nil {
		return inputErr(fmt.Errorf("demo: -o %s: %w", out, err))
	}
	sess := filepath.Join(out, "session")
	if err := os.RemoveAll(sess); err != nil {
		return err
	}
	w := g.stdout
	step := func(format string, a ...any) {
		if !g.json {
			fmt.Fprintf(w, format, a...)
		}
	}
	sub, err := fs.Sub(spacecast.DemoSession, "testdata/demo/session")
	if err != nil {
		return err
	}
	rec, speakers, err := recordDemoRoom(ctx, g, sub, sess, o.length, step)
	if err != nil {
		return err
	}
	step("0. recorded the live room into %s: %s, %d tracks (%s)\n", sess, rec.Elapsed.Truncate(time.Second), len(rec.Tracks), strings.Join(speakers, ", "))
	for _, t := range rec.Tracks {
		step("     %-4s %-8s %5d packets, %d lost\n", term(t.ID), term(t.Identity), t.Received, t.Lost)
	}
	step("\n")

	prog := newProgress(g, "demo")
	defer prog.Finish()
	episode := filepath.Join(out, "episode.mp3")
	mo := studio.DefaultMixOptions()
	mo.Inputs, mo.Output, mo.MinChapter = []string{sess}, episode, 20*time.Second
	mo.Tag.Title, mo.Tag.Artist, mo.Tag.Album = "Keeping live rooms", "spacecast demo", "spacecast"
	mix, err := studio.Mix(ctx, mo, prog)
	if err != nil {
		return studioErr("demo: mix", err)
	}
	prog.Finish()
	step("1. mixed %d speakers into %s: %s, %.1f LUFS, %.1f dBTP, %s\n", len(mix.Speakers), episode,
		edit.FormatTime(mix.Duration), mix.LoudnessLUFS, mix.TruePeakDBTP, count(len(mix.Chapters), "chapter"))
	for _, s := range mix.Speakers {
		step("     %-12s talks %s, levelled %+.1f dB\n", term(s.Name), edit.FormatTime(s.Talk), s.LevelGainDB)
	}

	clip := filepath.Join(out, "clip.mp3")
	length := mix.Duration
	co := studio.ClipOptions{Input: episode, Output: clip, Start: (length * 2 / 5).Truncate(time.Second),
		Duration: min(20*time.Second, length/4).Truncate(time.Second), Fade: 10 * time.Millisecond}
	cr, err := studio.Clip(ctx, co, prog)
	if err != nil {
		return studioErr("demo: clip", err)
	}
	prog.Finish()
	step("2. cut an exact clip %s-%s into %s\n", edit.FormatTime(cr.Start), edit.FormatTime(cr.End), clip)

	copyClip := filepath.Join(out, "clip-copy.mp3")
	co.Output, co.Copy, co.Fade = copyClip, true, 0
	if _, err := studio.Clip(ctx, co, prog); err != nil {
		return studioErr("demo: clip --copy", err)
	}
	step("3. cut the same clip losslessly (no re-encode) into %s\n", copyClip)

	trimmed := filepath.Join(out, "episode-trimmed.mp3")
	tr, err := studio.Trim(ctx, studio.TrimOptions{Input: episode, Output: trimmed,
		Cuts: []edit.Range{{Start: 0, End: 3 * time.Second}}}, prog)
	if err != nil {
		return studioErr("demo: trim", err)
	}
	prog.Finish()
	step("4. trimmed the first 3 s losslessly into %s (%s, chapters moved with it)\n", trimmed, edit.FormatTime(tr.Duration))

	rep, err := studio.Inspect(ctx, episode, prog)
	if err != nil {
		return studioErr("demo: inspect", err)
	}
	prog.Finish()
	step("5. inspected %s: %.3f s, %.1f LUFS, true peak %.1f dBTP, LRA %.1f LU\n", episode, rep.Duration.Seconds(), rep.LoudnessLUFS, rep.TruePeakDBTP, rep.LoudnessRangeLU)

	siteDir := filepath.Join(out, "site")
	pub, err := publishDemo(ctx, siteDir, episode, clip, cr)
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(w, map[string]any{"session": sess, "recording": rec, "mix": mix, "clip": cr, "clip_copy": copyClip, "trim": tr, "inspect": rep,
			"site": map[string]any{"folder": siteDir, "feed": filepath.Join(siteDir, site.FeedName), "page": filepath.Join(siteDir, site.PageName), "episodes": pub}})
	}
	step("6. published both to a podcast site in %s: feed.xml and index.html with\n", siteDir)
	for _, r := range pub {
		ep := r.Episode
		step("     %-8s %s (%s): %s, %s, %s\n", ep.Type, site.EpisodesDir+"/"+ep.Audio.File, edit.FormatTime(ep.Audio.Duration),
			count(len(ep.Persons), "person"), count(len(ep.Chapters), "chapter"), count(len(ep.Soundbites), "soundbite"))
	}
	step("\nLook at it:\n  spacecast inspect %s\n  spacecast inspect %s\n  ffplay %s   (or any player)\n  ffplay %s   (the live mix, as recorded)\n", sess, episode, clip, filepath.Join(sess, "mix.opus"))
	step("  python3 -m http.server -d %s -b 127.0.0.1 8000   then open http://127.0.0.1:8000/ (the page and its players)\n", siteDir)
	step("  spacecast feed check %s   (the feed against Apple's and PSP-1's requirements)\n", siteDir)
	step("To put the site online, set base_url in %s to where you upload the folder, then 'spacecast feed build %s'.\n", filepath.Join(siteDir, site.ShowName), siteDir)
	return nil
}

// demoMarker is the file demo leaves in its folder, so that a later run knows the folder is its
// own and may replace its session/ and site/.
const demoMarker = ".spacecast-demo"

// demoOutputs are the names demo writes into its folder.
var demoOutputs = []string{demoMarker, "session", "site", "episode.mp3", "clip.mp3", "clip-copy.mp3", "episode-trimmed.mp3"}

// checkDemoFolder refuses a -o DIR that demo must not write into: one inside a recorded session,
// or one holding files demo did not make (demo deletes DIR/session and DIR/site on every run,
// which in a user's folder may be a real recording and a real podcast site). DIR may be new,
// empty, or an earlier demo's: it has demo's marker, or (made before the marker existed) only
// demo's names and the demo site's podcast.yaml.
func checkDemoFolder(out string) error {
	if err := checkOutput("demo", "-o", out); err != nil {
		return err
	}
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return inputErr(fmt.Errorf("demo: -o %s: %w", out, err))
	}
	if _, err := os.Stat(filepath.Join(out, demoMarker)); err == nil {
		return nil
	}
	var names []string
	foreign := false
	for _, e := range entries {
		names = append(names, e.Name())
		foreign = foreign || !slices.Contains(demoOutputs, e.Name())
	}
	if !foreign {
		if b, err := os.ReadFile(filepath.Join(out, "site", site.ShowName)); err == nil && strings.Contains(string(b), demoBaseURL) {
			return nil // an earlier demo's folder
		}
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(entries)-5))
	}
	return usageErr("demo: -o %s already holds files demo did not make (%s): demo replaces DIR/session and DIR/site on every run, so it writes only into a new or empty folder, or one an earlier demo made (choose another -o)",
		out, strings.Join(names, ", "))
}

// demoBaseURL is where the demo site says it is served; feed.xml needs absolute https URLs, and
// the page links relatively, so the site also works from a local http server.
const demoBaseURL = "https://podcast.example.com/spacecast-demo"

// demoNotes are the demo episode's show notes, Markdown as a publisher writes them.
const demoNotes = `Three speakers in a live room, recorded by [spacecast](https://github.com/spacecast/spacecast)
as a visible participant, then mixed, levelled and loudness-normalised.

- **Ada** hosts; **Brook** leaves and comes back; **Cyd** joins late.
- The soundbite is the same stretch as the demo's clip.
`

// publishDemo makes the demo's podcast site: feed init with artwork drawn in code, then the episode
// (its speakers, chapters and the clip's stretch as a soundbite) and the clip as a trailer.
func publishDemo(ctx context.Context, dir, episode, clip string, cr *studio.ClipResult) ([]*site.Result, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	art, err := demo.Artwork()
	if err != nil {
		return nil, err
	}
	artFile, err := os.CreateTemp("", "spacecast-demo-*.png")
	if err != nil {
		return nil, err
	}
	defer os.Remove(artFile.Name())
	if _, err := artFile.Write(art); err != nil {
		return nil, errors.Join(err, artFile.Close())
	}
	if err := artFile.Close(); err != nil {
		return nil, err
	}
	show := &feed.Show{
		Title: "spacecast demo", Description: "Live audio rooms kept after they end: a room recorded, mixed and published by spacecast demo.",
		BaseURL: demoBaseURL, Author: "spacecast", Language: "en", Categories: []string{"Technology"},
		Owner: feed.Owner{Name: "spacecast", Email: "demo@example.com"}, Type: "episodic", Locked: true,
		Persons: []feed.Person{{Name: "Ada", Role: "host"}},
	}
	if _, err := site.Init(ctx, dir, show, artFile.Name(), site.Options{}); err != nil {
		return nil, fmt.Errorf("demo: feed init: %w", err)
	}
	ep, err := site.Publish(ctx, dir, site.EpisodeInput{
		Set: site.FieldSoundbites | site.FieldSeason | site.FieldNumber, Audio: episode, Title: "Keeping live rooms",
		Notes: []byte(demoNotes), NotesName: "demo notes", Season: 1, Number: 1, Type: "full",
		Soundbites: []feed.Soundbite{{Start: cr.Start, Duration: cr.Duration, Title: "The clip"}},
	}, site.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: publish %s: %w", episode, err)
	}
	trailer, err := site.Publish(ctx, dir, site.EpisodeInput{
		Audio: clip, Title: "Keeping live rooms: a taste", Type: "trailer",
		Description: fmt.Sprintf("%s of the demo room, cut exactly.", edit.FormatTime(cr.Duration)),
	}, site.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: publish %s: %w", clip, err)
	}
	return []*site.Result{ep, trailer}, nil
}

// recordDemoRoom starts the embedded room and records it, like 'spacecast record', until the room
// ends. It returns the recording's stats and the speakers' names.
func recordDemoRoom(ctx context.Context, g *globalOptions, sess fs.FS, dir string, length time.Duration, step func(string, ...any)) (capture.Stats, []string, error) {
	room, err := demo.StartRoom(ctx, demo.RoomOptions{Session: sess, Length: length})
	if err != nil {
		return capture.Stats{}, nil, fmt.Errorf("demo: start the room: %w", err)
	}
	defer room.Close()
	step("started a live room at %s (WHEP on loopback), %s long; recording it…\n", room.URL(), room.Length().Truncate(time.Second))
	// The room's events are progress here: --json prints the final report only.
	var p ui.RecordPrinter = ui.NewText(g.stdout, g.stderr, g.isTerminal)
	if g.json || g.quiet {
		p = ui.Quiet{}
	}
	var (
		names []string
		known []capture.Participant // WHEP has no participant list: the room says who speaks
	)
	for _, sp := range room.Speakers() {
		known = append(known, capture.Participant{Identity: sp.Identity, Name: sp.Name})
		names = append(names, sp.Name)
	}
	show := ui.Observe(p, warning("demo"))
	rec, err := record.Start(ctx, record.Options{
		URL: room.URL(), Protocol: protocols.WHEP, Dial: protocols.DialOptions{RTC: rtc.Options{Loopback: true}},
		Dir: dir, RoomName: "spacecast demo", Participants: known,
		Observer: record.ObserverFunc(func(e record.Event) {
			if e.Kind != record.KindJoined { // the steps say where the session goes
				show.Event(e)
			}
		}),
	})
	if err != nil {
		return capture.Stats{}, nil, fmt.Errorf("demo: %w", err) // the error table words a *record.JoinError
	}
	// The room ends by saying goodbye (RTCP BYE after its last packets), on which the recording
	// stops as 'the room closed', having read everything the room sent; Close then drains the
	// jitter buffers and the live mix. Should the goodbye be lost, the recording is stopped
	// when the connection's loss is noticed, or at the latest byeTimeout after the room ended.
	go func() {
		select {
		case <-room.Done():
		case <-rec.Done():
			return
		}
		select {
		case <-time.After(byeTimeout):
			rec.Stop()
		case <-rec.Done():
		}
	}()
	res, err := ui.Show(rec, p)
	if err != nil { // a *record.SealError, *record.FinalizeError or *record.LostError: the error table words it
		return capture.Stats{}, nil, fmt.Errorf("demo: %w", err)
	}
	if ctx.Err() != nil {
		return capture.Stats{}, nil, ctx.Err()
	}
	if err := room.Err(); err != nil {
		return capture.Stats{}, nil, fmt.Errorf("demo: the room: %w", err)
	}
	return res.Stats, names, nil
}

// byeTimeout bounds the wait for the demo room's goodbye once it has ended.
const byeTimeout = 5 * time.Second
