#pragma once

// sluiced's method table over a fresh in-memory database, for the fuzz targets
// that call the service: the same registrations run_service() makes
// (service/process/service_app.cpp), minus what reaches outside the process:
//  - service.reload is not registered: it re-reads a configuration file and moves
//    listeners and the log level;
//  - there is no relay engine (it opens loopback sockets): relay verdicts are
//    refused with "the relay engine is not running", as when it is unavailable;
//  - there is no control server, so service.status reports no counters.
// Threads that run on a timer (usage flush, flow sampling) are given an hour, so
// nothing happens in the background while an input runs: each input starts from
// an empty policy and is reproducible on its own.

#include <memory>

#include "control/protocol/jsonrpc.h"
#include "service/flows/flow_manager.h"
#include "service/flows/policy_snapshot.h"
#include "service/flows/usage_ledger.h"
#include "service/rpc/status_methods.h"
#include "service/store/database.h"
#include "service/store/policy_store.h"

namespace sluice::fuzz {

class InMemoryService {
 public:
  // Starts from an empty policy, or from a copy of `policy_from`'s database.
  explicit InMemoryService(InMemoryService* policy_from = nullptr);
  ~InMemoryService();

  const protocol::Dispatcher& dispatcher() const { return dispatcher_; }
  service::PublishedPolicy& engine() { return *engine_; }

  // A local administrator's program, as the transport would identify it, at a
  // path that is not UTF-8.
  static protocol::Caller administrator();

 private:
  store::Database db_;
  store::PolicyStore store_;
  std::unique_ptr<service::PublishedPolicy> engine_;
  service::UsageLedger ledger_;
  std::unique_ptr<service::UsageFlusher> flusher_;
  std::unique_ptr<service::FlowManager> flows_;
  service::ServiceInfo info_;
  protocol::Dispatcher dispatcher_;
};

}  // namespace sluice::fuzz
