#include "worker/startup_memory.hpp"

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string_view>

namespace drover::worker {

namespace {

// A host list entry that libpq reaches over a Unix socket: empty (the default
// socket folder), an absolute path, or an abstract socket name ('@...').
bool is_socket_host(std::string_view host) { return host.empty() || host[0] == '/' || host[0] == '@'; }

}  // namespace

bool connection_may_use_tls(const std::string& conninfo) {
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
        PQconninfoParse(conninfo.c_str(), &error), PQconninfoFree);
    if (error) PQfreemem(error);
    if (!options) return true;
    std::map<std::string, std::string> given;
    for (auto* o = options.get(); o->keyword; ++o)
        if (o->val && *o->val) given[o->keyword] = o->val;
    // The URL's values win over the environment, which wins over libpq's
    // defaults; a service file fills in what the URL leaves out.
    const char* service_env = std::getenv("PGSERVICE");
    bool service = given.count("service") || (service_env && *service_env);
    auto setting = [&](const char* keyword, const char* env, bool& known) -> std::string {
        known = true;
        if (auto it = given.find(keyword); it != given.end()) return it->second;
        if (service) known = false;
        const char* value = std::getenv(env);
        return value ? value : "";
    };
    bool known = true;
    if (setting("sslmode", "PGSSLMODE", known) == "disable" && known) return false;
    if (!setting("hostaddr", "PGHOSTADDR", known).empty() || !known) return true;
    std::string hosts = setting("host", "PGHOST", known);
    if (!known) return true;
    for (std::size_t start = 0;;) {
        auto comma = hosts.find(',', start);
        if (!is_socket_host(std::string_view(hosts).substr(start, comma - start))) return true;
        if (comma == std::string::npos) return false;
        start = comma + 1;
    }
}

void init_openssl_for(const std::string& conninfo) {
    if (connection_may_use_tls(conninfo)) return;
    // libpq's SCRAM-SHA-256 uses libcrypto even with sslmode=disable, and
    // libcrypto's first initialisation then loads every error string (~0.45
    // MiB resident). What prints them is libpq's TLS layer (certificate and
    // key files, for one), which such a connection never runs; otherwise only
    // an internal failure of libpq's hashing (out of memory) would show a
    // number instead of a reason.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr);
}

}  // namespace drover::worker
