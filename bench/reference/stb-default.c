/*
 * WasmEdge >= 0.15's wasmedge_image (plugins/wasmedge_image/image_func.cpp) as a measuring
 * stick: stb_image decodes to 3 channels (stbi_load_from_memory for the byte layouts,
 * stbi_loadf_from_memory, which raises each byte/255 to stb's 2.2 gamma, for the float ones)
 * and stb_image_resize2's easy API resizes with its default filter, clamped edges, no
 * colorspace conversion (stbir_resize_uint8_linear / stbir_resize_float_linear, STBIR_RGB).
 * Built at bench time only (bench/resize-fidelity.ts).
 *
 * Usage: stb-default u8|f32 WxH... < image   writes each size's pixels (bytes, or native
 * floats), in order, to stdout. "0x0" writes the decoded image at its own size.
 */
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include "stb_image_resize2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_all(size_t *length) {
  size_t capacity = 1 << 20, used = 0;
  unsigned char *data = malloc(capacity);
  size_t got;
  while (data && (got = fread(data + used, 1, capacity - used, stdin)) > 0) {
    used += got;
    if (used == capacity) data = realloc(data, capacity *= 2);
  }
  *length = used;
  return data;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "u8") != 0 && strcmp(argv[1], "f32") != 0)) {
    fprintf(stderr, "usage: stb-default u8|f32 WxH...\n");
    return 1;
  }
  const int floats = strcmp(argv[1], "f32") == 0;
  size_t length = 0;
  unsigned char *bytes = read_all(&length);
  int width = 0, height = 0, channels = 0;
  void *pixels = floats ? (void *)stbi_loadf_from_memory(bytes, (int)length, &width, &height, &channels, 3)
                        : (void *)stbi_load_from_memory(bytes, (int)length, &width, &height, &channels, 3);
  if (!pixels) {
    fprintf(stderr, "decode failed: %s\n", stbi_failure_reason());
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    int w = 0, h = 0;
    if (sscanf(argv[i], "%dx%d", &w, &h) != 2) {
      fprintf(stderr, "bad size %s\n", argv[i]);
      return 1;
    }
    if (w == 0 || h == 0) { /* the decoder alone */
      fwrite(pixels, floats ? sizeof(float) : 1, (size_t)width * height * 3, stdout);
      continue;
    }
    const size_t count = (size_t)w * h * 3;
    void *out = malloc(count * (floats ? sizeof(float) : 1));
    if (floats)
      stbir_resize_float_linear(pixels, width, height, 0, out, w, h, 0, STBIR_RGB);
    else
      stbir_resize_uint8_linear(pixels, width, height, 0, out, w, h, 0, STBIR_RGB);
    fwrite(out, floats ? sizeof(float) : 1, count, stdout);
    free(out);
  }
  stbi_image_free(pixels);
  free(bytes);
  return 0;
}
