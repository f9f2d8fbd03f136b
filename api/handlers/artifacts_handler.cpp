#include "api/handlers/artifacts_handler.hpp"

#include <charconv>

#include "api/http/file_body.hpp"
#include "api/http/path_params.hpp"
#include "api/http_error.hpp"
#include "core/error.hpp"
#include "core/job.hpp"
#include "core/json.hpp"
#include "core/store/job_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

std::string percent_decoded(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            unsigned v = 0;
            auto [ptr, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc() && ptr == s.data() + i + 3) {
                out += static_cast<char>(v);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// "bytes=a-b", "bytes=a-", "bytes=-n" → [first, last]; nothing when absent or not a single range.
struct ByteRange {
    std::int64_t first = 0, last = 0;
    bool satisfiable = true;
};

std::optional<ByteRange> parse_range(const std::string& header, std::int64_t size) {
    if (header.rfind("bytes=", 0) != 0 || header.find(',') != std::string::npos) return std::nullopt;
    auto spec = header.substr(6);
    auto dash = spec.find('-');
    if (dash == std::string::npos) return std::nullopt;
    auto number = [](std::string_view t, std::int64_t& n) {
        auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        return !t.empty() && ec == std::errc() && ptr == t.data() + t.size() && n >= 0;
    };
    std::string_view a(spec.data(), dash), b(spec.data() + dash + 1, spec.size() - dash - 1);
    ByteRange r;
    if (a.empty()) {  // the last n bytes
        std::int64_t n = 0;
        if (!number(b, n)) return std::nullopt;
        if (n == 0 || size == 0) return ByteRange{0, 0, false};
        r.first = std::max<std::int64_t>(0, size - n);
        r.last = size - 1;
        return r;
    }
    if (!number(a, r.first)) return std::nullopt;
    if (b.empty()) {
        r.last = size - 1;
    } else if (!number(b, r.last) || r.last < r.first) {
        return std::nullopt;
    }
    if (r.first >= size) return ByteRange{0, 0, false};
    r.last = std::min(r.last, size - 1);
    return r;
}

}  // namespace

Reply file_reply(storage::BlobStore& blobs, const std::string& sha256, std::int64_t size, const std::string& media_type,
                 const std::string& range_header, const std::string& if_none_match, const RequestContext& ctx) {
    std::string etag = "\"" + sha256 + "\"";
    if (if_none_match == etag) return Reply{Code::Not_Modified, "", {{"ETag", etag}}};
    Reply reply{Code::Ok, "", {}};
    std::int64_t first = 0, count = size;
    if (!range_header.empty()) {
        if (auto range = parse_range(range_header, size)) {
            if (!range->satisfiable) {
                auto e = error_reply(Code::Requested_Range_Not_Satisfiable, "range_not_satisfiable",
                                     "the file has " + std::to_string(size) + " bytes", ctx);
                e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
                return e;
            }
            first = range->first;
            count = range->last - range->first + 1;
            reply.code = Code::Partial_Content;
            reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                            std::to_string(range->last) + "/" + std::to_string(size));
        }
    }
    // Opened here, on the database thread: a missing file is a 500 before any header goes out.
    reply.stream = http::file_body(blobs.path_of(sha256), first, count);
    reply.stream_size = count;
    reply.headers.emplace_back("Content-Type", media_type);
    reply.headers.emplace_back("ETag", etag);
    reply.headers.emplace_back("Accept-Ranges", "bytes");
    return reply;
}

ArtifactsHandler::ArtifactsHandler(DbExecutor& db, std::filesystem::path storage_root)
    : db_(db), blobs_(std::move(storage_root)) {}

void ArtifactsHandler::list(RequestContext ctx, const Pistache::Rest::Request& request,
                            Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    db_.run(std::move(response), ctx, [id, app = ctx.app](db::Connection& conn) {
        if (!JobStore(conn).get(id, app)) throw NotFound("no such job");
        auto r = conn.query("artifacts/list", db::Params().add(id).add(app).null());
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("artifacts");
        w.StartArray();
        for (int i = 0; i < r.rows(); ++i) {
            w.StartObject();
            w.Key("name");
            w.String(std::string(r.text(i, "name")));
            w.Key("size");
            w.Int64(r.int64(i, "size"));
            w.Key("sha256");
            w.String(std::string(r.text(i, "sha256")));
            w.Key("media_type");
            w.String(std::string(r.text(i, "media_type")));
            w.Key("attempt");
            w.Int64(r.int64(i, "attempt"));
            w.Key("created_at");
            w.String(rfc3339(r.text(i, "created_at")));
            w.Key("expires_at");
            w.String(rfc3339(r.text(i, "expires_at")));
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void ArtifactsHandler::download(RequestContext ctx, const Pistache::Rest::Request& request,
                                Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    auto name = percent_decoded(request.param(":name").as<std::string>());
    std::string range_header;
    if (auto h = request.headers().tryGetRaw("Range")) range_header = h->value();
    std::string if_none_match;
    if (auto h = request.headers().tryGetRaw("If-None-Match")) if_none_match = h->value();
    db_.run(std::move(response), ctx, [this, id, name, range_header, if_none_match, ctx](db::Connection& conn) {
        auto r = conn.query("artifacts/get", db::Params().add(id).add(ctx.app).add(name).null());
        if (r.empty()) throw NotFound("no such artifact");
        std::string sha256(r.text(0, "sha256"));
        return file_reply(blobs_, sha256, r.int64(0, "size"), std::string(r.text(0, "media_type")), range_header,
                          if_none_match, ctx);
    });
}

}  // namespace drover::api

namespace drover::api {

void ArtifactsHandler::zip(RequestContext ctx, const Pistache::Rest::Request& request,
                           Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    db_.run(std::move(response), ctx, [this, id, ctx](db::Connection& conn) {
        if (!JobStore(conn).get(id, ctx.app)) throw NotFound("no such job");
        auto r = conn.query("artifacts/list", db::Params().add(id).add(ctx.app).null());
        std::vector<http::ZipMember> members;
        for (int i = 0; i < r.rows(); ++i) {
            members.push_back({std::string(r.text(i, "name")), blobs_.path_of(std::string(r.text(i, "sha256"))),
                               r.int64(i, "size")});
        }
        Reply reply{Code::Ok, "", {}};
        reply.headers.emplace_back("Content-Type", "application/zip");
        reply.headers.emplace_back("Content-Disposition",
                                   "attachment; filename=\"job-" + std::to_string(id) + "-artifacts.zip\"");
        reply.stream = http::zip_body(std::move(members));
        reply.stream_size = -1;  // chunked: the zip's length is known once it is built
        return reply;
    });
}

}  // namespace drover::api
