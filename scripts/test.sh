#!/usr/bin/env bash
# scripts/test.sh - install what is missing (Debian), build, run every test:
# formatting, lints, unit tests and the end-to-end tests that launch real
# `mpirun` jobs (with --oversubscribe where they need more ranks than cores).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/setup.sh --tests
echo "test: cargo fmt --check"
cargo fmt --all -- --check
echo "test: cargo clippy --all-targets"
cargo clippy --release --locked --all-targets --quiet -- -D warnings
echo "test: cargo build --release"
build_release
echo "test: cargo test --release"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --release --locked 2>&1 | tee "$log" || status=$?
# One closing line over every test binary, for people and CI logs.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
