#!/usr/bin/env bash
# README command 2: build once per configuration and run every test suite
# three times: plain (RelWithDebInfo), ThreadSanitizer, AddressSanitizer+UBSan.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
configs=(${QTOFFLOAD_TEST_CONFIGS:-release tsan asan})
failed_configs=()
total_passed=0
total_failed=0

# The code stays formatted: .clang-format over every C++ file we keep.
# QTOFFLOAD_TEST_FORMAT=0 skips it (the trixie lane: its clang-format is
# another major version; bookworm's is the one the sources are kept to).
if [[ ${QTOFFLOAD_TEST_FORMAT:-1} != 0 ]]; then
    echo "=== format: clang-format --dry-run -Werror"
    mapfile -t sources < <(git ls-files -- 'src/*.cpp' 'src/*.h' 'include/*.h' 'include/QtOffload/QtOffload' \
        'tests/*.cpp' 'tests/*.h' 'examples/*.cpp' 'examples/*.h' 'bench/*.cpp' 'bench/*.h')
    if clang-format --dry-run -Werror "${sources[@]}"; then
        total_passed=$((total_passed + 1))
    else
        failed_configs+=("format")
        total_failed=$((total_failed + 1))
    fi
fi
for config in "${configs[@]}"; do
    echo "=== $config: configure and build"
    if ! cmake --preset "$config" >/dev/null || ! cmake --build --preset "$config"; then
        failed_configs+=("$config(build)")
        total_failed=$((total_failed + 1))
        continue
    fi
    echo "=== $config: test"
    log=$(mktemp)
    ctest --preset "$config" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
    if [[ -n "$summary" ]]; then
        failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
        all=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$summary")
        total_passed=$((total_passed + all - failed))
        total_failed=$((total_failed + failed))
    fi
    rm -f "$log"
    [[ $status -eq 0 ]] || failed_configs+=("$config")
done
echo
echo "Configurations: ${configs[*]}; failing: ${failed_configs[*]:-none}"
echo "$total_passed passed, $total_failed failed"
[[ ${#failed_configs[@]} -eq 0 ]]
