# SPDX-License-Identifier: MIT
# The separate reader read the whole source; each endless reader gave ten
# 8-byte chunks and stopped; no thread is left once the Entrypoint shut down.
file(READ ${CMAKE_CURRENT_LIST_DIR}/main.cpp source)
string(LENGTH "${source}" bytes)
string(REGEX MATCHALL "\n" newlines "${source}")
list(LENGTH newlines lines)
if(NOT OUTPUT MATCHES "read ${lines} lines \\(${bytes} bytes\\) of my own source on a separate thread\n")
    message(FATAL_ERROR "the source (${lines} lines, ${bytes} bytes) was not read whole")
endif()
string(REPEAT "[0-9a-f]" 16 chunk)
string(REPEAT "${chunk} " 10 tenChunks) # CMake regexes have no {n}
if(NOT OUTPUT MATCHES "\n${tenChunks}\nclosed explicitly after 10 chunks\n${tenChunks}\nclosed by scope after 10 chunks\n")
    message(FATAL_ERROR "the endless readers did not give ten chunks each")
endif()
if(NOT OUTPUT MATCHES "\npool idle: yes, jobs running: 0, threads left after shutdown: 0\n$")
    message(FATAL_ERROR "a thread was left running")
endif()
