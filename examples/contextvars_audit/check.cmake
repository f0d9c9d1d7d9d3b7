# SPDX-License-Identifier: MIT
# The ids read back are exactly the five ids set, in call order.
string(REGEX MATCHALL "set [0-9]+" set_lines "${OUTPUT}")
string(REGEX MATCHALL "read [0-9]+" read_lines "${OUTPUT}")
string(REPLACE "set " "" set_ids "${set_lines}")
string(REPLACE "read " "" read_ids "${read_lines}")
list(LENGTH set_ids count)
if(NOT count EQUAL 5)
    message(FATAL_ERROR "expected five ids set, got ${count}")
endif()
if(NOT "${set_ids}" STREQUAL "${read_ids}")
    message(FATAL_ERROR "read back [${read_ids}] instead of [${set_ids}]")
endif()
