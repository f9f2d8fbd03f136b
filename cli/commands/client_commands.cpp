#include "cli/commands/client_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "cli/api_client.hpp"
#include "cli/artifact_download.hpp"
#include "cli/local/state_file.hpp"
#include "cli/progress_display.hpp"
#include "cli/temp_files.hpp"
#include "cli/upload.hpp"
#include "cli/zip_folder.hpp"
#include "core/config.hpp"
#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace drover::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* usage =
    "Usage:\n"
    "  drover submit KIND [--args JSON] [--file DIR|ZIP] [--queue Q] [--priority N] [--wait]\n"
    "                [--timeout S] [--download DIR [--overwrite]] [--json]\n"
    "      --file DIR: the folder is zipped (regular files and folders; symbolic links, devices\n"
    "      and FIFOs are left out and named on stderr) and uploaded; --file X.zip: sent as is.\n"
    "      Large zips go as a parted upload. The job gets it unpacked in its inbound/ folder.\n"
    "      --wait: the log as it comes (stdout/stderr) and a live status line on a terminal\n"
    "      (plain status lines otherwise); --download DIR: wait, then fetch the artifacts into DIR.\n"
    "  drover jobs [--status S[,S]] [--kind K] [--queue Q] [--limit N] [--cursor C] [--json]\n"
    "  drover show ID [--json]\n"
    "  drover logs ID [--follow] [--json]\n"
    "  drover cancel ID [--json]\n"
    "  drover retry ID [--json]\n"
    "  drover artifacts ID [--download DIR [--overwrite]] [--json]\n"
    "      the job's artifacts; --download: every one into DIR, checked against the listed sha256,\n"
    "      written to a temporary name and renamed. A different file already in DIR is kept\n"
    "      unless --overwrite; a name that would leave DIR refuses the whole download.\n"
    "Every one takes --url URL and --api-key KEY (DROVER_URL, DROVER_API_KEY; default: the local\n"
    "drover start/up from DROVER_STATE_DIR).\n"
    "Exit codes: 0 done (submit --wait: the job succeeded); 1 the job failed; 2 a usage error, or\n"
    "the API refused the request; 3 the API did not answer; 4 the job was cancelled; 5 --timeout\n"
    "passed before the job finished (it goes on running); 6 artifacts could not be downloaded.\n";

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // --name value
    bool json = false, wait = false, follow = false, overwrite = false;
    std::optional<std::string> option(const char* name) const {
        auto it = options.find(name);
        return it == options.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
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

std::string member(const rapidjson::Value& v, const char* name) {
    if (!v.IsObject() || !v.HasMember(name)) return "";
    const auto& m = v[name];
    if (m.IsString()) return m.GetString();
    if (m.IsNull()) return "";
    return json::to_string(m);
}

std::optional<double> progress_percent(const rapidjson::Value& job) {
    if (!job.IsObject() || !job.HasMember("progress") || !job["progress"].IsObject()) return std::nullopt;
    const auto& p = job["progress"];
    if (p.HasMember("percent") && p["percent"].IsNumber()) return p["percent"].GetDouble();
    return std::nullopt;
}

std::string progress_message(const rapidjson::Value& job) {
    if (!job.IsObject() || !job.HasMember("progress") || !job["progress"].IsObject()) return "";
    const auto& p = job["progress"];
    return p.HasMember("message") && p["message"].IsString() ? p["message"].GetString() : "";
}

bool finished(const std::string& status) {
    return status == "succeeded" || status == "failed" || status == "cancelled";
}

void print_job(const rapidjson::Value& job) {
    std::cout << "job " << member(job, "id") << "  " << member(job, "status") << "  kind " << member(job, "kind")
              << "  queue " << member(job, "queue") << "  attempt " << member(job, "attempt") << "/"
              << member(job, "max_attempts") << "\n";
    auto percent = progress_percent(job);
    std::string message = progress_message(job);
    if (percent || !message.empty()) {
        std::cout << "  progress: " << (percent ? json::to_string(job["progress"]["percent"]) + "%" : "")
                  << (percent && !message.empty() ? " " : "") << message << "\n";
    }
    for (const char* field :
         {"upload_id", "created_at", "started_at", "cancel_requested_at", "finished_at", "last_error", "result"}) {
        std::string v = member(job, field);
        if (!v.empty()) std::cout << "  " << field << ": " << v << "\n";
    }
}

std::string logs_path(const std::string& id, const std::string& cursor, int wait_s) {
    std::string path = "/v1/jobs/" + escape(id) + "/logs?after=" + escape(cursor);
    if (wait_s > 0) path += "&wait=" + std::to_string(wait_s);
    return path;
}

// Shows one page of log lines after `cursor` (long-polling up to wait_s for
// the first); returns the new cursor and whether the page had lines.
std::pair<std::string, bool> log_page(const Target& t, const std::string& id, const std::string& cursor, int wait_s,
                                      ProgressDisplay& display) {
    auto page = json::parse(api_call(t, "GET", logs_path(id, cursor, wait_s), {}, (wait_s + 30) * 1000L));
    if (!page.IsObject() || !page.HasMember("lines") || !page["lines"].IsArray()) {
        throw ApiError(0, "GET logs: an answer without \"lines\"");
    }
    const auto& lines = page["lines"];
    for (const auto& l : lines.GetArray()) display.log_line(member(l, "stream"), member(l, "line"), json::to_string(l));
    std::string next = member(page, "next_cursor");
    return {next.empty() ? cursor : next, !lines.Empty()};
}

// Every line after `cursor`, at once.
std::string drain_logs(const Target& t, const std::string& id, std::string cursor, ProgressDisplay& display) {
    for (;;) {
        auto [next, had_lines] = log_page(t, id, cursor, 0, display);
        cursor = next;
        if (!had_lines) return cursor;
    }
}

int exit_for(const std::string& status) {
    if (status == "succeeded") return 0;
    if (status == "cancelled") return exit_job_cancelled;
    return exit_job_failed;
}

struct Outcome {
    int code = 0;
    std::string job_body;  // the finished job's JSON; "" after a timeout
};

// Follows a job until it ends (or `timeout_s` passes, when > 0): the log
// through long polls on /logs?wait=, the status after each page.
Outcome follow_job(const Target& t, const std::string& id, ProgressDisplay& display, long timeout_s) {
    std::string cursor = "0";
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    // Short polls on a terminal keep the live line's clock and progress fresh;
    // plain output only needs to learn the end.
    const int poll_s = display.mode() == ProgressDisplay::Mode::terminal ? 1 : 5;
    for (;;) {
        int wait_s = poll_s;
        if (timeout_s > 0) {
            auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count();
            wait_s = static_cast<int>(std::clamp<long long>(left, 1, poll_s));
        }
        cursor = log_page(t, id, cursor, wait_s, display).first;
        std::string body = api_call(t, "GET", "/v1/jobs/" + escape(id));
        auto job = json::parse(body);
        std::string status = member(job, "status");
        display.status(status, progress_percent(job), progress_message(job));
        if (finished(status)) {
            drain_logs(t, id, cursor, display);  // lines written just before the end
            display.finish();
            return {exit_for(status), body};
        }
        if (timeout_s > 0 && Clock::now() >= deadline) {
            display.finish();
            std::cerr << "drover: job " << id << " is still " << status << " after --timeout " << timeout_s
                      << " s (it goes on; drover logs " << id << " --follow)\n";
            return {exit_wait_timeout, ""};
        }
    }
}

void print_downloads(const std::string& id, const std::string& dir, const std::vector<Downloaded>& done,
                     bool json_out) {
    if (json_out) {
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("job");
        w.String(id.c_str());
        w.Key("dir");
        w.String(dir.c_str());
        w.Key("files");
        w.StartArray();
        for (const auto& d : done) {
            w.StartObject();
            w.Key("name");
            w.String(d.artifact.name.c_str());
            w.Key("size");
            w.Uint64(d.artifact.size);
            w.Key("sha256");
            w.String(d.artifact.sha256.c_str());
            w.Key("action");
            w.String(d.action.c_str());
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::cout << buffer.GetString() << "\n";
        return;
    }
    for (const auto& d : done) {
        std::cerr << "drover: " << d.action << " " << (fs::path(dir) / d.artifact.name).string() << " ("
                  << d.artifact.size << " bytes, sha256 " << d.artifact.sha256.substr(0, 12) << "…)\n";
    }
    if (done.empty()) std::cerr << "drover: job " << id << " has no artifacts\n";
}

std::vector<Artifact> list_artifacts(const Target& t, const std::string& id, std::string* body_out = nullptr) {
    std::string body = api_call(t, "GET", "/v1/jobs/" + escape(id) + "/artifacts");
    if (body_out) *body_out = body;
    return parse_artifact_list(body);
}

long parse_timeout(const Args& a) {
    auto v = a.option("timeout");
    if (!v) return 0;
    char* end = nullptr;
    long s = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || s <= 0 || s > 31 * 86400) {
        throw ConfigError("--timeout takes whole seconds, 1 or more");
    }
    return s;
}

// A temporary zip made from a folder, removed when the command ends (also
// on Ctrl-C: TempFileGuard).
struct TempZip {
    fs::path path;
    std::optional<TempFileGuard> guard;
    void made(const std::string& p) {
        path = p;
        guard.emplace(p);
    }
    ~TempZip() {
        std::error_code ec;
        if (!path.empty()) fs::remove(path, ec);
    }
};

// --file: the upload's id (the folder zipped first).
std::string send_file(const Target& t, const std::string& file, ProgressDisplay& display, TempZip& temp) {
    std::error_code ec;
    auto st = fs::status(file, ec);
    if (ec || !fs::exists(st)) throw ConfigError("--file " + file + ": no such file or folder");
    fs::path zip = file;
    if (fs::is_directory(st)) {
        // Guarded before it exists (a random name, O_EXCL): a Ctrl-C that
        // comes just as it is made still removes it.
        std::string name =
            (fs::temp_directory_path() / ("drover-submit-" + crypto::to_hex(crypto::random_bytes(8)) + ".zip")).string();
        temp.made(name);
        int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            temp.path.clear();  // not ours: never remove it
            temp.guard.reset();
            throw ConfigError("cannot make a temporary zip in " + fs::temp_directory_path().string());
        }
        ::close(fd);
        zip = name;
        auto zipped = zip_folder(file, zip);
        for (const auto& s : zipped.skipped)
            std::cerr << "drover: not sent: " << s << " (only regular files and folders are)\n";
        std::cerr << "drover: zipped " << zipped.files << " files in " << zipped.folders << " folders from " << file
                  << "\n";
    } else if (!fs::is_regular_file(st)) {
        throw ConfigError("--file " + file + ": neither a folder nor a zip file");
    }
    auto upload = json::parse(
        upload_zip(t, zip, [&](std::uint64_t sent, std::uint64_t total) { display.uploading(sent, total); }));
    std::string id = member(upload, "id");
    if (id.empty()) throw ApiError(0, "the upload's answer has no id");
    if (display.mode() != ProgressDisplay::Mode::terminal) {
        std::cerr << "drover: upload " << id << " (" << member(upload, "size") << " bytes, "
                  << member(upload, "entries") << " entries)\n";
    }
    return id;
}

