#!/usr/bin/env bash
# bench.sh — spacecast against ffmpeg on the same inputs, in the same run.
#
# Measures the three speed and memory requirements of the studio commands and prints a Markdown
# table (docs/benchmarks.md holds a run of it):
#   1. clip --copy: 30 s from 1:00:00 of a 2-hour 128 kbps MP3, vs ffmpeg -ss/-t -c copy;
#   2. mix: 4 speakers (10-minute WAVs at offsets 0/1/2/3 s) to normalised 96 kbps MP3, vs ffmpeg's
#      two-pass amix+loudnorm, both outputs judged by ffmpeg's ebur128;
#   3. peak RSS of mix on a 3-hour session folder (4 tracks of Ogg Opus), limit 100 MiB.
# Inputs are made from the demo session's speech in a work folder that is reused between runs.
# Each timing is the median of --runs runs; peak RSS comes from GNU time.
#
# Usage: bash scripts/bench.sh [--fresh] [--runs N] [--session-hours H] [--work DIR] [--session-only]
set -euo pipefail

usage() {
	cat <<EOF
usage: bash scripts/bench.sh [--fresh] [--runs N] [--session-hours H] [--work DIR] [--session-only]

  --fresh     delete the work folder's inputs and make them again
  --runs N    runs per timing, the median is reported (default 3)
  --session-hours H  length of the session for the memory test (default 3; 0 skips it)
  --work DIR  work folder (default \${TMPDIR:-/tmp}/spacecast-bench)
  --session-only  make only the session of --session-hours, print its folder and stop (for
                  pkg/studio's BenchmarkMixBucket, see docs/benchmarks.md)

Needs: go, ffmpeg and ffprobe (with libmp3lame and libopus), GNU time at /usr/bin/time.
Writes ~450 MB of inputs to the work folder (made once, reused).
EOF
}

WORK="${TMPDIR:-/tmp}/spacecast-bench"
RUNS=3
HOURS=3
FRESH=0
SESSION_ONLY=0
while [ $# -gt 0 ]; do
	case "$1" in
	--fresh) FRESH=1 ;;
	--session-only) SESSION_ONLY=1 ;;
	--runs)
		RUNS="${2:?--runs needs a number}"
		shift
		;;
	--session-hours)
		HOURS="${2:?--session-hours needs a number}"
		shift
		;;
	--work)
		WORK="${2:?--work needs a folder}"
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "bench: unknown argument $1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done
case "$RUNS" in '' | *[!0-9]* | 0)
	echo "bench: --runs $RUNS is not a positive whole number" >&2
	exit 2
	;;
esac
case "$HOURS" in '' | *[!0-9]*)
	echo "bench: --session-hours $HOURS is not a whole number" >&2
	exit 2
	;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO="$REPO/testdata/demo/session/tracks"

# Targets of the issue.
LUFS=-16
TP=-1
RSS_LIMIT_KIB=$((100 * 1024))

