/*
 * The WasmEdge classic, in C, against the legacy 0.2 host ABI: read a JPEG on stdin, stretch it
 * to the model's 128x128 RGB, run the embedded model, print the sentence. Built by the tests
 * with Debian's clang for wasm32-wasi; model.h and labels.h are generated from the model files
 * at build time (nothing binary is committed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "labels.h"

#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_create_session")
uint64_t create_session(const uint8_t *model, uint32_t length);
IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_append_input")
void append_input(uint64_t session, const char *name, uint32_t name_length, const uint8_t *data, uint32_t length);
IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_run_session")
uint32_t run_session(uint64_t session);
IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_get_output_tensor")
uint64_t get_output_tensor(uint64_t session, const char *name, uint32_t name_length);
IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_get_tensor_len")
uint32_t get_tensor_len(uint64_t tensor);
IMPORT("wasmedge_tensorflowlite", "wasmedge_tensorflowlite_get_tensor_data")
void get_tensor_data(uint64_t tensor, uint8_t *destination);
IMPORT("wasmedge_image", "wasmedge_image_load_jpg_to_rgb8")
uint32_t load_jpg_to_rgb8(const uint8_t *image, uint32_t length, uint32_t width, uint32_t height, uint8_t *destination);

static const char *label(int index) {
  const char *at = (const char *)labels_txt;
  for (int line = 0; line < index; line++) at = strchr(at, '\n') + 1;
  static char buffer[256];
  size_t n = strcspn(at, "\n");
  memcpy(buffer, at, n < 255 ? n : 255);
  buffer[n < 255 ? n : 255] = 0;
  return buffer;
}

/*
 * With the argument "handles-first", takes the output tensor's handle and length before
 * running, which WasmEdge allows: a handle names the tensor, whose data is read after a run.
 */
int main(int argc, char **argv) {
  int handles_first = argc > 1 && !strcmp(argv[1], "handles-first");
  const char *output = "MobilenetV1/Predictions/Reshape_1";
  uint64_t tensor = 0;
  uint32_t count = 0;
  static uint8_t image[4 * 1024 * 1024];
  size_t length = fread(image, 1, sizeof image, stdin);
  static uint8_t pixels[128 * 128 * 3];
  if (load_jpg_to_rgb8(image, (uint32_t)length, 128, 128, pixels) != 0) return 2;
  uint64_t session = create_session(model_tflite, model_tflite_len);
  if (session == 0) return 3;
  const char *input = "input";
  append_input(session, input, (uint32_t)strlen(input), pixels, sizeof pixels);
  if (handles_first) {
    tensor = get_output_tensor(session, output, (uint32_t)strlen(output));
    count = get_tensor_len(tensor);
  }
  if (run_session(session) != 0) return 4;
  if (!handles_first) {
    tensor = get_output_tensor(session, output, (uint32_t)strlen(output));
    count = get_tensor_len(tensor);
  }
  if (count == 0) return 5;
  uint8_t *scores = malloc(count);
  get_tensor_data(tensor, scores);
  int best = 0;
  for (uint32_t i = 1; i < count; i++) if (scores[i] > scores[best]) best = (int)i;
  const char *name = label(best);
  int score = scores[best];
  if (score > 200) printf("It is very likely a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", name, name);
  else if (score > 125) printf("It is likely a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", name, name);
  else if (score > 50) printf("It could be a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", name, name);
  else printf("It is not clear what is in the picture; the closest match is a <a href='https://www.google.com/search?q=%s'>%s</a>\n", name, name);
  return 0;
}
