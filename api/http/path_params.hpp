#pragma once
// Ids in request paths (/v1/jobs/:id, /v1/uploads/:id, …). Ids are opaque to
// clients; today they are decimal row ids, and anything else is simply a
// thing that does not exist: NotFound("no such <what>"), the same answer as
// for an id of another app.
#include <pistache/router.h>

#include <cstdint>

namespace drover::api {

std::int64_t path_id(const Pistache::Rest::Request& request, const char* what, const char* param = ":id");

}  // namespace drover::api
