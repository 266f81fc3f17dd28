#!/usr/bin/env python3
"""Regenerates the bundled demo session (testdata/demo/session) from text.

Speech comes from espeak-ng, levels and timing from sox, Ogg Opus from opusenc: development-time tools
only, used to make fixed test data. spacecast itself never runs them. The output is committed, so a fresh
clone needs none of them. Run from this folder: python3 make.py
"""
import json, os, subprocess, tempfile

RATE = 48000
# (speaker, text). Turns overlap where start is negative: the turn begins before the previous one ends.
SPEAKERS = {
    "ada":   {"name": "Ada (host)", "voice": "en-us+f3", "pitch": 55, "gain_db": 0},
    "brook": {"name": "Brook",      "voice": "en-gb+m3", "pitch": 40, "gain_db": -9},   # a quiet microphone
    "cyd":   {"name": "Cyd",        "voice": "en-us+m1", "pitch": 30, "gain_db": -3},
}
SCRIPT = [
    ("ada", "Welcome to the spacecast demo room. Today we talk about keeping live audio rooms after they end.", 0.6),
    ("brook", "Thanks for having me. Most rooms vanish the moment the host closes them, and that is a pity.", 0.5),
    ("ada", "Exactly. So we record every speaker on their own track, losslessly, and the mix as well.", -0.4),
    ("brook", "And the recording is announced, so everyone in the room knows it is happening.", 0.7),
    ("ada", "Consent is part of the product. Let us bring in our next guest, who just joined the stage.", 0.8),
    ("cyd", "Hello everyone, sorry I am late. My train was stuck outside the station for twenty minutes.", 0.5),
    ("ada", "No problem at all. You arrived right on time for the interesting part.", 0.4),
    ("cyd", "Clips are what I care about. A thirty second clip is what people actually share.", 0.6),
    ("brook", "I have to step away for a moment, my doorbell is ringing. Back in a minute.", -0.3),
    ("cyd", "Clips must be exact to the millisecond, or the first word is cut in half.", 0.6),
    ("ada", "And the loudness must be right. Podcast apps expect minus sixteen L U F S.", 0.5),
    ("cyd", "Uneven microphones are the main flaw of room audio, so speakers are levelled first.", 0.6),
    ("ada", "Chapters come from who is talking. Each long stretch led by one speaker becomes a chapter.", 2.5),
    ("brook", "I am back. Did I miss anything important while I was gone?", 0.5),
    ("cyd", "Only the part about chapters, and loudness, and clips. The good stuff.", -0.3),
    ("ada", "We will trim the doorbell out later. Trimming keeps the chapters in place.", 0.6),
    ("brook", "Then the episode is published with a feed that every podcast app can read.", 0.6),
    ("cyd", "And the raw recordings are pruned after thirty days, as promised.", 0.5),
    ("ada", "That is all for today. Thank you both, and thank you all for listening.", 0.5),
    ("brook", "Goodbye everyone.", 0.3),
    ("cyd", "Bye, see you next week.", 1.0),
]
# Brook leaves after the doorbell line and comes back for "I am back": a second track with a new SSRC.

def run(*args):
    subprocess.run(args, check=True)

