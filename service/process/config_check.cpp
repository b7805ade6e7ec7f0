#include "service/process/config_check.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "common/platform/platform.h"
#include "service/flows/policy_snapshot.h"
#include "service/store/database.h"
#include "service/store/migrations.h"
#include "service/store/policy_store.h"

namespace sluice::service {
namespace {

namespace fs = std::filesystem;

// The database as a start would find it: missing (created at start), older (migrated
// at start), current (its policy must load) or newer (a start refuses it).
std::string describe_database(const std::string& path) {
  const int known = schema::embedded_migrations().empty() ? 0 : schema::embedded_migrations().back().level;
  store::Database db(path, store::Database::Access::read_only);
  const int level = db.user_version();
  if (level > known) {
    throw std::runtime_error("at schema level " + std::to_string(level) + ", newer than this sluiced knows (" +
                             std::to_string(known) + "); upgrade sluiced or restore a matching backup");
  }
  if (level < known) {
    return "schema level " + std::to_string(level) + "; a start migrates it to " + std::to_string(known);
  }
  // The policy is compiled as the start compiles it; its log line is not the report.
  store::PolicyStore policy_store(db);
  const auto previous = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  struct Restore {
    spdlog::level::level_enum level;
    ~Restore() { spdlog::set_level(level); }
  } restore{previous};
  PublishedPolicy policy(policy_store, policy::MatcherOptions{platform::paths_are_case_insensitive()});
  const auto snapshot = policy.snapshot();
  const std::size_t quotas = snapshot->quotas.size() + (snapshot->global_quota ? 1 : 0);
  return "schema level " + std::to_string(level) + " (current), " + std::to_string(snapshot->rules.size()) + " rules, " +
         std::to_string(quotas) + " quotas";
}

}  // namespace

ExitCode check_configuration(const ServiceConfig& config, std::ostream& out, std::ostream& err) {
  out << "sluiced: configuration file "
      << (config.config_file.empty() ? "none (the command line and the defaults)" : config.config_file + ": read") << "\n";

  std::error_code ec;
  const fs::file_status state = fs::status(config.state_dir, ec);
  if (fs::exists(state) && !fs::is_directory(state)) {
    err << "sluiced: state directory " << config.state_dir << ": exists and is not a directory\n";
    return ExitCode::state_dir;
  }
  const bool state_exists = fs::is_directory(state);
  out << "sluiced: state directory " << config.state_dir << ": "
      << (state_exists ? "exists" : "does not exist yet; a start creates it") << "\n";

  const std::string database = platform::join_path(config.state_dir, "sluice.db");
  if (!state_exists || !fs::exists(database, ec)) {
    out << "sluiced: database " << database << ": does not exist yet; a start creates it\n";
  } else {
    try {
      out << "sluiced: database " << database << ": " << describe_database(database) << "\n";
    } catch (const std::exception& e) {
      err << "sluiced: database " << database << ": " << e.what() << "\n";
      return ExitCode::database;
    }
  }
  out << "sluiced: control endpoint " << config.control_endpoint << " (a start binds it; the check does not)\n";
  if (!config.metrics_listen.empty()) out << "sluiced: metrics at http://" << config.metrics_listen << "/metrics\n";
  out << "sluiced: configuration ok\n";
  return ExitCode::ok;
}

}  // namespace sluice::service
