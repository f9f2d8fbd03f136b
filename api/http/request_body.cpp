#include "api/http/request_body.hpp"

#include <mutex>
#include <utility>

#include "api/http/connection_state.hpp"

namespace drover::api::http {

std::shared_ptr<const RequestBody> request_body(const Pistache::Http::Request& request,
                                                Pistache::Http::ResponseWriter& response) {
    if (auto state = connection_state(response.getPeer())) {
        std::lock_guard lock(state->mutex);
        if (state->spooled_body) return std::exchange(state->spooled_body, nullptr);
    }
    return std::make_shared<const RequestBody>(RequestBody{request.body(), {}});
}

}  // namespace drover::api::http
