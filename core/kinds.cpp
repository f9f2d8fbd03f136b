#include "core/kinds.hpp"

#include <rapidjson/schema.h>

#include <mutex>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

Kind builtin(std::string name) {
    Kind k;
    k.name = std::move(name);
    return k;
}

bool valid_name(std::string_view name, std::size_t max) {
    if (name.empty() || name.size() > max) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Kind parse_command_kind(const std::string& source, const std::string& name, const rapidjson::Value& v) {
    auto fail = [&](const std::string& what) -> ConfigError {
        return ConfigError(source + ": kind '" + name + "': " + what);
    };
    if (!v.IsObject()) throw fail("must be an object");
    static const std::set<std::string> known = {"command", "env", "timeout_s", "max_attempts", "queue",
                                                "permanent_exit_codes", "backoff", "in_process",
                                                "concurrency", "user", "limits", "network", "bind", "args_schema",
                                                "artifact_retention_s"};
    for (auto& m : v.GetObject()) {
        if (!known.contains(m.name.GetString())) throw fail(std::string("unknown field '") + m.name.GetString() + "'");
    }
    Kind k;
    k.name = name;
    k.type = Kind::Type::command;
    if (v.HasMember("in_process")) {
        if (!v["in_process"].IsBool()) throw fail("'in_process' must be true or false");
        if (v["in_process"].GetBool()) {
            if (v.HasMember("command")) throw fail("an in_process kind has no 'command'");
            k.type = Kind::Type::in_process;
        }
    }
    if (k.type == Kind::Type::command) {
        if (!v.HasMember("command") || !v["command"].IsArray() || v["command"].Empty()) {
            throw fail("'command' must be a non-empty array of strings (the program and its arguments)");
        }
        for (auto& a : v["command"].GetArray()) {
            if (!a.IsString()) throw fail("'command' must contain only strings");
            k.argv.emplace_back(a.GetString());
        }
    }
    if (v.HasMember("env")) {
        if (!v["env"].IsObject()) throw fail("'env' must be an object of strings");
        for (auto& e : v["env"].GetObject()) {
            if (!e.value.IsString()) throw fail("'env' values must be strings");
            std::string key = e.name.GetString();
            if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
                throw fail("'env' names must be non-empty and hold no '='");
            }
            // The worker sets these itself (docs/kinds.md); a kind must not fake them.
            if (key.starts_with("DROVER_")) throw fail("'env." + key + "': names starting with DROVER_ are reserved");
            k.env[key] = e.value.GetString();
        }
    }
    if (v.HasMember("timeout_s")) {
        if (!v["timeout_s"].IsInt() || v["timeout_s"].GetInt() <= 0) throw fail("'timeout_s' must be a positive integer");
        k.timeout_s = v["timeout_s"].GetInt();
    }
    if (v.HasMember("artifact_retention_s")) {
        const auto& r = v["artifact_retention_s"];
        if (!r.IsInt() || r.GetInt() < 1) throw fail("'artifact_retention_s' must be a positive integer (seconds)");
        k.artifact_retention_s = r.GetInt();
    }
    if (v.HasMember("max_attempts")) {
        if (!v["max_attempts"].IsInt() || v["max_attempts"].GetInt() < 1 || v["max_attempts"].GetInt() > 1000) {
            throw fail("'max_attempts' must be an integer from 1 to 1000");
        }
        k.max_attempts = v["max_attempts"].GetInt();
    }
    if (v.HasMember("queue")) {
        if (!v["queue"].IsString() || !valid_name(v["queue"].GetString(), 64)) {
            throw fail("'queue' must be 1-64 characters of A-Z a-z 0-9 _ . : -");
        }
        k.queue = v["queue"].GetString();
    }
    if (v.HasMember("concurrency")) {
        if (!v["concurrency"].IsInt() || v["concurrency"].GetInt() < 1) {
            throw fail("'concurrency' must be a positive integer (jobs of this kind running at once, on all workers)");
        }
        k.concurrency = v["concurrency"].GetInt();
    }
    if (v.HasMember("args_schema")) {
        // Kept as text: only the API compiles and applies it (validate_args).
        if (!v["args_schema"].IsObject()) throw fail("'args_schema' must be a JSON Schema object");
        k.args_schema = json::to_string(v["args_schema"]);
    }
    if (v.HasMember("permanent_exit_codes")) {
        if (!v["permanent_exit_codes"].IsArray()) throw fail("'permanent_exit_codes' must be an array of integers");
        for (auto& c : v["permanent_exit_codes"].GetArray()) {
            if (!c.IsInt() || c.GetInt() < 0 || c.GetInt() > 255) {
                throw fail("'permanent_exit_codes' must hold integers from 0 to 255");
            }
            k.permanent_exit_codes.push_back(c.GetInt());
        }
    }
    if (v.HasMember("user")) {
        if (!v["user"].IsString() || v["user"].GetStringLength() == 0 || v["user"].GetStringLength() > 64) {
            throw fail("'user' must be a user name or uid (1-64 characters)");
        }
        k.user = v["user"].GetString();
        if (k.user == "root" || k.user == "0") throw fail("'user' must not be root: jobs never run as root");
    }
    if (v.HasMember("network")) {
        if (!v["network"].IsBool()) throw fail("'network' must be true or false");
        k.network = v["network"].GetBool();
    }
    if (v.HasMember("limits")) {
        const auto& l = v["limits"];
        if (!l.IsObject()) throw fail("'limits' must be an object: {\"memory_mb\", \"cpu_s\", \"processes\", \"open_files\"}");
        for (auto& m : l.GetObject()) {
            std::string field(json::view(m.name));
            std::optional<long>* slot = field == "memory_mb"    ? &k.limits.memory_mb
                                        : field == "cpu_s"      ? &k.limits.cpu_s
                                        : field == "processes"  ? &k.limits.processes
                                        : field == "open_files" ? &k.limits.open_files
                                                                : nullptr;
            if (!slot) throw fail("unknown field 'limits." + field + "' (memory_mb, cpu_s, processes, open_files)");
            // Floors: below them even the sandbox's own start-up (bubblewrap, a shell) fails.
            long lowest = field == "memory_mb" ? 16 : field == "open_files" ? 16 : 1;
            if (!m.value.IsInt64() || m.value.GetInt64() < lowest || m.value.GetInt64() > 1'000'000'000) {
                throw fail("'limits." + field + "' must be an integer from " + std::to_string(lowest) +
                           " to 1000000000");
            }
            *slot = static_cast<long>(m.value.GetInt64());
        }
    }
    if (v.HasMember("bind")) {
        const auto& b = v["bind"];
        if (!b.IsObject()) throw fail("'bind' must be an object: {\"/host/path\": \"ro\" or \"rw\"}");
        for (auto& m : b.GetObject()) {
            std::string path = m.name.GetString();
            std::string mode = m.value.IsString() ? m.value.GetString() : "";
            if (mode != "ro" && mode != "rw") throw fail("'bind." + path + "' must be \"ro\" or \"rw\"");
            bool clean = path.size() > 1 && path.front() == '/' && path.back() != '/' &&
                         path.find("//") == std::string::npos && path.find("/./") == std::string::npos &&
                         path.find("/../") == std::string::npos && !path.ends_with("/..") && !path.ends_with("/.");
            if (!clean) throw fail("'bind' path '" + path + "' must be absolute and normalised, and not /");
            for (const char* own : {"/job", "/proc", "/dev"}) {
                std::string o = own;
                if (path == o || path.starts_with(o + "/")) throw fail("'bind' path '" + path + "' is the sandbox's own");
            }
            k.binds[path] = mode == "rw";
        }
    }
    if (v.HasMember("backoff")) {
        const auto& b = v["backoff"];
        if (!b.IsObject()) throw fail("'backoff' must be an object: {\"initial_s\", \"multiplier\", \"max_s\"}");
        Backoff backoff;
        for (auto& m : b.GetObject()) {
            std::string_view name = json::view(m.name);
            if (!m.value.IsNumber()) throw fail("'backoff." + std::string(name) + "' must be a number");
            double x = m.value.GetDouble();
            if (name == "initial_s" && x > 0 && x <= 86400) {
                backoff.initial_s = x;
            } else if (name == "multiplier" && x >= 1 && x <= 100) {
                backoff.multiplier = x;
            } else if (name == "max_s" && x > 0 && x <= 7 * 86400) {
                backoff.max_s = x;
            } else {
                throw fail("'backoff." + std::string(name) +
                           "' is unknown or out of range (initial_s 0-86400, multiplier 1-100, max_s 0-604800)");
            }
        }
        k.backoff = backoff;
    }
    return k;
}

}  // namespace

