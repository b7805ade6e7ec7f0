#include "control/cli/table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sluice::cli {
namespace {

TEST(TableTest, PadsColumnsAndRightAlignsNumbers) {
  Table table({"NAME", "SIZE"}, {false, true});
  table.add_row({"a", "1"});
  table.add_row({"longer", "12345"});
  std::ostringstream out;
  table.render(out);
  EXPECT_EQ(out.str(),
            "NAME     SIZE\n"
            "a           1\n"
            "longer  12345\n");
}

TEST(TableTest, CountsCharactersNotBytes) {
  Table table({"A", "B"});
  table.add_row({"é", "x"});
  std::ostringstream out;
  table.render(out);
  EXPECT_EQ(out.str(), "A  B\né  x\n");
}

}  // namespace
}  // namespace sluice::cli
