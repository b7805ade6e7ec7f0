# Toolchain for the windows-cross preset: Windows x64 executables built on Linux with
# mingw-w64 (Debian's g++-mingw-w64-x86-64-posix), run and tested under Wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The -posix variants use the posix thread model: std::thread/std::mutex work
# (the -win32 ones lack them in g++ 12).
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# Libraries/headers/packages only from the mingw sysroot, never the Linux host's;
# programs (tools run at build time) only from the host.
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Tests and gtest_discover_tests run the .exe files through Wine.
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-exec.sh)

# Fully static binaries: no libstdc++-6.dll / libgcc_s_seh-1.dll / libwinpthread-1.dll
# need to ship next to the executables (or be found by Wine).
set(_sluice_static "-static -static-libgcc -static-libstdc++")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_sluice_static}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_sluice_static}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_sluice_static}")

# Where packaging/windows/provision.sh puts the third-party sources; setting it makes
# cmake/Dependencies.cmake use cmake/MingwDependencies.cmake instead of find_package.
if(NOT "$ENV{SLUICE_CACHE}" STREQUAL "")
  set(_sluice_cache "$ENV{SLUICE_CACHE}")
else()
  set(_sluice_cache "$ENV{HOME}/.cache/sluice")
endif()
set(SLUICE_MINGW_DEPS_DIR "${_sluice_cache}/mingw-deps-v1" CACHE PATH
    "Third-party sources for the mingw build (from packaging/windows/provision.sh)")
