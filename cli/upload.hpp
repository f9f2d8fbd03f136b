#pragma once
// drover submit --file: sends a zip through the API's upload routes. Up to
// one part's size it is one POST /v1/uploads; larger (or when that answers
// 413) it goes as a parted upload: a session, its parts in order, then
// /complete with the sha256 computed here, so the API checks what it joined.
#include <filesystem>
#include <functional>
#include <string>

#include "cli/api_client.hpp"

namespace drover::cli {

// Called after each part (bytes sent so far, total).
using UploadProgress = std::function<void(std::uint64_t, std::uint64_t)>;

// The API's answer for the stored upload (its JSON body).
std::string upload_zip(const Target& t, const std::filesystem::path& zip, const UploadProgress& progress = {});

// The size up to which a zip goes in one request.
constexpr std::uint64_t single_request_upload_bytes = 8u << 20;

}  // namespace drover::cli
