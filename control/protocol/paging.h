#pragma once

// Lists that may not fit one frame are answered a page at a time: a page ends at its
// row limit or once its rows fill half a frame, whichever comes first, so an answer
// always fits whatever the paths and comments in it. The client asks again with the
// page's cursor while "more" is true. PageRows builds a page on the service's side;
// collect_pages walks every page on the caller's side.

#include <cstddef>
#include <functional>
#include <string>

#include "control/protocol/frame.h"
#include "control/protocol/jsonrpc.h"

namespace sluice::protocol {

inline constexpr std::size_t kPageBytes = kMaxFrameBytes / 2;

class PageRows {
 public:
  explicit PageRows(std::size_t limit, std::size_t budget = kPageBytes) : limit_(limit), budget_(budget) {}

  // Adds `row` unless the page is full; false (and the page is marked as having more)
  // when it is. The first row always goes in, so a page never comes back empty
  // while rows remain.
  bool add(json row) {
    const std::size_t size = row.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1;
    if (!rows_.empty() && (rows_.size() >= limit_ || bytes_ + size > budget_)) {
      more_ = true;
      return false;
    }
    bytes_ += size;
    rows_.push_back(std::move(row));
    return true;
  }
  void set_more() { more_ = true; }
  bool more() const { return more_; }
  std::size_t size() const { return rows_.size(); }
  json take() { return std::move(rows_); }

 private:
  std::size_t limit_, budget_, bytes_ = 0;
  bool more_ = false;
  json rows_ = json::array();
};

// Calls `call(params)` until a page says no more, moving each page's `cursor` (the
// answer's "next_after" or "next_offset") into the next request, and returns the last
// page with `list` holding every page's rows. A page without rows ends the walk, so a
// service that ignores the cursor cannot make it loop.
inline json collect_pages(const std::function<json(const json&)>& call, json params, const std::string& list,
                          const std::string& cursor) {
  json rows = json::array();
  for (;;) {
    json page = call(params);
    for (auto& row : page[list]) rows.push_back(std::move(row));
    const bool stuck = params.contains(cursor) && page.contains("next_" + cursor) && page["next_" + cursor] == params[cursor];
    if (!page.value("more", false) || page[list].empty() || !page.contains("next_" + cursor) || stuck) {
      page[list] = std::move(rows);
      page.erase("more");
      page.erase("next_" + cursor);
      return page;
    }
    params[cursor] = page["next_" + cursor];
  }
}

}  // namespace sluice::protocol
