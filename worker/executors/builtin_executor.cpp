#include "worker/executors/builtin_executor.hpp"

#include "core/json.hpp"

namespace drover::worker {

AttemptResult BuiltinExecutor::run(JobControl& control) {
    const auto& job = control.job();
    if (job.kind == "noop") return AttemptResult::succeeded();
    auto args = json::parse(job.args_json);
    if (job.kind == "sleep") {
        auto ms = args.HasMember("ms") && args["ms"].IsInt64() ? args["ms"].GetInt64() : 0;
        if (!control.sleep_for(std::chrono::milliseconds(ms))) {
            return AttemptResult::retry("interrupted");
        }
        return AttemptResult::succeeded();
    }
    if (job.kind == "fail") {
        bool permanent = args.HasMember("permanent") && args["permanent"].IsBool() && args["permanent"].GetBool();
        std::string message = args.HasMember("message") && args["message"].IsString() ? args["message"].GetString()
                                                                                         : "failed on purpose";
        return permanent ? AttemptResult::permanent_failure(message) : AttemptResult::retry(message);
    }
    return AttemptResult::permanent_failure("no built-in kind named " + job.kind);
}

}  // namespace drover::worker
