// service/rpc/program_paths.cpp with symbolic links, as /bin -> usr/bin and
// /usr/bin/python3 -> python3.11 are on Debian: the rule gets the link's target, the
// path /proc/PID/exe reports for the running program.
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/platform/platform.h"
#include "service/rpc/program_paths.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

std::string real(const std::string& path) { return platform::look_up_path(path).real_path; }

class PosixProgramPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform::create_directories(dir_.file("usr/bin"), false);
    std::ofstream(dir_.file("usr/bin/python3.11")) << "#!/bin/sh\n";
    std::ofstream(dir_.file("usr/bin/curl")) << "#!/bin/sh\n";
    ASSERT_EQ(::symlink("usr/bin", dir_.file("bin").c_str()), 0);
    ASSERT_EQ(::symlink("python3.11", dir_.file("usr/bin/python3").c_str()), 0);
    ASSERT_EQ(::symlink("nowhere", dir_.file("usr/bin/dangling").c_str()), 0);
    root_ = real(dir_.path());
  }
  test::TempDir dir_;
  std::string root_;
};

TEST_F(PosixProgramPathsTest, ALinkedDirectoryResolvesToItsTarget) {
  const ResolvedProgram resolved = resolve_program(dir_.file("bin/curl"), "rule.app");
  EXPECT_EQ(resolved.app, root_ + "/usr/bin/curl");
  EXPECT_EQ(resolved.typed, dir_.file("bin/curl"));
  EXPECT_TRUE(resolved.warnings.empty());
}

TEST_F(PosixProgramPathsTest, ALinkedProgramResolvesToItsTarget) {
  EXPECT_EQ(resolve_program(dir_.file("usr/bin/python3"), "rule.app").app, root_ + "/usr/bin/python3.11");
  EXPECT_EQ(resolve_program(dir_.file("bin/python3"), "rule.app").app, root_ + "/usr/bin/python3.11");
}

TEST_F(PosixProgramPathsTest, AGlobUnderALinkedDirectoryResolvesItsDirectory) {
  EXPECT_EQ(resolve_program(dir_.file("bin/**"), "rule.app").app, root_ + "/usr/bin/**");
  EXPECT_EQ(resolve_program(dir_.file("bin/py*"), "rule.app").app, root_ + "/usr/bin/py*");
}

TEST_F(PosixProgramPathsTest, ALinkToADirectoryIsRefusedAsADirectory) {
  EXPECT_THROW(resolve_program(dir_.file("bin"), "rule.app"), std::invalid_argument);
}

TEST_F(PosixProgramPathsTest, ADanglingLinkIsAMissingProgramWithAWarning) {
  const ResolvedProgram resolved = resolve_program(dir_.file("bin/dangling"), "rule.app");
  EXPECT_EQ(resolved.app, root_ + "/usr/bin/dangling");
  EXPECT_EQ(resolved.warnings.size(), 1u);
}

TEST_F(PosixProgramPathsTest, PolicyCheckResolvesTheSameWayAndKeepsWhatItCannot) {
  EXPECT_EQ(resolve_program_leniently(dir_.file("bin/curl")), root_ + "/usr/bin/curl");
  EXPECT_EQ(resolve_program_leniently("C:\\x.exe"), "C:\\x.exe");
}

}  // namespace
}  // namespace sluice::service
