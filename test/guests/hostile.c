/* Misbehaving guests for the sandbox tests: pick one with the first argument. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("wasmedge_tensorflowlite"), import_name("wasmedge_tensorflowlite_create_session")))
uint64_t create_session(const uint8_t *model, uint32_t length);

__attribute__((import_module("wasmedge_image"), import_name("wasmedge_image_load_jpg_to_rgb8")))
uint32_t load_to_rgb8(const uint8_t *image, uint32_t length, uint32_t width, uint32_t height, uint8_t *out);

__attribute__((import_module("wasmedge_image"), import_name("wasmedge_image_load_jpg_to_rgb32f")))
uint32_t load_to_rgb32f(const uint8_t *image, uint32_t length, uint32_t width, uint32_t height, float *out);

static uint8_t *read_stdin(size_t *length) {
  size_t size = 0, room = 1 << 20;
  uint8_t *data = malloc(room);
  size_t got;
  while (data && (got = fread(data + size, 1, room - size, stdin)) > 0) {
    size += got;
    if (size == room) data = realloc(data, room *= 2);
  }
  *length = size;
  return data;
}

/* Served as a program (no arguments): a BMP body is decoded over and over, anything else once. */
static int serve(void) {
  size_t length;
  uint8_t *image = read_stdin(&length);
  if (length > 2 && image[0] == 'B' && image[1] == 'M') {
    float *out = malloc(2048 * 2048 * 3 * sizeof(float));
    for (int i = 0; i < 1000; i++) load_to_rgb32f(image, length, 2048, 2048, out);
    return 0;
  }
  static uint8_t pixels[224 * 224 * 3];
  printf("decoded: %u\n", load_to_rgb8(image, length, 224, 224, pixels));
  return 0;
}

int main(int argc, char **argv) {
  if (argc <= 1) return serve();
  const char *what = argv[1];
  if (!strcmp(what, "loop")) for (volatile int i = 0;; i++) {}
  if (!strcmp(what, "memory")) {
    size_t total = 0;
    for (;;) {
      volatile char *block = malloc(16 * 1024 * 1024);
      if (!block) break;
      block[0] = 1; /* used, so the compiler cannot drop the allocation */
      total += 16;
    }
    printf("allocated %zu MB before malloc failed\n", total);
    return 0;
  }
  if (!strcmp(what, "stdout")) {
    for (int i = 0; i < 100000; i++) fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", stdout);
    return 0; /* 6.5 MB written */
  }
  if (!strcmp(what, "passwd")) {
    FILE *f = fopen("/etc/passwd", "r");
    printf(f ? "opened /etc/passwd\n" : "denied /etc/passwd\n");
    return 0;
  }
  if (!strcmp(what, "cat") && argc > 2) {
    FILE *f = fopen(argv[2], "r");
    if (!f) { printf("denied %s\n", argv[2]); return 0; }
    char buffer[256];
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    buffer[n] = 0;
    printf("read %s: %s\n", argv[2], buffer);
    return 0;
  }
  if (!strcmp(what, "write") && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (!f || fputs(argv[3], f) < 0 || fclose(f) != 0) { printf("denied %s\n", argv[2]); return 0; }
    printf("wrote %s\n", argv[2]);
    return 0;
  }
  if (!strcmp(what, "badpointer")) {
    uint64_t session = create_session((const uint8_t *)0x7ffffff0, 0x1000);
    printf("session %llu\n", (unsigned long long)session);
    return 0;
  }
  if (!strcmp(what, "decode-loop")) {
    /* Keeps the host decoding stdin into the largest output it allows, call after call. */
    size_t length;
    uint8_t *image = read_stdin(&length);
    float *out = malloc(2048 * 2048 * 3 * sizeof(float));
    for (int i = 0; i < 1000; i++) printf("decode %d: %u\n", i, load_to_rgb32f(image, length, 2048, 2048, out));
    return 0;
  }
  if (!strcmp(what, "race") && argc > 2) {
    /* Opens one path over and over while something else swaps what is behind it. */
    int inside = 0, outside = 0, denied = 0;
    for (int i = 0; i < 20000; i++) {
      FILE *f = fopen(argv[2], "r");
      if (!f) { denied++; continue; }
      char buffer[16] = {0};
      fread(buffer, 1, sizeof buffer - 1, f);
      fclose(f);
      if (!strncmp(buffer, "inside", 6)) inside++;
      else outside++;
    }
    printf("inside %d outside %d denied %d\n", inside, outside, denied);
    return 0;
  }
  if (!strcmp(what, "args")) {
    /* Prints the arguments it was given after its name, one per line. */
    for (int i = 2; i < argc; i++) printf("%s\n", argv[i]);
    return 0;
  }
  if (!strcmp(what, "env")) {
    printf("HOME=%s SECRET=%s\n", getenv("HOME") ? getenv("HOME") : "(none)", getenv("SECRET") ? getenv("SECRET") : "(none)");
    return 0;
  }
  return 1;
}