int Backoff::delay_s(int failed_attempt) const {
    double delay = initial_s * std::pow(multiplier, std::max(0, failed_attempt - 1));
    return static_cast<int>(std::ceil(std::min(delay, max_s)));
}

std::map<std::string, Backoff> KindRegistry::backoffs() const {
    std::map<std::string, Backoff> out;
    for (const auto& [name, kind] : kinds_) {
        if (kind.backoff) out.emplace(name, *kind.backoff);
    }
    return out;
}

KindRegistry KindRegistry::builtins_only() {
    KindRegistry r;
    r.schemas_ = std::make_shared<SchemaCache>();
    for (auto name : {"noop", "sleep", "fail"}) r.kinds_.emplace(name, builtin(name));
    return r;
}

KindRegistry KindRegistry::parse(std::string_view json_text, const std::string& source) {
    rapidjson::Document doc;
    try {
        doc = json::parse(json_text);
    } catch (const InputError& e) {
        throw ConfigError(source + ": " + e.what());
    }
    if (!doc.IsObject() || !doc.HasMember("kinds") || !doc["kinds"].IsObject()) {
        throw ConfigError(source + ": must be an object with a \"kinds\" object");
    }
    for (auto& m : doc.GetObject()) {
        std::string_view field = m.name.GetString();
        if (field != "kinds" && field != "queues") {
            throw ConfigError(source + ": unknown top-level field '" + m.name.GetString() + "'");
        }
    }
    KindRegistry r = builtins_only();
    if (doc.HasMember("queues")) {
        if (!doc["queues"].IsObject()) throw ConfigError(source + ": \"queues\" must be an object");
        for (auto& q : doc["queues"].GetObject()) {
            std::string name = q.name.GetString();
            auto fail = [&](const std::string& what) { return ConfigError(source + ": queue '" + name + "': " + what); };
            if (!valid_name(name, 64)) throw fail("name must be 1-64 characters of A-Z a-z 0-9 _ . : -");
            if (!q.value.IsObject() || q.value.MemberCount() != 1 || !q.value.HasMember("concurrency") ||
                !q.value["concurrency"].IsInt() || q.value["concurrency"].GetInt() < 0) {
                throw fail("must be {\"concurrency\": N} with N >= 0");
            }
            r.queue_limits_[name] = q.value["concurrency"].GetInt();
        }
    }
    for (auto& m : doc["kinds"].GetObject()) {
        std::string name = m.name.GetString();
        if (!valid_name(name, 128)) {
            throw ConfigError(source + ": kind name '" + name + "' must be 1-128 characters of A-Z a-z 0-9 _ . : -");
        }
        if (r.kinds_.contains(name)) throw ConfigError(source + ": kind '" + name + "' is built in; pick another name");
        auto kind = parse_command_kind(source, name, m.value);
        if (kind.concurrency) r.kind_limits_[name] = *kind.concurrency;
        r.kinds_.emplace(name, std::move(kind));
    }
    return r;
}

