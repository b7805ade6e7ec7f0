#pragma once

// A small RAII layer over SQLite: one Database per connection, Statements that
// finalize themselves, transactions that roll back on exceptions. SQLite errors are
// turned into StoreError here and nowhere else.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::store {

class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);

  // Advances to the next row; false when the statement is done.
  bool step();
  void reset();

  std::int64_t column_int64(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  void check(int rc, const char* what) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  enum class Access { read_write, read_only };

  // Opens (creating if needed) the database at `path` (":memory:" for tests) in WAL
  // mode with foreign keys on and a busy timeout. read_only opens an existing file
  // and never writes it, nor its journal mode (sluiced --check-config).
  explicit Database(const std::string& path, Access access = Access::read_write);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);

  // Runs `work` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on error.
  template <class Work>
  decltype(auto) transaction(Work&& work) {
    exec("BEGIN IMMEDIATE");
    try {
      if constexpr (std::is_void_v<decltype(work())>) {
        work();
        exec("COMMIT");
      } else {
        auto result = work();
        exec("COMMIT");
        return result;
      }
    } catch (...) {
      rollback_quietly();
      throw;
    }
  }

  std::int64_t last_insert_rowid();
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes();
  int user_version();
  std::string journal_mode();
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  void rollback_quietly() noexcept;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace sluice::store
