# tessera_add_module(NAME [DEPS layer...] [LIBS target...] [TEST_LIBS target...] [LABELS label...])
#
# One static library per layer folder, built from every *.cpp in the folder (and its
# sub-folders) except *_test.cpp, *_bench.cpp and *_fuzz.cpp. Every *_test.cpp becomes part of
# one GoogleTest binary `tessera_NAME_tests`, registered with CTest under the label `unit`
# (or LABELS). DEPS names other layers; the dependency rule of design.md is visible here.
function(tessera_add_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS;TEST_LIBS;LABELS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  set(tests ${sources})
  list(FILTER sources EXCLUDE REGEX "_(test|bench|fuzz)\\.cpp$")
  list(FILTER tests INCLUDE REGEX "_test\\.cpp$")
  set(target tessera_${name})
  if(sources)
    add_library(${target} STATIC ${sources})
    set(scope PUBLIC)
  else()
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(${target} ${scope} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${target} ${scope} tessera_${dep})
  endforeach()
  target_link_libraries(${target} ${scope} ${ARG_LIBS})
  if(tests)
    add_executable(${target}_tests ${tests})
    target_link_libraries(${target}_tests PRIVATE ${target} ${ARG_TEST_LIBS} GTest::gtest_main GTest::gmock)
    target_compile_definitions(${target}_tests PRIVATE
      TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR}" TESSERA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      TESSERA_BINARY_DIR="${PROJECT_BINARY_DIR}")
    if(NOT ARG_LABELS)
      set(ARG_LABELS unit)
    endif()
    # gtest_discover_tests flattens list-valued PROPERTIES, so several labels become one
    # ("unit_tsan"); ctest -L/-LE match labels as regexes, so -L tsan and -L unit both find it.
    string(JOIN "_" labels ${ARG_LABELS})
    gtest_discover_tests(${target}_tests PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# tessera_add_test(NAME SOURCES... [LIBS ...] [LABELS ...]): a cross-module GoogleTest binary.
# SERIAL: ctest runs these tests alone (load tests whose timing must not compete with another
# test for the 2 cores).
function(tessera_add_test name)
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    TESSERA_SHARED_DIR="${TESSERA_SHARED_DIR}" TESSERA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TESSERA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  string(JOIN "_" labels ${ARG_LABELS})  # one label, see tessera_add_module
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" RUN_SERIAL ${serial} DISCOVERY_TIMEOUT 60)
endfunction()
