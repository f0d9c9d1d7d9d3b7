# SPDX-License-Identifier: MIT
# 100 chunks of 1 KiB, hashed chunk by chunk, equal the hash of all of them at once.
if(NOT OUTPUT MATCHES "read 102400 bytes in 100 chunks, md5 of all: ([0-9a-f]+)\ncheck: ([0-9a-f]+)\n")
    message(FATAL_ERROR "unexpected output")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL CMAKE_MATCH_2)
    message(FATAL_ERROR "incremental md5 ${CMAKE_MATCH_1} differs from ${CMAKE_MATCH_2}")
endif()
if(NOT OUTPUT MATCHES "producer runs on QtOffload generator #[0-9]+\n" OR NOT OUTPUT MATCHES "producer thread stopped: yes\n")
    message(FATAL_ERROR "the producer did not run on its own thread, or did not stop")
endif()
