#include "cli/progress_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace drover::cli {
namespace {

int columns() {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

std::string percent_text(double p) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%3.0f%%", std::clamp(p, 0.0, 100.0));
    return buf;
}

std::string mib(std::uint64_t bytes) {
    char buf[32];
    if (bytes < (1 << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    }
    return buf;
}

}  // namespace

ProgressDisplay::Mode ProgressDisplay::detect(bool json) {
    if (json) return Mode::json;
    const char* term = std::getenv("TERM");
    bool dumb = term && std::string(term) == "dumb";
    return ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO) && !dumb ? Mode::terminal : Mode::plain;
}

ProgressDisplay::ProgressDisplay(Mode mode, std::string job_id, bool json_logs_on_stdout)
    : mode_(mode), json_logs_on_stdout_(json_logs_on_stdout), id_(std::move(job_id)) {}

ProgressDisplay::~ProgressDisplay() {
    finish();
}

void ProgressDisplay::clear() {
    if (!drawn_) return;
    std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
}

void ProgressDisplay::draw() {
    if (mode_ != Mode::terminal) return;
    std::string line;
    if (!upload_.empty()) {
        line = upload_;
    } else {
        auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
        char clock[32];
        std::snprintf(clock, sizeof clock, "%lld:%02lld", static_cast<long long>(secs / 60),
                      static_cast<long long>(secs % 60));
        line = "job " + id_ + " " + status_ + " " + clock;
        if (percent_) {
            constexpr int width = 24;
            int filled = static_cast<int>(std::lround(std::clamp(*percent_, 0.0, 100.0) * width / 100));
            line += " [" + std::string(filled, '#') + std::string(width - filled, '-') + "] " + percent_text(*percent_);
        }
        if (!message_.empty()) line += " " + message_;
    }
    auto max = static_cast<std::size_t>(columns() - 1);
    if (line.size() > max) line.resize(max);
    std::cerr << "\r\033[K" << line << std::flush;
    drawn_ = true;
}

void ProgressDisplay::log_line(const std::string& stream, const std::string& line, const std::string& json_line) {
    if (mode_ == Mode::json) {
        (json_logs_on_stdout_ ? std::cout : std::cerr) << json_line << "\n" << std::flush;
        return;
    }
    clear();
    if (stream == "stderr") {
        std::cerr << line << "\n" << std::flush;
    } else {
        std::cout << line << "\n" << std::flush;
    }
    draw();
}

void ProgressDisplay::status(const std::string& status, std::optional<double> percent, const std::string& message) {
    upload_.clear();
    bool changed = status != status_ || percent != percent_ || message != message_;
    status_ = status;
    percent_ = percent;
    message_ = message;
    if (mode_ == Mode::terminal) {
        draw();  // also ticks the clock
    } else if (changed) {
        std::string text = "drover: job " + id_ + " " + status;
        if (percent) text += " " + percent_text(*percent).substr(percent_text(*percent).find_first_not_of(' '));
        if (!message.empty()) text += " " + message;
        std::cerr << text << "\n" << std::flush;
    }
}

void ProgressDisplay::uploading(std::uint64_t sent, std::uint64_t total) {
    double p = total ? 100.0 * static_cast<double>(sent) / static_cast<double>(total) : 100.0;
    if (mode_ == Mode::terminal) {
        upload_ = "uploading " + mib(sent) + " of " + mib(total) + " " + percent_text(p);
        draw();
    } else {
        std::cerr << "drover: uploaded " << mib(sent) << " of " << mib(total) << "\n" << std::flush;
    }
}

void ProgressDisplay::finish() {
    clear();
    upload_.clear();
}

}  // namespace drover::cli
