/*
 * The WasmEdge classic over WASI-NN, as a program written for today's WasmEdge would be: read
 * a JPEG on stdin, decode and stretch it to 224x224 RGB bytes with the wasmedge_image plugin
 * (0.3 `load_jpg`), run the model the host preloaded as "default" (`--nn-preload
 * default:TensorflowLite:CPU:mobilenet_v2_1.0_224_quant.tflite`, TFLITE_FN_NN_PRELOAD in a
 * deployment), print the sentence. labels.h is generated from the labels file at build time.
 * Exit codes say which step failed: 2 the image, 3 the model, 4 the run, 5 the output.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "labels.h"

#define NN(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))
#define IMAGE(name) __attribute__((import_module("wasmedge_image"), import_name(name)))

typedef struct { const uint32_t *dims; uint32_t rank, type; const uint8_t *data; uint32_t length; } tensor_t;

NN("load_by_name") uint32_t nn_load_by_name(const char *name, uint32_t length, uint32_t *graph);
NN("init_execution_context") uint32_t nn_init(uint32_t graph, uint32_t *context);
NN("set_input") uint32_t nn_set_input(uint32_t context, uint32_t index, const tensor_t *tensor);
NN("compute") uint32_t nn_compute(uint32_t context);
NN("get_output") uint32_t nn_get_output(uint32_t context, uint32_t index, uint8_t *buffer, uint32_t max, uint32_t *written);
IMAGE("load_jpg") uint32_t load_jpg(const uint8_t *image, uint32_t length, uint32_t width, uint32_t height, uint32_t type, uint8_t *out, uint32_t max);

enum { TENSOR_U8 = 3, IMAGE_RGB8 = 0 }; /* u8 as wasi-nn 0.6 and WasmEdge 0.14+ number it */
#define SIDE 224
#define CLASSES 1001

static const char *label(int index) {
  const char *at = (const char *)labels_txt;
  for (int line = 0; line < index && at; line++) {
    at = strchr(at, '\n');
    if (at) at++;
  }
  static char buffer[256];
  size_t n = at ? strcspn(at, "\n") : 0;
  if (n > 255) n = 255;
  memcpy(buffer, at ? at : "", n);
  buffer[n] = 0;
  return buffer;
}

static uint8_t image[8 * 1024 * 1024];
static uint8_t pixels[SIDE * SIDE * 3];
static uint8_t scores[CLASSES];

int main(void) {
  size_t length = fread(image, 1, sizeof image, stdin);
  /* The host says why on stderr. */
  if (load_jpg(image, (uint32_t)length, SIDE, SIDE, IMAGE_RGB8, pixels, sizeof pixels) != 0) return 2;
  uint32_t graph, context;
  const char *name = "default";
  if (nn_load_by_name(name, (uint32_t)strlen(name), &graph) != 0) return 3;
  if (nn_init(graph, &context) != 0) return 3;
  static const uint32_t dims[4] = {1, SIDE, SIDE, 3};
  tensor_t input = {dims, 4, TENSOR_U8, pixels, sizeof pixels};
  if (nn_set_input(context, 0, &input) != 0) return 4;
  if (nn_compute(context) != 0) return 4;
  uint32_t written = 0;
  if (nn_get_output(context, 0, scores, sizeof scores, &written) != 0 || written == 0) return 5;
  int best = 0;
  for (uint32_t i = 1; i < written; i++) if (scores[i] > scores[best]) best = (int)i;
  const char *what = label(best);
  int score = scores[best];
  if (score > 200) printf("It is very likely a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", what, what);
  else if (score > 125) printf("It is likely a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", what, what);
  else if (score > 50) printf("It could be a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", what, what);
  else printf("It is not clear what is in the picture; the closest match is a <a href='https://www.google.com/search?q=%s'>%s</a>\n", what, what);
  return 0;
}
