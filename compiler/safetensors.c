// The safetensors reader: checks a weights file against itself before any
// byte of it is trusted, and converts float tensors to f32.
#include "ghostcc.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Insertion-ordered objects (2.5) make the tensor order the file's order;
// json_error_code (2.11) tells duplicate keys from other syntax errors.
#if JANSSON_VERSION_HEX < 0x020b00
#error "ghostcc needs jansson 2.11 or newer"
#endif

// As in the reference implementation: a longer header means a corrupt or
// foreign file, not a big model.
#define MAX_HEADER_BYTES 100000000u
#define MAX_DIMS ((int)(sizeof(((StTensor *)0)->shape) / sizeof(int64_t)))
#define METADATA_KEY "__metadata__"

typedef enum {
  DT_F64, DT_F32, DT_F16, DT_BF16, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8,
  DT_BOOL
} Dtype;

static const struct {
  const char *name;
  size_t size;  // bytes per element
  bool is_float;
} dtypes[] = {
  [DT_F64] = {"F64", 8, true},   [DT_F32] = {"F32", 4, true},
  [DT_F16] = {"F16", 2, true},   [DT_BF16] = {"BF16", 2, true},
  [DT_I64] = {"I64", 8, false},  [DT_I32] = {"I32", 4, false},
  [DT_I16] = {"I16", 2, false},  [DT_I8] = {"I8", 1, false},
  [DT_U8] = {"U8", 1, false},    [DT_BOOL] = {"BOOL", 1, false},
};
enum { DTYPE_COUNT = sizeof dtypes / sizeof dtypes[0] };

// A user error found while the JSON tree is alive: it is reported only after
// the tree is released, since gh_error_at never returns.
typedef struct {
  char text[1536];
} Problem;

static bool fail(Problem *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool fail(Problem *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->text, sizeof p->text, fmt, ap);
  va_end(ap);
  return false;
}

// Byte by byte, so neither the host's byte order nor the (arbitrary)
// alignment of the data matters.
static uint64_t read_le(const unsigned char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;)
    v = v << 8 | p[i];
  return v;
}

static float f32_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0x1f)  // inf and nan, payload kept
    return f32_from_bits(sign | 0x7f800000u | mantissa << 13);
  if (exponent == 0) {  // zero and subnormals: mantissa * 2^-24, exact in f32
    float magnitude = (float)mantissa / 16777216.0f;
    return sign ? -magnitude : magnitude;
  }
  return f32_from_bits(sign | (exponent - 15 + 127) << 23 | mantissa << 13);
}

static float element_to_f32(Dtype dtype, const unsigned char *p) {
  switch (dtype) {
  case DT_F64: {
    uint64_t bits = read_le(p, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return (float)d;
  }
  case DT_F32: return f32_from_bits((uint32_t)read_le(p, 4));
  case DT_F16: return f16_to_f32((uint16_t)read_le(p, 2));
  case DT_BF16:  // the top half of an f32
    return f32_from_bits((uint32_t)read_le(p, 2) << 16);
  default: gh_internal_error(__FILE__, __LINE__, "not a float dtype");
  }
}

static const char *json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a real number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "unknown";
}

// "[3, 3]" for messages; truncated if it does not fit.
static const char *format_shape(char *buf, size_t size, const int64_t *shape,
                                int ndim) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? ", " : "",
                          shape[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
  return buf;
}

// A JSON integer that fits size_t and is not negative.
static bool json_to_size(const json_t *v, size_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return false;
  json_int_t i = json_integer_value(v);
  *out = (size_t)i;
  return (json_int_t)*out == i;
}

static bool check_metadata(const json_t *metadata, Problem *p) {
  if (!json_is_object(metadata))
    return fail(p, "\"" METADATA_KEY "\" must be an object, found %s",
                json_type_name(metadata));
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)metadata, key, value) {
    if (!json_is_string(value))
      return fail(p,
                  "\"" METADATA_KEY "\" entry '%s' must be a string, found %s",
                  key, json_type_name(value));
  }
  return true;
}

static bool read_dtype(const char *key, const json_t *entry, Dtype *out,
                       Problem *p) {
  const json_t *dtype = json_object_get(entry, "dtype");
  if (!dtype)
    return fail(p, "tensor '%s': missing \"dtype\"", key);
  if (!json_is_string(dtype))
    return fail(p, "tensor '%s': \"dtype\" must be a string, found %s", key,
                json_type_name(dtype));
  for (int i = 0; i < DTYPE_COUNT; i++)
    if (strcmp(json_string_value(dtype), dtypes[i].name) == 0) {
      *out = (Dtype)i;
      return true;
    }
  return fail(p,
              "tensor '%s': unsupported dtype '%s' (supported: F64, F32, "
              "F16, BF16, I64, I32, I16, I8, U8, BOOL)",
              key, json_string_value(dtype));
}

