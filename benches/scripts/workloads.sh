#!/usr/bin/env bash
# Real-time factor (audio seconds per CPU second, user + system, one core) and peak RSS of
# the CLI rendering the benchmark workloads to WAV (BENCHMARKS.md "Host: workloads").
#
#   benches/scripts/workloads.sh [--cli PATH] [--modes streaming,compatible] [W1 W2 W3 W4 ...]
#
# W1  benches/tracks/w1_binaural_60min.json      60 min, one binaural beat (200 Hz, 10 Hz)
# W2  benches/tracks/w2_binaural_pink_60min.json W1 + pink background noise
# W3  benches/tracks/w3_eight_voices_10min.json  10 min, 8 simultaneous binaural voices
# W4  ../shared/tracks/original/F*.json          the real 60-minute presets (13-26 voices)
# W10H a generated 10-hour W1 (streaming only)
#
# Output: one line per render, "workload mode audio_s cpu_s wall_s rtf_cpu rtf_wall rss_kib".
# The WAV goes to a temporary folder and is deleted after each render.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$root/target/release/realtime_backend"
modes="streaming,compatible"
tracks="${ENTRAIN_TRACKS:-$root/../shared/tracks}"
want=()
while (($#)); do
    case $1 in
    --cli) cli=$2; shift ;;
    --modes) modes=$2; shift ;;
    *) want+=("$1") ;;
    esac
    shift
done
((${#want[@]})) || want=(W1 W2 W3 W4)
[[ -x $cli ]] || { echo "build the CLI first: cargo build --release -p entrain-cli" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

files_of() {
    case $1 in
    W1) echo "$root/benches/tracks/w1_binaural_60min.json" ;;
    W2) echo "$root/benches/tracks/w2_binaural_pink_60min.json" ;;
    W3) echo "$root/benches/tracks/w3_eight_voices_10min.json" ;;
    W4) ls "$tracks"/original/F*.json ;;
    W10H)
        sed 's/"duration": 3600.0/"duration": 36000.0/' "$root/benches/tracks/w1_binaural_60min.json" >"$tmp/w10h.json"
        echo "$tmp/w10h.json" ;;
    *) echo "unknown workload $1" >&2; exit 2 ;;
    esac
}

printf '%-8s %-12s %-10s %8s %8s %8s %9s %9s %8s\n' workload track mode audio_s cpu_s wall_s rtf_cpu rtf_wall rss_kib
for w in "${want[@]}"; do
    while IFS= read -r f; do
        for m in ${modes//,/ }; do
            [[ $w == W10H && $m == compatible ]] && continue
            out="$tmp/out.wav"
            /usr/bin/time -f '%U %S %e %M' -o "$tmp/time" "$cli" render "$f" -o "$out" --mode "$m" -q
            frames=$(( ($(stat -c %s "$out") - 44) / 4 ))
            rate=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['global'].get('sample_rate', 44100))" "$f")
            read -r u s e rss <"$tmp/time"
            awk -v w="$w" -v t="$(basename "$f" .json)" -v m="$m" -v fr="$frames" -v sr="$rate" \
                -v u="$u" -v s="$s" -v e="$e" -v rss="$rss" 'BEGIN {
                    a = fr / sr; c = u + s; if (c <= 0) c = 0.01; if (e <= 0) e = 0.01;
                    printf "%-8s %-12s %-10s %8.0f %8.2f %8.2f %9.0f %9.0f %8d\n", w, substr(t, 1, 12), m, a, c, e, a / c, a / e, rss }'
            rm -f "$out"
        done
    done < <(files_of "$w")
done
