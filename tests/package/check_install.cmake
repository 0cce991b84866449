# Installs the built caserepo into a scratch prefix, then configures, builds
# and runs tests/package/consumer against it with find_package(caserepo).
file(REMOVE_RECURSE "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${WORK_DIR}/prefix")

# The README's embedding example is built and run too, so it cannot rot.
file(READ "${README}" readme)
string(REGEX MATCH "```cpp\n(.*)\n```\n\nIn CMake" _ "${readme}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "no embedding example found in ${README}")
endif()
file(WRITE "${WORK_DIR}/readme_example.cc" "${CMAKE_MATCH_1}\n")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DREADME_EXAMPLE=${WORK_DIR}/readme_example.cc"
    "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
run("${WORK_DIR}/build/readme_example")
