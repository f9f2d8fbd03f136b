#include "core/store/key_store.hpp"

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/job.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

constexpr std::size_t prefix_random_bytes = 8;   // 16 hex digits: unique, public
constexpr std::size_t secret_random_bytes = 32;  // 64 hex digits: 256 bits, the secret

std::optional<std::string> opt_time(const db::Result& r, int row, const char* name) {
    int c = r.column(name);
    if (r.is_null(row, c)) return std::nullopt;
    return rfc3339(r.text(row, c));
}

ApiKey key_from_row(const db::Result& r, int row) {
    ApiKey k;
    k.id = r.int64(row, "id");
    k.app = r.optional_text(row, r.column("app"));
    k.role = parse_role(r.text(row, "role")).value_or(Role::read);
    k.prefix = std::string(r.text(row, "prefix"));
    k.name = std::string(r.text(row, "name"));
    k.created_at = rfc3339(r.text(row, "created_at"));
    k.revoked_at = opt_time(r, row, "revoked_at");
    k.last_used_at = opt_time(r, row, "last_used_at");
    return k;
}

bool is_hex16(std::string_view s) {
    if (s.size() != 2 * prefix_random_bytes) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

const char* role_name(Role role) {
    switch (role) {
        case Role::read: return "read";
        case Role::submit: return "submit";
        case Role::admin: return "admin";
        case Role::operator_: return "operator";
    }
    return "read";
}

std::optional<Role> parse_role(std::string_view name) {
    if (name == "read") return Role::read;
    if (name == "submit") return Role::submit;
    if (name == "admin") return Role::admin;
    if (name == "operator") return Role::operator_;
    return std::nullopt;
}

std::optional<std::string> key_prefix(std::string_view key) {
    auto sep = key.rfind('_');
    if (sep == std::string_view::npos) return std::nullopt;
    auto prefix = key.substr(0, sep);
    auto secret = key.substr(sep + 1);
    if (secret.size() != 2 * secret_random_bytes) return std::nullopt;
    std::string_view random;
    if (prefix.starts_with("drv_")) {
        random = prefix.substr(4);
    } else if (prefix.starts_with("drvop_")) {
        random = prefix.substr(6);
    } else {
        return std::nullopt;
    }
    if (!is_hex16(random)) return std::nullopt;
    return std::string(prefix);
}

KeyStore::Created KeyStore::create(const std::optional<std::string>& app, Role role, const std::string& name) {
    if (app.has_value() == (role == Role::operator_)) {
        throw InputError(InputError::Kind::invalid, "invalid_value",
                         "an operator key belongs to no app; every other key belongs to one", "role");
    }
    std::string prefix = std::string(app ? "drv_" : "drvop_") + crypto::to_hex(crypto::random_bytes(prefix_random_bytes));
    std::string plaintext = prefix + "_" + crypto::to_hex(crypto::random_bytes(secret_random_bytes));
    auto r = conn_.query("keys/create", db::Params()
                                            .add(app)
                                            .add(role_name(role))
                                            .add(prefix)
                                            .add(crypto::to_hex(crypto::sha256(plaintext)))
                                            .add(name));
    return {key_from_row(r, 0), std::move(plaintext)};
}

std::optional<KeyRecord> KeyStore::find(std::string_view prefix) {
    auto r = conn_.query("keys/find_by_prefix", db::Params().add(prefix));
    if (r.empty()) return std::nullopt;
    KeyRecord k;
    k.id = r.int64(0, "id");
    k.app = r.optional_text(0, r.column("app"));
    k.role = parse_role(r.text(0, "role")).value_or(Role::read);
    k.hash = crypto::from_hex(r.text(0, "hash"));
    k.revoked = r.boolean(0, r.column("revoked"));
    k.rate_limit_per_s = r.optional_int64(0, r.column("rate_limit_per_s"));
    return k;
}

std::vector<ApiKey> KeyStore::list(const std::optional<std::string>& app) {
    auto r = conn_.query("keys/list", db::Params().add(app));
    std::vector<ApiKey> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(key_from_row(r, i));
    return out;
}

std::optional<ApiKey> KeyStore::revoke(std::int64_t id, const std::optional<std::string>& app) {
    auto r = conn_.query("keys/revoke", db::Params().add(id).add(app));
    if (r.empty()) return std::nullopt;
    return key_from_row(r, 0);
}

void KeyStore::touch(std::int64_t id) { conn_.query("keys/touch", db::Params().add(id)); }

std::string key_to_json(const ApiKey& key, const std::optional<std::string>& plaintext) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("id");
    w.String(std::to_string(key.id));
    w.Key("app");
    json::write_optional_string(w, key.app);
    w.Key("role");
    w.String(role_name(key.role));
    w.Key("prefix");
    w.String(key.prefix);
    w.Key("name");
    w.String(key.name);
    w.Key("created_at");
    w.String(key.created_at);
    w.Key("revoked_at");
    json::write_optional_string(w, key.revoked_at);
    w.Key("last_used_at");
    json::write_optional_string(w, key.last_used_at);
    if (plaintext) {
        // Shown once: only the hash is stored.
        w.Key("key");
        w.String(*plaintext);
    }
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace drover
