// What sluicectl prints of other users' strings: escaped so it cannot drive the
// administrator's terminal or forge rows (issue 17: crafted executable names).
#include "control/cli/terminal_text.h"

#include <gtest/gtest.h>

#include <sstream>

#include "control/cli/table.h"

namespace sluice::cli {
namespace {

TEST(TerminalTextTest, PrintableTextIsUnchanged) {
  EXPECT_EQ(printable("/usr/bin/curl"), "/usr/bin/curl");
  EXPECT_EQ(printable("C:\\Windows\\System32\\curl.exe"), "C:\\Windows\\System32\\curl.exe");
  EXPECT_EQ(printable("/opt/caf\xc3\xa9/\xe2\x86\x92 \xf0\x9f\x93\xa6"), "/opt/caf\xc3\xa9/\xe2\x86\x92 \xf0\x9f\x93\xa6");
  EXPECT_EQ(printable(""), "");
}

TEST(TerminalTextTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(printable("/tmp/\x1b[2J\x1b[Hroot"), "/tmp/\\x1b[2J\\x1b[Hroot");
  EXPECT_EQ(printable("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("bell\x07 del\x7f"), "bell\\x07 del\\x7f");
  // C1 controls: U+009B is CSI, which some terminals obey in UTF-8.
  EXPECT_EQ(printable("x\xc2\x9b" "2Jy"), "x\\u{009b}2Jy");
}

TEST(TerminalTextTest, BidiAndZeroWidthFormattingIsEscaped) {
  EXPECT_EQ(printable("/tmp/\xe2\x80\xaeolleh"), "/tmp/\\u{202e}olleh");           // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(printable("a\xe2\x81\xa6" "b\xe2\x81\xa9"), "a\\u{2066}b\\u{2069}");     // isolates
  EXPECT_EQ(printable("a\xe2\x80\x8b" "b"), "a\\u{200b}b");                           // ZERO WIDTH SPACE
}

TEST(TerminalTextTest, BytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(printable("a\x9b" "b"), "a\\x9bb");             // a lone continuation byte (8-bit CSI)
  EXPECT_EQ(printable("a\xc0\xaf"), "a\\xc0\\xaf");         // overlong '/'
  EXPECT_EQ(printable("a\xed\xa0\x80"), "a\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable("a\xe2\x82"), "a\\xe2\\x82");         // cut short
}

TEST(TerminalTextTest, TableCellsCannotForgeRows) {
  Table table({"PROGRAM", "FLOWS"});
  table.add_row({"/tmp/x\n/usr/bin/sshd  99", "1"});
  table.add_row({"/tmp/\x1b[1A\x1b[2Khidden", "2"});
  std::ostringstream out;
  table.render(out);
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("/tmp/x\\n/usr/bin/sshd  99"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::cli
