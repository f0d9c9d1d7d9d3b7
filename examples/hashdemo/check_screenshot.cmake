# SPDX-License-Identifier: MIT
# cmake -DSCREENSHOT=<png> -P check_screenshot.cmake
# The demo's --screenshot must have left a non-empty PNG behind.
if(NOT EXISTS "${SCREENSHOT}")
    message(FATAL_ERROR "no screenshot at ${SCREENSHOT}")
endif()
file(SIZE "${SCREENSHOT}" size)
if(size EQUAL 0)
    message(FATAL_ERROR "${SCREENSHOT} is empty")
endif()
file(READ "${SCREENSHOT}" header LIMIT 8 HEX)
if(NOT header STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "${SCREENSHOT} is not a PNG (starts with ${header})")
endif()
message("${SCREENSHOT}: a PNG of ${size} bytes")
