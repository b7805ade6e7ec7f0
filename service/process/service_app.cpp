#include "service/process/service_app.h"

#include <fmt/chrono.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>

#include "common/logging.h"
#include "common/platform/directory_lock.h"
#include "common/platform/platform.h"
#include "common/version.h"
#include "service/flows/flow_manager.h"
#include "service/flows/policy_snapshot.h"
#include "service/metrics/metrics_server.h"
#include "service/metrics/metrics_source.h"
#include "service/rpc/control_server.h"
#include "service/rpc/flow_methods.h"
#include "service/rpc/policy_methods.h"
#include "service/rpc/status_methods.h"
#include "service/store/database.h"
#include "service/store/migrations.h"

namespace sluice::service {
namespace {

std::string utc_now_iso8601() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

std::string read_setting(store::Database& db, const char* key) {
  auto s = db.prepare("SELECT value FROM settings WHERE key = ?");
  s.bind(1, std::string_view(key));
  return s.step() ? s.column_text(0) : std::string();
}

// Reports a start-up failure in the log and, when the log has no console sink (a
// daemon still attached to the terminal that started it), on stderr as well.
ExitCode fail(const HostContext& host, ExitCode code, const std::string& message) {
  SPDLOG_CRITICAL("{}: {}", describe(code), message);
  if (!host.console) std::cerr << "sluiced: " << describe(code) << ": " << message << "\n";
  return code;
}

}  // namespace

ExitCode run_service(const ServiceConfig& config, HostContext& host, ConfigSource reread) {
  ServiceInfo info;
  info.started = std::chrono::steady_clock::now();
  info.started_at = utc_now_iso8601();
  info.state_dir = config.state_dir;

  try {
    platform::create_directories(config.state_dir, /*world_readable=*/false);
  } catch (const std::exception& e) {
    return fail(host, ExitCode::state_dir, e.what());
  }
  // Before the log or the database is opened: a second sluiced on this state
  // directory, whatever its endpoint, stops here and touches neither.
  std::optional<platform::DirectoryLock> state_lock;
  try {
    state_lock.emplace(config.state_dir);
  } catch (const platform::DirectoryLocked& e) {
    return fail(host, ExitCode::already_running, e.what());
  } catch (const std::exception& e) {
    return fail(host, ExitCode::state_dir, e.what());
  }

  try {
    init_logging(LogSettings{config.log_level, host.console, platform::join_path(config.state_dir, "sluiced.log"),
                             host.event_log});
  } catch (const std::exception& e) {
    return fail(host, ExitCode::logging, e.what());
  }
  lifecycle_log().info("sluiced {} starting (pid {}, state {})", version(), platform::current_pid(), config.state_dir);

  // The endpoint is claimed before the database is touched: a second instance
  // pointed at the same endpoint stops here without migrating anything.
  std::unique_ptr<transport::Listener> listener;
  try {
    listener = transport::listen(config.control_endpoint);
  } catch (const transport::TransportError& e) {
    return fail(host, e.kind() == transport::ErrorKind::in_use ? ExitCode::already_running : ExitCode::control_endpoint,
                e.what());
  }

  std::unique_ptr<store::Database> db;
  try {
    info.database_path = platform::join_path(config.state_dir, "sluice.db");
    db = std::make_unique<store::Database>(info.database_path);
    info.schema_level = store::migrate(*db, schema::embedded_migrations());
    info.instance_id = read_setting(*db, "instance_id");
  } catch (const std::exception& e) {
    return fail(host, ExitCode::database, e.what());
  }
  SPDLOG_INFO("database {} at schema level {}", info.database_path, info.schema_level);

  // Declared in dependency order: they are destroyed in reverse, the control
  // server first (no more requests), then the flusher (final usage flush), then
  // the store and the database.
  store::PolicyStore policy_store(*db);
  std::unique_ptr<PublishedPolicy> policy;
  try {
    policy = std::make_unique<PublishedPolicy>(policy_store, policy::MatcherOptions{platform::paths_are_case_insensitive()});
  } catch (const std::exception& e) {
    return fail(host, ExitCode::database, std::string("cannot load the policy: ") + e.what());
  }
  info.policy = policy.get();
  UsageLedger ledger;
  UsageFlusher flusher(ledger, policy_store, config.flush_interval);

  // Without a relay engine the service still administers policy and decides flows;
  // relayed ones are refused and providers fall back to their fail mode.
  relay::EngineConfig relay_config;
  relay_config.tcp_idle_timeout = std::chrono::seconds(config.flow_limits.tcp_idle_timeout_seconds);
  auto relay = std::make_unique<relay::RelayEngine>(relay_config);
  try {
    relay->start();
    SPDLOG_INFO("relay listening on {} and {}", net::format_endpoint(relay->tcp_listener(false)),
                net::format_endpoint(relay->tcp_listener(true)));
  } catch (const std::exception& e) {
    SPDLOG_ERROR("relay engine unavailable: {}; relay verdicts will fail", e.what());
    relay.reset();
  }
  FlowManagerOptions flow_options;
  flow_options.limits = config.flow_limits;
  FlowManager flows(*policy, ledger, relay.get(), flow_options);
  info.flow_limits = [&flows] { return flow_limits_json(flows.limits()); };
  struct UnsetFlowLimits {  // before `flows` goes
    ServiceInfo& info;
    ~UnsetFlowLimits() { info.flow_limits = nullptr; }
  } unset_flow_limits{info};
  // Each usage flush first collects what the relay counted up to that moment.
  flusher.set_collector([&flows] { flows.count_usage(); });
  struct UnsetCollector {  // before `flows` goes, on every way out of this function
    UsageFlusher& flusher;
    ~UnsetCollector() { flusher.set_collector({}); }
  } unset_collector{flusher};

  protocol::Dispatcher dispatcher;
  register_status_methods(dispatcher, info);
  register_policy_methods(dispatcher, *policy, flusher);
  register_flow_methods(dispatcher, flows, *policy);

  // metrics-listen: opened at start, moved by a reload. A new listener opens before
  // the old one closes, so a reload to a bad or busy address leaves the old serving.
  std::mutex metrics_mutex;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  auto listen_metrics = [&](const std::string& address) {
    std::unique_ptr<metrics::MetricsServer> next;
    if (!address.empty()) {
      next = std::make_unique<metrics::MetricsServer>(address, metrics::metrics_text_source(dispatcher));
      next->start();
      SPDLOG_INFO("metrics at {}", next->url());
    }
    std::lock_guard lock(metrics_mutex);
    if (metrics_server) metrics_server->stop();
    metrics_server = std::move(next);
  };
  try {
    listen_metrics(config.metrics_listen);
  } catch (const std::exception& e) {
    return fail(host, ExitCode::metrics, e.what());
  }

  if (!reread) reread = [&config] { return config; };
  ConfigReloader reloader(config, std::move(reread),
                          LiveSettings{[](spdlog::level::level_enum level) { set_log_level(level); },
                                       [&flusher](std::chrono::milliseconds interval) { flusher.set_interval(interval); },
                                       listen_metrics});
  // Every reload, by RPC or by the host's signal, tells systemd (Type=notify) it runs.
  auto reload = [&reloader] {
    notify_service_manager("RELOADING=1");
    struct ReadyAgain {
      ~ReadyAgain() { notify_service_manager("READY=1"); }  // also when the reload is refused
    } ready_again;
    return reloader.reload();
  };
  register_reload_method(dispatcher, reload);

  ControlServer server(std::move(listener), dispatcher);
  info.control = &server;
  server.start();
  lifecycle_log().info("sluiced ready: control plane listening on {}", server.endpoint());
  host.reload.set([&reload] {
    try {
      const ReloadReport report = reload();
      lifecycle_log().info("configuration {} reloaded: applied [{}], waiting for a restart [{}]", report.config_file,
                  fmt::join(report.applied, ", "), fmt::join(report.restart_required, ", "));
    } catch (const ReloadError& e) {
      SPDLOG_ERROR("configuration reload refused: {}", e.what());
    }
  });
  host.ready();

  host.stop.wait();
  host.reload.set({});
  lifecycle_log().info("stop requested; shutting down");
  server.stop();             // no more requests, so no more reloads
  listen_metrics("");        // no more scrapes
  if (relay) relay->stop();  // every flow ends; its last bytes are counted
  flows.stop();              // ... and reach the ledger
  flusher.stop();            // ... and the database
  lifecycle_log().info("sluiced stopped cleanly");
  spdlog::default_logger()->flush();
  return ExitCode::ok;
}

}  // namespace sluice::service
