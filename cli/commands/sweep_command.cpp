#include "cli/commands/sweep_command.hpp"

#include <iostream>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/sweeps/storage_sweeps.hpp"

namespace drover::cli {

int sweep_command(const Config& config, const std::vector<std::string>& words) {
    bool dry_run = false;
    std::vector<std::string> names;
    for (const auto& w : words) {
        if (w == "--dry-run") {
            dry_run = true;
        } else {
            names.push_back(w);
        }
    }
    db::Connection conn(config.str("database_url"), "drover-sweep");
    std::vector<std::pair<std::string, SweepCounts>> results;
    try {
        results = run_storage_sweeps(conn, StorageSweepSettings::from(config), names, dry_run);
    } catch (const InputError& e) {
        std::cerr << "drover sweep: " << e.what() << "\n";
        return 2;
    }
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("dry_run");
    w.Bool(dry_run);
    w.Key("sweeps");
    w.StartObject();
    for (const auto& [name, counts] : results) {
        w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
        auto one = sweep_counts_to_json(counts);
        w.RawValue(one.c_str(), one.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    w.EndObject();
    std::cout << std::string(buffer.GetString(), buffer.GetSize()) << "\n";
    return 0;
}

}  // namespace drover::cli
