#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::cli {

// "45s", "2m 05s", "3h 02m", "4d 03h": two units at most, for tables.
std::string format_duration(std::int64_t seconds);

// The readable form of a service.status result.
std::string format_status(const nlohmann::json& status);

}  // namespace sluice::cli
