#!/usr/bin/env bash
# README command 1: install what is missing, build, run the seed examples and the GUI demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
bin=build/release/examples
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-$([[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]] && echo xcb || echo offscreen)}"
for example in contextvars_audit threaded_parallel threaded_separate urandom_reader iterator_wrapper \
    iterator_wrapper_separate invoke_blocking; do
    echo "== examples/$example"
    "$bin/$example/$example"
done
echo "== examples/blockchain (to a netcat listener on 127.0.0.1, as in the seed)"
port=$((20000 + RANDOM % 20000))
nc -l 127.0.0.1 "$port" > build/release/blockchain.txt &
listener=$!
for _ in $(seq 50); do "$bin/blockchain/blockchain" 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.1; done
wait "$listener" || true
head -3 build/release/blockchain.txt
echo "== examples/hashdemo (GUI responsiveness: longest event-loop stall per method)"
"$bin/hashdemo/qtoffload_hashdemo" --size "${QTOFFLOAD_DEMO_SIZE_MB:-256}" --quit --screenshot build/release/hashdemo.png
echo "Screenshot: build/release/hashdemo.png"
