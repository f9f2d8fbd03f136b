#pragma once
// A Drover binary (or any program) started as a real child process, its
// output captured in a file that is printed if a test fails. Killed (SIGKILL)
// when the object goes away, unless it already exited.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace drover::test {

// Where the binaries under test are: $DROVER_BIN_DIR, else the build's bin/.
std::string binary_path(const std::string& name);
// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

class Process {
public:
    Process(const std::string& program, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int signal_number);
    // The exit status (code, or 128 + signal) once it exits within `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();
    std::string output() const;  // what it wrote so far (stdout and stderr)

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string output_path_;
};

}  // namespace drover::test
