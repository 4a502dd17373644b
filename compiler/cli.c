// Command-line helpers shared by ghostcc and ghostcc explore.
#include "ghostcc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *option_value(int argc, char **argv, int *i, const char *opt) {
  size_t n = strlen(opt);
  if (strncmp(argv[*i], opt, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0')
    return NULL;
  if (*i + 1 >= argc)
    gh_error("%s needs a value", opt);
  return argv[++*i];
}

uint64_t parse_count(const char *option, const char *text) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (!*text || *end || errno || text[0] == '-')
    gh_error("%s needs a non-negative integer, got '%s'", option, text);
  return v;
}

int pass_named(const char *name, const char *option) {
  int i = pass_index(name);
  if (i < 0)
    gh_error("%s: no pass '%s' (see ghostcc --help)", option, name);
  return i;
}