log() { echo "bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# --- prerequisites: say what is missing, install nothing ------------------------------------------
missing=()
command -v go >/dev/null || missing+=("go (https://go.dev/dl/)")
command -v ffmpeg >/dev/null || missing+=("ffmpeg (apt-get install ffmpeg)")
command -v ffprobe >/dev/null || missing+=("ffprobe (apt-get install ffmpeg)")
if [ ! -x /usr/bin/time ] || ! /usr/bin/time --version 2>&1 | grep -q 'GNU'; then
	missing+=("GNU time at /usr/bin/time (apt-get install time)")
fi
command -v awk >/dev/null || missing+=("awk (apt-get install gawk)")
if [ ${#missing[@]} -gt 0 ]; then
	printf 'bench: missing prerequisites:\n' >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null)"
for enc in libmp3lame libopus; do
	grep -q " $enc " <<<"$encoders" || die "ffmpeg lacks the $enc encoder (Debian's ffmpeg has it: apt-get install ffmpeg)"
done
[ -d "$DEMO" ] || die "no demo tracks at $DEMO (run from a spacecast checkout)"

# --- work folder and binary ------------------------------------------------------------------------
if [ "$FRESH" = 1 ]; then
	rm -rf "$WORK/in"
fi
mkdir -p "$WORK/in" "$WORK/out" "$WORK/log"
BIN="$WORK/spacecast"
log "building spacecast into $BIN"
(cd "$REPO" && go build -tags nolibopusfile -o "$BIN.new" ./cmd/spacecast) || die "go build failed"
mv "$BIN.new" "$BIN" # a rename, so a spacecast still running from an earlier run is not disturbed

FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)

# make OUT CMD... runs CMD to produce OUT unless OUT exists; writes to OUT.part then renames.
make_input() {
	local out="$1"
	shift
	[ -s "$out" ] && return 0
	log "making $(basename "$out")"
	local part="${out%.*}.part.${out##*.}"
	"$@" "$part" || die "could not make $out"
	mv "$part" "$out"
}

SPEAKERS=(ada-1 brook-1 cyd-1 brook-2)
if [ "$SESSION_ONLY" = 0 ]; then
	# 1. A 2-hour 128 kbps stereo MP3 of speech: the demo's host looped, encoded by LAME once.
	MP3_2H="$WORK/in/episode-2h.mp3"
	make_input "$MP3_2H" "${FF[@]}" -stream_loop -1 -i "$DEMO/ada-1.opus" -t 7200 \
		-ac 2 -ar 44100 -c:a libmp3lame -b:a 128k

	# 2. Four 10-minute speakers as 48 kHz mono 16-bit WAV, each looped from a different demo track.
	WAVS=()
	for s in "${SPEAKERS[@]}"; do
		w="$WORK/in/$s-10min.wav"
		make_input "$w" "${FF[@]}" -stream_loop -1 -i "$DEMO/$s.opus" -t 600 -ac 1 -ar 48000 -c:a pcm_s16le
		WAVS+=("$w")
	done
fi

# 3. A 3-hour session (--session-hours): the demo tracks looped. The packets are copied (-c copy), so the
# tracks hold the demo's libopus packets as a recorder would, without an hour of re-encoding.
SESSION="$WORK/in/session-${HOURS}h"
SESSION_SECONDS=$((HOURS * 3600))
# samples FILE prints an Ogg Opus file's decoded length: the last granule position less the
# pre-skip (RFC 7845 §4). ffprobe's duration_ts is the former; the pre-skip is read from OpusHead,
# which starts at byte 28 of the file (after a one-segment first page), pre-skip at its byte 10.
samples() {
	local ts preskip
	[ "$(dd if="$1" bs=1 skip=28 count=8 2>/dev/null)" = OpusHead ] || die "$1: no OpusHead at byte 28"
	ts=$(ffprobe -v error -show_entries stream=duration_ts -of default=nw=1:nk=1 "$1")
	preskip=$(od -An -tu2 -j38 -N2 --endian=little "$1" | tr -d ' ')
	echo $((ts - preskip))
}
write_manifest() {
	local rate=48000 samples i=0 parts="" tracks="" end max=0
	for s in "${SPEAKERS[@]}"; do
		samples=$(samples "$SESSION/tracks/$s.opus")
		local who="${s%-*}"
		[ "$s" = brook-2 ] && who=dale # a fourth voice slot: brook's second take
		local start=$((i * rate))      # speakers join at 0, 1, 2, 3 s
		end=$((start + samples))
		[ "$end" -gt "$max" ] && max=$end
		[ -n "$parts" ] && parts+=","
		parts+="{\"identity\":\"$who\",\"name\":\"$who\",\"presence\":[{\"start_ticks\":$start,\"end_ticks\":$end}]}"
		[ -n "$tracks" ] && tracks+=","
		tracks+="{\"id\":\"$s\",\"participant\":\"$who\",\"file\":\"tracks/$s.opus\",\"codec\":\"opus\",\"channels\":1,"
		tracks+="\"ssrcs\":[$((1000 + i))],\"samples\":$samples,\"timeline\":[{\"media_sample\":0,\"session_ticks\":$start}]}"
		i=$((i + 1))
	done
	local ended
	ended=$(date -u -d "@$(($(date -u -d 2026-11-20T18:00:00Z +%s) + max / rate))" +%Y-%m-%dT%H:%M:%SZ)
	cat >"$SESSION/manifest.json" <<EOF
{"format":"spacecast-session","version":1,"id":"00000000-0000-4000-8000-00000000b3c4",
 "room":{"name":"bench","protocol":"files"},"started_at":"2026-11-20T18:00:00Z","ended_at":"$ended","finalized":true,"clock_rate":$rate,"duration_ticks":$max,
 "participants":[$parts],"tracks":[$tracks],"gaps":[],"meta":{"title":"$HOURS-hour benchmark session"}}
EOF
}
if [ "$HOURS" -gt 0 ]; then
	mkdir -p "$SESSION/tracks"
	for s in "${SPEAKERS[@]}"; do
		make_input "$SESSION/tracks/$s.opus" "${FF[@]}" -stream_loop -1 -i "$DEMO/$s.opus" \
			-t "$SESSION_SECONDS" -c copy
	done
	write_manifest
fi
if [ "$SESSION_ONLY" = 1 ]; then
	[ "$HOURS" -gt 0 ] || die "--session-only needs --session-hours of 1 or more"
	echo "$SESSION"
	exit 0
fi

# --- measuring -------------------------------------------------------------------------------------
# timed LOG CMD... runs CMD once under GNU time and sets WALL (seconds) and RSS (KiB, peak resident
# set). Wall time comes from bash's EPOCHREALTIME (microseconds), RSS from GNU time.
timed() {
	local logf="$1"
	shift
	local t0 t1
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$logf.rss" "$@" >"$logf" 2>&1 || {
		tail -n 20 "$logf" >&2
		die "failed: $*"
	}
	t1=$EPOCHREALTIME
	RSS=$(tail -n 1 "$logf.rss")
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# median reads numbers, one a line, and prints the middle one (the lower middle for even counts).
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { sort -g | tail -n 1; }

# decoded FILE prints how long FILE decodes with ffmpeg, in seconds: counted samples, so encoder
# delay and padding that a LAME/Info tag declares are left out (ffprobe's duration counts frames).
decoded() {
	local rate bytes
	rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of default=nw=1:nk=1 "$1")
	bytes=$(ffmpeg -nostdin -v error -i "$1" -ac 1 -f s16le - | wc -c)
	awk -v b="$bytes" -v r="$rate" 'BEGIN { printf "%.3f", b / 2 / r }'
}

