# SPDX-License-Identifier: MIT
# About one second; two would mean the calls ran one after the other. The
# bound is generous because the machine running the tests may be loaded.
if(NOT OUTPUT MATCHES "two 1 s calls took ([0-9]+\\.[0-9]+) s in parallel\n")
    message(FATAL_ERROR "unexpected output")
endif()
if(CMAKE_MATCH_1 LESS 1.0 OR NOT CMAKE_MATCH_1 LESS 1.9)
    message(FATAL_ERROR "took ${CMAKE_MATCH_1} s: not one second in parallel")
endif()
