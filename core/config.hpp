#pragma once
// Every setting of every Drover binary, in one table (config.cpp): name,
// environment variable, default and help. The table drives parsing from the
// environment and from --flags, each binary's --help, and docs/configuration.md
// (tests check that every setting is documented there).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace drover {

enum class Part : unsigned { api = 1, worker = 2, cli = 4 };

struct Setting {
    std::string_view name;      // flag: --name-with-dashes
    std::string_view env;       // DROVER_…
    std::string_view fallback;  // default ("" = unset)
    std::string_view help;
    unsigned parts;             // bit mask of Part
    bool integer = false;       // must parse as a decimal integer from min to max
    std::int64_t min = 0;
    std::int64_t max = 0;
    std::string_view choices = {};  // non-integer: "" = any text, else "a|b|c"
};

const std::vector<Setting>& all_settings();

class Config {
public:
    // Environment first, then flags (--name=value or --name value) override.
    // Throws ConfigError, naming the setting, on an unknown flag, a setting
    // another binary owns, a malformed number or one outside the setting's
    // range, or a value not among its choices. Sets help_requested() for --help.
    static Config load(Part part, int argc, const char* const* argv);
    // For tests and embedding: the defaults overlaid with the given values.
    static Config from(Part part, const std::map<std::string, std::string>& values);

    const std::string& str(std::string_view name) const;
    std::int64_t integer(std::string_view name) const;
    bool help_requested() const { return help_; }
    std::string help(std::string_view program) const;

private:
    Part part_{};
    std::map<std::string, std::string, std::less<>> values_;
    bool help_ = false;
};

}  // namespace drover
