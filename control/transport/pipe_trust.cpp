#include "control/transport/pipe_trust.h"

#include <algorithm>
#include <cctype>

namespace sluice::transport {
namespace {

bool runs_as_local_system(const PipeServerFacts& facts) { return facts.sid == kLocalSystemSid; }

bool runs_as_caller(const PipeServerFacts& facts) {
  return !facts.default_name && !facts.sid.empty() && facts.sid == facts.caller_sid;
}

std::string server_text(const PipeServerFacts& facts) {
  std::string text = facts.pid != 0 ? "pid " + std::to_string(facts.pid) : std::string("an unidentified process");
  if (!facts.sid.empty()) return text + " running as " + (facts.account.empty() ? facts.sid : facts.account);
  return text + " whose account cannot be read" + (facts.token_error.empty() ? "" : " (" + facts.token_error + ")");
}

}  // namespace

bool needs_service_check(const PipeServerFacts& facts) {
  return facts.pid != 0 && !runs_as_local_system(facts) && !runs_as_caller(facts);
}

PipeTrust judge_pipe_server(const PipeServerFacts& facts) {
  if (runs_as_local_system(facts)) return {true, facts.endpoint + " is served by LocalSystem"};
  if (facts.pid != 0 && facts.is_service.value_or(false)) {
    return {true, facts.endpoint + " is served by the 'sluice' service (pid " + std::to_string(facts.pid) + ")"};
  }
  if (runs_as_caller(facts)) return {true, facts.endpoint + " is served by the caller's own account"};
  std::string expected = facts.default_name ? "not LocalSystem" : "neither LocalSystem nor the caller's own account";
  if (facts.is_service.has_value()) expected += ", and not the 'sluice' service";
  return {false, facts.endpoint + " is served by " + server_text(facts) + ", " + expected + ": refusing"};
}

bool same_pipe_name(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace sluice::transport
