#!/usr/bin/env bash
# Cargo runner for the firmware under QEMU: runs ELF ($1) on an emulated Cortex-M4F
# (ARM MPS2 AN386) with semihosting, decodes its defmt output with defmt-print, and
# exits with the firmware's exit status (SYS_EXIT_EXTENDED).
#
# -icount shift=0: one guest instruction = 1 ns of virtual time, so SysTick counts
#   instructions (the benchmark calibrates the factor); sleep=off never waits for the
#   wall clock.
# Extra arguments after the ELF are ignored (defmt-test passes none).
set -uo pipefail
elf="$1"
if ! command -v defmt-print >/dev/null 2>&1; then
    echo "qemu-run.sh: defmt-print not found: cargo install defmt-print --locked" >&2
    exit 127
fi
qemu-system-arm \
    -machine mps2-an386 -cpu cortex-m4 \
    -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native \
    -icount shift=0,sleep=off \
    -kernel "$elf" \
    | defmt-print -e "$elf" --log-format '{L} {s}' stdin
status=${PIPESTATUS[0]}
exit "$status"
