#pragma once
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
NewJob parse_new_job(const rapidjson::Value& job, const KindRegistry& kinds, const std::string& app);

}  // namespace drover::api
