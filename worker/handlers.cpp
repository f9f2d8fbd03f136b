#include "worker/handlers.hpp"

#include "core/json.hpp"

namespace drover::worker {

void Handlers::add(std::string kind, Handler handler, bool instant) {
    entries_[std::move(kind)] = Entry{std::move(handler), instant};
}

const Handlers::Entry* Handlers::find(std::string_view kind) const {
    auto it = entries_.find(kind);
    return it == entries_.end() ? nullptr : &it->second;
}

Handlers Handlers::with_builtins() {
    Handlers h;
    h.add("noop", [](JobControl&) { return AttemptResult::succeeded(); }, true);
    h.add("sleep", [](JobControl& control) {
        auto args = json::parse(control.job().args_json);
        auto ms = args.HasMember("ms") && args["ms"].IsInt64() ? args["ms"].GetInt64() : 0;
        if (!control.sleep_for(std::chrono::milliseconds(ms))) return AttemptResult::retry("interrupted");
        return AttemptResult::succeeded();
    });
    h.add(
        "fail",
        [](JobControl& control) {
            auto args = json::parse(control.job().args_json);
            bool permanent = args.HasMember("permanent") && args["permanent"].IsBool() && args["permanent"].GetBool();
            std::string message = args.HasMember("message") && args["message"].IsString()
                                      ? std::string(json::view(args["message"]))
                                      : "failed on purpose";
            return permanent ? AttemptResult::permanent_failure(message) : AttemptResult::retry(message);
        },
        true);
    return h;
}

}  // namespace drover::worker
