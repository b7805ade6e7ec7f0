# Third-party libraries for the mingw cross build, built from the sources that
# packaging/windows/provision.sh put in SLUICE_MINGW_DEPS_DIR. The targets carry the
# names find_package gives on Linux, so the rest of the tree does not care which it got.
# Aliases cannot point at non-global imported targets, so each is a real sluice_dep_*
# target with an ALIAS under the upstream name.
set(_deps "${SLUICE_MINGW_DEPS_DIR}")
if(NOT EXISTS "${_deps}/.provisioned")
  message(FATAL_ERROR "mingw dependencies not found in ${_deps}: "
                      "run packaging/windows/provision.sh")
endif()

# SQLite amalgamation (its own warnings are upstream's business: -w).
add_library(sluice_dep_sqlite3 STATIC "${_deps}/src/sqlite3/sqlite3.c")
set_target_properties(sluice_dep_sqlite3 PROPERTIES LINKER_LANGUAGE C)
target_compile_definitions(sluice_dep_sqlite3 PRIVATE SQLITE_THREADSAFE=1 SQLITE_OMIT_LOAD_EXTENSION=1)
target_compile_options(sluice_dep_sqlite3 PRIVATE -w)
target_include_directories(sluice_dep_sqlite3 SYSTEM PUBLIC "${_deps}/src/sqlite3")
add_library(SQLite::SQLite3 ALIAS sluice_dep_sqlite3)

# Boost.Program_options 1.57. Its sources use auto_ptr/unary_function, so they are built
# as C++17 (still available, only deprecated there); the headers work from C++20 code.
set(_po_sources cmdline config_file convert options_description parsers positional_options
                split utf8_codecvt_facet value_semantic variables_map winmain)
list(TRANSFORM _po_sources PREPEND "${_deps}/src/boost_program_options/")
list(TRANSFORM _po_sources APPEND ".cpp")
add_library(sluice_dep_boost_program_options STATIC ${_po_sources})
set_target_properties(sluice_dep_boost_program_options PROPERTIES CXX_STANDARD 17 CXX_EXTENSIONS OFF)
target_compile_options(sluice_dep_boost_program_options PRIVATE -w)
# BOOST_ALL_NO_LIB: no MSVC-style auto-linking pragmas; static lib, so no DYN_LINK.
target_compile_definitions(sluice_dep_boost_program_options PUBLIC BOOST_ALL_NO_LIB)
target_include_directories(sluice_dep_boost_program_options SYSTEM PUBLIC "${_deps}/include")
add_library(Boost::program_options ALIAS sluice_dep_boost_program_options)

# Header-only fmt / spdlog / nlohmann-json (Debian's headers, copied by provision.sh).
# SPDLOG_FMT_EXTERNAL matches Debian's tweakme.h (spdlog uses the external fmt, not a bundled one).
add_library(sluice_dep_fmt INTERFACE)
target_compile_definitions(sluice_dep_fmt INTERFACE FMT_HEADER_ONLY)
target_include_directories(sluice_dep_fmt SYSTEM INTERFACE "${_deps}/include")
add_library(fmt::fmt ALIAS sluice_dep_fmt)

add_library(sluice_dep_spdlog INTERFACE)
target_compile_definitions(sluice_dep_spdlog INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL)
target_include_directories(sluice_dep_spdlog SYSTEM INTERFACE "${_deps}/include")
target_link_libraries(sluice_dep_spdlog INTERFACE fmt::fmt)
add_library(spdlog::spdlog ALIAS sluice_dep_spdlog)

add_library(sluice_dep_nlohmann_json INTERFACE)
target_include_directories(sluice_dep_nlohmann_json SYSTEM INTERFACE "${_deps}/include")
add_library(nlohmann_json::nlohmann_json ALIAS sluice_dep_nlohmann_json)

# Threads::Threads, as the Linux branch of Dependencies.cmake provides it (mingw posix: winpthreads).
find_package(Threads REQUIRED)

# GoogleTest from Debian's source package, built for mingw as part of this build.
# googletest 1.12 already defines GTest::gtest, GTest::gtest_main, GTest::gmock (and
# GTest::gmock_main) as ALIASes; add them only if a future version stops doing so.
if(NOT DEFINED SLUICE_BUILD_TESTS OR SLUICE_BUILD_TESTS)
  set(INSTALL_GTEST OFF)  # googletest sets CMP0077, so a normal variable overrides its option()
  add_subdirectory(/usr/src/googletest "${CMAKE_BINARY_DIR}/_deps/googletest" EXCLUDE_FROM_ALL)
  foreach(_t gtest gtest_main gmock gmock_main)
    if(NOT TARGET GTest::${_t})
      add_library(GTest::${_t} ALIAS ${_t})
    endif()
  endforeach()
endif()