KindRegistry KindRegistry::load(const std::string& path) {
    if (path.empty()) return builtins_only();
    std::ifstream in(path);
    if (!in) throw ConfigError("cannot read kinds file " + path);
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

const Kind* KindRegistry::find(std::string_view name) const {
    auto it = kinds_.find(name);
    return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<const Kind*> KindRegistry::all() const {
    std::vector<const Kind*> out;
    for (const auto& [name, kind] : kinds_) out.push_back(&kind);
    return out;
}

struct KindRegistry::SchemaCache {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const rapidjson::SchemaDocument>, std::less<>> by_kind;
};

void KindRegistry::validate_args(const Kind& kind, const rapidjson::Value& args) const {
    if (kind.args_schema) {
        std::shared_ptr<const rapidjson::SchemaDocument> schema;
        {
            if (!schemas_) throw Error("kind registry without a schema cache");
            std::lock_guard lock(schemas_->mutex);
            auto& slot = schemas_->by_kind[kind.name];
            if (!slot) {
                rapidjson::Document d;
                d.Parse(kind.args_schema->c_str());
                slot = std::make_shared<const rapidjson::SchemaDocument>(d);
            }
            schema = slot;
        }
        rapidjson::SchemaValidator validator(*schema);
        if (!args.Accept(validator)) {
            rapidjson::StringBuffer pointer;
            validator.GetInvalidDocumentPointer().StringifyUriFragment(pointer);
            std::string path(pointer.GetString(), pointer.GetSize());  // "#/a/b"
            std::string field = "args";
            for (std::size_t i = 1; i < path.size(); ++i) field += path[i] == '/' ? '.' : path[i];
            throw InputError(InputError::Kind::invalid, "invalid_args",
                             "the args of kind '" + kind.name + "' do not match its args_schema ('" +
                                 validator.GetInvalidSchemaKeyword() + "' fails at " + field + ")",
                             field);
        }
    }
    if (kind.type != Kind::Type::builtin) return;
    auto invalid = [](std::string message, std::string field) {
        return InputError(InputError::Kind::invalid, "invalid_args", std::move(message), std::move(field));
    };
    auto only = [&](std::initializer_list<std::string_view> allowed) {
        for (auto& m : args.GetObject()) {
            std::string_view n = json::view(m.name);
            if (std::find(allowed.begin(), allowed.end(), n) == allowed.end()) {
                throw invalid("kind '" + kind.name + "' takes no argument '" + std::string(n) + "'",
                              "args." + std::string(n));
            }
        }
    };
    if (kind.name == "noop") {
        only({});
    } else if (kind.name == "sleep") {
        only({"ms"});
        if (!args.HasMember("ms") || !args["ms"].IsInt64() || args["ms"].GetInt64() < 0 ||
            args["ms"].GetInt64() > 86'400'000) {
            throw invalid("kind 'sleep' needs \"ms\": an integer from 0 to 86400000", "args.ms");
        }
    } else if (kind.name == "fail") {
        only({"permanent", "message"});
        if (args.HasMember("permanent") && !args["permanent"].IsBool()) {
            throw invalid("\"permanent\" must be true or false", "args.permanent");
        }
        if (args.HasMember("message") && !args["message"].IsString()) {
            throw invalid("\"message\" must be a string", "args.message");
        }
    }
}

}  // namespace drover
