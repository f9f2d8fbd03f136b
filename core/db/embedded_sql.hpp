#pragma once
// The SQL files of sql/, compiled into the binary (see cmake/embed_sql.cmake).
#include <string_view>
#include <vector>

namespace drover::sql {

struct NamedSql {
    std::string_view name;  // "jobs/claim" for queries, the file name for migrations
    std::string_view text;
};

const std::vector<NamedSql>& embedded_queries();
const std::vector<NamedSql>& embedded_migrations();

}  // namespace drover::sql
