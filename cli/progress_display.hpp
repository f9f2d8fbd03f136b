#pragma once
// What drover submit --wait and logs --follow show while a job runs. On a
// terminal (stdout and stderr both are one): the log on stdout and one live
// line on stderr, redrawn in place, with a bar when the job reports a
// percentage. Otherwise plain lines: the log on stdout/stderr as the job
// wrote it, and a "drover: job N <status> <progress>" line on stderr each
// time the status or progress changes. With --json, each log line is the
// API's line object as one JSON line: on stderr for submit --wait (its stdout
// holds one line, the finished job), on stdout for drover logs.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace drover::cli {

class ProgressDisplay {
public:
    enum class Mode { terminal, plain, json };
    // terminal when stdout and stderr are terminals and TERM is not "dumb".
    static Mode detect(bool json);

    ProgressDisplay(Mode mode, std::string job_id, bool json_logs_on_stdout = false);
    ~ProgressDisplay();

    // One log line (stream: "stdout", "stderr" or the runner's own), or its JSON.
    void log_line(const std::string& stream, const std::string& line, const std::string& json_line);
    // The job's status and progress ({"percent"?, "message"?} read by the caller).
    void status(const std::string& status, std::optional<double> percent, const std::string& message);
    void set_job(std::string id) { id_ = std::move(id); }
    // Bytes of the input sent so far.
    void uploading(std::uint64_t sent, std::uint64_t total);
    // Removes the live line (before the final summary).
    void finish();

    Mode mode() const { return mode_; }

private:
    void clear();
    void draw();

    Mode mode_;
    bool json_logs_on_stdout_;
    std::string id_;
    std::string status_, message_, upload_;
    std::optional<double> percent_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace drover::cli
