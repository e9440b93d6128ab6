/* Misbehaving guests for the sandbox tests: pick one with the first argument. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("wasmedge_tensorflowlite"), import_name("wasmedge_tensorflowlite_create_session")))
uint64_t create_session(const uint8_t *model, uint32_t length);

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
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
  if (!strcmp(what, "env")) {
    printf("HOME=%s SECRET=%s\n", getenv("HOME") ? getenv("HOME") : "(none)", getenv("SECRET") ? getenv("SECRET") : "(none)");
    return 0;
  }
  return 1;
}
