/*
 * A guest for wasi_ephemeral_nn, the WASI-NN ABI as WasmEdge implements it. It calls every
 * function the module has and prints `name=errno` for each call it checks, so the tests can
 * compare every code with WasmEdge's, then (for `classify`) the top label on the last line.
 *   classify MODEL RGB LABELS   the happy path on raw 128x128 RGB pixels, then every other call
 *   onnx MODEL RGB LABELS       the same run on an ONNX model (encoding onnx)
 *   by-name RGB LABELS          the same run on the model preloaded as 'default' (--nn-preload)
 *   (no arguments)              deployed (TFLITE_FN_PROGRAM): raw RGB on stdin, the model
 *                               preloaded as 'default'; prints class=INDEX
 *   errors MODEL                every error path, hostile pointers included, then a run that
 *                               still works (the host survived all of it)
 *   dynamic MODEL               an ONNX model with an open batch dimension (x f32, n i64, h f16,
 *                               d f64, each [batch, k]): runs at batch 2 and 3, prints the
 *                               outputs, then every refusal of a wrong or hostile shape
 * Files come from directories the test grants (WASI preopens), as with `wasmedge --dir`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))

typedef struct { uint32_t pointer, length; } builder_t;
typedef struct { const uint32_t *dims; uint32_t rank, type; const uint8_t *data; uint32_t length; } tensor_t;

IMPORT("load") uint32_t nn_load(const builder_t *builders, uint32_t count, uint32_t encoding, uint32_t target, uint32_t *graph);
IMPORT("load_by_name") uint32_t nn_load_by_name(const char *name, uint32_t length, uint32_t *graph);
IMPORT("load_by_name_with_config") uint32_t nn_load_by_name_with_config(const char *name, uint32_t length, const char *config, uint32_t config_length, uint32_t *graph);
IMPORT("init_execution_context") uint32_t nn_init(uint32_t graph, uint32_t *context);
IMPORT("set_input") uint32_t nn_set_input(uint32_t context, uint32_t index, const tensor_t *tensor);
IMPORT("compute") uint32_t nn_compute(uint32_t context);
IMPORT("get_output") uint32_t nn_get_output(uint32_t context, uint32_t index, uint8_t *buffer, uint32_t max, uint32_t *written);
IMPORT("compute_single") uint32_t nn_compute_single(uint32_t context);
IMPORT("get_output_single") uint32_t nn_get_output_single(uint32_t context, uint32_t index, uint8_t *buffer, uint32_t max, uint32_t *written);
IMPORT("fini_single") uint32_t nn_fini_single(uint32_t context);
IMPORT("unload") uint32_t nn_unload(uint32_t graph);
IMPORT("finalize_execution_context") uint32_t nn_finalize(uint32_t context);

enum { ONNX = 1, TENSORFLOWLITE = 4, AUTODETECT = 5, CPU = 0, GPU = 1 };
/* Tensor types as wasi-nn 0.6 and WasmEdge 0.14+ number them; the older witx had U8 = 2, I32 = 3. */
enum { F16 = 0, F32 = 1, F64 = 2, U8 = 3, I32 = 4, I64 = 5, OLD_WITX_U8 = 2 };
#define SIDE 128
#define CLASSES 1001
/* Far past the end of any guest memory (the sandbox caps it well below 4 GB). */
#define WILD ((void *)0xFFFFFF00u)

static uint8_t *slurp(const char *path, uint32_t *length) {
  FILE *file = fopen(path, "rb");
  if (!file) { perror(path); exit(10); }
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t *bytes = malloc((size_t)size + 1);
  if (fread(bytes, 1, (size_t)size, file) != (size_t)size) exit(11);
  bytes[size] = 0;
  fclose(file);
  *length = (uint32_t)size;
  return bytes;
}

#define SHOW(name, call) printf("%s=%u\n", name, (unsigned)(call))

static uint32_t dims[4] = {1, SIDE, SIDE, 3};
static uint8_t pixels[SIDE * SIDE * 3];
static uint8_t scores[CLASSES];

static tensor_t input(void) { return (tensor_t){dims, 4, U8, pixels, sizeof pixels}; }

static uint32_t load_model(const uint8_t *model, uint32_t length, uint32_t encoding, uint32_t *graph) {
  builder_t builder = {(uint32_t)(uintptr_t)model, length};
  return nn_load(&builder, 1, encoding, CPU, graph);
}