int submit(const Args& a, const Target& t) {
    if (a.positional.size() != 1) throw ConfigError("drover submit needs a KIND");
    const long timeout_s = parse_timeout(a);
    const auto download = a.option("download");
    if (download && download->empty()) throw ConfigError("--download needs a folder");
    if (a.overwrite && !download) throw ConfigError("--overwrite goes with --download");
    std::optional<rapidjson::Document> args;
    if (auto v = a.option("args")) {
        args = json::parse(*v);  // a clear error before anything is sent
        if (!args->IsObject()) throw ConfigError("--args takes a JSON object");
    }
    std::optional<std::int64_t> priority;
    if (auto v = a.option("priority")) {
        char* end = nullptr;
        priority = std::strtoll(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0') throw ConfigError("--priority takes an integer");
    }
    ProgressDisplay display(ProgressDisplay::detect(a.json), "");
    TempZip temp;
    std::string upload_id;
    if (auto file = a.option("file")) upload_id = send_file(t, *file, display, temp);

    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("kind");
    w.String(a.positional[0].c_str());
    if (args) {
        w.Key("args");
        args->Accept(w);
    }
    if (auto q = a.option("queue")) {
        w.Key("queue");
        w.String(q->c_str());
    }
    if (priority) {
        w.Key("priority");
        w.Int64(*priority);
    }
    if (!upload_id.empty()) {
        w.Key("upload_id");
        w.String(upload_id.c_str());
    }
    w.EndObject();
    std::string body = api_call(t, "POST", "/v1/jobs", std::string_view(buffer.GetString(), buffer.GetSize()));
    auto job = json::parse(body);
    std::string id = member(job, "id");
    display.set_job(id);
    if (!a.wait && !download) {
        display.finish();
        if (a.json) {
            std::cout << body << "\n";
        } else {
            std::cout << id << "\n";
            std::cerr << "drover: job " << id << " " << member(job, "status") << "\n";
        }
        return 0;
    }
    if (display.mode() == ProgressDisplay::Mode::plain) std::cerr << "drover: job " << id << " submitted\n";
    Outcome outcome = follow_job(t, id, display, timeout_s);
    if (outcome.job_body.empty()) return outcome.code;
    if (a.json) {
        std::cout << outcome.job_body << "\n";
    } else {
        print_job(json::parse(outcome.job_body));
    }
    if (outcome.code != 0 || !download) return outcome.code;
    print_downloads(id, *download, download_artifacts(t, id, list_artifacts(t, id), *download, a.overwrite), a.json);
    return 0;
}

std::string need_id(const Args& a, const std::string& command) {
    if (a.positional.size() != 1) throw ConfigError("drover " + command + " needs one job ID");
    return a.positional[0];
}

int run(const std::string& command, const Args& a, const Target& t) {
    if (command == "submit") return submit(a, t);
    if (command == "jobs") {
        std::string query;
        for (const char* name : {"status", "kind", "queue", "limit", "cursor", "created_after", "created_before"}) {
            if (auto v = a.option(name)) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + escape(*v);
        }
        std::string body = api_call(t, "GET", "/v1/jobs" + query);
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
        std::string body = api_call(t, "GET", "/v1/jobs/" + escape(need_id(a, command)));
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
            ProgressDisplay display(ProgressDisplay::detect(a.json), id, true);
            // Follows to the end; exits 0 whatever the outcome (submit --wait tells it), 5 after --timeout.
            return follow_job(t, id, display, parse_timeout(a)).job_body.empty() ? exit_wait_timeout : 0;
        }
        ProgressDisplay display(a.json ? ProgressDisplay::Mode::json : ProgressDisplay::Mode::plain, id, true);
        drain_logs(t, id, "0", display);
        return 0;
    }
    if (command == "cancel" || command == "retry") {
        std::string body = api_call(t, "POST", "/v1/jobs/" + escape(need_id(a, command)) + "/" + command);
        if (a.json) {
            std::cout << body << "\n";
        } else {
            print_job(json::parse(body));
        }
        return 0;
    }
    if (command == "artifacts") {
        std::string id = need_id(a, command);
        std::string body;
        auto list = list_artifacts(t, id, &body);
        if (auto dir = a.option("download")) {
            if (dir->empty()) throw ConfigError("--download needs a folder");
            print_downloads(id, *dir, download_artifacts(t, id, list, *dir, a.overwrite), a.json);
            return 0;
        }
        if (a.overwrite) throw ConfigError("--overwrite goes with --download");
        if (a.json) {
            std::cout << body << "\n";
            return 0;
        }
        for (const auto& x : list) std::cout << x.name << "\t" << x.size << "\t" << x.sha256 << "\n";
        return 0;
    }
    throw ConfigError("unknown command " + command);
}

}  // namespace

bool is_client_command(const std::string& c) {
    return c == "submit" || c == "jobs" || c == "show" || c == "logs" || c == "cancel" || c == "retry" ||
           c == "artifacts";
}

int client_command(const std::string& command, const std::vector<std::string>& args) {
    static const std::vector<std::string> own_options = {"args",           "queue", "priority", "status",
                                                         "kind",           "limit", "cursor",   "created_after",
                                                         "created_before", "file",  "download", "timeout"};
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
            } else if (arg == "--overwrite") {
                a.overwrite = true;
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
        return exit_usage;
    } catch (const Unreachable& e) {
        std::cerr << "drover: the API did not answer: " << e.what() << "\n";
        return exit_unreachable;
    } catch (const ApiError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return exit_usage;
    } catch (const DownloadError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return exit_download;
    } catch (const InputError& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "drover: " << e.what() << "\n";
        return exit_usage;
    }
}

}  // namespace drover::cli
