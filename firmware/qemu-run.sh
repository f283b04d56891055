#!/usr/bin/env bash
# Cargo runner for the firmware under QEMU: runs ELF ($1) on an emulated Cortex-M4F
# (ARM MPS2 AN386) with semihosting, decodes its defmt output, and exits with the
# firmware's exit status (SYS_EXIT_EXTENDED).
#
# The decoder is $ENTRAIN_DEFMT_PRINT (run-tests.sh sets it to the workspace's
# entrain-defmt-print), else ../target/debug/entrain-defmt-print when built
# (`cargo build -p entrain-devtools` at the root), else `defmt-print` on PATH.
#
# -icount shift=0: one guest instruction = 1 ns of virtual time, so SysTick counts
#   instructions (the benchmark calibrates the factor); sleep=off never waits for the
#   wall clock.
# Extra arguments after the ELF are ignored (defmt-test passes none).
set -uo pipefail
elf="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
decode=()
if [[ -n ${ENTRAIN_DEFMT_PRINT:-} ]]; then
    decode=("$ENTRAIN_DEFMT_PRINT" "$elf")
elif [[ -x $here/../target/debug/entrain-defmt-print ]]; then
    decode=("$here/../target/debug/entrain-defmt-print" "$elf")
elif command -v defmt-print >/dev/null 2>&1; then
    decode=(defmt-print -e "$elf" --log-format '{L} {s}' stdin)
else
    echo "qemu-run.sh: no defmt decoder: run \`cargo build -p entrain-devtools\` at the repository root" >&2
    exit 127
fi
qemu-system-arm \
    -machine mps2-an386 -cpu cortex-m4 \
    -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native \
    -icount shift=0,sleep=off \
    -kernel "$elf" \
    | "${decode[@]}"
status=${PIPESTATUS[0]}
exit "$status"
