// libFuzzer target for the image decoders' entry point: arbitrary bytes into decode_image()
// (magic-byte dispatch, all six decoders, EXIF orientation) and, when that succeeds, the
// CLIP preprocessing. Any tessera::Error is an expected outcome; crashes, sanitizer reports,
// other exceptions and huge allocations (the pixel limit is set low) are findings.
#include <cstddef>
#include <cstdint>

#include "tessera/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const tessera::DecodeOptions options{.max_pixels = 4'000'000};
        const tessera::RgbImage image = tessera::decode_image({data, size}, options, "fuzz");
        if (image.width * image.height <= 65536) {
            static const tessera::PreprocessConfig config;
            (void)tessera::preprocess_image(image, config);
        }
    } catch (const tessera::Error&) {
    }
    return 0;
}
