// Test helper: re-encodes an image with stb_image_write, as PNG or JPEG
// (by OUT's extension) with CHANNELS channels (1 grey, 2 grey+alpha, 3 RGB,
// 4 RGBA; stb_image converts), so that check_classify.sh can make JPEGs and
// colour images from the committed grey PNGs.
//   write_image IN OUT CHANNELS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: write_image IN OUT.png|OUT.jpg CHANNELS\n");
    return 1;
  }
  int channels = atoi(argv[3]);
  if (channels < 1 || channels > 4) {
    fprintf(stderr, "write_image: CHANNELS must be 1..4\n");
    return 1;
  }
  int w, h, n;
  unsigned char *p = stbi_load(argv[1], &w, &h, &n, channels);
  if (!p) {
    fprintf(stderr, "write_image: %s: %s\n", argv[1], stbi_failure_reason());
    return 1;
  }
  const char *ext = strrchr(argv[2], '.');
  int ok;
  if (ext && !strcmp(ext, ".png"))
    ok = stbi_write_png(argv[2], w, h, channels, p, w * channels);
  else if (ext && !strcmp(ext, ".jpg"))
    ok = stbi_write_jpg(argv[2], w, h, channels, p, 95);
  else
    ok = 0;
  stbi_image_free(p);
  if (!ok) {
    fprintf(stderr, "write_image: cannot write %s (.png or .jpg)\n", argv[2]);
    return 1;
  }
  return 0;
}
