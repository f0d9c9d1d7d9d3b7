# SPDX-License-Identifier: MIT
# cmake -P script run by the test_install CTest test (see CMakeLists.txt for
# the variables it gets). Every step must succeed; the last line it prints is
# the consumer's own output, which the test matches.
foreach(variable QTOFFLOAD_CMAKE_COMMAND QTOFFLOAD_BUILD_DIR QTOFFLOAD_GENERATOR CONSUMER_SOURCE_DIR WORK_DIR)
    if(NOT ${variable})
        message(FATAL_ERROR "install_and_consume.cmake: ${variable} is not set")
    endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")

function(run_step what)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "test_install: ${what} failed (${result})")
    endif()
endfunction()

run_step("cmake --install" "${QTOFFLOAD_CMAKE_COMMAND}" --install "${QTOFFLOAD_BUILD_DIR}" --prefix "${prefix}")

set(configure_options -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(QTOFFLOAD_MAKE_PROGRAM)
    list(APPEND configure_options -DCMAKE_MAKE_PROGRAM=${QTOFFLOAD_MAKE_PROGRAM})
endif()
if(QTOFFLOAD_CXX_COMPILER)
    list(APPEND configure_options -DCMAKE_CXX_COMPILER=${QTOFFLOAD_CXX_COMPILER})
endif()
run_step("configuring the consumer" "${QTOFFLOAD_CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
    -G "${QTOFFLOAD_GENERATOR}" ${configure_options})

# The package must come from the fresh prefix, not from the build tree.
file(STRINGS "${consumer_build}/CMakeCache.txt" found_dir REGEX "^QtOffload_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found_dir "${found_dir}")
file(REAL_PATH "${prefix}" real_prefix)
file(REAL_PATH "${found_dir}" real_found_dir)
string(FIND "${real_found_dir}/" "${real_prefix}/" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "test_install: the consumer found QtOffload in ${found_dir}, not in ${prefix}")
endif()

run_step("building the consumer" "${QTOFFLOAD_CMAKE_COMMAND}" --build "${consumer_build}")

execute_process(COMMAND "${consumer_build}/app" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "test_install: the consumer failed (${result}):\n${output}${errors}")
endif()
string(STRIP "${output}" output)
message(STATUS "consumer ran: ${output}")
