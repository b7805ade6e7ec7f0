# Sanitizer and fuzzer builds (clang): the linux-asan and linux-tsan presets set these,
# with -O1 -gline-tables-only and asserts on (no NDEBUG): what the sanitizers advise,
# file:line in every report, and less compile and link time than -O2 -g. They also
# build as unity builds (CMAKE_UNITY_BUILD): a library's sources share one parse of
# their heavy headers, which takes a third off the build's CPU time.
#   SLUICE_SANITIZERS      "address,undefined" or "thread": every target is built with it
#   SLUICE_BUILD_FUZZERS   the libFuzzer targets in tests/fuzz; every library is then
#                          coverage-instrumented (fuzzer-no-link) so the fuzzers see its edges
set(SLUICE_SANITIZERS "" CACHE STRING "clang sanitizers for every target, e.g. address,undefined or thread")
option(SLUICE_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (clang)" OFF)

if(SLUICE_SANITIZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_SANITIZERS needs clang (the sanitizer presets set CMAKE_CXX_COMPILER=clang++)")
  endif()
  # Frame pointers for readable reports; a UB finding stops the test instead of
  # scrolling past in its output.
  add_compile_options(-fsanitize=${SLUICE_SANITIZERS} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${SLUICE_SANITIZERS})
  if(SLUICE_SANITIZERS MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

if(SLUICE_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_BUILD_FUZZERS needs clang (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
