#include "api/handlers/drs_handler.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/json.hpp"
#include "core/percent_encoding.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

// What a DRS object id names, once found for the caller's app.
struct DrsObject {
    std::string id;
    std::string name;
    std::string sha256;
    std::int64_t size = 0;
    std::string created_time;
    std::string mime_type;
    std::string path;  // the download route, under the API's root path
};

Reply drs_error(Code code, const std::string& message) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("msg");
    w.String(message);
    w.Key("status_code");
    w.Int(static_cast<int>(code));
    w.EndObject();
    return Reply{code, std::string(buffer.GetString(), buffer.GetSize()), {}};
}

std::optional<DrsObject> find(db::Connection& conn, const std::string& id, const std::string& app,
                              const std::string& root) {
    auto number = [](std::string_view text) -> std::int64_t {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        return ec == std::errc() && ptr == text.data() + text.size() && n > 0 ? n : 0;
    };
    DrsObject o;
    o.id = id;
    if (id.rfind("upload-", 0) == 0) {
        auto n = number(std::string_view(id).substr(7));
        if (n == 0) return std::nullopt;
        auto r = conn.query("uploads/get", db::Params().add(n).add(app));
        if (r.empty()) return std::nullopt;
        o.name = id + ".zip";
        o.sha256 = std::string(r.text(0, "sha256"));
        o.size = r.int64(0, "size");
        o.created_time = rfc3339(r.text(0, "created_at"));
        o.mime_type = std::string(r.text(0, "media_type"));
        o.path = root + "/v1/uploads/" + std::to_string(n) + "/content";
        return o;
    }
    if (id.rfind("artifact-", 0) == 0) {
        auto n = number(std::string_view(id).substr(9));
        if (n == 0) return std::nullopt;
        auto r = conn.query("artifacts/get_by_id", db::Params().add(n).add(app));
        if (r.empty()) return std::nullopt;
        o.name = std::string(r.text(0, "name"));
        o.sha256 = std::string(r.text(0, "sha256"));
        o.size = r.int64(0, "size");
        o.created_time = rfc3339(r.text(0, "created_at"));
        o.mime_type = std::string(r.text(0, "media_type"));
        o.path = root + "/v1/jobs/" + std::string(r.text(0, "job_id")) + "/artifacts/" + percent_encode(o.name);
        return o;
    }
    return std::nullopt;
}

}  // namespace

DrsHandler::DrsHandler(DbExecutor& db, std::string public_url, std::string root_path)
    : db_(db), public_url_(std::move(public_url)), root_path_(std::move(root_path)) {
    while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
}

namespace {

// The base URL clients reach this API at, and its host (for drs:// URIs).
std::pair<std::string, std::string> base_and_host(const std::string& public_url,
                                                  const Pistache::Rest::Request& request) {
    if (!public_url.empty()) {
        auto after = public_url.find("://");
        auto host = public_url.substr(after == std::string::npos ? 0 : after + 3);
        host = host.substr(0, host.find('/'));
        // The path part of DROVER_PUBLIC_URL stands in for the root path.
        return {public_url.substr(0, (after == std::string::npos ? 0 : after + 3) + host.size()), host};
    }
    std::string host = "localhost";
    if (auto h = request.headers().tryGetRaw("Host")) host = h->value();
    return {"http://" + host, host};
}

}  // namespace

void DrsHandler::object(RequestContext ctx, const Pistache::Rest::Request& request,
                        Pistache::Http::ResponseWriter& response) {
    auto id = request.param(":id").as<std::string>();
    auto [base, host] = base_and_host(public_url_, request);
    db_.run(std::move(response), ctx, [this, id, base, host, ctx](db::Connection& conn) {
        auto o = find(conn, id, ctx.app, root_path_);
        if (!o) return drs_error(Code::Not_Found, "no such object: " + id);
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("id");
        w.String(o->id);
        w.Key("name");
        w.String(o->name);
        w.Key("self_uri");
        w.String("drs://" + host + "/" + o->id);
        w.Key("size");
        w.Int64(o->size);
        w.Key("created_time");
        w.String(o->created_time);
        w.Key("mime_type");
        w.String(o->mime_type);
        w.Key("version");
        w.String(o->sha256);  // content-addressed: the content is the version
        w.Key("checksums");
        w.StartArray();
        w.StartObject();
        w.Key("checksum");
        w.String(o->sha256);
        w.Key("type");
        w.String("sha-256");
        w.EndObject();
        w.EndArray();
        w.Key("access_methods");
        w.StartArray();
        w.StartObject();
        w.Key("type");
        w.String("https");
        w.Key("access_id");
        w.String("https");
        w.Key("access_url");
        w.StartObject();
        w.Key("url");
        w.String(base + o->path);
        w.EndObject();
        w.EndObject();
        w.EndArray();
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void DrsHandler::access(RequestContext ctx, const Pistache::Rest::Request& request,
                        Pistache::Http::ResponseWriter& response) {
    auto id = request.param(":id").as<std::string>();
    auto access_id = request.param(":access_id").as<std::string>();
    auto [base, host] = base_and_host(public_url_, request);
    db_.run(std::move(response), ctx, [this, id, access_id, base, ctx](db::Connection& conn) {
        auto o = find(conn, id, ctx.app, root_path_);
        if (!o) return drs_error(Code::Not_Found, "no such object: " + id);
        if (access_id != "https") return drs_error(Code::Not_Found, "no such access method: " + access_id);
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("url");
        w.String(base + o->path);
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

}  // namespace drover::api
