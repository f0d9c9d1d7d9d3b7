# SPDX-License-Identifier: MIT
# Runs the demo offscreen on a small file; the three digests must match,
# every method must report its stall, and the screenshot must be a PNG.
file(REMOVE ${SCREENSHOT})
execute_process(COMMAND ${PROGRAM} --size 16 --quit --screenshot ${SCREENSHOT}
    OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE status TIMEOUT 280)
message("${output}")
if(NOT status EQUAL 0)
    message(FATAL_ERROR "the demo exited with ${status}: ${errors}")
endif()
foreach(method "QtOffload generator" "GUI thread" "QtConcurrent \\+ QPromise")
    if(NOT output MATCHES "${method}: stall [0-9.]+ ms, [0-9]+ MiB/s, sha256 [0-9a-f]+\n")
        message(FATAL_ERROR "no figures for ${method}")
    endif()
endforeach()
if(NOT output MATCHES "digests match\n")
    message(FATAL_ERROR "the digests differ")
endif()
file(READ ${SCREENSHOT} header LIMIT 8 HEX)
if(NOT header STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "${SCREENSHOT} is not a PNG")
endif()
