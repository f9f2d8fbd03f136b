#pragma once
// API keys (drover.api_keys), seen through sql/queries/keys/*.sql. A key is
// "<prefix>_<secret>": prefix "drv_" (app keys) or "drvop_" (operator keys)
// plus 16 random hex digits, secret 64 random hex digits (256 bits from
// RAND_bytes). Only the prefix and the SHA-256 of the whole key are stored;
// the key itself is returned once, by create().
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/connection.hpp"

namespace drover {

// Ordered: a role can do what the roles before it can. operator belongs to
// no app and opens only the admin listener.
enum class Role { read, submit, admin, operator_ };

const char* role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct ApiKey {
    std::int64_t id = 0;
    std::optional<std::string> app;  // none: an operator key
    Role role = Role::read;
    std::string prefix;
    std::string name;
    std::string created_at;
    std::optional<std::string> revoked_at;
    std::optional<std::string> last_used_at;
};

// What the authentication lookup needs about a key.
struct KeyRecord {
    std::int64_t id = 0;
    std::optional<std::string> app;
    Role role = Role::read;
    std::string hash;  // raw SHA-256 (32 bytes)
    bool revoked = false;
    std::optional<std::int64_t> rate_limit_per_s;
};

// A presented key split into its prefix (the lookup) and the whole key (hashed).
// Nothing when it is not of the form a Drover key has.
std::optional<std::string> key_prefix(std::string_view key);

class KeyStore {
public:
    explicit KeyStore(db::Connection& conn) : conn_(conn) {}

    struct Created {
        ApiKey key;
        std::string plaintext;  // shown once; never stored
    };
    // app: none for an operator key (role must then be operator_).
    Created create(const std::optional<std::string>& app, Role role, const std::string& name = {});
    std::optional<KeyRecord> find(std::string_view prefix);
    // An app's keys, or the operator keys when app is none.
    std::vector<ApiKey> list(const std::optional<std::string>& app);
    // Revokes key `id` (of `app` only, when given); nothing when there is no such key.
    std::optional<ApiKey> revoke(std::int64_t id, const std::optional<std::string>& app);
    void touch(std::int64_t id);

private:
    db::Connection& conn_;
};

// The JSON of a key as the admin routes show it (never the hash).
std::string key_to_json(const ApiKey& key, const std::optional<std::string>& plaintext = std::nullopt);

}  // namespace drover
