#pragma once
#include <optional>
// Turns the body of POST /v1/jobs into a NewJob, or says exactly what is wrong
// (InputError with a code and the field). Defaults come from the kind.
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/job.hpp"
#include "core/kinds.hpp"

namespace drover::api {

NewJob parse_new_job(std::string_view body, const KindRegistry& kinds, const std::string& app);
// The same for one already-parsed JSON value (one job of POST /v1/jobs/batch).
// args_text: the job's "args" as the client wrote it (json::member_text), so
// that numbers keep every digit; without it, args are written from the DOM.
NewJob parse_new_job(const rapidjson::Value& job, const KindRegistry& kinds, const std::string& app,
                     const std::optional<std::string>& args_text = std::nullopt);

}  // namespace drover::api
