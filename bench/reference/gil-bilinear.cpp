// The legacy WasmEdge image host (second-state/WasmEdge-image, and wasmedge_image before
// WasmEdge 0.15) as a measuring stick: Boost.GIL reads the JPEG or PNG into an 8-bit RGB
// image (read_image, no conversion: anything else is refused) and resize_view stretches it
// with bilinear_sampler, which maps corner to corner, reads the four nearest pixels, does
// no antialiasing and truncates to a byte. Built at bench time only (bench/resize-fidelity.ts).
//
// Usage: gil-bilinear WxH... < image   writes each size's RGB bytes, in order, to stdout.
// "0x0" writes the decoded image at its own size (the decoder alone).
#include <boost/gil.hpp>
#include <boost/gil/extension/io/jpeg.hpp>
#include <boost/gil/extension/io/png.hpp>
#include <boost/gil/extension/numeric/resample.hpp>
#include <boost/gil/extension/numeric/sampler.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace gil = boost::gil;

int main(int argc, char **argv) {
  const std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::stringstream stream(bytes);
  gil::rgb8_image_t image;
  try {
    const bool png = bytes.size() > 4 && bytes.compare(1, 3, "PNG") == 0;
    if (png)
      gil::read_image(stream, image, gil::png_tag());
    else
      gil::read_image(stream, image, gil::jpeg_tag());
  } catch (const std::exception &error) {
    std::fprintf(stderr, "decode failed: %s\n", error.what());
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    unsigned width = 0, height = 0;
    if (std::sscanf(argv[i], "%ux%u", &width, &height) != 2) {
      std::fprintf(stderr, "bad size %s\n", argv[i]);
      return 1;
    }
    const bool decoderOnly = width == 0 || height == 0;
    if (decoderOnly) {
      width = static_cast<unsigned>(image.width());
      height = static_cast<unsigned>(image.height());
    }
    std::vector<unsigned char> out(static_cast<size_t>(width) * height * 3);
    auto target = gil::interleaved_view(width, height, reinterpret_cast<gil::rgb8_pixel_t *>(out.data()),
                                        static_cast<std::ptrdiff_t>(width) * 3);
    if (decoderOnly)
      gil::copy_pixels(gil::const_view(image), target);
    else
      gil::resize_view(gil::const_view(image), target, gil::bilinear_sampler());
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}
