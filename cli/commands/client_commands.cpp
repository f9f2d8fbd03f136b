#include "cli/commands/client_commands.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "cli/http_client.hpp"
#include "cli/local/state_file.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace drover::cli {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(300);

constexpr const char* usage =
    "Usage:\n"
    "  drover submit KIND [--args JSON] [--queue Q] [--priority N] [--wait] [--json]\n"
    "      --wait: print the job's log as it comes (stdout) and its progress (stderr); exit 0 when it\n"
    "      succeeded, 1 when it failed, 4 when it was cancelled\n"
    "      TODO: --file DIR|ZIP (an input upload) arrives with the uploads work\n"
    "  drover jobs [--status S[,S]] [--kind K] [--queue Q] [--limit N] [--json]\n"
    "  drover show ID [--json]          TODO: --download (artifacts) arrives with the artifacts work\n"
    "  drover logs ID [--follow] [--json]\n"
    "  drover cancel ID [--json]\n"
    "  drover retry ID [--json]\n"
    "Every one takes --url URL and --api-key KEY (DROVER_URL, DROVER_API_KEY; default: the local\n"
    "drover start/up from DROVER_STATE_DIR). Exit 2 on a usage error or an API error answer.\n";

struct Target {
    std::string url;
    std::string key;
};

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // --name value
    bool json = false, wait = false, follow = false;
};

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

Target resolve_target(const Config& config) {
    Target t{config.str("url"), config.str("api_key")};
    if (t.url.empty() || t.key.empty()) {
        auto state = read_state(resolve_state_dir(config.str("state_dir")));
        if (state) {
            if (t.url.empty()) t.url = state->url;
            if (t.key.empty()) t.key = read_first_line(state->api_key_file);
        }
    }
    if (t.url.empty()) {
        throw ConfigError("no API URL: pass --url, set DROVER_URL, or run drover start / drover up");
    }
    while (!t.url.empty() && t.url.back() == '/') t.url.pop_back();
    return t;
}

// Percent-encodes what cannot stand in a path segment or query value; the
// characters of statuses lists, kinds and RFC 3339 times (",", ":") stay as
// they are, since the API reads query values undecoded.
std::string escape(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == ':') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

class ApiError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The body of a 2xx answer; anything else throws with the API's message.
std::string call(const Target& t, const std::string& method, const std::string& path, const std::string& body = {}) {
    auto r = http_call(method, t.url + path, t.key, body, 30000);
    if (r.status == 0) throw ApiError(method + " " + t.url + path + ": " + r.error);
    if (r.status >= 200 && r.status < 300) return r.body;
    std::string message = r.body;
    try {
        auto doc = json::parse(r.body);
        if (doc.IsObject() && doc.HasMember("error") && doc["error"].IsObject() && doc["error"].HasMember("message")) {
            message = doc["error"]["message"].GetString();
        }
    } catch (const std::exception&) {
    }
    throw ApiError(method + " " + path + ": " + std::to_string(r.status) + " " + message);
}

std::string member(const rapidjson::Value& v, const char* name) {
    if (!v.IsObject() || !v.HasMember(name)) return "";
    const auto& m = v[name];
    if (m.IsString()) return m.GetString();
    if (m.IsNull()) return "";
    return json::to_string(m);
}

// "37% compiling" from {"percent": 37, "message": "compiling"}; "" when neither is set.
std::string progress_text(const rapidjson::Value& job) {
    if (!job.IsObject() || !job.HasMember("progress") || !job["progress"].IsObject()) return "";
    const auto& p = job["progress"];
    std::string out;
    if (p.HasMember("percent") && p["percent"].IsNumber()) out = json::to_string(p["percent"]) + "%";
    if (p.HasMember("message") && p["message"].IsString()) {
        out += (out.empty() ? "" : " ") + std::string(p["message"].GetString());
    }
    return out;
}

bool finished(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "cancelled";
}

void print_job(const rapidjson::Value& job) {
    std::cout << "job " << member(job, "id") << "  " << member(job, "status") << "  kind " << member(job, "kind")
              << "  queue " << member(job, "queue") << "  attempt " << member(job, "attempt") << "/"
              << member(job, "max_attempts") << "\n";
    if (auto progress = progress_text(job); !progress.empty()) std::cout << "  progress: " << progress << "\n";
    for (const char* field : {"created_at", "started_at", "finished_at", "last_error", "result"}) {
        std::string v = member(job, field);
        if (!v.empty()) std::cout << "  " << field << ": " << v << "\n";
    }
}

// Prints the log lines after `cursor`; returns the new cursor.
std::string print_logs(const Target& t, const std::string& id, std::string cursor, bool json_lines) {
    for (;;) {
        auto page = json::parse(call(t, "GET", "/v1/jobs/" + escape(id) + "/logs?after=" + escape(cursor)));
        const auto& lines = page["lines"];
        for (const auto& l : lines.GetArray()) {
            if (json_lines) {
                std::cerr << json::to_string(l) << "\n";
            } else {
                std::string stream = member(l, "stream");
                (stream == "stderr" ? std::cerr : std::cout) << member(l, "line") << "\n";
            }
        }
        std::cout << std::flush;
        cursor = member(page, "next_cursor");
        if (lines.Empty()) return cursor;
    }
}

int exit_for(const std::string& status) {
    if (status == "succeeded") return 0;
    if (status == "cancelled") return exit_job_cancelled;
    return exit_job_failed;
}

