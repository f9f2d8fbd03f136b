#pragma once
// What a job can run. Built-in kinds (noop, sleep, fail) always exist, for
// tests, benchmarks and smoke checks; operators declare command kinds in a
// JSON kinds file (docs/kinds.md). The API uses the registry to refuse
// unknown kinds and bad arguments; the worker uses it to run them.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace drover {

// Delay before retry n (n = the attempt that failed): initial_s * multiplier^(n-1),
// capped at max_s; the database adds ±10 % jitter.
struct Backoff {
    double initial_s = 1;
    double multiplier = 2;
    double max_s = 3600;
    int delay_s(int failed_attempt) const;
};

// Resource limits of one command kind's sandbox (docs/kinds.md, "Sandbox"),
// set with setrlimit before the sandbox starts, so they hold for every
// process of the job: memory and CPU time per process, processes per user.
struct KindLimits {
    std::optional<long> memory_mb;   // RLIMIT_AS of each process
    std::optional<long> cpu_s;       // RLIMIT_CPU of each process
    std::optional<long> processes;   // RLIMIT_NPROC: processes of the job's user (all its jobs on the host)
    std::optional<long> open_files;  // RLIMIT_NOFILE of each process
    bool empty() const { return !memory_mb && !cpu_s && !processes && !open_files; }
};

struct Kind {
    // builtin: noop, sleep, fail; in_process: a C++ handler compiled into the
    // worker (worker/handlers.hpp); command: a child process.
    enum class Type { builtin, in_process, command };

    std::string name;
    Type type = Type::builtin;
    std::vector<std::string> argv;                // command kinds: the program and its arguments
    std::map<std::string, std::string> env;       // added to the child's environment
    std::optional<int> timeout_s;                 // default timeout for jobs of this kind
    int max_attempts = 25;                        // default attempts for jobs of this kind
    std::string queue = "default";                // default queue
    std::vector<int> permanent_exit_codes;        // exit codes that mean "the input is bad: do not retry"
    std::optional<Backoff> backoff;               // none: attempt^4 + 1 s (jobs/complete_many.sql)
    std::optional<int> concurrency;               // most jobs of this kind running at once, on all workers
    // The sandbox (worker/executors/sandbox.hpp):
    std::string user;                             // who runs it ("": drover-job, else nobody)
    KindLimits limits;
    bool network = true;                          // false: a network namespace of its own (no network)
    std::map<std::string, bool> binds;            // host paths visible at the same place; true: writable
    std::optional<std::string> args_schema;       // JSON Schema (draft 4) the API checks a job's args against
    std::optional<int> artifact_retention_s;      // its outbound files kept this long (none: DROVER_ARTIFACT_RETENTION_S)
};

class KindRegistry {
public:
    // The built-in kinds plus those in the file (none when path is empty).
    // Throws ConfigError naming the file, the kind and the field on any problem.
    static KindRegistry load(const std::string& path);
    static KindRegistry parse(std::string_view json_text, const std::string& source = "kinds file");
    static KindRegistry builtins_only();

    const Kind* find(std::string_view name) const;
    std::vector<const Kind*> all() const;
    // Queue concurrency limits the file declares ("queues": {"q": {"concurrency": N}}).
    const std::map<std::string, int>& queue_limits() const { return queue_limits_; }
    // The retry backoff of every kind that declares one, by kind.
    std::map<std::string, Backoff> backoffs() const;
    // Kind concurrency limits the file declares ("concurrency" of a kind).
    const std::map<std::string, int>& kind_limits() const { return kind_limits_; }
    // Throws InputError(invalid) when a built-in kind's arguments are wrong,
    // or a kind's args do not match its "args_schema"; other kinds take any object.
    void validate_args(const Kind& kind, const rapidjson::Value& args) const;

private:
    struct SchemaCache;  // compiled args_schema documents, made on first use (by the API only)
    std::shared_ptr<SchemaCache> schemas_;
    std::map<std::string, Kind, std::less<>> kinds_;
    std::map<std::string, int> queue_limits_;
    std::map<std::string, int> kind_limits_;
};

}  // namespace drover
