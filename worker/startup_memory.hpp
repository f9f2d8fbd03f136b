#pragma once
// What drover-worker does before its first connection to keep an idle worker
// small (bench/run worker_idle_rss). See worker/main.cpp for GnuTLS.
#include <string>

namespace drover::worker {

// False only when no connection made with `conninfo` can use TLS: sslmode is
// disable, or every host is a Unix socket (libpq never asks for TLS there).
// Settings the URL leaves out are taken as libpq would (PGSSLMODE, PGHOST,
// PGHOSTADDR, else its defaults); a service file (service=, PGSERVICE) may
// set anything, so with one it answers true. Also true for a URL libpq cannot
// parse (connecting will report that).
bool connection_may_use_tls(const std::string& conninfo);

// Initialises OpenSSL without its error strings (~0.4 MiB of libcrypto kept
// resident otherwise) when connection_may_use_tls is false; does nothing
// otherwise, so libpq's TLS errors keep their text. Call before anything else
// uses OpenSSL: its first initialisation decides.
void init_openssl_for(const std::string& conninfo);

}  // namespace drover::worker