static const char *label(const char *labels, int index) {
  const char *at = labels;
  for (int line = 0; line < index && at; line++) at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL;
  static char buffer[256];
  size_t n = at ? strcspn(at, "\n") : 0;
  if (n > 255) n = 255;
  memcpy(buffer, at ? at : "", n);
  buffer[n] = 0;
  return buffer;
}

static int best(void) {
  int top = 0;
  for (int i = 1; i < CLASSES; i++) if (scores[i] > scores[top]) top = i;
  return top;
}

/* The photo's pixels into `pixels` and the labels file; NULL when the photo is not 128x128 RGB. */
static const char *read_photo_and_labels(const char *rgb_path, const char *labels_path) {
  uint32_t rgb_length, labels_length;
  uint8_t *rgb = slurp(rgb_path, &rgb_length);
  const char *labels = (const char *)slurp(labels_path, &labels_length);
  if (rgb_length != sizeof pixels) return NULL;
  memcpy(pixels, rgb, sizeof pixels);
  return labels;
}

static int classify(const char *model_path, const char *rgb_path, const char *labels_path) {
  uint32_t model_length, graph, context, written;
  uint8_t *model = slurp(model_path, &model_length);
  const char *labels = read_photo_and_labels(rgb_path, labels_path);
  if (!labels) return 12;
  tensor_t tensor = input();
  SHOW("load", load_model(model, model_length, TENSORFLOWLITE, &graph));
  SHOW("init_execution_context", nn_init(graph, &context));
  SHOW("set_input", nn_set_input(context, 0, &tensor));
  SHOW("compute", nn_compute(context));
  SHOW("get_output", nn_get_output(context, 0, scores, sizeof scores, &written));
  printf("written=%u\n", (unsigned)written);
  int top = best();
  memset(scores, 0, sizeof scores);
  SHOW("compute_single", nn_compute_single(context));
  SHOW("get_output_single", nn_get_output_single(context, 0, scores, sizeof scores, &written));
  SHOW("same_top", best() == top);
  SHOW("fini_single", nn_fini_single(context));
  SHOW("finalize_execution_context", nn_finalize(context));
  SHOW("compute_after_finalize", nn_compute(context));
  SHOW("unload", nn_unload(graph));
  SHOW("init_after_unload", nn_init(graph, &context));
  SHOW("autodetect", load_model(model, model_length, AUTODETECT, &graph));
  SHOW("load_by_name", nn_load_by_name("default", 7, &graph));
  SHOW("load_by_name_with_config", nn_load_by_name_with_config("default", 7, "{}", 2, &graph));
  printf("top=%s\n", label(labels, top));
  return 0;
}

static int onnx(const char *model_path, const char *rgb_path, const char *labels_path) {
  uint32_t model_length, graph, context, written;
  uint8_t *model = slurp(model_path, &model_length);
  const char *labels = read_photo_and_labels(rgb_path, labels_path);
  if (!labels) return 12;
  tensor_t tensor = input();
  SHOW("autodetect", load_model(model, model_length, AUTODETECT, &graph));
  SHOW("load", load_model(model, model_length, ONNX, &graph));
  SHOW("init_execution_context", nn_init(graph, &context));
  SHOW("wrong_type", nn_set_input(context, 0, &(tensor_t){dims, 4, F32, pixels, sizeof pixels}));
  SHOW("set_input", nn_set_input(context, 0, &tensor));
  SHOW("compute", nn_compute(context));
  SHOW("get_output", nn_get_output(context, 0, scores, sizeof scores, &written));
  printf("written=%u\n", (unsigned)written);
  printf("top=%s\n", label(labels, best()));
  return 0;
}

static int by_name(const char *rgb_path, const char *labels_path) {
  uint32_t graph, again, context, written;
  const char *labels = read_photo_and_labels(rgb_path, labels_path);
  if (!labels) return 12;
  tensor_t tensor = input();
  SHOW("missing", nn_load_by_name("missing", 7, &graph));
  SHOW("load_by_name", nn_load_by_name("default", 7, &graph));
  SHOW("load_by_name_with_config", nn_load_by_name_with_config("default", 7, "{}", 2, &again));
  SHOW("same_graph", graph == again);
  SHOW("init_execution_context", nn_init(graph, &context));
  SHOW("set_input", nn_set_input(context, 0, &tensor));
  SHOW("compute", nn_compute(context));
  SHOW("get_output", nn_get_output(context, 0, scores, sizeof scores, &written));
  printf("top=%s\n", label(labels, best()));
  return 0;
}

