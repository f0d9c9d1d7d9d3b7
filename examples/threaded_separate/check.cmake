# SPDX-License-Identifier: MIT
# The loop ran on its own thread until the stop, the pool job on the pool,
# and the program waited for both.
if(NOT OUTPUT MATCHES "^Running on QtOffload separate #[0-9]+\n")
    message(FATAL_ERROR "the loop did not start first on a separate thread")
endif()
if(NOT OUTPUT MATCHES "\npool job done on QtOffload pool default #[0-9]+\n")
    message(FATAL_ERROR "the pool job did not run on the default pool")
endif()
if(NOT OUTPUT MATCHES "\nExiting\nboth finished\n$")
    message(FATAL_ERROR "the loop did not stop before the program went on")
endif()
