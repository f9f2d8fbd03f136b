#include "core/storable.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace drover {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one
// (Unicode 15, table 3-7: the well-formed byte sequences).
std::size_t sequence_at(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char b0 = byte(i);
    if (b0 >= 0x01 && b0 <= 0x7F) return 1;
    std::size_t left = text.size() - i;
    auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return k < left && byte(i + k) >= lo && byte(i + k) <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
    if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
    if (b0 >= 0xE1 && b0 <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

// Length of the maximal prefix of an invalid sequence at text[i] (at least 1),
// so that one broken character becomes one U+FFFD, as decoders do.
std::size_t invalid_run_at(std::string_view text, std::size_t i) {
    unsigned char b0 = static_cast<unsigned char>(text[i]);
    std::size_t want = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 1;
    std::size_t n = 1;
    while (n < want && i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
    return n;
}

constexpr int kMaxDepth = 1000;  // Postgres' own stack limit refuses far deeper values

// The first string (name or value) that jsonb cannot store, as a reason.
std::optional<std::string> bad_string(const rapidjson::Value& v, int depth) {
    if (depth > kMaxDepth) return "nested more than " + std::to_string(kMaxDepth) + " deep";
    if (v.IsString()) {
        std::string_view s(v.GetString(), v.GetStringLength());
        if (s.find('\0') != std::string_view::npos) return "a string holds \\u0000, which Postgres jsonb cannot store";
        // An escaped unpaired surrogate (\udc00) decodes to bytes no UTF-8 text may hold.
        if (!is_storable_text(s)) return "a string holds an unpaired surrogate escape";
    } else if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
            if (auto why = bad_string(e, depth + 1)) return why;
        }
    } else if (v.IsObject()) {
        for (const auto& m : v.GetObject()) {
            if (auto why = bad_string(m.name, depth + 1)) return why;
            if (auto why = bad_string(m.value, depth + 1)) return why;
        }
    }
    return std::nullopt;
}

}  // namespace

bool is_storable_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto n = sequence_at(text, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string storable_text(std::string_view text) {
    if (is_storable_text(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 16);
    for (std::size_t i = 0; i < text.size();) {
        if (auto n = sequence_at(text, i)) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
            i += invalid_run_at(text, i);
        }
    }
    return out;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t cut = max_bytes;
    // Back up over continuation bytes (at most 3) to the start of a character.
    for (int k = 0; k < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++k) --cut;
    return text.substr(0, cut);
}

std::optional<std::string> jsonb_refusal(std::string_view json_text) {
    if (!is_storable_text(json_text)) return "not valid UTF-8";
    rapidjson::Document doc;
    // Iterative: no recursion on deep input. Numbers as strings: jsonb keeps
    // numbers a double cannot hold (1e400), so they must not be refused here.
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag |
              rapidjson::kParseNumbersAsStringsFlag>(json_text.data(), json_text.size());
    if (doc.HasParseError()) {
        return std::string("not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
               std::to_string(doc.GetErrorOffset());
    }
    return bad_string(doc, 0);
}

}  // namespace drover
