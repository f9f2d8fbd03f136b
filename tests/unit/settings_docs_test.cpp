// docs/configuration.md is checked against the settings table (core/config.cpp),
// row by row: every setting has a row, with the table's default and the
// binaries that take it, and the page documents no setting the table lacks.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/config.hpp"

using namespace drover;

namespace {

struct DocRow {
    std::string fallback;
    std::string used_by;
    std::string range;
};

std::string trim(std::string s) {
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// "| `DROVER_X` | `default` | range | api, worker | Meaning |" rows, by variable.
std::map<std::string, DocRow> documented_rows() {
    std::ifstream in(std::string(DROVER_SOURCE_DIR) + "/docs/configuration.md");
    std::map<std::string, DocRow> rows;
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("| `DROVER_")) continue;
        std::vector<std::string> cells;
        std::stringstream s(line.substr(1));
        for (std::string cell; std::getline(s, cell, '|');) cells.push_back(trim(cell));
        if (cells.size() < 5) continue;
        std::string env = cells[0].substr(1, cells[0].size() - 2);
        rows[env] = DocRow{cells[1], cells[3], cells[2]};
    }
    return rows;
}

std::string parts_text(unsigned parts) {
    std::string out;
    for (auto [bit, name] : {std::pair{Part::api, "api"}, std::pair{Part::worker, "worker"}, std::pair{Part::cli, "cli"}}) {
        if (parts & static_cast<unsigned>(bit)) out += (out.empty() ? "" : ", ") + std::string(name);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(settings_docs_test)

BOOST_AUTO_TEST_CASE(every_setting_has_a_row_with_its_default_and_binaries) {
    auto rows = documented_rows();
    BOOST_REQUIRE_MESSAGE(!rows.empty(), "no settings table found in docs/configuration.md");
    for (const auto& s : all_settings()) {
        std::string env(s.env);
        auto it = rows.find(env);
        BOOST_TEST_CONTEXT(env) {
            BOOST_REQUIRE_MESSAGE(it != rows.end(), env << " has no row in docs/configuration.md");
            // An empty default is computed (a path, a name): the page says how.
            // The default may be followed by a reading of it: `67108864` (64 MiB).
            if (!s.fallback.empty()) BOOST_TEST(it->second.fallback.starts_with("`" + std::string(s.fallback) + "`"));
            BOOST_TEST(it->second.used_by == parts_text(s.parts));
            // A setting with a range or choices says so on the page.
            if (s.integer || !s.choices.empty()) BOOST_TEST(!it->second.range.empty(), env << " has no range");
        }
    }
}

BOOST_AUTO_TEST_CASE(the_page_documents_no_setting_the_table_lacks) {
    for (const auto& [env, row] : documented_rows()) {
        bool known = false;
        for (const auto& s : all_settings()) known |= s.env == env;
        BOOST_TEST(known, env << " is documented but is not in the settings table (core/config.cpp)");
    }
}

BOOST_AUTO_TEST_SUITE_END()
