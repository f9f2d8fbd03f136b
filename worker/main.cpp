// drover-worker: claims jobs from Postgres and runs them. See --help.
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

#include "core/db/statement_mode.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/stop_signals.hpp"
#include "worker/executors/inbound.hpp"
#include "worker/startup_memory.hpp"
#include "worker/worker.hpp"

// GnuTLS (loaded because Debian's libpq needs libldap, which needs it) runs its
// global initialisation from a library constructor, before main(), unless the
// program defines this function (gnutls.h's GNUTLS_SKIP_GLOBAL_INIT; the call
// goes through the PLT, so the executable's definition wins; it is exported in
// worker/CMakeLists.txt). Nothing here uses GnuTLS: libpq uses OpenSSL, and
// libldap's TLS layer calls gnutls_global_init itself before it needs it
// (tlsg_init). Saves ~0.85 MiB of an idle worker's RSS. Unlike the environment
// variable GNUTLS_NO_IMPLICIT_INIT (which must be set before the process
// starts), it needs no re-exec and leaves the environment alone.
extern "C" int _gnutls_global_init_skip() { return 1; }

int main(int argc, char** argv) {
    using namespace drover;
    try {
        Config config = Config::load(Part::worker, argc, argv);
        if (config.help_requested()) {
            std::cout << config.help("drover-worker");
            return 0;
        }
        worker::init_openssl_for(config.str("database_url"));  // before any connection
        init_logging("worker", config.str("log_level"));
        db::configure_statement_mode(config);
        auto kinds = KindRegistry::load(config.str("kinds_file"));
        auto options = worker::WorkerOptions::from(config);

        // Jobs that name an upload find it unpacked in inbound/ (executors/inbound.hpp).
        worker::configure_inbound({config.str("database_url"),
                                   config.str("storage_dir").empty() ? options.state_dir / "storage"
                                                                     : std::filesystem::path(config.str("storage_dir")),
                                   {static_cast<std::uint64_t>(config.integer("max_upload_entries")),
                                    static_cast<std::uint64_t>(config.integer("max_upload_uncompressed_bytes"))},
                                   config.integer("artifact_retention_s")});

        StopSignals stop_signals;  // before any thread starts

        worker::Worker worker(options, kinds);
        std::thread([&worker, stop_signals] {
            for (;;) {
                int signal_number = stop_signals.wait();
                spdlog::info("signal {}: stopping (send again to stop running jobs now)", signal_number);
                worker.stop();
            }
        }).detach();
        spdlog::info("worker {} serving queues {} with {} slots", worker.id(), config.str("queues"),
                     options.concurrency);
        worker.run();
        spdlog::info("stopped");
        return 0;
    } catch (const ConfigError& e) {
        std::cerr << "drover-worker: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "drover-worker: " << e.what() << "\n";
        return 1;
    }
}
