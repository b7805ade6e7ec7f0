#include "tests/fuzz/in_memory_service.h"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>

#include "schema/embedded_migrations.h"
#include "service/rpc/flow_methods.h"
#include "service/rpc/policy_methods.h"
#include "service/store/migrations.h"

namespace sluice::fuzz {
namespace {

using namespace std::chrono_literals;

void copy_database(store::Database& from, store::Database& to) {
  sqlite3_backup* copy = sqlite3_backup_init(to.handle(), "main", from.handle(), "main");
  const int rc = copy ? sqlite3_backup_step(copy, -1) : SQLITE_ERROR;
  sqlite3_backup_finish(copy);
  if (rc != SQLITE_DONE) throw std::runtime_error(std::string("copying a database: ") + sqlite3_errmsg(to.handle()));
}

// Migrating takes most of an input's time, so it is done once per process into a
// template that each input's database is copied from (SQLite's online backup): the
// same schema and embedded defaults as a fresh sluiced, at a fraction of the cost.
store::Database& migrated_template() {
  static store::Database* const kTemplate = [] {
    auto* db = new store::Database(":memory:");
    store::migrate(*db, schema::embedded_migrations());
    return db;
  }();
  return *kTemplate;
}

store::Database& copied(store::Database& from, store::Database& to) {
  copy_database(from, to);
  return to;
}

}  // namespace

InMemoryService::InMemoryService(InMemoryService* policy_from)
    : db_(":memory:"), store_(copied(policy_from ? policy_from->db_ : migrated_template(), db_)) {
  engine_ = std::make_unique<service::PublishedPolicy>(store_, policy::MatcherOptions{false});
  flusher_ = std::make_unique<service::UsageFlusher>(ledger_, store_, 1h);
  flows_ = std::make_unique<service::FlowManager>(*engine_, ledger_, nullptr, service::FlowManagerOptions{1h, 30s});
  info_.started = std::chrono::steady_clock::now();
  info_.started_at = "2026-01-01T00:00:00Z";
  info_.state_dir = "/nonexistent/fuzz";
  info_.database_path = ":memory:";
  info_.policy = engine_.get();
  service::register_status_methods(dispatcher_, info_);
  service::register_policy_methods(dispatcher_, *engine_, *flusher_);
  service::register_flow_methods(dispatcher_, *flows_, *engine_);
}

// Stops the threads before what they use goes away.
InMemoryService::~InMemoryService() {
  flows_.reset();
  flusher_.reset();
}

protocol::Caller InMemoryService::administrator() {
  // pid -1: flow.register then takes the executable from here instead of /proc.
  // A file name is any bytes: this one is Latin-1, not UTF-8, as on older systems.
  return protocol::Caller{-1, 0, "root", "/usr/bin/caf\xe9-client", true};
}

}  // namespace sluice::fuzz