def main():
    out = "session"
    os.makedirs(os.path.join(out, "tracks"), exist_ok=True)
    tmp = tempfile.mkdtemp()
    t = 0.0
    placed = []  # (speaker, start_s, wav, length_s)
    for i, (spk, text, after) in enumerate(SCRIPT):
        v = SPEAKERS[spk]
        raw = os.path.join(tmp, f"{i}-raw.wav")
        wav = os.path.join(tmp, f"{i}.wav")
        run("espeak-ng", "-v", v["voice"], "-p", str(v["pitch"]), "-s", "165", "-w", raw, text)
        run("sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", wav, "gain", str(v["gain_db"] - 3))
        length = float(subprocess.run(["soxi", "-D", wav], check=True, capture_output=True, text=True).stdout)
        placed.append((spk, t, wav, length))
        t += length + after
    total = max(s + l for _, s, _, l in placed) + 0.5
    # Tracks: one per speaker, except Brook's second stint (a republish: new track, new SSRC).
    stints = {"ada-1": [], "brook-1": [], "brook-2": [], "cyd-1": []}
    for spk, s, wav, l in placed:
        key = f"{spk}-1"
        if spk == "brook" and s > placed[9][1]:
            key = "brook-2"
        stints[key].append((s, wav, l))
    tracks, participants = [], {}
    ssrc = 1000
    for key, turns in stints.items():
        spk = key.split("-")[0]
        first = turns[0][0] - 0.25 if key != "ada-1" else 0.0
        last = turns[-1][0] + turns[-1][2] + 0.25
        # The track's audio: silence between turns, as a receiver hears an open microphone.
        pieces, cursor = [], first
        for s, wav, l in turns:
            pieces.append(("sil", s - cursor))
            pieces.append(("wav", wav))
            cursor = s + l
        pieces.append(("sil", last - cursor))
        # The host mutes during her longest pause: her file holds 1 s of it and the timeline jumps
        # over the rest (no packets while muted), exercising a second timeline anchor.
        timeline = [{"media_sample": 0, "session_ticks": round(first * RATE)}]
        if key == "ada-1":
            i = max(range(len(pieces)), key=lambda j: pieces[j][1] if pieces[j][0] == "sil" else -1)
            media_before = sum(round(v * RATE) if k == "sil" else round(float(subprocess.run(["soxi", "-D", v], check=True, capture_output=True, text=True).stdout) * RATE) for k, v in pieces[:i])
            skipped = pieces[i][1] - 1.0
            session_at = round(first * RATE) + media_before + round(0.5 * RATE) + round(skipped * RATE)
            pieces[i:i+1] = [("sil", 0.5), ("cut", None), ("sil", 0.5)]
            timeline.append({"media_sample": media_before + round(0.5 * RATE), "session_ticks": session_at})
        args = []
        for kind, val in pieces:
            if kind == "cut":
                continue
            if kind == "sil":
                p = os.path.join(tmp, f"sil-{len(args)}.wav")
                run("sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", p, "trim", "0", f"{max(val, 0):.6f}")
                args.append(p)
            else:
                args.append(val)
        joined = os.path.join(tmp, f"{key}.wav")
        run("sox", *args, joined)
        opus = os.path.join(out, "tracks", f"{key}.opus")
        run("opusenc", "--quiet", "--bitrate", "32", "--comp", "10", joined, opus)
        samples = int(subprocess.run(["soxi", "-s", joined], check=True, capture_output=True, text=True).stdout)
        start_ticks = round(first * RATE)
        tracks.append({
            "id": key, "participant": spk, "file": f"tracks/{key}.opus", "codec": "opus", "channels": 1,
            "ssrcs": [ssrc], "timeline": timeline, "samples": samples,
        })
        ssrc += 1
        p = participants.setdefault(spk, {"identity": spk, "name": SPEAKERS[spk]["name"], "presence": []})
        end_ticks = timeline[-1]["session_ticks"] + samples - timeline[-1]["media_sample"]
        p["presence"].append({"start_ticks": start_ticks, "end_ticks": end_ticks})
    manifest = {
        "format": "spacecast-session", "version": 1,
        "id": "6f1f3f5e-7a4c-4c1e-9a53-0d5d2b1c9e01",
        "room": {"name": "spacecast demo room", "protocol": "files"},
        "started_at": "2026-11-20T18:00:00Z", "ended_at": "2026-11-20T18:%02d:%02dZ" % divmod(int(total), 60),
        "finalized": True, "clock_rate": RATE, "duration_ticks": round(total * RATE),
        "participants": list(participants.values()), "tracks": tracks,
        "gaps": [],
        "soundbites": [{"start_ticks": 40 * RATE, "duration_ticks": 20 * RATE, "title": "Clips must be exact"}],
        "meta": {"title": "Keeping live rooms", "generated_by": "testdata/demo/make.py"},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"session: {total:.1f} s, {len(tracks)} tracks")

if __name__ == "__main__":
    main()
