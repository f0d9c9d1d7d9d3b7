# SPDX-License-Identifier: MIT
# The seed's order: the thread waits while the coroutine runs in the loop.
if(NOT OUTPUT MATCHES "^Thread started\nCoroutine started\nCoroutine done\nThread finished\n$")
    message(FATAL_ERROR "the four lines are missing or out of order")
endif()
