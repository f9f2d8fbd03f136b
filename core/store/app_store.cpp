#include "core/store/app_store.hpp"

#include "core/job.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

App app_from_row(const db::Result& r, int row) {
    App a;
    a.name = std::string(r.text(row, "name"));
    a.max_unfinished_jobs = r.optional_int64(row, r.column("max_unfinished_jobs"));
    a.rate_limit_per_s = r.optional_int64(row, r.column("rate_limit_per_s"));
    a.created_at = rfc3339(r.text(row, "created_at"));
    return a;
}

std::optional<App> first(const db::Result& r) {
    if (r.empty()) return std::nullopt;
    return app_from_row(r, 0);
}

void write_optional_int(json::Writer& w, const std::optional<std::int64_t>& v) {
    if (v) {
        w.Int64(*v);
    } else {
        w.Null();
    }
}

}  // namespace

std::optional<App> AppStore::create(const std::string& name, const AppLimits& limits) {
    return first(conn_.query("apps/create",
                             db::Params().add(name).add(limits.max_unfinished_jobs).add(limits.rate_limit_per_s)));
}

std::optional<App> AppStore::get(const std::string& name) {
    return first(conn_.query("apps/get", db::Params().add(name)));
}

std::vector<App> AppStore::list() {
    auto r = conn_.query("apps/list");
    std::vector<App> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(app_from_row(r, i));
    return out;
}

std::optional<App> AppStore::set_limits(const std::string& name, const AppLimits& limits) {
    return first(conn_.query("apps/set_limits",
                             db::Params().add(name).add(limits.max_unfinished_jobs).add(limits.rate_limit_per_s)));
}

std::string app_to_json(const App& app) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("name");
    w.String(app.name);
    w.Key("max_unfinished_jobs");
    write_optional_int(w, app.max_unfinished_jobs);
    w.Key("rate_limit_per_s");
    write_optional_int(w, app.rate_limit_per_s);
    w.Key("created_at");
    w.String(app.created_at);
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace drover
