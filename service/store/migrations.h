#pragma once

#include <span>

#include "schema/embedded_migrations.h"
#include "service/store/database.h"

namespace sluice::store {

// Brings the database to the newest level in `migrations`: every migration above
// PRAGMA user_version runs, in order, in one transaction that also records the new
// level, so a crash leaves either the old schema or the new one. Refuses a database
// whose level is newer than this build knows. Returns the resulting level.
int migrate(Database& db, std::span<const schema::Migration> migrations);

}  // namespace sluice::store