static int errors(const char *model_path) {
  uint32_t model_length, graph, context, written;
  uint8_t *model = slurp(model_path, &model_length);
  builder_t builder = {(uint32_t)(uintptr_t)model, model_length};
  SHOW("encoding_tensorflow", nn_load(&builder, 1, 2, CPU, &graph));
  SHOW("encoding_ggml", nn_load(&builder, 1, 6, CPU, &graph));
  SHOW("encoding_unknown", nn_load(&builder, 1, 99, CPU, &graph));
  SHOW("autodetect_not_tflite", load_model((const uint8_t *)"hello, this is not a model", 26, AUTODETECT, &graph));
  SHOW("target_gpu", nn_load(&builder, 1, TENSORFLOWLITE, GPU, &graph));
  SHOW("two_builders", nn_load((builder_t[]){builder, builder}, 2, TENSORFLOWLITE, CPU, &graph));
  SHOW("not_a_model", load_model((const uint8_t *)"TFL3TFL3 but not really a model", 31, TENSORFLOWLITE, &graph));
  SHOW("onnx_not_a_model", load_model((const uint8_t *)"not an onnx model", 17, ONNX, &graph));
  SHOW("builders_wild", nn_load(WILD, 1, TENSORFLOWLITE, CPU, &graph));
  SHOW("builders_count_huge", nn_load(&builder, 0x20000000u, TENSORFLOWLITE, CPU, &graph));
  builder_t wild = {0xFFFFFF00u, 4096};
  SHOW("builder_data_wild", nn_load(&wild, 1, TENSORFLOWLITE, CPU, &graph));
  SHOW("graph_out_wild", nn_load(&builder, 1, TENSORFLOWLITE, CPU, WILD));
  SHOW("bad_graph", nn_init(4242, &context));
  SHOW("bad_context_set_input", nn_set_input(4242, 0, &(tensor_t){dims, 4, U8, pixels, sizeof pixels}));
  SHOW("bad_context_compute", nn_compute(4242));
  SHOW("bad_context_get_output", nn_get_output(4242, 0, scores, sizeof scores, &written));
  SHOW("bad_context_fini_single", nn_fini_single(4242));
  SHOW("bad_context_finalize", nn_finalize(4242));
  SHOW("bad_graph_unload", nn_unload(4242));

  SHOW("load", load_model(model, model_length, TENSORFLOWLITE, &graph));
  SHOW("context_out_wild", nn_init(graph, WILD));
  SHOW("init_execution_context", nn_init(graph, &context));
  SHOW("compute_without_input", nn_compute(context));
  uint32_t dims224[4] = {1, 224, 224, 3}, dims3[3] = {SIDE, SIDE, 3}, wild_rank[1] = {0};
  SHOW("wrong_type", nn_set_input(context, 0, &(tensor_t){dims, 4, F32, pixels, sizeof pixels}));
  SHOW("unknown_type", nn_set_input(context, 0, &(tensor_t){dims, 4, 9, pixels, sizeof pixels}));
  SHOW("f16_type", nn_set_input(context, 0, &(tensor_t){dims, 4, F16, pixels, sizeof pixels}));
  SHOW("i64_type", nn_set_input(context, 0, &(tensor_t){dims, 4, I64, pixels, sizeof pixels}));
  SHOW("old_witx_u8", nn_set_input(context, 0, &(tensor_t){dims, 4, OLD_WITX_U8, pixels, sizeof pixels}));
  SHOW("wrong_rank", nn_set_input(context, 0, &(tensor_t){dims3, 3, U8, pixels, sizeof pixels}));
  SHOW("wrong_dims", nn_set_input(context, 0, &(tensor_t){dims224, 4, U8, pixels, sizeof pixels}));
  SHOW("wrong_bytes", nn_set_input(context, 0, &(tensor_t){dims, 4, U8, pixels, sizeof pixels - 1}));
  SHOW("wrong_index", nn_set_input(context, 1, &(tensor_t){dims, 4, U8, pixels, sizeof pixels}));
  SHOW("tensor_wild", nn_set_input(context, 0, WILD));
  SHOW("dims_wild", nn_set_input(context, 0, &(tensor_t){WILD, 4, U8, pixels, sizeof pixels}));
  SHOW("rank_huge", nn_set_input(context, 0, &(tensor_t){wild_rank, 0x40000000u, U8, pixels, sizeof pixels}));
  SHOW("data_wild", nn_set_input(context, 0, &(tensor_t){dims, 4, U8, WILD, sizeof pixels}));
  SHOW("get_output_before_compute", nn_get_output(context, 0, scores, sizeof scores, &written));
  SHOW("set_input", nn_set_input(context, 0, &(tensor_t){dims, 4, U8, pixels, sizeof pixels}));
  SHOW("compute", nn_compute(context));
  written = 12345;
  SHOW("small_buffer", nn_get_output(context, 0, scores, sizeof scores - 1, &written));
  printf("small_buffer_written=%u\n", (unsigned)written);
  SHOW("output_index", nn_get_output(context, 7, scores, sizeof scores, &written));
  SHOW("output_wild", nn_get_output(context, 0, WILD, sizeof scores, &written));
  SHOW("written_wild", nn_get_output(context, 0, scores, sizeof scores, WILD));
  SHOW("name_wild", nn_load_by_name(WILD, 8, &graph));
  SHOW("get_output", nn_get_output(context, 0, scores, sizeof scores, &written));
  printf("written=%u\n", (unsigned)written);
  return 0;
}

