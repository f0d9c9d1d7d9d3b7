# SPDX-License-Identifier: MIT
# cmake -DPROGRAM=<example> -DCHECK=<check.cmake> -P check_output.cmake
# Runs the example; it must exit 0. The check script then reads OUTPUT and
# calls message(FATAL_ERROR ...) when something is wrong.
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE OUTPUT ERROR_VARIABLE ERRORS RESULT_VARIABLE status TIMEOUT 100)
message("${OUTPUT}")
if(NOT status EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} exited with ${status}: ${ERRORS}")
endif()
include(${CHECK})
message("check passed")
