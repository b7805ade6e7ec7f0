// control/cli/preload_file: editing /etc/ld.so.preload for `sluicectl provider`.
#include <gtest/gtest.h>

#include "control/cli/preload_file.h"

using namespace sluice::cli;

TEST(PreloadFile, EntriesAreSplitOnWhitespaceAndColonsWithoutComments) {
  EXPECT_EQ(preload_entries("/a.so /b.so:/c.so\n# /d.so\n\t/e.so # tail\n"),
            (std::vector<std::string>{"/a.so", "/b.so", "/c.so", "/e.so"}));
}

TEST(PreloadFile, InstallPutsTheProviderFirstAndKeepsTheRest) {
  EXPECT_EQ(with_provider("", "/usr/lib/sluice/libsluice_preload.so"), "/usr/lib/sluice/libsluice_preload.so\n");
  EXPECT_EQ(with_provider("# site\n/a.so\n", "/p/libsluice_preload.so"), "/p/libsluice_preload.so\n# site\n/a.so\n");
}

TEST(PreloadFile, InstallReplacesAnotherCopyOfTheProvider) {
  EXPECT_EQ(with_provider("/old/libsluice_preload.so /a.so\n", "/new/libsluice_preload.so"),
            "/new/libsluice_preload.so\n/a.so\n");
}

TEST(PreloadFile, UninstallRemovesOnlyTheProvider) {
  EXPECT_EQ(without_provider("/p/libsluice_preload.so\n# keep\n/a.so:/x/libsluice_preload.so\n"), "# keep\n/a.so\n");
  EXPECT_EQ(without_provider("/a.so\n"), "/a.so\n");
  EXPECT_EQ(without_provider("/p/libsluice_preload.so\n"), "");
}

TEST(PreloadFile, ProviderEntriesAreRecognisedByFileName) {
  EXPECT_TRUE(is_provider_entry("/usr/lib/sluice/libsluice_preload.so"));
  EXPECT_TRUE(is_provider_entry("libsluice_preload.so"));
  EXPECT_FALSE(is_provider_entry("/usr/lib/libsluice_preload.so.bak"));
}
