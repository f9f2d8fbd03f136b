// drover-api: the REST server. It validates, inserts pending rows and reads
// them back; it never runs jobs. See --help for settings.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "api/server.hpp"
#include "core/db/statement_mode.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/stop_signals.hpp"

int main(int argc, char** argv) {
    using namespace drover;
    try {
        Config config = Config::load(Part::api, argc, argv);
        if (config.help_requested()) {
            std::cout << config.help("drover-api");
            return 0;
        }
        init_logging("api", config.str("log_level"));
        db::configure_statement_mode(config);
        auto kinds = KindRegistry::load(config.str("kinds_file"));

        // Every client connection is a file descriptor: take the hard limit
        // (often 1,024 soft against 524,288 hard), where allowed.
        rlimit files{};
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
            auto soft = files.rlim_cur;
            files.rlim_cur = files.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &files) == 0) {
                spdlog::info("open-file limit raised from {} to {}", soft, files.rlim_cur);
            } else {
                spdlog::warn("open-file limit stays at {}: cannot raise it to {}", soft, files.rlim_max);
            }
        }

        StopSignals stop_signals;  // before any thread starts

        api::Server server(config, std::move(kinds));
        server.start();
        spdlog::info("listening on http://{}:{}", config.str("host"), server.port());
        spdlog::info("admin listening on http://{}:{}", config.str("admin_host"), server.admin_port());
        if (config.str("auth") == "off") {
            spdlog::warn("DROVER_AUTH=off: every public request acts for the app 'default' as admin, without a key; "
                         "for local experiments only");
        }

        int signal_number = stop_signals.wait();
        spdlog::info("signal {}: shutting down", signal_number);
        // A stuck download or query must not keep the process alive forever.
        auto grace = std::chrono::seconds(config.integer("shutdown_grace_s"));
        std::thread([grace] {
            std::this_thread::sleep_for(grace);
            spdlog::warn("shutdown took longer than {} s; exiting now", grace.count());
            _exit(1);
        }).detach();
        server.shutdown();
        spdlog::info("stopped");
        return 0;
    } catch (const ConfigError& e) {
        std::cerr << "drover-api: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "drover-api: " << e.what() << "\n";
        return 1;
    }
}