// Follows a job until it ends: log lines as they come, progress on stderr.
int follow_job(const Target& t, const std::string& id, bool json_out) {
    std::string cursor = "0", last_progress, last_status;
    for (;;) {
        cursor = print_logs(t, id, cursor, json_out);
        std::string body = call(t, "GET", "/v1/jobs/" + escape(id));
        auto job = json::parse(body);
        std::string status = member(job, "status");
        std::string progress = progress_text(job);
        if (status != last_status || progress != last_progress) {
            std::cerr << "drover: job " << id << " " << status << (progress.empty() ? "" : " " + progress) << "\n";
            last_status = status;
            last_progress = progress;
        }
        if (finished(status)) {
            print_logs(t, id, cursor, json_out);  // lines written just before the end
            if (json_out) {
                std::cout << json::to_string(job) << "\n";
            } else {
                print_job(job);
            }
            return exit_for(status);
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

std::string need_id(const Args& a, const std::string& command) {
    if (a.positional.size() != 1) throw ConfigError("drover " + command + " needs one job ID");
    return a.positional[0];
}

int run(const std::string& command, const Args& a, const Target& t) {
    if (command == "submit") {
        if (a.positional.size() != 1) throw ConfigError("drover submit needs a KIND");
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("kind");
        w.String(a.positional[0].c_str());
        if (auto it = a.options.find("args"); it != a.options.end()) {
            auto parsed = json::parse(it->second);  // a clear error before the request
            w.Key("args");
            parsed.Accept(w);
        }
        if (auto it = a.options.find("queue"); it != a.options.end()) {
            w.Key("queue");
            w.String(it->second.c_str());
        }
        if (auto it = a.options.find("priority"); it != a.options.end()) {
            w.Key("priority");
            w.Int64(std::stoll(it->second));
        }
        w.EndObject();
        std::string body = call(t, "POST", "/v1/jobs", std::string(buffer.GetString(), buffer.GetSize()));
        auto job = json::parse(body);
        std::string id = member(job, "id");
        if (!a.wait) {
            if (a.json) {
                std::cout << body << "\n";
            } else {
                std::cout << id << "\n";
                std::cerr << "drover: job " << id << " " << member(job, "status") << "\n";
            }
            return 0;
        }
        std::cerr << "drover: job " << id << " submitted\n";
        return follow_job(t, id, a.json);
    }
    if (command == "jobs") {
        std::string query;
        for (const char* name : {"status", "kind", "queue", "limit", "cursor", "created_after", "created_before"}) {
            if (auto it = a.options.find(name); it != a.options.end()) {
                query += (query.empty() ? "?" : "&") + std::string(name) + "=" + escape(it->second);
            }
        }
        std::string body = call(t, "GET", "/v1/jobs" + query);
        if (a.json) {
            std::cout << body << "\n";
            return 0;
        }
        auto doc = json::parse(body);
        for (const auto& j : doc["jobs"].GetArray()) {
            std::cout << member(j, "id") << "\t" << member(j, "status") << "\t" << member(j, "kind") << "\t"
                      << member(j, "queue") << "\t" << member(j, "created_at") << "\n";
        }
        std::string next = member(doc, "next_cursor");
        if (!next.empty()) std::cerr << "drover: more with --cursor " << next << "\n";
        return 0;
    }
    if (command == "show") {
        std::string body = call(t, "GET", "/v1/jobs/" + escape(need_id(a, command)));
        if (a.json) {
            std::cout << body << "\n";
        } else {
            print_job(json::parse(body));
        }
        return 0;
    }
    if (command == "logs") {
        std::string id = need_id(a, command);
        if (a.follow) {
            int code = follow_job(t, id, a.json);
            (void)code;
            return 0;
        }
        print_logs(t, id, "0", a.json);
        return 0;
    }
    if (command == "cancel" || command == "retry") {
        std::string body = call(t, "POST", "/v1/jobs/" + escape(need_id(a, command)) + "/" + command);
        if (a.json) {
            std::cout << body << "\n";
        } else {
            print_job(json::parse(body));
        }
        return 0;
    }
    throw ConfigError("unknown command " + command);
}

}  // namespace

bool is_client_command(const std::string& c) {
    return c == "submit" || c == "jobs" || c == "show" || c == "logs" || c == "cancel" || c == "retry";
}

int client_command(const std::string& command, const std::vector<std::string>& args) {
    static const std::vector<std::string> own_options = {"args",          "queue",         "priority", "status",
                                                         "kind",          "limit",         "cursor",   "created_after",
                                                         "created_before"};
    Args a;
    std::vector<std::string> settings = {"drover"};
    try {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& arg = args[i];
            if (arg == "--json") {
                a.json = true;
            } else if (arg == "--wait") {
                a.wait = true;
            } else if (arg == "--follow" || arg == "-f") {
                a.follow = true;
            } else if (arg == "--help" || arg == "-h") {
                std::cout << usage;
                return 0;
            } else if (arg.starts_with("--")) {
                auto eq = arg.find('=');
                std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
                for (char& c : name) c = c == '-' ? '_' : c;
                bool own = std::find(own_options.begin(), own_options.end(), name) != own_options.end();
                std::string value;
                if (eq != std::string::npos) {
                    value = arg.substr(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args[++i];
                } else {
                    throw ConfigError("option " + arg + " needs a value");
                }
                if (own) {
                    a.options[name] = value;
                } else {
                    settings.push_back("--" + name);
                    settings.push_back(value);
                }
            } else {
                a.positional.push_back(arg);
            }
        }
        std::vector<const char*> argv;
        for (const auto& s : settings) argv.push_back(s.c_str());
        Config config = Config::load(Part::cli, static_cast<int>(argv.size()), argv.data());
        init_logging("drover", config.str("log_level"));
        return run(command, a, resolve_target(config));
    } catch (const ConfigError& e) {
        std::cerr << "drover: " << e.what() << "\n" << usage;
        return 2;
    } catch (const ApiError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return 2;
    } catch (const InputError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return 2;
    }
}

}  // namespace drover::cli
