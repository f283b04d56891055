#!/usr/bin/env bash
# Builds the package the original shipped: pkg/realtime_backend.js (ES module, wasm-bindgen
# --target web) and pkg/realtime_backend_bg.wasm, plus pkg/package.json so that node
# imports the glue as an ES module.
#
#   adapters/wasm/build.sh [--out DIR] [--no-opt] [--debug]
#
# Needs the rustup target wasm32-unknown-unknown (scripts/test.sh adds it); the bindings
# generator is built from the workspace (no wasm-bindgen-cli install); runs wasm-opt -O3
# when it is installed (apt binaryen; the tests check that the optimised module still
# renders the host's bits). Environment: CARGO_TARGET_DIR, WASM_BINDGEN (a wasm-bindgen
# CLI to use instead, of the version in Cargo.lock).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
out="$HERE/pkg"
opt=1
profile=release
while (($#)); do
    case $1 in
    --out) out=${2:?--out needs a folder}; shift ;;
    --no-opt) opt=0 ;;
    --debug) profile=debug ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# The generator must match the wasm-bindgen crate exactly (the glue and the module's
# custom sections are produced together and checked against each other):
# entrain-wasm-bindgen (tools/devtools) links wasm-bindgen-cli-support pinned to that
# version in Cargo.lock. WASM_BINDGEN overrides it with a `wasm-bindgen` CLI of that version.
target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -n ${WASM_BINDGEN:-} ]]; then
    want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")
    have=$("$WASM_BINDGEN" --version 2>/dev/null | awk '{ print $2 }' || true)
    if [[ $have != "$want" ]]; then
        echo "WASM_BINDGEN=$WASM_BINDGEN is wasm-bindgen '${have:-?}', Cargo.lock has $want" >&2
        exit 2
    fi
    bindgen() { "$WASM_BINDGEN" "$1" --target web --out-dir "$2" --out-name "$3"; }
else
    # --workspace: the features the test build resolved, so its dependencies are reused.
    (cd "$ROOT" && cargo build --quiet --workspace --bin entrain-wasm-bindgen)
    bindgen() { "$target_dir/debug/entrain-wasm-bindgen" "$@"; }
fi

flags=()
[[ $profile == release ]] && flags+=(--release)
(cd "$ROOT" && cargo build -p entrain-wasm --lib --target wasm32-unknown-unknown "${flags[@]}")
wasm="$target_dir/wasm32-unknown-unknown/$profile/entrain_wasm.wasm"

mkdir -p "$out"
bindgen "$wasm" "$out" realtime_backend
printf '{ "name": "realtime_backend", "type": "module", "private": true }\n' >"$out/package.json"
if ((opt)) && command -v wasm-opt >/dev/null; then
    # -O3 keeps IEEE semantics (no fast-math pass is enabled); the tests compare hashes.
    # Old binaryen releases mis-handle the module's externref table (Debian 12's
    # binaryen 108 exports the funcref table under `__wbindgen_externrefs`, and
    # instantiation fails), so the optimised module is kept only if it loads and runs.
    wasm="$out/realtime_backend_bg.wasm"
    wasm-opt -O3 --enable-reference-types --enable-bulk-memory --enable-sign-ext \
        --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue \
        "$wasm" -o "$wasm.opt"
    if node --input-type=module -e "
        import { readFileSync } from 'node:fs';
        const m = await import(process.argv[1]);
        m.initSync({ module: readFileSync(process.argv[2]) });
        if (!m.version()) process.exit(1);
        new m.Player(readFileSync(process.argv[3], 'utf8')).render(16);
    " "$out/realtime_backend.js" "$wasm.opt" "$ROOT/assets/demo.json" 2>"$out/wasm-opt.log"; then
        mv "$wasm.opt" "$wasm"
        rm -f "$out/wasm-opt.log"
        echo "wasm-opt -O3: $(wasm-opt --version)"
    else
        echo "warning: $(wasm-opt --version) produced a module that does not load" \
            "($(head -c 300 "$out/wasm-opt.log")); keeping the unoptimised one" >&2
        rm -f "$wasm.opt" "$out/wasm-opt.log"
    fi
fi
ls -l "$out"
