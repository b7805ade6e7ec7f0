// provider/preload/launcher: sluice-run's command line, library and LD_PRELOAD.
#include <gtest/gtest.h>

#include <set>

#include "provider/preload/launcher.h"

using namespace sluice::preload;

TEST(PreloadLauncher, ProgramStartsAfterDoubleDash) {
  auto line = split_launch_line({"--control", "/s.sock", "--", "curl", "-v", "--", "x"});
  EXPECT_EQ(line.options, (std::vector<std::string>{"--control", "/s.sock"}));
  EXPECT_EQ(line.program, (std::vector<std::string>{"curl", "-v", "--", "x"}));
}

TEST(PreloadLauncher, ProgramStartsAtTheFirstWordThatIsNotAnOption) {
  auto line = split_launch_line({"--fail-mode", "closed", "--no-check", "curl", "-v", "http://x/"});
  EXPECT_EQ(line.options, (std::vector<std::string>{"--fail-mode", "closed", "--no-check"}));
  EXPECT_EQ(line.program, (std::vector<std::string>{"curl", "-v", "http://x/"}));
}

TEST(PreloadLauncher, NoProgramLeavesItEmpty) {
  EXPECT_TRUE(split_launch_line({"--help"}).program.empty());
  EXPECT_TRUE(split_launch_line({"--"}).program.empty());
}

TEST(PreloadLauncher, LibraryIsFoundBesideThenInLib) {
  std::set<std::string> files{"/opt/sluice/bin/../lib/sluice/libsluice_preload.so"};
  auto exists = [&](const std::string& p) { return files.count(p) > 0; };
  EXPECT_EQ(find_provider_library("/opt/sluice/bin", exists), "/opt/sluice/bin/../lib/sluice/libsluice_preload.so");
  files.insert("/opt/sluice/bin/libsluice_preload.so");
  EXPECT_EQ(find_provider_library("/opt/sluice/bin", exists), "/opt/sluice/bin/libsluice_preload.so");
  EXPECT_FALSE(find_provider_library("/elsewhere", exists));
}

TEST(PreloadLauncher, LdPreloadPutsTheProviderFirstOnce) {
  EXPECT_EQ(compose_ld_preload("", "/l/libsluice_preload.so"), "/l/libsluice_preload.so");
  EXPECT_EQ(compose_ld_preload("/a.so /l/libsluice_preload.so:/b.so", "/l/libsluice_preload.so"),
            "/l/libsluice_preload.so:/a.so:/b.so");
}
