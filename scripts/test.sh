#!/usr/bin/env bash
# Installs what the tests need (idempotently), then runs every test stage in order and
# stops at the first failure. This is what CI runs (.ci/run) and what README.md's
# "Quick start" tells a new contributor to run on a fresh Debian machine.
#
#   ./scripts/test.sh                      setup, then every stage
#   ./scripts/test.sh --only wasm,smoke    setup, then only these stages (in stage order)
#   ./scripts/test.sh --skip clippy        every stage but these
#   ./scripts/test.sh --no-setup ...       do not install anything (just check and run)
#   ./scripts/test.sh --keep-going         run the remaining stages after a failure
#   ./scripts/test.sh --list               list the stages
#
# Environment: WASM_HASH_ARGS is passed to tests/node/wasm_hash.mjs (word-split), e.g.
# WASM_HASH_ARGS="--seconds 30 --blocks 64,480"; ENTRAIN_TRACKS overrides the track folder
# (default: ../shared/tracks next to the repository); ENTRAIN_PYTHON picks the Python of
# the python stage (default: the first of python3.11, python3 on PATH); PYTEST_ARGS is
# passed to pytest (word-split), e.g. PYTEST_ARGS="-k render -x". ENTRAIN_FUZZ_SECONDS is how
# long the fuzz stage mutates (default 60), ENTRAIN_FUZZ_SEED its seed (default 20261126).
# ENTRAIN_WEB_SECONDS sets the length the web stage compares per track (default 10; the demo
# is always compared whole), ENTRAIN_WEB_COMPATIBLE_MAX_S the longest track it compares in
# compatible mode (default 95), CHROMIUM the browser it drives (default /usr/bin/chromium).
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# ---- what the tests need ------------------------------------------------------------------

# Debian packages. Add a line here when a stage needs a new one.
APT_PACKAGES=(
    sox            # smoke: inspects the rendered WAV (length, channels, rate, peak)
    binaryen       # wasm-opt, for wasm size checks of the adapters
    qemu-system-arm # firmware tests of the core on an emulated Cortex-M
    libasound2-dev # ALSA headers: cpal (entrain-cpal) links libasound
    pkg-config     # how alsa-sys finds libasound
    mesa-vulkan-drivers # gpu: lavapipe, the CPU Vulkan driver wgpu mixes on
    chromium       # web: headless browser for the AudioWorklet test (driven by playwright-core)
    python3-venv   # python: `python3 -m venv` for Debian's python3 (when it is the one picked)
)
RUST_TARGETS=(thumbv7em-none-eabihf wasm32-unknown-unknown)
RUST_COMPONENTS=(rustfmt clippy)

# Stages, in the order they run. Each is a function stage_<name> below.
STAGES=(fmt clippy test gpu nostd fuzz wasm web firmware smoke python)
declare -A STAGE_DOC=(
    [fmt]="cargo fmt --all -- --check"
    [clippy]="cargo clippy --workspace --all-targets -D warnings (+ wasm probe and entrain-wasm on wasm32)"
    [test]="cargo test --workspace"
    [gpu]="wgpu mixing on lavapipe equals the CPU mix on every shared track; fallback without adapter"
    [nostd]="core crates build for thumbv7em-none-eabihf and wasm32-unknown-unknown"
    [fuzz]="mutation fuzzing of the track/noise parsers and the engine for ENTRAIN_FUZZ_SECONDS (default 60) (tests/fuzz)"
    [wasm]="wasm32 probe in node: hashes equal the host's (tests/node/wasm_hash.mjs)"
    [web]="pkg/realtime_backend in node and an AudioWorklet in headless Chromium: API, hashes = host (tests/web)"
    [firmware]="firmware under QEMU: on-target hashes = host, FPSCR, capacities, demo, board build, benchmark (firmware/run-tests.sh)"
    [smoke]="CLI renders the bundled demo: 89.0 s, stereo, 44.1 kHz, peak <= -11.9 dBFS"
    [python]="maturin wheel of adapters/python installed in a fresh venv; pytest adapters/python/tests"
)
CORE_CRATES=(-p entrain-dsp -p entrain-engine -p entrain-format)

# The python stage: interpreter candidates (first found wins, unless ENTRAIN_PYTHON is set)
# and pinned PyPI versions. maturin lives in a build venv that is kept between runs
# (target/python/build-venv, re-created when the pin changes); the wheel is installed
# with numpy and pytest into a venv created afresh on every run (target/python/test-venv;
# both under $CARGO_TARGET_DIR when it is set).
PYTHON_CANDIDATES=(python3.11 python3)
MATURIN_VERSION=1.16.0
NUMPY_VERSION=2.4.6
PYTEST_VERSION=9.2.0

# ---- output helpers ----------------------------------------------------------------------

