#pragma once

#include <span>

namespace sluice::schema {

// One file of schema/, e.g. 0001_init.sql: level 1, name "init".
struct Migration {
  int level;
  const char* name;
  const char* sql;
};

// Every migration in schema/, ordered by level, levels consecutive from 1.
// Generated at build time by cmake/EmbedSchema.cmake.
std::span<const Migration> embedded_migrations();

}  // namespace sluice::schema
