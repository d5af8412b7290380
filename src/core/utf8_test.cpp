#include "core/utf8.hpp"

#include <gtest/gtest.h>

#include "tessera/error.hpp"

namespace tessera::core::utf8 {
namespace {

TEST(Utf8, FindsFirstInvalidByte) {
    EXPECT_EQ(find_invalid("plain ascii text that is long"), std::nullopt);
    EXPECT_EQ(find_invalid("caf\xC3\xA9 \xF0\x9F\x98\x80"), std::nullopt);
    EXPECT_EQ(find_invalid("abc\xFFxyz"), 3u);
    EXPECT_EQ(find_invalid("abcdefghij\xC3"), 10u);           // truncated at the end
    EXPECT_EQ(find_invalid("\xC0\xAF"), 0u);                  // overlong
    EXPECT_EQ(find_invalid("ok\xED\xA0\x80"), 2u);            // UTF-16 surrogate
    EXPECT_EQ(find_invalid("\xF4\x90\x80\x80"), 0u);          // above U+10FFFF
    EXPECT_EQ(find_invalid(std::string_view("a\0b", 3)), std::nullopt);
}

TEST(Utf8, RequireValidNamesTheByte) {
    try {
        require_valid("hello \x80", "input");
        FAIL() << "no error";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_STREQ(err.what(), "input: invalid UTF-8 at byte 6");
    }
}

TEST(Utf8, DecodeEncodeRoundTrip) {
    const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
    const std::u32string cps = decode_all(text);
    ASSERT_EQ(cps, (std::u32string{U'a', U'\u00E9', U'\u4E2D', U'\U0001F600'}));
    EXPECT_EQ(encode_all(cps), text);
    EXPECT_EQ(count_code_points(text), 4u);
    EXPECT_EQ(encoded_length(U'\U0001F600'), 4u);
}

TEST(Utf8, ByteToCodePointIndex) {
    const auto index = byte_to_code_point_index("a\xC3\xA9z");
    EXPECT_EQ(index, (std::vector<std::uint32_t>{0, 1, 1, 2, 3}));
    EXPECT_EQ(byte_to_code_point_index(""), (std::vector<std::uint32_t>{0}));
}

TEST(Utf8, RepairReplacesMaximalSubparts) {
    EXPECT_EQ(repair("ok"), "ok");
    // E1 80 is a truncated 3-byte sequence: one U+FFFD; the lone 0x80 another.
    EXPECT_EQ(repair("a\xE1\x80z\x80"), "a\xEF\xBF\xBDz\xEF\xBF\xBD");
    EXPECT_EQ(repair("\xF0\x9F\x98"), "\xEF\xBF\xBD");
    EXPECT_EQ(repair("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace tessera::core::utf8
