#include "service/store/migrations.h"

#include <spdlog/spdlog.h>

#include <string>

namespace sluice::store {

int migrate(Database& db, std::span<const schema::Migration> migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().level;
  return db.transaction([&] {
    const int current = db.user_version();
    if (current > known) {
      throw StoreError(0, "database " + db.path() + " is at schema level " + std::to_string(current) +
                              ", newer than this sluiced knows (" + std::to_string(known) +
                              "); upgrade sluiced or restore a matching backup");
    }
    for (const auto& m : migrations) {
      if (m.level <= current) continue;
      SPDLOG_INFO("database: applying schema level {} ({})", m.level, m.name);
      try {
        db.exec(m.sql);
      } catch (const StoreError& e) {
        throw StoreError(e.code(), "schema level " + std::to_string(m.level) + " (" + m.name + ") failed: " + e.what());
      }
    }
    if (known > current) db.exec("PRAGMA user_version=" + std::to_string(known));
    return known > current ? known : current;
  });
}

}  // namespace sluice::store
