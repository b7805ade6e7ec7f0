// service/rpc/program_paths.cpp: what a rule or quota names is what the kernel will report,
// or a refusal saying why it cannot be. Runs natively and under Wine, on real files in
// a temp dir (the links themselves are posix_program_paths_test's).
#include <fstream>

#include <gtest/gtest.h>

#include "common/platform/platform.h"
#include "service/policy/policy_document.h"
#include "service/rpc/program_paths.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using platform::join_path;

void make_file(const std::string& path) { std::ofstream(path) << "#!/bin/sh\n"; }

// The temp dir as the file system names it (it may itself sit behind a link).
std::string real(const std::string& path) { return platform::look_up_path(path).real_path; }

// The refusal's text, or "" when the path was accepted.
std::string refusal(const std::string& typed) {
  try {
    resolve_program(typed, "rule.app");
    return "";
  } catch (const policy::DocumentError& e) {
    EXPECT_EQ(e.path(), "rule.app");
    return e.what();
  }
}

TEST(ProgramPathsTest, DotsAreResolvedToThePathTheSystemReports) {
  test::TempDir dir;
  platform::create_directories(dir.file("sub"), false);
  make_file(dir.file("prog"));
  const std::string typed = join_path(join_path(dir.file("sub"), ".."), "prog");
  const ResolvedProgram resolved = resolve_program(typed, "rule.app");
  EXPECT_EQ(resolved.app, join_path(real(dir.path()), "prog"));
  EXPECT_EQ(resolved.typed, typed);
  EXPECT_TRUE(resolved.changed());
  EXPECT_TRUE(resolved.warnings.empty());
}

TEST(ProgramPathsTest, WhitespaceAtEitherEndIsRefused) {
  test::TempDir dir;
  make_file(dir.file("prog"));
  EXPECT_NE(refusal(dir.file("prog") + " ").find("whitespace"), std::string::npos);
  EXPECT_NE(refusal(" " + dir.file("prog")).find("whitespace"), std::string::npos);
  EXPECT_NE(refusal(dir.file("prog") + "\t").find("whitespace"), std::string::npos);
  EXPECT_NE(refusal(dir.file("pr\nog")).find("control character"), std::string::npos);
  EXPECT_EQ(refusal(dir.file("prog")), "");
}

TEST(ProgramPathsTest, ADirectoryIsNotAProgram) {
  test::TempDir dir;
  const std::string message = refusal(dir.path());
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  EXPECT_NE(message.find("**"), std::string::npos) << "it says how to name every program under it: " << message;
}

TEST(ProgramPathsTest, TheOtherPlatformsPathsAndRelativeOnesAreRefused) {
  const bool windows = std::string(platform::name()) == "windows";
  const std::string foreign = windows ? "/usr/bin/curl" : "C:\\Windows\\System32\\curl.exe";
  const std::string message = refusal(foreign);
  EXPECT_NE(message.find(windows ? "is a POSIX path" : "is a Windows path"), std::string::npos) << message;
  if (!windows) {
    EXPECT_NE(refusal("\\\\server\\share\\app.exe").find("is a Windows path"), std::string::npos);
  }
  EXPECT_NE(refusal("bin/*").find("relative path"), std::string::npos);
  // A glob's directory is held to the same form.
  const std::string foreign_glob = windows ? "/usr/lib/*/bin/*" : "D:\\Tools\\*.exe";
  EXPECT_NE(refusal(foreign_glob).find(windows ? "is a POSIX path" : "is a Windows path"), std::string::npos);
}

TEST(ProgramPathsTest, AMissingProgramIsKeptUnderItsResolvedDirectoryWithAWarning) {
  test::TempDir dir;
  platform::create_directories(dir.file("sub"), false);
  const std::string typed = join_path(join_path(dir.file("sub"), ".."), "not-installed-yet");
  const ResolvedProgram resolved = resolve_program(typed, "rule.app");
  EXPECT_EQ(resolved.app, join_path(real(dir.path()), "not-installed-yet"));
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_NE(resolved.warnings[0].find("there is no program at"), std::string::npos) << resolved.warnings[0];
}

TEST(ProgramPathsTest, AGlobsLiteralDirectoryIsResolvedAndItsPatternKept) {
  test::TempDir dir;
  platform::create_directories(dir.file("sub"), false);
  const std::string typed = join_path(join_path(join_path(dir.file("sub"), ".."), "sub"), "**");
  const ResolvedProgram resolved = resolve_program(typed, "rule.app");
  EXPECT_EQ(resolved.app, join_path(real(dir.file("sub")), "**"));
  EXPECT_TRUE(resolved.warnings.empty());
  // A glob with no directory to resolve is kept as it is.
  EXPECT_EQ(resolve_program("**", "rule.app").app, "**");
  EXPECT_FALSE(resolve_program("**", "rule.app").changed());
  // A directory that is not there: kept, with a warning; a file in its place: refused.
  const ResolvedProgram missing = resolve_program(join_path(dir.file("nowhere"), "*"), "rule.app");
  EXPECT_EQ(missing.warnings.size(), 1u);
  make_file(dir.file("file"));
  EXPECT_NE(refusal(join_path(dir.file("file"), "*")).find("is a file, not a directory"), std::string::npos);
}

TEST(ProgramPathsTest, TheTypedPathNoteIsReplacedNotPiledUp) {
  EXPECT_EQ(comment_with_typed_path("", "/bin/curl"), "[typed /bin/curl]");
  EXPECT_EQ(comment_with_typed_path("block curl", "/bin/curl"), "block curl [typed /bin/curl]");
  EXPECT_EQ(comment_with_typed_path("block curl [typed /bin/curl]", "/bin/wget"), "block curl [typed /bin/wget]");
  EXPECT_EQ(comment_with_typed_path("block curl [typed /bin/curl]", ""), "block curl");
}

}  // namespace
}  // namespace sluice::service