static bool read_shape(const char *key, const json_t *entry, StTensor *t,
                       Problem *p) {
  const json_t *shape = json_object_get(entry, "shape");
  if (!shape)
    return fail(p, "tensor '%s': missing \"shape\"", key);
  if (!json_is_array(shape))
    return fail(p, "tensor '%s': \"shape\" must be an array, found %s", key,
                json_type_name(shape));
  if (json_array_size(shape) > (size_t)MAX_DIMS)
    return fail(p, "tensor '%s': shape has %zu dimensions, at most %d allowed",
                key, json_array_size(shape), MAX_DIMS);
  t->ndim = (int)json_array_size(shape);
  t->count = 1;  // a shape [] is a scalar
  for (int i = 0; i < t->ndim; i++) {
    const json_t *dim = json_array_get(shape, (size_t)i);
    if (!json_is_integer(dim) || json_integer_value(dim) < 0)
      return fail(p,
                  "tensor '%s': shape dimension %d must be a non-negative "
                  "integer",
                  key, i);
    t->shape[i] = json_integer_value(dim);
  }
  // Counted only once all dims are known, so that the message shows them.
  for (int i = 0; i < t->ndim; i++) {
    size_t extent;
    if (!json_to_size(json_array_get(shape, (size_t)i), &extent) ||
        !size_mul(t->count, extent, &t->count)) {
      char buf[256];
      return fail(p, "tensor '%s': shape %s has too many elements", key,
                  format_shape(buf, sizeof buf, t->shape, t->ndim));
    }
  }
  return true;
}

// Checks data_offsets against the data section and the shape; *begin is
// where the tensor starts in the data section.
static bool read_offsets(const char *key, const json_t *entry, Dtype dtype,
                         const StTensor *t, size_t data_len, size_t *begin,
                         Problem *p) {
  const json_t *offsets = json_object_get(entry, "data_offsets");
  if (!offsets)
    return fail(p, "tensor '%s': missing \"data_offsets\"", key);
  if (!json_is_array(offsets) || json_array_size(offsets) != 2)
    return fail(p, "tensor '%s': \"data_offsets\" must be [begin, end]", key);
  const json_t *begin_json = json_array_get(offsets, 0);
  const json_t *end_json = json_array_get(offsets, 1);
  if (!json_is_integer(begin_json) || json_integer_value(begin_json) < 0 ||
      !json_is_integer(end_json) || json_integer_value(end_json) < 0)
    return fail(p,
                "tensor '%s': \"data_offsets\" must be two non-negative "
                "integers",
                key);
  json_int_t first = json_integer_value(begin_json);
  json_int_t last = json_integer_value(end_json);
  if (first > last)
    return fail(p,
                "tensor '%s': data_offsets [%" JSON_INTEGER_FORMAT
                ", %" JSON_INTEGER_FORMAT "]: begin is after end",
                key, first, last);
  size_t end;
  if (!json_to_size(end_json, &end) || end > data_len)
    return fail(p,
                "tensor '%s': data_offsets [%" JSON_INTEGER_FORMAT
                ", %" JSON_INTEGER_FORMAT
                "] run past the end of the %zu-byte data section "
                "(truncated file?)",
                key, first, last, data_len);
  *begin = (size_t)first;  // first <= last = end, so it fits
  size_t needed;
  char buf[256];
  if (!size_mul(t->count, dtypes[dtype].size, &needed))
    return fail(p, "tensor '%s': shape %s of %s has too many bytes", key,
                format_shape(buf, sizeof buf, t->shape, t->ndim),
                dtypes[dtype].name);
  if (end - *begin != needed)
    return fail(p,
                "tensor '%s': data_offsets [%" JSON_INTEGER_FORMAT
                ", %" JSON_INTEGER_FORMAT "] hold %zu bytes but shape %s of "
                "%s needs %zu",
                key, first, last, end - *begin,
                format_shape(buf, sizeof buf, t->shape, t->ndim),
                dtypes[dtype].name, needed);
  return true;
}

// Where a validated tensor's bytes are and how to read them.
typedef struct {
  Dtype dtype;
  size_t begin;  // in the data section
} Placement;

