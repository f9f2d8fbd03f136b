#include "cli/commands/keys_command.hpp"

#include <charconv>
#include <iostream>

#include "core/db/connection.hpp"
#include "core/error.hpp"
#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"

namespace drover::cli {
namespace {

int usage_error(const std::string& message) {
    std::cerr << "drover: " << message << "\n";
    return 2;
}

std::optional<std::int64_t> number(const std::string& s) {
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size() || n < 0) return std::nullopt;
    return n;
}

}  // namespace

int apps_command(const Config& config, const std::vector<std::string>& args) {
    db::Connection conn(config.str("database_url"), "drover-apps");
    AppStore apps(conn);
    if (args.size() == 1 && args[0] == "list") {
        for (const auto& a : apps.list()) std::cout << app_to_json(a) << "\n";
        return 0;
    }
    if ((args.size() == 2 || args.size() == 3) && args[0] == "create") {
        AppLimits limits;
        if (args.size() == 3) {
            limits.max_unfinished_jobs = number(args[2]);
            if (!limits.max_unfinished_jobs) return usage_error("MAX_UNFINISHED_JOBS must be a number");
        }
        auto app = apps.create(args[1], limits);
        if (!app) {
            std::cerr << "drover: an app named '" << args[1] << "' exists\n";
            return 1;
        }
        std::cout << app_to_json(*app) << "\n";
        return 0;
    }
    return usage_error("usage: drover apps list | drover apps create NAME [MAX_UNFINISHED_JOBS]");
}

int keys_command(const Config& config, const std::vector<std::string>& args) {
    db::Connection conn(config.str("database_url"), "drover-keys");
    KeyStore keys(conn);
    if ((args.size() == 3 || args.size() == 4) && args[0] == "create") {
        auto role = parse_role(args[2]);
        if (!role || *role == Role::operator_) return usage_error("ROLE must be read, submit or admin");
        if (!AppStore(conn).get(args[1])) {
            std::cerr << "drover: no app named '" << args[1] << "' (drover apps create " << args[1] << ")\n";
            return 1;
        }
        std::cout << keys.create(args[1], *role, args.size() == 4 ? args[3] : "").plaintext << "\n";
        return 0;
    }
    if ((args.size() == 1 || args.size() == 2) && args[0] == "create-operator") {
        std::cout << keys.create(std::nullopt, Role::operator_, args.size() == 2 ? args[1] : "").plaintext << "\n";
        return 0;
    }
    if ((args.size() == 1 || args.size() == 2) && args[0] == "list") {
        std::optional<std::string> app;
        if (args.size() == 2) app = args[1];
        for (const auto& k : keys.list(app)) std::cout << key_to_json(k) << "\n";
        return 0;
    }
    if (args.size() == 2 && args[0] == "revoke") {
        auto id = number(args[1]);
        if (!id) return usage_error("ID must be a number");
        auto key = keys.revoke(*id, std::nullopt);
        if (!key) {
            std::cerr << "drover: no key with id " << args[1] << "\n";
            return 1;
        }
        std::cout << key_to_json(*key) << "\n";
        return 0;
    }
    return usage_error(
        "usage: drover keys create APP ROLE [NAME] | create-operator [NAME] | list [APP] | revoke ID");
}

}  // namespace drover::cli
