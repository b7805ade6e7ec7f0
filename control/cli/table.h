#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sluice::cli {

// A plain-text table: a header row, then rows, columns padded to their widest cell.
// Numeric columns are right-aligned so figures line up.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void render(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sluice::cli