// Fills f->tensors (all but data) and placements[] from the header. The only
// errors raised rather than returned are the arena's.
static bool read_header(Arena *a, json_t *root, size_t data_len, StFile *f,
                        Placement **placements, Problem *p) {
  size_t n = json_object_size(root);
  f->tensors = arena_array(a, n, sizeof(StTensor));
  *placements = arena_array(a, n, sizeof(Placement));
  const char *key;
  json_t *entry;
  json_object_foreach(root, key, entry) {
    if (strcmp(key, METADATA_KEY) == 0) {
      if (!check_metadata(entry, p))
        return false;
      continue;
    }
    if (!json_is_object(entry))
      return fail(p, "tensor '%s': entry must be an object, found %s", key,
                  json_type_name(entry));
    StTensor *t = &f->tensors[f->n_tensors];
    Placement *place = &(*placements)[f->n_tensors];
    if (!read_dtype(key, entry, &place->dtype, p) ||
        !read_shape(key, entry, t, p) ||
        !read_offsets(key, entry, place->dtype, t, data_len, &place->begin, p))
      return false;
    t->name = arena_strdup(a, key);
    strcpy(t->dtype, dtypes[place->dtype].name);
    f->n_tensors++;
  }
  return true;
}

// read_header, releasing the tree if the arena raises, so that nothing leaks
// on that path either.
static bool read_header_or_release(Arena *a, json_t *root,
                                   size_t data_len, StFile *f,
                                   Placement **placements, Problem *p) {
  DiagTrap trap;
  if (!diag_try(&trap, setjmp(trap.jump))) {
    json_decref(root);
    diag_rethrow(&trap);
  }
  bool ok = read_header(a, root, data_len, f, placements, p);
  diag_end(&trap);
  return ok;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(const StTensor *const *)a)->name,
                (*(const StTensor *const *)b)->name);
}

StFile *st_parse(Arena *a, const char *path, const unsigned char *bytes,
                 size_t len) {
  SrcLoc loc = {path, 0, 0};
  if (len < 8)
    gh_error_at(loc,
                "file is %zu bytes, too short for a safetensors file (the "
                "header length alone takes 8)",
                len);
  uint64_t header_len = read_le(bytes, 8);
  if (header_len > MAX_HEADER_BYTES)
    gh_error_at(loc,
                "header length %" PRIu64 " exceeds the %u-byte limit; not a "
                "safetensors file?",
                header_len, MAX_HEADER_BYTES);
  if (header_len > len - 8)
    gh_error_at(loc,
                "header length %" PRIu64 " is larger than the %zu bytes that "
                "follow it (truncated file?)",
                header_len, len - 8);
  const unsigned char *data = bytes + 8 + header_len;
  size_t data_len = len - 8 - (size_t)header_len;

  json_error_t error;
  json_t *root = json_loadb((const char *)bytes + 8, (size_t)header_len,
                            JSON_REJECT_DUPLICATES, &error);
  if (!root) {
    if (json_error_code(&error) == json_error_duplicate_key)
      gh_error_at(loc, "header has a duplicate key: %s (line %d, column %d)",
                  error.text, error.line, error.column);
    gh_error_at(loc, "header is not valid JSON: %s (line %d, column %d)",
                error.text, error.line, error.column);
  }
  if (!json_is_object(root)) {
    const char *found = json_type_name(root);
    json_decref(root);
    gh_error_at(loc, "header must be a JSON object of tensors, found %s",
                found);
  }
  StFile *f = arena_alloc(a, sizeof *f);
  Placement *placements;
  Problem problem;
  bool ok = read_header_or_release(a, root, data_len, f, &placements,
                                   &problem);
  json_decref(root);
  if (!ok)
    gh_error_at(loc, "%s", problem.text);

  for (int i = 0; i < f->n_tensors; i++) {
    StTensor *t = &f->tensors[i];
    Dtype dtype = placements[i].dtype;
    if (!dtypes[dtype].is_float)
      continue;  // e.g. num_batches_tracked: present, never read
    t->data = arena_array(a, t->count, sizeof(float));
    const unsigned char *src = data + placements[i].begin;
    for (size_t j = 0; j < t->count; j++)
      t->data[j] = element_to_f32(dtype, src + j * dtypes[dtype].size);
  }
  // Binding looks up every parameter: keep lookups logarithmic.
  f->by_name = arena_array(a, (size_t)f->n_tensors + 1, sizeof(StTensor *));
  for (int i = 0; i < f->n_tensors; i++)
    f->by_name[i] = &f->tensors[i];
  qsort(f->by_name, (size_t)f->n_tensors, sizeof *f->by_name, by_name);
  return f;
}

// Far beyond any mobile network; a bigger file is a mistake or an attack.
#define MAX_WEIGHTS_FILE ((size_t)8 << 30)

StFile *st_load(Arena *a, const char *path) {
  size_t len;
  unsigned char *bytes = read_file(a, path, MAX_WEIGHTS_FILE, &len);
  return st_parse(a, path, bytes, len);
}

StTensor *st_find(const StFile *f, const char *name) {
  StTensor key = {.name = name};
  const StTensor *k = &key;
  StTensor **found = bsearch(&k, f->by_name, (size_t)f->n_tensors,
                             sizeof *f->by_name, by_name);
  return found ? *found : NULL;
}
