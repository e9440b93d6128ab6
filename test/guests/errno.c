/*
 * A guest for the newer (0.3) host ABI: every call returns an errno and writes its result
 * through an out-pointer. The first argument picks a scenario; each prints the errno it got,
 * so the tests can check the exact code as well as the message on stderr.
 *   classify       the happy path: print the sentence for the JPEG on stdin
 *   wrong-name     an input and an output name the model does not have
 *   bad-pointer    a model pointer past the end of memory, and an out-pointer past it
 *   bad-image      stdin is not an image
 *   small-buffer   an output buffer one byte short, and an image buffer too small
 *   bad-session    a session id that was never created
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "labels.h"

#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

IMPORT("wasmedge_tensorflowlite", "create_session")
uint32_t create_session(const uint8_t *model, uint32_t length, uint32_t *session);
IMPORT("wasmedge_tensorflowlite", "delete_session")
uint32_t delete_session(uint32_t session);
IMPORT("wasmedge_tensorflowlite", "append_input")
uint32_t append_input(uint32_t session, const char *name, uint32_t name_length, const uint8_t *data, uint32_t length);
IMPORT("wasmedge_tensorflowlite", "run_session")
uint32_t run_session(uint32_t session);
IMPORT("wasmedge_tensorflowlite", "get_output_tensor")
uint32_t get_output_tensor(uint32_t session, const char *name, uint32_t name_length, uint32_t *tensor);
IMPORT("wasmedge_tensorflowlite", "get_tensor_len")
uint32_t get_tensor_len(uint32_t session, uint32_t tensor, uint32_t *length);
IMPORT("wasmedge_tensorflowlite", "get_tensor_data")
uint32_t get_tensor_data(uint32_t session, uint32_t tensor, uint8_t *buffer, uint32_t max, uint32_t *written);
IMPORT("wasmedge_image", "load_jpg")
uint32_t load_jpg(const uint8_t *image, uint32_t length, uint32_t width, uint32_t height, uint32_t type, uint8_t *out, uint32_t max);

#define SIDE 128
static const char INPUT[] = "input";
static const char OUTPUT[] = "MobilenetV1/Predictions/Reshape_1";

static uint8_t image[4 * 1024 * 1024];
static uint8_t pixels[SIDE * SIDE * 3];

static uint32_t load_stdin_pixels(void) {
  size_t length = fread(image, 1, sizeof image, stdin);
  return load_jpg(image, (uint32_t)length, SIDE, SIDE, 0, pixels, sizeof pixels);
}

static const char *label(int index) {
  const char *at = (const char *)labels_txt;
  for (int line = 0; line < index; line++) at = strchr(at, '\n') + 1;
  static char buffer[256];
  size_t n = strcspn(at, "\n");
  if (n > 255) n = 255;
  memcpy(buffer, at, n);
  buffer[n] = 0;
  return buffer;
}

static int classify(void) {
  uint32_t session, tensor, length, written;
  if (load_stdin_pixels() != 0) return 2;
  if (create_session(model_tflite, model_tflite_len, &session) != 0) return 3;
  if (append_input(session, INPUT, strlen(INPUT), pixels, sizeof pixels) != 0) return 4;
  if (run_session(session) != 0) return 5;
  if (get_output_tensor(session, OUTPUT, strlen(OUTPUT), &tensor) != 0) return 6;
  if (get_tensor_len(session, tensor, &length) != 0) return 7;
  uint8_t *scores = malloc(length);
  if (get_tensor_data(session, tensor, scores, length, &written) != 0 || written != length) return 8;
  int best = 0;
  for (uint32_t i = 1; i < length; i++) if (scores[i] > scores[best]) best = (int)i;
  const char *name = label(best);
  int score = scores[best];
  const char *wording = score > 200 ? "is very likely" : score > 125 ? "is likely" : "could be";
  if (score > 50) printf("It %s a <a href='https://www.google.com/search?q=%s'>%s</a> in the picture\n", wording, name, name);
  else printf("It is not clear what is in the picture; the closest match is a <a href='https://www.google.com/search?q=%s'>%s</a>\n", name, name);
  delete_session(session);
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "classify";
  uint32_t session = 0, tensor = 0;
  if (!strcmp(what, "classify")) return classify();
  if (!strcmp(what, "bad-pointer")) {
    printf("create_session past memory: %u\n", create_session((const uint8_t *)0x7ffffff0, 0x1000, &session));
    printf("create_session out-pointer past memory: %u\n",
           create_session(model_tflite, model_tflite_len, (uint32_t *)0x7ffffffe));
    return 0;
  }
  if (!strcmp(what, "bad-image")) {
    printf("load_jpg: %u\n", load_stdin_pixels());
    return 0;
  }
  if (!strcmp(what, "bad-session")) {
    printf("run_session: %u\n", run_session(4242));
    return 0;
  }
  if (load_stdin_pixels() != 0 || create_session(model_tflite, model_tflite_len, &session) != 0) return 3;
  if (!strcmp(what, "wrong-name")) {
    printf("append_input: %u\n", append_input(session, "images", 6, pixels, sizeof pixels));
    printf("append_input '': %u\n", append_input(session, "", 0, pixels, sizeof pixels));
    append_input(session, INPUT, strlen(INPUT), pixels, sizeof pixels);
    run_session(session);
    printf("get_output_tensor: %u\n", get_output_tensor(session, "scores", 6, &tensor));
    return 0;
  }
  if (!strcmp(what, "small-buffer")) {
    uint32_t length = 0, written = 99;
    append_input(session, INPUT, strlen(INPUT), pixels, sizeof pixels);
    run_session(session);
    get_output_tensor(session, OUTPUT, strlen(OUTPUT), &tensor);
    get_tensor_len(session, tensor, &length);
    uint8_t *scores = malloc(length);
    printf("get_tensor_data: %u written %u\n", get_tensor_data(session, tensor, scores, length - 1, &written), written);
    printf("load_jpg: %u\n", load_jpg(image, 100, SIDE, SIDE, 2, pixels, sizeof pixels));
    return 0;
  }
  return 1;
}