T0=$SECONDS
bold=""
red=""
green=""
reset=""
if [[ -t 1 ]]; then
    bold=$'\e[1m'
    red=$'\e[31m'
    green=$'\e[32m'
    reset=$'\e[0m'
fi

banner() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
die() {
    printf '%serror:%s %s\n' "$red" "$reset" "$*" >&2
    exit 2
}
elapsed() {
    local s=$1
    printf '%dm%02ds' $((s / 60)) $((s % 60))
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    printf 'Stages:\n'
    for s in "${STAGES[@]}"; do printf '  %-7s %s\n' "$s" "${STAGE_DOC[$s]}"; done
}

# ---- arguments ---------------------------------------------------------------------------

only=""
skip=""
setup=1
keep_going=0
while (($#)); do
    case $1 in
    --only) only=${2:?--only needs a list of stages}; shift ;;
    --only=*) only=${1#*=} ;;
    --skip) skip=${2:?--skip needs a list of stages}; shift ;;
    --skip=*) skip=${1#*=} ;;
    --no-setup) setup=0 ;;
    --keep-going) keep_going=1 ;;
    --list) for s in "${STAGES[@]}"; do printf '%-7s %s\n' "$s" "${STAGE_DOC[$s]}"; done; exit 0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

in_list() { [[ ",$2," == *",$1,"* ]]; }
for s in ${only//,/ } ${skip//,/ }; do
    [[ -n ${STAGE_DOC[$s]+x} ]] || die "unknown stage '$s' (stages: ${STAGES[*]})"
done
selected=()
for s in "${STAGES[@]}"; do
    if [[ -n $only ]] && ! in_list "$s" "$only"; then continue; fi
    if in_list "$s" "$skip"; then continue; fi
    selected+=("$s")
done
((${#selected[@]})) || die "no stage selected"

# ---- setup -------------------------------------------------------------------------------

as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

setup_apt() {
    local missing=() p
    command -v node >/dev/null || missing+=(nodejs)
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        echo "apt: all ${#APT_PACKAGES[@]} packages installed"
        return
    fi
    echo "apt: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

setup_rust() {
    command -v rustup >/dev/null || die "rustup not found: install Rust with rustup (https://rustup.rs) first"
    local have t c
    have=$(rustup target list --installed)
    for t in "${RUST_TARGETS[@]}"; do
        grep -qx "$t" <<<"$have" || rustup target add "$t"
    done
    have=$(rustup component list --installed)
    for c in "${RUST_COMPONENTS[@]}"; do
        grep -q "^$c" <<<"$have" || rustup component add "$c"
    done
    echo "rustup: targets ${RUST_TARGETS[*]} and components ${RUST_COMPONENTS[*]} present"
}

# The web stage's npm packages, only when it runs: those of tests/web/package-lock.json
# (playwright-core; it drives the apt chromium, it downloads no browser). Its wasm-bindgen
# generator is built from the workspace (tools/devtools), like the firmware's defmt
# decoder: no `cargo install` of either CLI (their own crate graphs took 6 to 30 minutes to
# compile on a 2-core machine).
setup_web() {
    # npm ci only when node_modules is not what the committed lockfile says.
    local stamp=tests/web/node_modules/.entrain-lock
    if ! cmp -s tests/web/package-lock.json "$stamp"; then
        echo "npm: installing tests/web (npm ci)"
        (cd tests/web && npm ci --no-audit --no-fund)
        cp tests/web/package-lock.json "$stamp"
    fi
    echo "npm: tests/web packages present"
}

# ---- stages ------------------------------------------------------------------------------
# Each runs in a subshell with errexit on, so any failing command fails the stage.

stage_fmt() {
    cargo fmt --all -- --check
}

stage_clippy() {
    cargo clippy --workspace --all-targets -- -D warnings
    # The probe's exports only exist on wasm32; lint them where they compile.
    cargo clippy -p entrain-wasm-probe --no-deps --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p entrain-wasm --no-deps --target wasm32-unknown-unknown -- -D warnings
}

stage_test() {
    # The workspace's test profile builds with opt-level 2.
    cargo test --workspace
}

stage_gpu() {
    # wgpu needs a runtime directory; lavapipe (mesa-vulkan-drivers) is the adapter. The
    # comparison on real hardware is #[ignore]d in plain `cargo test` (no adapter there).
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$ROOT/target/xdg-runtime}"
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    # --workspace --test: the test stage's build, reused (`-p entrain-gpu` alone unifies
    # features differently and recompiled 43 crates, 3.5 of this stage's 4 minutes).
    cargo test --workspace --test gpu_mix -- --include-ignored --nocapture
}

stage_nostd() {
    # No std on these targets (thumbv7em has none at all): if a core crate or one of its
    # dependencies needs std, this does not compile.
    local t
    for t in "${RUST_TARGETS[@]}"; do
        echo "--- $t"
        cargo build "${CORE_CRATES[@]}" --no-default-features --target "$t"
    done
    # alloc does exist on both targets; core must not use it (STYLE.md §2) until the
    # firmware link (no global allocator) proves it.
    if grep -rn --include='*.rs' -E '^\s*(extern crate alloc|use alloc::)' core/; then
        echo "core crates must not use alloc" >&2
        return 1
    fi
}

stage_fuzz() {
    # The stable-toolchain runner (tests/fuzz/README.md): seeded mutation of the shared
    # tracks and presets through the parsers and a short render, with overflow checks and
    # debug assertions on. Exit 1 = a finding (saved under tests/fuzz/artifacts), 2 = usage.
    # A fixed seed (ENTRAIN_FUZZ_SEED to explore others): CI replays the same input
    # sequence, so a finding means the code changed, not the dice.
    # A hang is an input still running after 10 s: legitimate inputs cost up to ~3 s in
    # this debug-assertion build (six spatial_angle_modulation voices through both modes'
    # analysis passes), more on a loaded machine; a real hang never ends.
    cargo run --release --manifest-path tests/fuzz/Cargo.toml --bin fuzz-runner -- \
        --seconds "${ENTRAIN_FUZZ_SECONDS:-60}" --timeout-ms 10000 --seed "${ENTRAIN_FUZZ_SEED:-20261126}"
}

stage_wasm() {
    cargo build --release -p entrain-cli --bin realtime_backend
    cargo build --release -p entrain-wasm-probe --target wasm32-unknown-unknown
    # Two shards of the track list in parallel: node and the host CLI it calls are
    # single-threaded, and the machine has (at least) two cores.
    local log=${CARGO_TARGET_DIR:-$ROOT/target}/wasm-hash k pids=() status=0
    mkdir -p "$log"
    for k in 0 1; do
        # shellcheck disable=SC2086 # word splitting is the point
        node tests/node/wasm_hash.mjs --shard "$k/2" ${WASM_HASH_ARGS:-} >"$log/shard$k.log" 2>&1 &
        pids+=($!)
    done
    for k in 0 1; do
        wait "${pids[$k]}" || status=1
        cat "$log/shard$k.log"
    done
    return "$status"
}

stage_web() {
    # The host's fingerprints, then the package (cargo for wasm32, wasm-bindgen --target web,
    # wasm-opt when the result loads) into adapters/wasm/pkg.
    cargo build --release -p entrain-cli --bin realtime_backend
    adapters/wasm/build.sh
    [[ -d tests/web/node_modules/playwright-core ]] ||
        { echo "tests/web/node_modules is missing: run without --no-setup" >&2; return 1; }
    # node tests of the JS API and fingerprints, then the page in headless Chromium (its
    # screenshot goes to target/web-tests/).
    (cd tests/web && node --test --test-concurrency=1 --test-reporter=spec \
        wasm_api.test.mjs browser.test.mjs)
}

stage_firmware() {
    bash firmware/run-tests.sh
}

stage_smoke() {
    local tmp wav info peak
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: $tmp is local to this function
    trap "rm -rf '$tmp'" EXIT
    # Exactly README.md's first command, run in an empty folder.
    (cd "$tmp" && cargo run --release --manifest-path "$ROOT/Cargo.toml" -p entrain-cli \
        --bin realtime_backend -- render)
    wav="$tmp/demo.wav"
    [[ -s $wav ]] || { echo "render did not write demo.wav" >&2; return 1; }
    info=$(sox --i "$wav")
    echo "$info"
    local rate channels samples
    rate=$(sox --i -r "$wav")
    channels=$(sox --i -c "$wav")
    samples=$(sox --i -s "$wav")
    peak=$(sox "$wav" -n stats 2>&1 | awk '/^Pk lev dB/ { print $4 }')
    echo "rate $rate Hz, $channels channels, $samples frames, peak $peak dBFS"
    local ok=1
    [[ $rate == 44100 ]] || { echo "expected 44100 Hz, got $rate" >&2; ok=0; }
    [[ $channels == 2 ]] || { echo "expected 2 channels, got $channels" >&2; ok=0; }
    # 89.0 s at 44.1 kHz, exactly.
    [[ $samples == 3924900 ]] || { echo "expected 3924900 frames (89.0 s), got $samples" >&2; ok=0; }
    # Normalised to peak 0.25 (-12.04 dBFS): at most -11.9, and not far below (not silent).
    awk -v p="$peak" 'BEGIN { exit !(p != "" && p <= -11.9 && p >= -12.5) }' ||
        { echo "expected a peak of -12.04 dBFS (between -12.5 and -11.9), got '$peak'" >&2; ok=0; }
    ((ok))
}

# The interpreter of the python stage, resolved to its real path (a pyenv shim becomes the
# interpreter it runs), so every venv and the wheel use the same one.
pick_python() {
    local c exe
    for c in ${ENTRAIN_PYTHON:-} "${PYTHON_CANDIDATES[@]}"; do
        command -v "$c" >/dev/null || continue
        exe=$("$c" -c 'import sys; print(sys.executable)') || continue
        echo "$exe"
        return
    done
    echo "no Python found (tried: ${ENTRAIN_PYTHON:-} ${PYTHON_CANDIDATES[*]})" >&2
    return 1
}

stage_python() {
    local py target=${CARGO_TARGET_DIR:-$ROOT/target}
    local tools="$target/python/build-venv" venv="$target/python/test-venv"
    local wheels="$target/python/wheels"
    py=$(pick_python)
    "$py" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' ||
        { echo "the python stage needs Python >= 3.9" >&2; return 1; }
    echo "python: $py ($("$py" -c 'import platform; print(platform.python_version())'))"
    # Build venv with maturin (kept; re-created if missing, broken or at another version).
    if [[ "$("$tools/bin/maturin" --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]] ||
        [[ "$("$tools/bin/python" -c 'import sys; print(sys._base_executable)' 2>/dev/null)" != "$py" ]]; then
        rm -rf "$tools"
        "$py" -m venv "$tools"
        "$tools/bin/python" -m pip install -q --disable-pip-version-check "maturin==$MATURIN_VERSION"
    fi
    "$tools/bin/maturin" --version
    rm -rf "$wheels"
    "$tools/bin/maturin" build --release --manifest-path adapters/python/Cargo.toml \
        --interpreter "$py" --out "$wheels"
    # The tests compare with the CLI's renders.
    cargo build --release -p entrain-cli --bin realtime_backend
    # A fresh venv every run: the wheel must install and work on its own.
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheels"/*.whl \
        "numpy==$NUMPY_VERSION" "pytest==$PYTEST_VERSION"
    # From the tests folder, so `import realtime_backend` can only find the installed wheel.
    # shellcheck disable=SC2086 # word splitting is the point
    # wgpu (enable_gpu renders) finds lavapipe with a runtime directory; the GPU tests then
    # insist on an adapter instead of accepting the CPU fallback.
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$target/xdg-runtime}"
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    (cd adapters/python/tests && ENTRAIN_CLI="$target/release/realtime_backend" ENTRAIN_EXPECT_GPU=1 \
        "$venv/bin/python" -m pytest -p no:cacheprovider -ra ${PYTEST_ARGS:-})
}

# ---- run ---------------------------------------------------------------------------------

declare -A took=() result=()
summary() {
    banner "summary"
    local s
    for s in "${selected[@]}"; do
        printf '  %-7s %-6s %s\n' "$s" "${result[$s]:-not run}" "${took[$s]:-}"
    done
    printf '%stotal elapsed: %s%s\n' "$bold" "$(elapsed $((SECONDS - T0)))" "$reset"
}

banner "entrain tests: ${selected[*]}"
echo "repository: $ROOT"
if ((setup)); then
    banner "setup: apt packages, rustup targets and components"
    setup_apt
    setup_rust
    if [[ " ${selected[*]} " == *" web "* ]]; then setup_web; fi
fi
for tool in cargo rustc node sox; do
    command -v "$tool" >/dev/null || die "$tool not found (run without --no-setup to install it)"
done
printf '%s\n' "$(rustc --version)" "$(cargo --version)" "node $(node --version)" "sox $(sox --version | awk '{ print $NF }')"

failed=()
n=0
for s in "${selected[@]}"; do
    n=$((n + 1))
    banner "stage ${n}/${#selected[@]} ${s}: ${STAGE_DOC[$s]}"
    start=$SECONDS
    set +e
    (
        set -e
        "stage_$s"
    )
    rc=$?
    set -e
    took[$s]=$(elapsed $((SECONDS - start)))
    if ((rc == 0)); then
        result[$s]=ok
        printf '%s--- stage %s passed in %s%s\n' "$green" "$s" "${took[$s]}" "$reset"
    else
        result[$s]=FAILED
        failed+=("$s")
        printf '\n%s%s!!! stage %s FAILED (exit %d) after %s%s\n' "$bold" "$red" "$s" "$rc" "${took[$s]}" "$reset" >&2
        if ((!keep_going)); then
            summary
            exit "$rc"
        fi
    fi
done
summary
if ((${#failed[@]})); then
    printf '%sfailed stages: %s%s\n' "$red" "${failed[*]}" "$reset" >&2
    exit 1
fi
printf '%sall stages passed%s\n' "$green" "$reset"
