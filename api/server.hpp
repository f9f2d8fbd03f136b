#pragma once
// The API process's parts wired together: the public and admin endpoints,
// their routers, handlers, the authenticator and the database executor.
// main() owns one; start() returns once both listen.
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include <memory>

#include "api/auth/authenticator.hpp"
#include "api/db_executor.hpp"
#include "api/long_poll.hpp"
#include "api/handlers/admin_handler.hpp"
#include "api/handlers/docs_handler.hpp"
#include "api/handlers/status_handler.hpp"
#include "api/handlers/health_handler.hpp"
#include "api/handlers/jobs_handler.hpp"
#include "api/http/connection_registry.hpp"
#include "api/handlers/artifacts_handler.hpp"
#include "api/handlers/drs_handler.hpp"
#include "api/handlers/storage_admin_handler.hpp"
#include "api/handlers/uploads_handler.hpp"
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
    std::uint16_t admin_port() const;

private:
    KindRegistry kinds_;
    DbExecutor db_;
    LongPoll long_poll_;
    HealthHandler health_;
    JobsHandler jobs_;
    KeysHandler keys_;
    StatusHandler status_;
    DocsHandler docs_;
    AdminHandler admin_;
    UploadsHandler uploads_;
    ArtifactsHandler artifacts_;
    DrsHandler drs_;
    StorageAdminHandler storage_admin_;
    Authenticator auth_;
    Pistache::Rest::Router router_;
    Pistache::Rest::Router admin_router_;
    std::shared_ptr<http::ConnectionRegistry> connections_;
    std::shared_ptr<http::ConnectionRegistry> admin_connections_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
    std::unique_ptr<Pistache::Http::Endpoint> admin_endpoint_;
    bool stopped_ = false;
};

}  // namespace drover::api
