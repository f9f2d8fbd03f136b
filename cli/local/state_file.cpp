#include "cli/local/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/json.hpp"

namespace drover::cli {
namespace {

void write_process(json::Writer& w, const ProcessRecord& p) {
    w.StartObject();
    w.Key("name");
    w.String(p.name.c_str());
    w.Key("pid");
    w.Int(p.pid);
    w.Key("start_time");
    w.Uint64(p.start_time);
    w.Key("log");
    w.String(p.log.c_str());
    w.EndObject();
}

ProcessRecord read_process(const rapidjson::Value& v) {
    ProcessRecord p;
    if (!v.IsObject() || !v.HasMember("pid") || !v["pid"].IsInt() || !v.HasMember("start_time") ||
        !v["start_time"].IsUint64()) {
        throw std::runtime_error("a process entry lacks pid or start_time");
    }
    p.pid = v["pid"].GetInt();
    p.start_time = v["start_time"].GetUint64();
    if (v.HasMember("name") && v["name"].IsString()) p.name = v["name"].GetString();
    if (v.HasMember("log") && v["log"].IsString()) p.log = v["log"].GetString();
    return p;
}

std::string string_member(const rapidjson::Value& v, const char* name) {
    return v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

}  // namespace

std::vector<ProcessRecord> LocalState::all() const {
    std::vector<ProcessRecord> out = processes;
    if (postgres) out.push_back(*postgres);
    if (owner) out.push_back(*owner);
    return out;
}

std::string state_file_path(const std::string& state_dir) { return state_dir + "/drover.json"; }

std::string resolve_state_dir(const std::string& configured) {
    std::string dir = configured;
    if (dir.empty()) {
        const char* home = std::getenv("HOME");
        dir = std::string(home && *home ? home : "/tmp") + "/.local/share/drover";
    }
    std::filesystem::create_directories(dir);
    return std::filesystem::canonical(dir).string();
}

void write_private_file(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    fchmod(fd, 0600);  // O_CREAT's mode is filtered by the umask; an old file keeps its own
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            close(fd);
            unlink(tmp.c_str());
            throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    fsync(fd);
    close(fd);
    if (rename(tmp.c_str(), path.c_str()) != 0) {
        unlink(tmp.c_str());
        throw std::runtime_error("cannot rename " + tmp + ": " + std::strerror(errno));
    }
}

void write_state(const LocalState& s) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("version");
    w.Int(1);
    w.Key("mode");
    w.String(s.mode.c_str());
    w.Key("owner");
    if (s.owner) {
        write_process(w, *s.owner);
    } else {
        w.Null();
    }
    for (auto [key, value] : {std::pair{"state_dir", &s.state_dir}, std::pair{"url", &s.url},
                              std::pair{"admin_url", &s.admin_url}, std::pair{"database_url", &s.database_url},
                              std::pair{"api_key_file", &s.api_key_file},
                              std::pair{"admin_key_file", &s.admin_key_file}, std::pair{"env_file", &s.env_file},
                              std::pair{"postgres_dir", &s.postgres_dir}}) {
        w.Key(key);
        w.String(value->c_str());
    }
    w.Key("port");
    w.Int(s.port);
    w.Key("admin_port");
    w.Int(s.admin_port);
    w.Key("postgres");
    if (s.postgres) {
        write_process(w, *s.postgres);
    } else {
        w.Null();
    }
    w.Key("processes");
    w.StartArray();
    for (const auto& p : s.processes) write_process(w, p);
    w.EndArray();
    w.EndObject();
    write_private_file(state_file_path(s.state_dir), std::string(buffer.GetString(), buffer.GetSize()) + "\n");
}

std::optional<LocalState> read_state(const std::string& state_dir) {
    std::string path = state_file_path(state_dir);
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error(path + " is not a drover state file");
    LocalState s;
    s.mode = string_member(doc, "mode");
    s.state_dir = state_dir;
    s.url = string_member(doc, "url");
    s.admin_url = string_member(doc, "admin_url");
    s.database_url = string_member(doc, "database_url");
    s.api_key_file = string_member(doc, "api_key_file");
    s.admin_key_file = string_member(doc, "admin_key_file");
    s.env_file = string_member(doc, "env_file");
    s.postgres_dir = string_member(doc, "postgres_dir");
    if (doc.HasMember("port") && doc["port"].IsInt()) s.port = doc["port"].GetInt();
    if (doc.HasMember("admin_port") && doc["admin_port"].IsInt()) s.admin_port = doc["admin_port"].GetInt();
    try {
        if (doc.HasMember("owner") && doc["owner"].IsObject()) s.owner = read_process(doc["owner"]);
        if (doc.HasMember("postgres") && doc["postgres"].IsObject()) s.postgres = read_process(doc["postgres"]);
        if (doc.HasMember("processes") && doc["processes"].IsArray()) {
            for (const auto& p : doc["processes"].GetArray()) s.processes.push_back(read_process(p));
        }
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
    return s;
}

void remove_state(const std::string& state_dir) { std::filesystem::remove(state_file_path(state_dir)); }

}  // namespace drover::cli