static uint32_t set(uint32_t context, uint32_t index, uint32_t *shape, uint32_t rank, uint32_t type, const void *data, uint32_t length) {
  return nn_set_input(context, index, &(tensor_t){shape, rank, type, data, length});
}

/* Output `index` of a run, its byte count printed as NAME_written. */
static uint32_t output(uint32_t context, uint32_t index, void *buffer, uint32_t max, const char *name) {
  uint32_t written = 0, errno_ = nn_get_output(context, index, buffer, max, &written);
  printf("%s_written=%u\n", name, (unsigned)written);
  return errno_;
}

/* One run at batch 2 of every input; prints what each output holds. */
static void run_batch_of_two(uint32_t context) {
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
  int64_t n[4] = {10, 20, -30, 5000000000LL}, m[4];
  uint16_t h[4] = {0x3C00, 0x4000, 0xC200, 0x0001}, hy[4]; /* 1, 2, -3, the smallest subnormal */
  double d[2] = {1.5, -2.25}, dy[2];
  uint32_t x_dims[2] = {2, 3}, n_dims[2] = {2, 2}, h_dims[2] = {2, 2}, d_dims[2] = {2, 1};
  SHOW("set_x", set(context, 0, x_dims, 2, F32, x, sizeof x));
  SHOW("set_n", set(context, 1, n_dims, 2, I64, n, sizeof n));
  SHOW("set_h", set(context, 2, h_dims, 2, F16, h, sizeof h));
  SHOW("set_d", set(context, 3, d_dims, 2, F64, d, sizeof d));
  SHOW("compute", nn_compute(context));
  SHOW("get_y", output(context, 0, y, sizeof y, "y"));
  SHOW("get_m", output(context, 1, m, sizeof m, "m"));
  SHOW("get_hy", output(context, 2, hy, sizeof hy, "hy"));
  SHOW("get_dy", output(context, 3, dy, sizeof dy, "dy"));
  printf("y=%g,%g,%g,%g,%g,%g\n", y[0], y[1], y[2], y[3], y[4], y[5]);
  printf("m=%lld,%lld,%lld,%lld\n", (long long)m[0], (long long)m[1], (long long)m[2], (long long)m[3]);
  printf("hy=%04x,%04x,%04x,%04x\n", hy[0], hy[1], hy[2], hy[3]);
  printf("dy=%g,%g\n", dy[0], dy[1]);
  SHOW("small_buffer", output(context, 0, y, sizeof y - 1, "small"));
}

