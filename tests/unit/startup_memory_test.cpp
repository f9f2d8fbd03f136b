// worker/startup_memory: which database URLs may use TLS (drover-worker then
// keeps OpenSSL's error strings) and which cannot (it leaves them out).
#include "worker/startup_memory.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <optional>
#include <string>

using drover::worker::connection_may_use_tls;

namespace {

// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

struct CleanEnv {
    ScopedEnv sslmode{"PGSSLMODE", std::nullopt}, host{"PGHOST", std::nullopt},
        hostaddr{"PGHOSTADDR", std::nullopt}, service{"PGSERVICE", std::nullopt};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(startup_memory_test, CleanEnv)

BOOST_AUTO_TEST_CASE(sslmode_disable_rules_tls_out) {
    BOOST_TEST(!connection_may_use_tls("postgres://u:p@127.0.0.1:5432/d?sslmode=disable&gssencmode=disable"));
    BOOST_TEST(!connection_may_use_tls("host=db.example port=5432 sslmode=disable"));
    ScopedEnv env("PGSSLMODE", "disable");
    BOOST_TEST(!connection_may_use_tls("postgres://u@db.example/d"));
}

BOOST_AUTO_TEST_CASE(tcp_without_sslmode_disable_may_use_tls) {
    BOOST_TEST(connection_may_use_tls("postgres://u:p@127.0.0.1:5432/d"));  // sslmode=prefer
    BOOST_TEST(connection_may_use_tls("postgres://u@db.example/d?sslmode=require"));
    BOOST_TEST(connection_may_use_tls("host=/run/postgresql hostaddr=10.0.0.1"));
    // The URL's sslmode wins over the environment's.
    ScopedEnv env("PGSSLMODE", "disable");
    BOOST_TEST(connection_may_use_tls("postgres://u@db.example/d?sslmode=verify-full"));
}

BOOST_AUTO_TEST_CASE(unix_sockets_never_use_tls) {
    BOOST_TEST(!connection_may_use_tls("postgres:///drover"));  // the default URL
    BOOST_TEST(!connection_may_use_tls("postgres:///drover?host=/run/postgresql&sslmode=require"));
    BOOST_TEST(!connection_may_use_tls("host=/tmp,/run/postgresql dbname=drover"));
    BOOST_TEST(connection_may_use_tls("host=/tmp,db.example dbname=drover"));
    ScopedEnv env("PGHOST", "db.example");
    BOOST_TEST(connection_may_use_tls("postgres:///drover"));
}

BOOST_AUTO_TEST_CASE(a_service_file_may_say_anything) {
    BOOST_TEST(connection_may_use_tls("service=jobs"));
    BOOST_TEST(!connection_may_use_tls("service=jobs sslmode=disable"));
    ScopedEnv env("PGSERVICE", "jobs");
    BOOST_TEST(connection_may_use_tls("postgres:///drover"));
}

BOOST_AUTO_TEST_CASE(unparsable_urls_count_as_may) {
    BOOST_TEST(connection_may_use_tls("postgres://[oops"));
    BOOST_TEST(connection_may_use_tls("nokeyword"));
}

BOOST_AUTO_TEST_SUITE_END()
