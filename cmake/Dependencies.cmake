# Third-party libraries, under the same target names whatever provides them:
# Debian's packages (linux preset), vcpkg (windows-msvc), or sources provisioned
# from pinned registry tarballs by packaging/windows/provision.sh (windows-cross).
if(SLUICE_MINGW_DEPS_DIR)
  include(${CMAKE_CURRENT_LIST_DIR}/MingwDependencies.cmake)
  return()
endif()

find_package(SQLite3 REQUIRED)
find_package(Boost 1.71 REQUIRED COMPONENTS program_options)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
if(SLUICE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(Threads REQUIRED)
