#include "store/bytes.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "store/test_util.hpp"

namespace tessera::store {
namespace {

// Writes `body` as frames of at most `frame_bytes` and returns the file's path.
std::filesystem::path write_frames(const std::filesystem::path& dir, const std::vector<std::byte>& body,
                                   std::size_t frame_bytes) {
    std::vector<std::byte> framed;
    for (std::size_t at = 0; at < body.size(); at += frame_bytes) {
        append_frame(framed, std::span(body).subspan(at, std::min(frame_bytes, body.size() - at)));
    }
    const auto path = dir / "framed.bin";
    write_file_durably(path, framed);
    return path;
}

std::vector<std::byte> read_back(const std::filesystem::path& path, std::size_t total) {
    FramedFileReader in(path);
    std::vector<std::byte> out(total);
    // Odd piece sizes cross frame and buffer boundaries.
    for (std::size_t at = 0; at < total;) {
        const std::size_t piece = std::min<std::size_t>(total - at, at % 3 == 0 ? 1537 : 700000);
        in.raw(out.data() + at, piece);
        at += piece;
    }
    in.finish();
    return out;
}

// Small files are checked before the first read, large ones (>= 8 MiB) by the checker thread:
// both must read back the bodies, refuse a read past the end and name a damaged frame the way
// FrameReader does.
TEST(FramedFileReader, ReadsBodiesAndNamesDamageInlineAndWithTheCheckerThread) {
    for (const std::size_t total : {std::size_t(300000), std::size_t(9u << 20)}) {
        testing::TempDir dir;
        std::mt19937 rng(3);
        std::vector<std::byte> body(total);
        for (auto& b : body) b = std::byte(rng());
        const std::size_t frame_bytes = total / 3 + 5;
        const auto path = write_frames(dir.path(), body, frame_bytes);
        EXPECT_EQ(read_back(path, total), body) << total;
        {
            FramedFileReader cut(path);
            std::vector<std::byte> sink(total + 1);
            EXPECT_THROW(cut.raw(sink.data(), sink.size()), Error);
        }

        const std::size_t second_frame = 8 + frame_bytes;
        {
            std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
            file.seekp(std::streamoff(second_frame + 8 + 100));
            file.put('\x5a');
        }
        try {
            (void)read_back(path, total);
            ADD_FAILURE() << "no error for a damaged frame, " << total << " bytes";
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::corrupt);
            EXPECT_NE(std::string(err.what()).find("checksum mismatch in frame at offset " + std::to_string(second_frame)),
                      std::string::npos)
                << err.what();
        }
    }
}

}  // namespace
}  // namespace tessera::store
