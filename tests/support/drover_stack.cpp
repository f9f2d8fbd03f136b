#include "tests/support/drover_stack.hpp"

#include <fstream>
#include <stdexcept>
#include <tuple>

#include "core/json.hpp"
#include "tests/support/wait.hpp"

namespace drover::test {

DroverStack::DroverStack(const std::string& kinds_json) {
    char path[] = "/tmp/drover-stack-XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    dir_ = path;
    if (!kinds_json.empty()) {
        kinds_file_ = (dir_ / "kinds.json").string();
        std::ofstream(kinds_file_) << kinds_json;
    }
    // Known keys, stored as the API stores any key: prefix and SHA-256 only.
    auto conn = database_.connect();
    for (auto [key, app, role] : {std::tuple{default_api_key, "default", "admin"},
                                  std::tuple{default_operator_key, static_cast<const char*>(nullptr), "operator"}}) {
        std::string k = key;
        conn.exec("INSERT INTO drover.api_keys (app, role, prefix, hash, name)"
                  " VALUES ($1, $2::drover.key_role, $3, sha256(convert_to($4, 'UTF8')), 'tests')",
                  db::Params().add(app ? std::optional<std::string>(app) : std::nullopt).add(role)
                      .add(k.substr(0, k.rfind('_'))).add(k));
    }
}

DroverStack::~DroverStack() {
    workers_.clear();
    api_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::map<std::string, std::string> DroverStack::base_env() const {
    return {{"DROVER_DATABASE_URL", database_.url()},
            {"DROVER_KINDS_FILE", kinds_file_},
            {"DROVER_STATE_DIR", (dir_ / "state").string()},
            {"DROVER_LOG_LEVEL", "info"}};
}

void DroverStack::start_api(const std::map<std::string, std::string>& env) {
    auto merged = base_env();
    port_ = free_port();
    merged["DROVER_PORT"] = std::to_string(port_);
    admin_port_ = free_port();
    merged["DROVER_ADMIN_PORT"] = std::to_string(admin_port_);
    for (const auto& [k, v] : env) merged[k] = v;
    api_ = std::make_unique<Process>(binary_path("drover-api"), std::vector<std::string>{}, merged);
    bool ready = wait_until([&] { return !api_->running() || http_request(port_, "GET", "/readyz").status == 200; });
    if (!ready || !api_->running()) throw std::runtime_error("drover-api did not become ready:\n" + api_->output());
}

std::size_t DroverStack::start_worker(const std::map<std::string, std::string>& env) {
    auto merged = base_env();
    merged["DROVER_POLL_INTERVAL_MS"] = "500";
    for (const auto& [k, v] : env) merged[k] = v;
    workers_.push_back(std::make_unique<Process>(binary_path("drover-worker"), std::vector<std::string>{}, merged));
    return workers_.size() - 1;
}

std::string DroverStack::wait_finished(const std::string& id, std::chrono::milliseconds timeout) {
    std::string body;
    wait_until(
        [&] {
            body = get_job(id).body;
            auto status = json_field(body, "status");
            return status == "succeeded" || status == "failed" || status == "cancelled";
        },
        timeout);
    return body;
}

std::string DroverStack::output() const {
    std::string out;
    if (api_) out += "--- drover-api:\n" + api_->output();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        out += "--- drover-worker " + std::to_string(i) + ":\n" + workers_[i]->output();
    }
    return out;
}

std::string json_field(const std::string& body, const char* name) {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) return {};
    return doc[name].GetString();
}

}  // namespace drover::test
