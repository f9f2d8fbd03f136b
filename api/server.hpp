#pragma once
// The API process's parts wired together: endpoint, router, handlers and the
// database executor. main() owns one; start() returns once it listens.
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include <memory>

#include "api/db_executor.hpp"
#include "api/handlers/health_handler.hpp"
#include "api/handlers/jobs_handler.hpp"
#include "api/http/connection_registry.hpp"
#include "core/config.hpp"
#include "core/kinds.hpp"

namespace drover::api {

class Server {
public:
    Server(const Config& config, KindRegistry kinds);
    ~Server();

    void start();  // listens and serves on background threads
    void shutdown();
    std::uint16_t port() const;

private:
    KindRegistry kinds_;
    DbExecutor db_;
    HealthHandler health_;
    JobsHandler jobs_;
    Pistache::Rest::Router router_;
    std::shared_ptr<http::ConnectionRegistry> connections_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
    bool stopped_ = false;
};

}  // namespace drover::api
