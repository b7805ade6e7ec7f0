// common/platform/posix_platform.cpp: what the daemon creates has the mode it asks
// for, whatever umask it runs under (docs/attacksurface.md promises 0700 for state,
// 0755 for the control socket's directory).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/platform/platform.h"
#include "tests/support/temp_dir.h"

namespace sluice::platform {
namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class UmaskScope {
 public:
  explicit UmaskScope(mode_t mask) : previous_(::umask(mask)) {}
  ~UmaskScope() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST(PosixPlatformTest, WorldReadableDirectoriesAre0755UnderTheDaemonsUmask) {
  test::TempDir dir;
  UmaskScope daemon_umask(027);  // posix_daemon.cpp's
  create_directories(dir.file("run/sluice"), /*world_readable=*/true);
  EXPECT_EQ(mode_of(dir.file("run")), 0755u);
  EXPECT_EQ(mode_of(dir.file("run/sluice")), 0755u);
}

TEST(PosixPlatformTest, PrivateDirectoriesAre0700UnderAPermissiveUmask) {
  test::TempDir dir;
  UmaskScope permissive(0);
  create_directories(dir.file("var/lib/sluice"), /*world_readable=*/false);
  EXPECT_EQ(mode_of(dir.file("var/lib/sluice")), 0700u);
}

TEST(PosixPlatformTest, AnExistingDirectoryKeepsItsMode) {
  test::TempDir dir;
  const std::string existing = dir.file("mine");
  ASSERT_EQ(::mkdir(existing.c_str(), 0750), 0);
  ::chmod(existing.c_str(), 0750);
  create_directories(existing + "/sub", /*world_readable=*/true);
  EXPECT_EQ(mode_of(existing), 0750u);  // not ours to change (see Known weaknesses)
  EXPECT_EQ(mode_of(existing + "/sub"), 0755u);
}

}  // namespace
}  // namespace sluice::platform
