# SPDX-License-Identifier: MIT
# Flags for our own targets only (never global): warnings as errors and the
# optional sanitizer. Link qtoffload_build_flags PRIVATE into each target.
add_library(qtoffload_build_flags INTERFACE)
target_compile_options(qtoffload_build_flags INTERFACE -Wall -Wextra -Wpedantic -Werror)
target_compile_definitions(qtoffload_build_flags INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_KEYWORDS QT_NO_FOREACH QT_USE_QSTRINGBUILDER)

if(QTOFFLOAD_SANITIZER STREQUAL "thread")
    target_compile_options(qtoffload_build_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer -g)
    target_link_options(qtoffload_build_flags INTERFACE -fsanitize=thread)
elseif(QTOFFLOAD_SANITIZER STREQUAL "address")
    target_compile_options(qtoffload_build_flags INTERFACE
        -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
    target_link_options(qtoffload_build_flags INTERFACE -fsanitize=address,undefined)
elseif(NOT QTOFFLOAD_SANITIZER STREQUAL "")
    message(FATAL_ERROR "QTOFFLOAD_SANITIZER must be thread, address or empty, not '${QTOFFLOAD_SANITIZER}'")
endif()

# Every test and example gets these, so sanitizer runs read our suppressions.
# ignore_noninstrumented_modules: Debian's Qt is not built with TSan, so the
# pthread calls inside it (QWaitCondition, QMutex's futex) carry no
# happens-before edges TSan can see; races are still reported for every
# access made from our instrumented code. die_after_fork=0: tests that run
# themselves as a child (QProcess) fork a multi-threaded process.
set(QTOFFLOAD_TEST_ENVIRONMENT
    "QT_QPA_PLATFORM=offscreen"
    "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 die_after_fork=0 suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan.supp"
    "ASAN_OPTIONS=detect_leaks=1 abort_on_error=1"
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan.supp print_suppressions=0"
    "UBSAN_OPTIONS=print_stacktrace=1 halt_on_error=1")