# ebur128 FILE prints "I TP": integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128.
ebur128() {
	ffmpeg -nostdin -hide_banner -nostats -i "$1" -af ebur128=peak=true -f null - 2>&1 |
		awk '/Summary:/ { s = 1 } s && $1 == "I:" { i = $2 } s && $1 == "Peak:" { p = $2 } END { print i, p }'
}

# verdict I TP says whether a loudness reading meets the target (±0.5 LU, peak at or under ceiling).
verdict() {
	awk -v i="$1" -v p="$2" -v li="$LUFS" -v lp="$TP" 'BEGIN {
		ok = (i - li <= 0.5 && li - i <= 0.5 && p <= lp + 0.0001)
		printf "%.1f LUFS, %.1f dBTP: %s", i, p, ok ? "on target" : "off target" }'
}

# passes LOG prints how many passes over the audio spacecast mix made (from its --json report).
passes() { sed -n 's/.*"passes": \([0-9]*\).*/\1/p' "$1" | tail -n 1; }
# selfcheck LOG prints spacecast's own reading of its output (from its --json report).
selfcheck() {
	awk -F': ' '/"loudness_lufs"/ && !l { l = $2 } /"true_peak_dbtp"/ && !p { p = $2 } END { printf "%.1f LUFS, %.1f dBTP", l, p }' "$1"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
secs() { awk -v s="$1" 'BEGIN { printf (s < 10 ? "%.3f s" : "%.1f s"), s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx as fast as ffmpeg", b / a }'; }

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
START=$(date -u +%H:%M)
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# 1. clip --copy ------------------------------------------------------------------------------------
log "clip --copy: $RUNS runs each"
sc_w=() sc_r=() ff_w=() ff_r=()
for ((k = 1; k <= RUNS; k++)); do
	rm -f "$WORK/out/clip-spacecast.mp3" "$WORK/out/clip-ffmpeg.mp3"
	timed "$WORK/log/clip-spacecast.$k" "$BIN" clip "$MP3_2H" --start 3600 --duration 30 --copy \
		-o "$WORK/out/clip-spacecast.mp3" -q
	sc_w+=("$WALL") sc_r+=("$RSS")
	timed "$WORK/log/clip-ffmpeg.$k" "${FF[@]}" -ss 3600 -t 30 -i "$MP3_2H" -c copy "$WORK/out/clip-ffmpeg.mp3"
	ff_w+=("$WALL") ff_r+=("$RSS")
done
scw=$(printf '%s\n' "${sc_w[@]}" | median) ffw=$(printf '%s\n' "${ff_w[@]}" | median)
row "clip --copy 30 s at 1:00:00 of a 2 h 128 kbps MP3" spacecast "$(secs "$scw")" \
	"$(mib "$(printf '%s\n' "${sc_r[@]}" | maxof)")" \
	"decodes to $(decoded "$WORK/out/clip-spacecast.mp3") s; $(ratio "$scw" "$ffw")"
row "" "ffmpeg -ss 3600 -t 30 -c copy" "$(secs "$ffw")" "$(mib "$(printf '%s\n' "${ff_r[@]}" | maxof)")" \
	"decodes to $(decoded "$WORK/out/clip-ffmpeg.mp3") s"

# 2. mix of four speakers ----------------------------------------------------------------------------
log "mix of 4 x 10 min: $RUNS runs each"
CHAIN="[1]adelay=1000[b];[2]adelay=2000[c];[3]adelay=3000[d];[0][b][c][d]amix=inputs=4:normalize=0,loudnorm=I=$LUFS:TP=$TP"
FFIN=()
for w in "${WAVS[@]}"; do FFIN+=(-i "$w"); done
json() { sed -n "s/.*\"$1\" : \"\([^\"]*\)\".*/\1/p" "$2" | tail -n 1; }
sc_w=() sc_r=() ff_w=() ff_r=() p1_w=() p2_w=()
for ((k = 1; k <= RUNS; k++)); do
	rm -f "$WORK/out/mix-spacecast.mp3" "$WORK/out/mix-ffmpeg.mp3"
	timed "$WORK/log/mix-spacecast.$k" "$BIN" mix "${WAVS[0]}" "${WAVS[1]}@1" "${WAVS[2]}@2" "${WAVS[3]}@3" \
		-o "$WORK/out/mix-spacecast.mp3" --bitrate 96 --loudness "$LUFS" -q --json
	sc_w+=("$WALL") sc_r+=("$RSS")
	# ffmpeg pass 1 prints its measurement as JSON on stderr (-loglevel info for that).
	p1="$WORK/log/mix-ffmpeg-pass1.$k"
	timed "$p1" ffmpeg -nostdin -hide_banner -nostats -y "${FFIN[@]}" \
		-filter_complex "$CHAIN:print_format=json" -f null -
	w1=$WALL r1=$RSS
	mi=$(json input_i "$p1") mtp=$(json input_tp "$p1") mlra=$(json input_lra "$p1")
	mth=$(json input_thresh "$p1") off=$(json target_offset "$p1")
	[ -n "$mi" ] && [ -n "$off" ] || die "no loudnorm measurement in $p1"
	timed "$WORK/log/mix-ffmpeg-pass2.$k" "${FF[@]}" "${FFIN[@]}" -filter_complex \
		"$CHAIN:measured_I=$mi:measured_TP=$mtp:measured_LRA=$mlra:measured_thresh=$mth:offset=$off:linear=true" \
		-ar 48000 -c:a libmp3lame -b:a 96k "$WORK/out/mix-ffmpeg.mp3"
	w2=$WALL r2=$RSS
	p1_w+=("$w1") p2_w+=("$w2")
	ff_w+=("$(awk -v a="$w1" -v b="$w2" 'BEGIN { printf "%.3f", a + b }')")
	ff_r+=("$r1" "$r2")
done
scw=$(printf '%s\n' "${sc_w[@]}" | median) ffw=$(printf '%s\n' "${ff_w[@]}" | median)
# shellcheck disable=SC2046
row "mix 4 speakers x 10 min (WAV, @0/1/2/3 s) to -16 LUFS 96 kbps MP3" spacecast "$(secs "$scw")" \
	"$(mib "$(printf '%s\n' "${sc_r[@]}" | maxof)")" \
	"$(verdict $(ebur128 "$WORK/out/mix-spacecast.mp3")); $(passes "$WORK/log/mix-spacecast.$RUNS") passes; $(ratio "$scw" "$ffw")"
# shellcheck disable=SC2046
row "" "ffmpeg amix+loudnorm, 2 passes ($(secs "$(printf '%s\n' "${p1_w[@]}" | median)") + $(secs "$(printf '%s\n' "${p2_w[@]}" | median)"))" \
	"$(secs "$ffw")" "$(mib "$(printf '%s\n' "${ff_r[@]}" | maxof)")" \
	"$(verdict $(ebur128 "$WORK/out/mix-ffmpeg.mp3"))"

# 3. peak RSS on a 3-hour session (--session-hours) --------------------------------------------
if [ "$HOURS" -gt 0 ]; then
	log "mix of the $HOURS-hour session: 1 run"
	rm -f "$WORK/out/session.mp3"
	timed "$WORK/log/mix-session" "$BIN" mix "$SESSION" -o "$WORK/out/session.mp3" --bitrate 96 -q --json
	verdict_rss="over the 100 MiB limit"
	[ "$RSS" -lt "$RSS_LIMIT_KIB" ] && verdict_rss="under the 100 MiB limit"
	row "mix a $HOURS h session (4 Ogg Opus tracks) to 96 kbps MP3" spacecast "$(secs "$WALL") (1 run)" "$(mib "$RSS")" \
		"$verdict_rss; $(passes "$WORK/log/mix-session") passes; $(selfcheck "$WORK/log/mix-session") by its own check"
fi

# --- report ----------------------------------------------------------------------------------------
echo "| task | tool | wall time (median of $RUNS) | peak RSS | result |"
echo "|---|---|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "$(nproc) CPUs; load average (1 min) $LOAD0 at $START UTC, $(cut -d' ' -f1 /proc/loadavg) at $(date -u +%H:%M) UTC."
