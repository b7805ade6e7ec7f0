#include "common/log_destinations.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

using spdlog::level::level_enum;

TEST(JournalPrefix, MapsEachLevelToItsSyslogPriority) {
  EXPECT_EQ(journal_prefix(level_enum::critical), "<2>");
  EXPECT_EQ(journal_prefix(level_enum::err), "<3>");
  EXPECT_EQ(journal_prefix(level_enum::warn), "<4>");
  EXPECT_EQ(journal_prefix(level_enum::info), "<6>");
  EXPECT_EQ(journal_prefix(level_enum::debug), "<7>");
  EXPECT_EQ(journal_prefix(level_enum::trace), "<7>");
}

TEST(JournalStream, RecognisesStderrByDeviceAndInode) {
  EXPECT_TRUE(is_journal_stream("64769:1234567", 64769, 1234567));
  EXPECT_TRUE(is_journal_stream("0:0", 0, 0));
  EXPECT_TRUE(is_journal_stream("18446744073709551615:1", 18446744073709551615ULL, 1));
}

TEST(JournalStream, RefusesAnotherFile) {
  // systemd set it for the unit's stream, but stderr was redirected (a shell in a
  // unit, `2>file`): the line goes to a file that has no timestamps of its own.
  EXPECT_FALSE(is_journal_stream("64769:1234567", 64769, 1234568));
  EXPECT_FALSE(is_journal_stream("64769:1234567", 64770, 1234567));
}

TEST(JournalStream, RefusesAnAbsentOrMalformedVariable) {
  EXPECT_FALSE(is_journal_stream(nullptr, 1, 2));
  EXPECT_FALSE(is_journal_stream("", 1, 2));
  EXPECT_FALSE(is_journal_stream("1", 1, 1));
  EXPECT_FALSE(is_journal_stream("1:", 1, 0));
  EXPECT_FALSE(is_journal_stream(":2", 0, 2));
  EXPECT_FALSE(is_journal_stream("1:2x", 1, 2));
  EXPECT_FALSE(is_journal_stream(" 1:2", 1, 2));
  EXPECT_FALSE(is_journal_stream("-1:2", static_cast<std::uint64_t>(-1), 2));
  EXPECT_FALSE(is_journal_stream("1:2:3", 1, 2));
  EXPECT_FALSE(is_journal_stream("99999999999999999999:2", 0, 2));  // overflows 64 bits
}

TEST(EventLogType, ReportsEveryProblemWhateverTheLogger) {
  for (bool lifecycle : {false, true}) {
    EXPECT_EQ(event_log_type(level_enum::critical, lifecycle), EventLogType::error);
    EXPECT_EQ(event_log_type(level_enum::err, lifecycle), EventLogType::error);
    EXPECT_EQ(event_log_type(level_enum::warn, lifecycle), EventLogType::warning);
  }
}

TEST(EventLogType, ReportsLifecycleLinesAsInformation) {
  EXPECT_EQ(event_log_type(level_enum::info, true), EventLogType::information);
  EXPECT_EQ(event_log_type(level_enum::debug, true), EventLogType::information);
}

TEST(EventLogType, LeavesOrdinaryLinesToTheLogFile) {
  EXPECT_EQ(event_log_type(level_enum::info, false), std::nullopt);
  EXPECT_EQ(event_log_type(level_enum::debug, false), std::nullopt);
  EXPECT_EQ(event_log_type(level_enum::trace, false), std::nullopt);
  EXPECT_EQ(event_log_type(level_enum::off, true), std::nullopt);
}

TEST(EventLogType, UsesTheWindowsEntryTypeValues) {
  // winnt.h: EVENTLOG_ERROR_TYPE 1, EVENTLOG_WARNING_TYPE 2, EVENTLOG_INFORMATION_TYPE 4;
  // ReportEventW receives these values as they are.
  EXPECT_EQ(static_cast<int>(EventLogType::error), 1);
  EXPECT_EQ(static_cast<int>(EventLogType::warning), 2);
  EXPECT_EQ(static_cast<int>(EventLogType::information), 4);
}

TEST(LifecycleLogger, IsRecognisedByItsNameOnly) {
  EXPECT_TRUE(is_lifecycle_logger(kLifecycleLoggerName));
  EXPECT_FALSE(is_lifecycle_logger("sluice"));
  EXPECT_FALSE(is_lifecycle_logger(""));
  EXPECT_FALSE(is_lifecycle_logger("sluice.lifecycle.extra"));
}

}  // namespace
}  // namespace sluice
