#pragma once
// Apps (drover.apps) and their limits, seen through sql/queries/apps/*.sql.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/connection.hpp"

namespace drover {

struct App {
    std::string name;
    std::optional<std::int64_t> max_unfinished_jobs;  // none: no limit
    std::optional<std::int64_t> rate_limit_per_s;     // per key and API process; none: no limit
    std::string created_at;
};

struct AppLimits {
    std::optional<std::int64_t> max_unfinished_jobs;
    std::optional<std::int64_t> rate_limit_per_s;
};

class AppStore {
public:
    explicit AppStore(db::Connection& conn) : conn_(conn) {}

    // Nothing when the name is taken.
    std::optional<App> create(const std::string& name, const AppLimits& limits = {});
    std::optional<App> get(const std::string& name);
    std::vector<App> list();
    std::optional<App> set_limits(const std::string& name, const AppLimits& limits);

private:
    db::Connection& conn_;
};

std::string app_to_json(const App& app);

}  // namespace drover
