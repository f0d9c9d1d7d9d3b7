# SPDX-License-Identifier: MIT
# cmake -P script run by the test_install CTest test (see CMakeLists.txt for
# the variables it gets). Every step must succeed; the last line it prints is
# the consumer's own output, which the test matches.
cmake_minimum_required(VERSION 3.25)
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

# Every ```cpp block of the READMEs becomes a source file of the consumer, so
# the documentation cannot drift from what compiles.
# "|"-separated: a ";" would split the test's command line.
string(REPLACE "|" ";" README_FILES "${README_FILES}")
set(snippets_dir "${WORK_DIR}/snippets")
file(MAKE_DIRECTORY "${snippets_dir}")
set(snippet_count 0)
foreach(readme ${README_FILES})
    file(READ "${readme}" text)
    get_filename_component(readme_dir "${readme}" DIRECTORY)
    get_filename_component(readme_dir "${readme_dir}" NAME)
    set(fence "```cpp\n")
    string(LENGTH "${fence}" fence_length)
    while(TRUE)
        string(FIND "${text}" "${fence}" begin)
        if(begin EQUAL -1)
            break()
        endif()
        math(EXPR begin "${begin} + ${fence_length}")
        string(SUBSTRING "${text}" ${begin} -1 text)
        string(FIND "${text}" "```" end)
        if(end EQUAL -1)
            message(FATAL_ERROR "test_install: an unclosed ```cpp block in ${readme}")
        endif()
        string(SUBSTRING "${text}" 0 ${end} block)
        string(SUBSTRING "${text}" ${end} -1 text)
        math(EXPR snippet_count "${snippet_count} + 1")
        file(WRITE "${snippets_dir}/${readme_dir}_${snippet_count}.cpp"
            "// From ${readme}\n#include \"prelude.h\"\n${block}")
    endwhile()
endforeach()
message(STATUS "test_install: ${snippet_count} README blocks to compile")

set(configure_options -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DQTOFFLOAD_SNIPPETS_DIR=${snippets_dir})
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

# The installed QML module, as a user's QML_IMPORT_PATH finds it.
file(GLOB_RECURSE qmldirs "${prefix}/qmldir")
list(FILTER qmldirs INCLUDE REGEX "/QtOffload/qmldir$")
if(NOT qmldirs)
    message(FATAL_ERROR "test_install: no QML module QtOffload installed under ${prefix}")
endif()
list(GET qmldirs 0 qmldir)
get_filename_component(module_dir "${qmldir}" DIRECTORY)
get_filename_component(import_path "${module_dir}" DIRECTORY)

set(report "")
foreach(program app widgets_app qml_app)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen "QML_IMPORT_PATH=${import_path}"
                            "${consumer_build}/${program}"
        RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "test_install: the consumer ${program} failed (${result}):\n${output}${errors}")
    endif()
    string(STRIP "${output}" output)
    string(APPEND report " ${output} |")
endforeach()
message(STATUS "consumer ran:${report}")
