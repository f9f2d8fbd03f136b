#pragma once
// In-process kinds: C++ functions compiled into a worker. The built-in kinds
// (noop, sleep, fail) are registered the same way. To add your own:
//
//   drover::worker::Handlers handlers = drover::worker::Handlers::with_builtins();
//   handlers.add("resize", [](drover::worker::JobControl& job) {
//       auto args = drover::json::parse(job.job().args_json);
//       job.progress(50, "halfway");
//       if (job.stop_reason() != drover::worker::StopReason::none) return AttemptResult::retry("stopped");
//       return drover::worker::AttemptResult::succeeded(R"({"ok": true})");
//   });
//   drover::worker::Worker worker(options, kinds, handlers);
//
// and declare the kind in the kinds file as {"in_process": true, …} so the
// API accepts it. A handler returns AttemptResult::succeeded / retry /
// permanent_failure / snooze, should return soon after stop_reason() is set
// (cancel, shutdown, lease lost), and may log with job.log("stdout", …).
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "worker/job_control.hpp"

namespace drover::worker {

using Handler = std::function<AttemptResult(JobControl&)>;

class Handlers {
public:
    struct Entry {
        Handler run;
        bool instant = false;  // finishes in microseconds: runs on the coordinator, no thread hand-off
    };

    static Handlers with_builtins();
    // instant: only for handlers that never block; handing a no-op to a runner
    // thread cost more than the job itself (~35 % of no-op throughput).
    void add(std::string kind, Handler handler, bool instant = false);
    const Entry* find(std::string_view kind) const;

private:
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace drover::worker
