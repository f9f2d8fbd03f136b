#pragma once
// Small RapidJSON helpers shared by the API, the worker and the CLI.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drover::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses text that must be one JSON value, nested at most 64 deep; throws
// InputError(malformed) with the parser's message and offset.
rapidjson::Document parse(std::string_view text);
// A string value with its real length (GetString() stops at an embedded NUL).
std::string_view view(const rapidjson::Value& string_value);
// The compact JSON text of the top-level object's member `name` in `text`
// (which parse() accepted), or nothing when it has none. Numbers keep every
// digit as sent (a DOM would round 123456789012345678901234567890 through a
// double), and a key that appears twice in one object anywhere inside the
// member is refused: InputError(invalid, "duplicate_field") naming
// "<name>.<path>.<key>".
std::optional<std::string> member_text(std::string_view text, std::string_view name);
// The text of each element of a JSON array given as text (member_text's
// output, say): for POST /v1/jobs/batch, whose jobs' args must keep their
// numbers as sent too. Throws InputError(malformed) when it is no array.
std::vector<std::string> array_elements(std::string_view array_text);
// Compact JSON text of a value.
std::string to_string(const rapidjson::Value& value);
// Writes already-serialised JSON text (from Postgres) into a writer as a value.
void write_raw(Writer& writer, std::string_view json_text);
void write_optional_string(Writer& writer, const std::optional<std::string>& value);

}  // namespace drover::json
