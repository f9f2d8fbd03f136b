#include "tests/support/zip_builder.hpp"

#include <zlib.h>

#include <stdexcept>

namespace drover::test {
namespace {

void put16(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v & 0xFF);
    out += static_cast<char>((v >> 8) & 0xFF);
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, v & 0xFFFF);
    put16(out, v >> 16);
}

std::string raw_deflate(const std::string& data) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&z, data.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

ZipBuilder& ZipBuilder::file(std::string name, std::string data, bool deflate) {
    ZipEntry e;
    e.name = std::move(name);
    e.data = std::move(data);
    e.deflate = deflate;
    return add(std::move(e));
}

ZipBuilder& ZipBuilder::dir(std::string name) {
    ZipEntry e;
    e.name = std::move(name);
    e.mode = S_IFDIR | 0755;
    return add(std::move(e));
}

ZipBuilder& ZipBuilder::add(ZipEntry entry) {
    entries_.push_back(std::move(entry));
    return *this;
}

std::string ZipBuilder::bytes() const {
    std::string out, central;
    for (const auto& e : entries_) {
        auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()),
                                                    static_cast<uInt>(e.data.size())));
        std::string body = e.deflate ? raw_deflate(e.data) : e.data;
        std::uint32_t size = e.declared_size.value_or(static_cast<std::uint32_t>(e.data.size()));
        std::uint32_t method = e.deflate ? 8 : 0;
        auto offset = static_cast<std::uint32_t>(out.size());
        // Local file header.
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0x0800);  // names are UTF-8
        put16(out, method);
        put16(out, 0);
        put16(out, 0x21);
        put32(out, crc);
        put32(out, static_cast<std::uint32_t>(body.size()));
        put32(out, size);
        put16(out, static_cast<std::uint32_t>(e.name.size()));
        put16(out, 0);
        out += e.name;
        out += body;
        // Central directory header.
        put32(central, 0x02014b50);
        put16(central, (3 << 8) | 20);  // made by Unix: external attributes hold the mode
        put16(central, 20);
        put16(central, 0x0800);
        put16(central, method);
        put16(central, 0);
        put16(central, 0x21);
        put32(central, crc);
        put32(central, static_cast<std::uint32_t>(body.size()));
        put32(central, size);
        put16(central, static_cast<std::uint32_t>(e.name.size()));
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put32(central, static_cast<std::uint32_t>(e.mode) << 16);
        put32(central, offset);
        central += e.name;
    }
    auto cd_offset = static_cast<std::uint32_t>(out.size());
    out += central;
    if (entries_.size() >= 0xFFFF) {  // zip64: the classic record's count has 16 bits
        auto put64 = [&out](std::uint64_t v) {
            put32(out, static_cast<std::uint32_t>(v));
            put32(out, static_cast<std::uint32_t>(v >> 32));
        };
        auto record = out.size();
        put32(out, 0x06064b50);
        put64(44);
        put16(out, 45);
        put16(out, 45);
        put32(out, 0);
        put32(out, 0);
        put64(entries_.size());
        put64(entries_.size());
        put64(central.size());
        put64(cd_offset);
        put32(out, 0x07064b50);
        put32(out, 0);
        put64(record);
        put32(out, 1);
    }
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    auto count = static_cast<std::uint32_t>(std::min<std::size_t>(entries_.size(), 0xFFFF));
    put16(out, count);
    put16(out, count);
    put32(out, static_cast<std::uint32_t>(central.size()));
    put32(out, cd_offset);
    put16(out, 0);
    return out;
}

}  // namespace drover::test
