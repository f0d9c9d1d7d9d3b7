# SPDX-License-Identifier: MIT
# cmake -DSCREENSHOT=<png> -P check_screenshot.cmake
# A demo's --screenshot must have left a PNG of the whole window behind:
# a PNG signature, then an IHDR chunk with a plausible size.
if(NOT EXISTS "${SCREENSHOT}")
    message(FATAL_ERROR "no screenshot at ${SCREENSHOT}")
endif()
file(SIZE "${SCREENSHOT}" size)
# An empty or one-colour window compresses to far less than this.
if(size LESS 2000)
    message(FATAL_ERROR "${SCREENSHOT} is only ${size} bytes: hardly a window with anything in it")
endif()
file(READ "${SCREENSHOT}" header LIMIT 24 HEX)
string(SUBSTRING "${header}" 0 16 signature)
string(SUBSTRING "${header}" 24 8 chunk)
if(NOT signature STREQUAL "89504e470d0a1a0a" OR NOT chunk STREQUAL "49484452")
    message(FATAL_ERROR "${SCREENSHOT} is not a PNG (starts with ${header})")
endif()
file(READ "${SCREENSHOT}" dimensions OFFSET 16 LIMIT 8 HEX)
string(SUBSTRING "${dimensions}" 0 8 width)
string(SUBSTRING "${dimensions}" 8 8 height)
math(EXPR width "0x${width}")
math(EXPR height "0x${height}")
if(width LESS 200 OR height LESS 200)
    message(FATAL_ERROR "${SCREENSHOT} is ${width}x${height}: not the whole window")
endif()
message("${SCREENSHOT}: a ${width}x${height} PNG of ${size} bytes")