/* The same model at batch 3: outputs sized by this run, not the last. */
static void run_batch_of_three(uint32_t context) {
  float x[9] = {0}, y[9];
  int64_t n[6] = {0}, m[6];
  uint16_t h[6] = {0}, hy[6];
  double d[3] = {0}, dy[3];
  uint32_t x_dims[2] = {3, 3}, n_dims[2] = {3, 2}, h_dims[2] = {3, 2}, d_dims[2] = {3, 1};
  SHOW("set_x3", set(context, 0, x_dims, 2, F32, x, sizeof x));
  SHOW("set_n3", set(context, 1, n_dims, 2, I64, n, sizeof n));
  SHOW("set_h3", set(context, 2, h_dims, 2, F16, h, sizeof h));
  SHOW("set_d3", set(context, 3, d_dims, 2, F64, d, sizeof d));
  SHOW("compute3", nn_compute(context));
  SHOW("get_y3", output(context, 0, y, sizeof y, "y3"));
  SHOW("get_m3", output(context, 1, m, sizeof m, "m3"));
  SHOW("get_hy3", output(context, 2, hy, sizeof hy, "hy3"));
  SHOW("get_dy3", output(context, 3, dy, sizeof dy, "dy3"));
}

/* Wrong and hostile shapes for input 0 (x, f32 [batch, 3]) and input 1 (n, i64 [batch, 2]). */
static void refuse_shapes(uint32_t context) {
  static float x[6];
  static int64_t n[4];
  uint32_t flat[1] = {6}, wide[2] = {2, 4}, empty[2] = {0, 3}, two[2] = {2, 3}, huge[2] = {3000000, 3};
  uint32_t widest[2] = {0xFFFFFFFFu, 3}, n_dims[2] = {2, 2};
  SHOW("dyn_rank", set(context, 0, flat, 1, F32, x, sizeof x));
  SHOW("dyn_fixed_dim", set(context, 0, wide, 2, F32, x, 32));
  SHOW("dyn_zero", set(context, 0, empty, 2, F32, x, 0));
  SHOW("dyn_bytes", set(context, 0, two, 2, F32, x, sizeof x - 4));
  SHOW("dyn_huge", set(context, 0, huge, 2, F32, x, sizeof x));
  SHOW("dyn_widest", set(context, 0, widest, 2, F32, x, sizeof x));
  SHOW("dyn_f16", set(context, 0, two, 2, F16, x, sizeof x));
  SHOW("dyn_i64", set(context, 0, two, 2, I64, x, sizeof x));
  SHOW("dyn_f32_for_i64", set(context, 1, n_dims, 2, F32, n, sizeof n));
  SHOW("dyn_dims_wild", set(context, 0, WILD, 2, F32, x, sizeof x));
  /* The dims array starts inside memory and runs 4 bytes past its end. */
  uint32_t end = (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
  SHOW("dyn_dims_past_end", set(context, 0, (uint32_t *)(uintptr_t)(end - 4), 2, F32, x, sizeof x));
  SHOW("dyn_data_past_end", set(context, 0, two, 2, F32, (const void *)(uintptr_t)(end - 8), sizeof x));
}

static int dynamic(const char *model_path) {
  uint32_t model_length, graph, context;
  uint8_t *model = slurp(model_path, &model_length);
  SHOW("load", load_model(model, model_length, ONNX, &graph));
  SHOW("init_execution_context", nn_init(graph, &context));
  run_batch_of_two(context);
  run_batch_of_three(context);
  refuse_shapes(context);
  /* Still works after every refusal. */
  run_batch_of_two(context);
  return 0;
}

static int deployed(void) {
  uint32_t graph, context, written;
  if (fread(pixels, 1, sizeof pixels, stdin) != sizeof pixels) return 12;
  tensor_t tensor = input();
  if (nn_load_by_name("default", 7, &graph) != 0) return 3;
  if (nn_init(graph, &context) != 0) return 4;
  if (nn_set_input(context, 0, &tensor) != 0) return 5;
  if (nn_compute(context) != 0) return 6;
  if (nn_get_output(context, 0, scores, sizeof scores, &written) != 0) return 7;
  printf("class=%d\n", best());
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 1) return deployed();
  if (argc == 5 && strcmp(argv[1], "classify") == 0) return classify(argv[2], argv[3], argv[4]);
  if (argc == 5 && strcmp(argv[1], "onnx") == 0) return onnx(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "by-name") == 0) return by_name(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "errors") == 0) return errors(argv[2]);
  if (argc == 3 && strcmp(argv[1], "dynamic") == 0) return dynamic(argv[2]);
  fprintf(stderr, "usage: wasi-nn.wasm classify|onnx MODEL RGB LABELS | by-name RGB LABELS | errors|dynamic MODEL\n");
  return 2;
}
