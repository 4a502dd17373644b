// The safetensors reader on files assembled in memory: conversions must be
// exact, and every malformed file must be refused with a message that says
// what is wrong and where.
#define _POSIX_C_SOURCE 200809L  // mkstemp, write, unlink
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/ghostcc.h"

// Criterion reports a test as passed even when LeakSanitizer then finds a
// leak in its worker (and ignores assertions in .fini), so under ASan every
// test ends by checking for leaks itself: the malformed-file paths are where
// one would hide.
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static void finish(Arena *a) {
  arena_free(a);
#ifdef HAVE_LSAN
  cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked");
#endif
}

#define PATH "w.safetensors"

typedef struct {
  unsigned char *bytes;
  size_t len;
} File;

static void put_le(unsigned char *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t f32_bits(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

// A file whose length field says `declared`, whatever the header really is.
static File raw_file(Arena *a, uint64_t declared, const char *header,
                     const unsigned char *data, size_t data_len) {
  size_t header_len = strlen(header);
  File f = {.len = 8 + header_len + data_len};
  f.bytes = arena_alloc(a, f.len);
  put_le(f.bytes, declared, 8);
  memcpy(f.bytes + 8, header, header_len);
  if (data_len)
    memcpy(f.bytes + 8 + header_len, data, data_len);
  return f;
}

static File st_file(Arena *a, const char *header, const unsigned char *data,
                    size_t data_len) {
  return raw_file(a, strlen(header), header, data, data_len);
}

// Little-endian f32 data, as a writer would lay it out.
static unsigned char *f32_data(Arena *a, const float *values, size_t n) {
  unsigned char *p = arena_alloc(a, 4 * n);
  for (size_t i = 0; i < n; i++)
    put_le(p + 4 * i, f32_bits(values[i]), 4);
  return p;
}

static StFile *parse_ok(Arena *a, File f) {
  return st_parse(a, PATH, f.bytes, f.len);
}

// Parses bytes that must be refused; returns the message.
static const char *parse_error(Arena *a, File f) {
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    st_parse(a, PATH, f.bytes, f.len);
    diag_end(&trap);
    cr_assert_fail("a malformed file was accepted");
  }
  return arena_strdup(a, trap.message);
}

// Each of the NULL-terminated words must appear in msg, which names the file.
static void assert_mentions(const char *msg, ...) {
  cr_assert(strncmp(msg, PATH ": error: ", strlen(PATH ": error: ")) == 0,
            "message does not name the file: %s", msg);
  va_list ap;
  va_start(ap, msg);
  for (const char *word; (word = va_arg(ap, const char *));)
    cr_assert(strstr(msg, word), "message lacks \"%s\": %s", word, msg);
  va_end(ap);
}

// A header for one tensor named w.
static const char *one_tensor(Arena *a, const char *dtype, const char *shape,
                              const char *offsets) {
  return arena_printf(a,
                      "{\"w\":{\"dtype\":\"%s\",\"shape\":%s,"
                      "\"data_offsets\":%s}}",
                      dtype, shape, offsets);
}

static const char *one_tensor_error(Arena *a, const char *dtype,
                                    const char *shape, const char *offsets,
                                    size_t data_len) {
  unsigned char *data = arena_alloc(a, data_len + 1);
  return parse_error(a, st_file(a, one_tensor(a, dtype, shape, offsets), data,
                                data_len));
}

//
// Valid files
//

Test(safetensors, f32_two_tensors_in_header_order) {
  Arena a = {0};
  // Names out of alphabetical order: the header's order must be kept.
  const char *header =
      "{\"z.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],"
      "\"data_offsets\":[0,24]},"
      "\"a.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}";
  float values[] = {1.0f, -2.5f, 0.125f, 3e-38f, 1e30f, -0.0f, 7.0f, 0.1f};
  StFile *f = parse_ok(&a, st_file(&a, header, f32_data(&a, values, 8),
                                   sizeof values));
  cr_assert_eq(f->n_tensors, 2);
  StTensor *z = &f->tensors[0], *b = &f->tensors[1];
  cr_assert_str_eq(z->name, "z.weight");
  cr_assert_str_eq(z->dtype, "F32");
  cr_assert_eq(z->ndim, 2);
  cr_assert_eq(z->shape[0], 2);
  cr_assert_eq(z->shape[1], 3);
  cr_assert_eq(z->count, 6);
  cr_assert_str_eq(b->name, "a.bias");
  cr_assert_eq(b->ndim, 1);
  cr_assert_eq(b->shape[0], 2);
  cr_assert_eq(b->count, 2);
  for (int i = 0; i < 6; i++)
    cr_assert_eq(f32_bits(z->data[i]), f32_bits(values[i]), "z[%d]", i);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(f32_bits(b->data[i]), f32_bits(values[6 + i]), "b[%d]", i);
  finish(&a);
}

Test(safetensors, padded_header_and_unaligned_data) {
  Arena a = {0};
  float values[] = {1.5f, -3.25f};
  // Writers pad the header with spaces; an odd length leaves the data
  // unaligned, which the reader must not care about.
  const char *padded = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                       "\"data_offsets\":[0,8]}}        ";
  const char *odd = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                    "\"data_offsets\":[0,8]}} ";
  cr_assert_eq(strlen(odd) % 4, 3);
  const char *headers[] = {padded, odd};
  for (int h = 0; h < 2; h++) {
    StFile *f = parse_ok(&a, st_file(&a, headers[h], f32_data(&a, values, 2),
                                     sizeof values));
    cr_assert_eq(f->n_tensors, 1);
    cr_assert_eq(f->tensors[0].data[0], 1.5f);
    cr_assert_eq(f->tensors[0].data[1], -3.25f);
  }
  finish(&a);
}

Test(safetensors, f16_exact) {
  Arena a = {0};
  static const struct {
    uint16_t half;
    uint32_t f32;
  } cases[] = {
      {0x3c00, 0x3f800000},  // 1
      {0xc000, 0xc0000000},  // -2
      {0x3555, 0x3eaaa000},  // 0.333251953125
      {0x7bff, 0x477fe000},  // 65504, the largest half
      {0x0400, 0x38800000},  // 2^-14, the smallest normal
      {0x0001, 0x33800000},  // 2^-24, the smallest subnormal
      {0x03ff, 0x387fc000},  // 1023 * 2^-24, the largest subnormal
      {0x8001, 0xb3800000},  // -2^-24
      {0x0000, 0x00000000},  // 0
      {0x8000, 0x80000000},  // -0
      {0x7c00, 0x7f800000},  // inf
      {0xfc00, 0xff800000},  // -inf
  };
  enum { N = sizeof cases / sizeof cases[0] };
  unsigned char data[2 * N + 2];
  for (int i = 0; i < N; i++)
    put_le(data + 2 * i, cases[i].half, 2);
  put_le(data + 2 * N, 0x7e00, 2);  // a quiet nan
  char offsets[32];
  snprintf(offsets, sizeof offsets, "[0,%d]", 2 * N + 2);
  char shape[32];
  snprintf(shape, sizeof shape, "[%d]", N + 1);
  StFile *f = parse_ok(&a, st_file(&a, one_tensor(&a, "F16", shape, offsets),
                                   data, sizeof data));
  StTensor *t = &f->tensors[0];
  cr_assert_eq(t->count, (size_t)N + 1);
  for (int i = 0; i < N; i++)
    cr_assert_eq(f32_bits(t->data[i]), cases[i].f32,
                 "half 0x%04x gave 0x%08x, expected 0x%08x", cases[i].half,
                 f32_bits(t->data[i]), cases[i].f32);
  cr_assert(isnan(t->data[N]));
  finish(&a);
}

Test(safetensors, bf16_is_the_top_half_of_f32) {
  Arena a = {0};
  static const uint16_t cases[] = {0x3f80, 0xc049, 0x7f80, 0xff80,
                                   0x0001, 0x8000, 0x7f7f};
  enum { N = sizeof cases / sizeof cases[0] };
  unsigned char data[2 * N];
  for (int i = 0; i < N; i++)
    put_le(data + 2 * i, cases[i], 2);
  StFile *f = parse_ok(
      &a, st_file(&a, one_tensor(&a, "BF16", "[7]", "[0,14]"), data,
                  sizeof data));
  for (int i = 0; i < N; i++)
    cr_assert_eq(f32_bits(f->tensors[0].data[i]), (uint32_t)cases[i] << 16,
                 "bf16 0x%04x", cases[i]);
  cr_assert_eq(f->tensors[0].data[0], 1.0f);
  cr_assert_eq(f->tensors[0].data[1], -3.140625f);
  finish(&a);
}

Test(safetensors, f64_rounds_to_nearest_f32) {
  Arena a = {0};
  static const double values[] = {0.1, -1e-3, 65504.0, 1.0 / 3.0};
  unsigned char data[8 * 4];
  for (int i = 0; i < 4; i++) {
    uint64_t bits;
    memcpy(&bits, &values[i], sizeof bits);
    put_le(data + 8 * i, bits, 8);
  }
  StFile *f = parse_ok(
      &a, st_file(&a, one_tensor(&a, "F64", "[2,2]", "[0,32]"), data,
                  sizeof data));
  for (int i = 0; i < 4; i++)
    cr_assert_eq(f->tensors[0].data[i], (float)values[i], "value %d", i);
  finish(&a);
}

Test(safetensors, integer_tensor_has_no_data) {
  Arena a = {0};
  unsigned char data[8] = {5};
  StFile *f = parse_ok(
      &a, st_file(&a, one_tensor(&a, "I64", "[]", "[0,8]"), data, 8));
  cr_assert_eq(f->n_tensors, 1);
  cr_assert_str_eq(f->tensors[0].dtype, "I64");
  cr_assert_eq(f->tensors[0].ndim, 0);
  cr_assert_eq(f->tensors[0].count, 1);  // a scalar
  cr_assert_null(f->tensors[0].data);
  finish(&a);
}

Test(safetensors, empty_tensor) {
  Arena a = {0};
  StFile *f = parse_ok(
      &a, st_file(&a, one_tensor(&a, "F32", "[4,0]", "[0,0]"), NULL, 0));
  cr_assert_eq(f->tensors[0].count, 0);
  cr_assert_eq(f->tensors[0].ndim, 2);
  finish(&a);
}

Test(safetensors, metadata_is_ignored) {
  Arena a = {0};
  const char *header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  float one = 1.0f;
  StFile *f = parse_ok(&a, st_file(&a, header, f32_data(&a, &one, 1), 4));
  cr_assert_eq(f->n_tensors, 1);
  cr_assert_str_eq(f->tensors[0].name, "w");
  finish(&a);
}

Test(safetensors, find) {
  Arena a = {0};
  const char *header =
      "{\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[1],"
      "\"data_offsets\":[0,4]},"
      "\"conv.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  float values[] = {2.0f, 3.0f};
  StFile *f = parse_ok(&a, st_file(&a, header, f32_data(&a, values, 2), 8));
  StTensor *bias = st_find(f, "conv.bias");
  cr_assert_not_null(bias);
  cr_assert_eq(bias->data[0], 3.0f);
  cr_assert_eq(st_find(f, "conv.weight"), &f->tensors[0]);
  cr_assert_null(st_find(f, "conv"));
  cr_assert_null(st_find(f, "conv.bias.x"));
  finish(&a);
}

//
// Malformed files
//

Test(safetensors, empty_file) {
  Arena a = {0};
  assert_mentions(parse_error(&a, (File){NULL, 0}), "0 bytes", "too short",
                  NULL);
  finish(&a);
}

Test(safetensors, seven_bytes) {
  Arena a = {0};
  unsigned char bytes[7] = {0};
  assert_mentions(parse_error(&a, (File){bytes, 7}), "7 bytes", "too short",
                  NULL);
  finish(&a);
}

Test(safetensors, header_length_past_end) {
  Arena a = {0};
  const char *header = "{}";
  assert_mentions(parse_error(&a, raw_file(&a, 3, header, NULL, 0)),
                  "header length 3", "2 bytes", NULL);
  finish(&a);
}

Test(safetensors, header_length_absurd) {
  Arena a = {0};
  assert_mentions(parse_error(&a, raw_file(&a, UINT64_MAX - 6, "{}", NULL, 0)),
                  "header length 18446744073709551609", "limit", NULL);
  finish(&a);
}

Test(safetensors, invalid_json) {
  Arena a = {0};
  assert_mentions(parse_error(&a, st_file(&a, "{\"w\":{", NULL, 0)),
                  "not valid JSON", "line 1", NULL);
  finish(&a);
}

Test(safetensors, top_level_not_object) {
  Arena a = {0};
  assert_mentions(parse_error(&a, st_file(&a, "[1, 2]", NULL, 0)),
                  "must be a JSON object", "an array", NULL);
  finish(&a);
}

Test(safetensors, entry_not_object) {
  Arena a = {0};
  assert_mentions(parse_error(&a, st_file(&a, "{\"w\": 3}", NULL, 0)),
                  "tensor 'w'", "must be an object", NULL);
  finish(&a);
}

Test(safetensors, metadata_not_strings) {
  Arena a = {0};
  assert_mentions(
      parse_error(&a, st_file(&a, "{\"__metadata__\":{\"epoch\":3}}", NULL, 0)),
      "__metadata__", "'epoch'", "must be a string", NULL);
  finish(&a);
}

Test(safetensors, missing_dtype) {
  Arena a = {0};
  const char *header = "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}";
  unsigned char data[4] = {0};
  assert_mentions(parse_error(&a, st_file(&a, header, data, 4)), "tensor 'w'",
                  "missing \"dtype\"", NULL);
  finish(&a);
}

Test(safetensors, unknown_dtype) {
  Arena a = {0};
  assert_mentions(one_tensor_error(&a, "U16", "[2]", "[0,4]", 4), "tensor 'w'",
                  "unsupported dtype 'U16'", NULL);
  finish(&a);
}

Test(safetensors, negative_shape) {
  Arena a = {0};
  assert_mentions(one_tensor_error(&a, "F32", "[2,-1]", "[0,4]", 4),
                  "tensor 'w'", "dimension 1", "non-negative", NULL);
  finish(&a);
}

Test(safetensors, too_many_dims) {
  Arena a = {0};
  assert_mentions(
      one_tensor_error(&a, "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]", 4),
      "tensor 'w'", "9 dimensions", "at most 8", NULL);
  finish(&a);
}

Test(safetensors, offsets_past_end) {
  Arena a = {0};
  assert_mentions(one_tensor_error(&a, "F32", "[2]", "[4,12]", 8),
                  "tensor 'w'", "[4, 12]", "past the end", "8-byte", NULL);
  finish(&a);
}

Test(safetensors, offsets_begin_after_end) {
  Arena a = {0};
  assert_mentions(one_tensor_error(&a, "F32", "[2]", "[12,4]", 16),
                  "tensor 'w'", "[12, 4]", "begin is after end", NULL);
  finish(&a);
}

Test(safetensors, offsets_not_a_pair) {
  Arena a = {0};
  assert_mentions(one_tensor_error(&a, "F32", "[1]", "[0,4,8]", 8),
                  "tensor 'w'", "[begin, end]", NULL);
  finish(&a);
}

Test(safetensors, size_mismatch) {
  Arena a = {0};
  const char *header = "{\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[3,3],"
                       "\"data_offsets\":[0,12]}}";
  unsigned char data[12] = {0};
  assert_mentions(parse_error(&a, st_file(&a, header, data, 12)),
                  "tensor 'conv.weight': data_offsets [0, 12] hold 12 bytes "
                  "but shape [3, 3] of F32 needs 36",
                  NULL);
  finish(&a);
}

Test(safetensors, shape_product_overflow) {
  Arena a = {0};
  assert_mentions(
      one_tensor_error(&a, "F32", "[4294967296,4294967296,16]", "[0,4]", 4),
      "tensor 'w'", "[4294967296, 4294967296, 16]", "too many elements", NULL);
  // Elements fit, bytes do not.
  assert_mentions(
      one_tensor_error(&a, "F64", "[4611686018427387904]", "[0,4]", 4),
      "tensor 'w'", "too many bytes", NULL);
  finish(&a);
}

Test(safetensors, duplicate_key) {
  Arena a = {0};
  const char *header =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  unsigned char data[4] = {0};
  assert_mentions(parse_error(&a, st_file(&a, header, data, 4)), "duplicate",
                  "\"w\"", NULL);
  finish(&a);
}

Test(safetensors, truncated_data_section) {
  Arena a = {0};
  const char *header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
  unsigned char data[24] = {0};
  // The file ends 4 bytes early, inside tensor b.
  assert_mentions(parse_error(&a, st_file(&a, header, data, 20)),
                  "tensor 'b'", "past the end", "20-byte", "truncated", NULL);
  finish(&a);
}

//
// Files on disk
//

// Runs st_load where it must fail; returns the message.
static const char *load_error(Arena *a, const char *path) {
  DiagTrap trap;
  if (diag_try(&trap, setjmp(trap.jump))) {
    st_load(a, path);
    diag_end(&trap);
    cr_assert_fail("st_load accepted %s", path);
  }
  return arena_strdup(a, trap.message);
}

// Writes f to a fresh temporary file and returns its path.
static const char *temp_file(Arena *a, File f) {
  char *path = arena_strdup(a, "/tmp/ghostcc_st_XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, f.bytes, f.len), (ssize_t)f.len);
  close(fd);
  return path;
}

Test(safetensors, load_missing_file) {
  Arena a = {0};
  const char *msg = load_error(&a, "/nonexistent/w.safetensors");
  cr_assert_str_eq(msg,
                   "/nonexistent/w.safetensors: error: cannot open file: "
                   "No such file or directory");
  finish(&a);
}

Test(safetensors, load_directory) {
  Arena a = {0};
  const char *msg = load_error(&a, "/tmp");
  cr_assert_str_eq(msg,
                   "/tmp: error: not a regular file");
  finish(&a);
}

Test(safetensors, load_file) {
  Arena a = {0};
  float values[] = {4.0f, -1.0f};
  const char *path = temp_file(
      &a, st_file(&a, one_tensor(&a, "F32", "[2]", "[0,8]"),
                  f32_data(&a, values, 2), 8));
  StFile *f = st_load(&a, path);
  unlink(path);
  cr_assert_eq(f->n_tensors, 1);
  cr_assert_eq(f->tensors[0].data[1], -1.0f);
  finish(&a);
}

Test(safetensors, load_malformed_file) {
  Arena a = {0};
  const char *path = temp_file(
      &a, st_file(&a, one_tensor(&a, "F32", "[3]", "[0,8]"), NULL, 0));
  const char *msg = load_error(&a, path);
  unlink(path);
  // The same message st_parse gives, naming the real path.
  cr_assert_str_eq(msg, arena_printf(&a,
                                     "%s: error: tensor 'w': data_offsets "
                                     "[0, 8] run past the end of the 0-byte "
                                     "data section (truncated file?)",
                                     path));
  finish(&a);
}
