// Bad input and edge cases of the decoders, the URL fetcher and the preprocessing config:
// each must be a clear tessera::Error naming the item and the problem, never a crash.
#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <fstream>
#include <thread>

#include "tessera/image.hpp"

namespace tessera {
namespace {

const std::filesystem::path kImages = std::filesystem::path(TESSERA_SHARED_DIR) / "data/images";

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::filesystem::path temp_file(const std::string& name, std::span<const std::uint8_t> bytes) {
    const auto dir = std::filesystem::temp_directory_path() / ("tessera_image_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// Runs `body`, expects a tessera::Error with `code` whose message contains every fragment.
template <typename Body>
void expect_error(Body&& body, ErrorCode code, std::initializer_list<std::string_view> fragments) {
    try {
        body();
        FAIL() << "no error thrown";
    } catch (const Error& err) {
        EXPECT_EQ(error_code_name(err.code()), error_code_name(code)) << err.what();
        for (auto fragment : fragments) EXPECT_NE(std::string(err.what()).find(fragment), std::string::npos) << err.what();
    }
}

void put_u32_be(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// A PNG chunk with a correct CRC.
void add_chunk(std::vector<std::uint8_t>& png, const char* type, const std::vector<std::uint8_t>& data) {
    put_u32_be(png, static_cast<std::uint32_t>(data.size()));
    const std::size_t type_at = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    put_u32_be(png, static_cast<std::uint32_t>(crc32(0, png.data() + type_at, static_cast<uInt>(data.size() + 4))));
}

std::vector<std::uint8_t> png_header(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<std::uint8_t> ihdr;
    put_u32_be(ihdr, width);
    put_u32_be(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB
    add_chunk(png, "IHDR", ihdr);
    return png;
}

// A 24-bit BMP of width x height pixels, all one colour.
std::vector<std::uint8_t> make_bmp(std::int32_t width, std::int32_t height, std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                   bool with_pixels = true) {
    const std::size_t stride = ((static_cast<std::size_t>(width) * 24 + 31) / 32) * 4;
    const std::size_t pixel_bytes = with_pixels ? stride * static_cast<std::size_t>(std::abs(height)) : 0;
    std::vector<std::uint8_t> bmp(54 + pixel_bytes, 0);
    auto put32 = [&](std::size_t at, std::uint32_t value) {
        for (int byte = 0; byte < 4; ++byte) bmp[at + byte] = static_cast<std::uint8_t>(value >> (8 * byte));
    };
    bmp[0] = 'B';
    bmp[1] = 'M';
    put32(2, static_cast<std::uint32_t>(bmp.size()));
    put32(10, 54);
    put32(14, 40);
    put32(18, static_cast<std::uint32_t>(width));
    put32(22, static_cast<std::uint32_t>(height));
    bmp[26] = 1;
    bmp[28] = 24;
    for (std::size_t row = 0; with_pixels && row < static_cast<std::size_t>(std::abs(height)); ++row) {
        for (std::size_t col = 0; col < static_cast<std::size_t>(width); ++col) {
            std::uint8_t* pixel = bmp.data() + 54 + row * stride + col * 3;
            pixel[0] = b;
            pixel[1] = g;
            pixel[2] = r;
        }
    }
    return bmp;
}

TEST(ImageDecode, DetectsFormatByMagicBytesNotName) {
    const auto png = read_bytes(kImages / "pillow_hopper.png");
    EXPECT_EQ(detect_image_format(png), ImageFormat::png);
    const auto path = temp_file("really_a_png.jpg", png);
    const RgbImage image = decode_image_file(path);
    EXPECT_EQ(image.width, 128u);
    EXPECT_EQ(image.height, 128u);
    EXPECT_EQ(detect_image_format(read_bytes(kImages / "pillow_hopper.jpg")), ImageFormat::jpeg);
    EXPECT_EQ(detect_image_format(read_bytes(kImages / "pillow_hopper.webp")), ImageFormat::webp);
    EXPECT_EQ(detect_image_format(read_bytes(kImages / "pillow_hopper.tif")), ImageFormat::tiff);
    EXPECT_EQ(detect_image_format(read_bytes(kImages / "pillow_hopper.gif")), ImageFormat::gif);
    EXPECT_EQ(detect_image_format(read_bytes(kImages / "pillow_hopper.bmp")), ImageFormat::bmp);
}

TEST(ImageDecode, TruncatedJpegIsCorrupt) {
    auto jpeg = read_bytes(kImages / "pillow_hopper.jpg");
    jpeg.resize(jpeg.size() / 2);
    expect_error([&] { (void)decode_image(jpeg, {}, "half.jpg"); }, ErrorCode::corrupt, {"half.jpg", "jpeg", "truncated"});
}

TEST(ImageDecode, PngWithBadCrcIsCorrupt) {
    auto png = read_bytes(kImages / "pillow_hopper.png");
    png[29] ^= 0xFF;  // inside the IHDR chunk's CRC (bytes 29..32)
    expect_error([&] { (void)decode_image(png, {}, "bad_crc.png"); }, ErrorCode::corrupt, {"bad_crc.png", "png", "CRC"});
    // A damaged IDAT payload byte is caught by its CRC as well.
    auto damaged = read_bytes(kImages / "pillow_hopper.png");
    damaged[damaged.size() / 2] ^= 0x55;
    expect_error([&] { (void)decode_image(damaged, {}, "bad_idat.png"); }, ErrorCode::corrupt, {"bad_idat.png", "png"});
}

TEST(ImageDecode, ZeroByteFileIsRefused) {
    const auto path = temp_file("empty.jpg", {});
    expect_error([&] { (void)decode_image_file(path); }, ErrorCode::invalid_argument, {"empty.jpg", "0 bytes"});
}

TEST(ImageDecode, TextFileNamedJpgIsRefused) {
    const std::string text = "this is not a picture\n";
    const auto path = temp_file("notes.jpg", std::vector<std::uint8_t>(text.begin(), text.end()));
    expect_error([&] { (void)decode_image_file(path); }, ErrorCode::invalid_argument, {"notes.jpg", "not a supported image", "74 68 69 73"});
}

TEST(ImageDecode, MissingFileAndDirectory) {
    expect_error([&] { (void)decode_image_file("/nonexistent/cat.png"); }, ErrorCode::not_found, {"/nonexistent/cat.png"});
    expect_error([&] { (void)decode_image_file(kImages); }, ErrorCode::invalid_argument, {"directory"});
}

TEST(ImageDecode, OnePixelImageDecodesAndPreprocesses) {
    // transformers 4.x rejects 1x1 images (channel-axis guess, issue #21638); we follow the
    // channels-last meaning (transformers 5): one pixel becomes a uniform 224x224 image.
    const RgbImage image = decode_image(make_bmp(1, 1, 200, 100, 50), {}, "dot.bmp");
    ASSERT_EQ(image.width, 1u);
    ASSERT_EQ(image.height, 1u);
    EXPECT_EQ(image.pixels, (std::vector<std::uint8_t>{200, 100, 50}));
    const PreprocessConfig config;
    const RgbImage crop = resize_and_crop(image, config);
    ASSERT_EQ(crop.width, 224u);
    for (std::size_t idx = 0; idx < crop.pixels.size(); idx += 3) {
        ASSERT_EQ(crop.pixels[idx], 200);
        ASSERT_EQ(crop.pixels[idx + 1], 100);
        ASSERT_EQ(crop.pixels[idx + 2], 50);
    }
}

TEST(ImageDecode, HugeHeadersAreRefusedBeforeAllocating) {
    // Headers claiming 100,000 x 100,000 pixels (10^10) with no pixel data behind them: the
    // pixel limit must fire first (an allocation of 30 GB would abort the test).
    auto png = png_header(100000, 100000);
    put_u32_be(png, 0);
    png.insert(png.end(), {'I', 'D', 'A', 'T'});
    expect_error([&] { (void)decode_image(png, {}, "huge.png"); }, ErrorCode::resource_exhausted, {"huge.png", "100000x100000", "limit"});
    expect_error([&] { (void)decode_image(make_bmp(100000, 100000, 0, 0, 0, false), {}, "huge.bmp"); },
                 ErrorCode::resource_exhausted, {"huge.bmp", "100000x100000"});
    // GIF logical screen 65535 x 65535.
    std::vector<std::uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, ';'};
    expect_error([&] { (void)decode_image(gif, {}, "huge.gif"); }, ErrorCode::resource_exhausted, {"huge.gif", "65535x65535"});
    // JPEG: patch the SOF0 frame size of a real file to 60000 x 60000 (libjpeg's own cap is 65500).
    auto jpeg = read_bytes(kImages / "pillow_hopper.jpg");
    for (std::size_t at = 2; at + 9 < jpeg.size(); ++at) {
        if (jpeg[at] == 0xFF && jpeg[at + 1] == 0xC0) {
            jpeg[at + 5] = jpeg[at + 7] = 0xEA;
            jpeg[at + 6] = jpeg[at + 8] = 0x60;
            break;
        }
    }
    expect_error([&] { (void)decode_image(jpeg, {}, "huge.jpg"); }, ErrorCode::resource_exhausted, {"huge.jpg", "60000x60000"});
    // The limit is configurable: a 128x128 image (16384 pixels) against a limit of 10,000.
    const auto hopper = read_bytes(kImages / "pillow_hopper.webp");
    expect_error([&] { (void)decode_image(hopper, DecodeOptions{.max_pixels = 10000}, "hopper.webp"); },
                 ErrorCode::resource_exhausted, {"128x128", "10000"});
    EXPECT_NO_THROW((void)decode_image(hopper, DecodeOptions{.max_pixels = 16384}, "hopper.webp"));
}

TEST(ImageDecode, TwelveBitJpegIsUnsupported) {
    const auto jpeg = read_bytes(kImages / "libjpeg-turbo_monkey12.jpg");
    expect_error([&] { (void)decode_image(jpeg, {}, "monkey12.jpg"); }, ErrorCode::unsupported, {"monkey12.jpg", "precision"});
}

TEST(ImageDecode, EveryTruncationOfEveryImageFailsCleanly) {
    // Cut each test image at 16 points: each cut either decodes (trailing data not needed) or
    // throws tessera::Error -- never crashes, never throws anything else.
    std::size_t errors = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kImages)) {
        const auto bytes = read_bytes(entry.path());
        if (detect_image_format(bytes) == ImageFormat::unknown || bytes.size() > 200000) continue;
        for (std::size_t cut = 1; cut < 16; ++cut) {
            std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() * cut / 16));
            try {
                (void)decode_image(part, {}, entry.path().filename().string());
            } catch (const Error&) {
                ++errors;
            }
        }
    }
    EXPECT_GT(errors, 300u);  // nearly all of the ~35 x 15 cuts lack needed data
}

TEST(ImageFetch, RefusesNonHttpAndReportsUnreachable) {
    expect_error([&] { (void)fetch_url("file:///etc/passwd"); }, ErrorCode::invalid_argument, {"file:///etc/passwd", "http"});
    expect_error([&] { (void)fetch_url("http://127.0.0.1:1/cat.jpg", {.timeout_ms = 5000}); }, ErrorCode::unavailable,
                 {"127.0.0.1:1"});
    ImageSource source = ImageSource::from_url("http://127.0.0.1:1/cat.jpg");
    expect_error([&] { (void)load_image(source); }, ErrorCode::unavailable, {"http://127.0.0.1:1/cat.jpg"});
}

TEST(ImageFetch, DownloadsFromLoopbackWithLimits) {
    const auto jpeg = read_bytes(kImages / "pillow_hopper.jpg");
    httplib::Server server;
    server.Get("/hopper.jpg", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(jpeg.begin(), jpeg.end()), "image/jpeg");
    });
    server.Get("/slow.jpg", [&](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        res.set_content("x", "image/jpeg");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    std::thread thread([&] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::string base = "http://127.0.0.1:" + std::to_string(port);

    const RgbImage image = load_image(ImageSource::from_url(base + "/hopper.jpg"));
    EXPECT_EQ(image.width, 128u);
    EXPECT_EQ(image.pixels, decode_image(jpeg).pixels);
    expect_error([&] { (void)fetch_url(base + "/hopper.jpg", {.max_bytes = 1000}); }, ErrorCode::resource_exhausted, {"1000 bytes"});
    expect_error([&] { (void)fetch_url(base + "/missing.jpg"); }, ErrorCode::not_found, {"404"});
    expect_error([&] { (void)fetch_url(base + "/slow.jpg", {.timeout_ms = 300}); }, ErrorCode::cancelled, {"300 ms"});
    server.stop();
    thread.join();
}

TEST(ImageResize, SameSizeIsACopyAndBadSizesAreRefused) {
    const RgbImage image = decode_image(read_bytes(kImages / "pillow_hopper.png"));
    EXPECT_EQ(resize_image(image, 128, 128).pixels, image.pixels);
    expect_error([&] { (void)resize_image(image, 0, 10); }, ErrorCode::invalid_argument, {"0x10"});
    expect_error([&] { (void)crop_image(image, 100, 0, 64, 64); }, ErrorCode::invalid_argument, {"outside"});
    const RgbImage padded = center_crop(image, 130, 126);  // wider than the image: zero columns
    EXPECT_EQ(padded.width, 130u);
    EXPECT_EQ(padded.at(0, 0)[0], 0);
    EXPECT_EQ(padded.at(1, 0)[0], image.at(0, 1)[0]);
}

TEST(ImageResize, WindowEqualsFullResizeThenCrop) {
    const RgbImage image = decode_image(read_bytes(kImages / "skimage_chelsea.png"));
    for (ResampleFilter filter : {ResampleFilter::bicubic, ResampleFilter::bilinear, ResampleFilter::lanczos,
                                  ResampleFilter::box, ResampleFilter::hamming}) {
        for (auto [w, h] : {std::pair<std::size_t, std::size_t>{336, 224}, {97, 301}, {451, 150}, {1000, 31}}) {
            const RgbImage full = resize_image(image, w, h, filter);
            const RgbImage window = resize_image_window(image, w, h, w / 3, h / 4, w / 2, h / 2, filter);
            EXPECT_EQ(window.pixels, crop_image(full, w / 3, h / 4, w / 2, h / 2).pixels) << w << "x" << h;
        }
    }
}

TEST(ImageResize, ExtremeAspectRatioStaysSmall) {
    // 2 x 4000: the shortest-edge resize is 224 x 448,000, of which only the crop is computed.
    RgbImage strip;
    strip.width = 2;
    strip.height = 4000;
    strip.pixels.assign(2 * 4000 * 3, 0);
    for (std::size_t idx = 0; idx < strip.pixels.size(); ++idx) strip.pixels[idx] = static_cast<std::uint8_t>(idx * 7);
    const PreprocessConfig config;
    const RgbImage crop = resize_and_crop(strip, config);
    EXPECT_EQ(crop.width, 224u);
    EXPECT_EQ(crop.height, 224u);
}

TEST(ImagePreprocessConfig, ParsesSizesAndRejectsBadValues) {
    // Old CLIP configs write bare integers.
    PreprocessConfig old = parse_preprocess_config(R"({"size": 224, "crop_size": 224, "resample": 3})");
    EXPECT_EQ(old.shortest_edge, 224u);
    EXPECT_EQ(old.crop_height, 224u);
    EXPECT_TRUE(old.do_center_crop);
    // SigLIP/ViT style: a fixed square, no crop.
    PreprocessConfig square = parse_preprocess_config(
        R"({"size": {"height": 32, "width": 32}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2})");
    EXPECT_FALSE(square.do_center_crop);
    EXPECT_EQ(square.output_height(), 32u);
    const RgbImage image = decode_image(read_bytes(kImages / "skimage_chelsea.png"));
    const std::vector<float> tensor = preprocess_image(image, square);
    ASSERT_EQ(tensor.size(), 3u * 32 * 32);
    for (float value : tensor) {
        ASSERT_GE(value, -1.0F);
        ASSERT_LE(value, 1.0F);
    }
    expect_error([] { (void)parse_preprocess_config(R"({"image_std": [0.2, 0, 0.2]})", "pp.json"); }, ErrorCode::invalid_argument,
                 {"pp.json", "image_std", "index 1"});
    expect_error([] { (void)parse_preprocess_config(R"({"size": {"longest_edge": 3}})", "pp.json"); }, ErrorCode::invalid_argument,
                 {"size", "longest_edge"});
    expect_error([] { (void)parse_preprocess_config(R"({"resample": 9})", "pp.json"); }, ErrorCode::invalid_argument, {"resample", "9"});
    expect_error([] { (void)parse_preprocess_config("not json", "pp.json"); }, ErrorCode::corrupt, {"pp.json"});
}

}  // namespace
}  // namespace tessera
