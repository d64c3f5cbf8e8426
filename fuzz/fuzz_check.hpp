// fuzz/fuzz_check: the invariant check the fuzz targets share.
//
// GT_FUZZ_CHECK(cond) aborts with the condition and its location when it does not hold; libFuzzer
// then writes the input that did it as a crash file. Unlike assert it is never compiled out.
#pragma once

#include <cstdio>
#include <cstdlib>

#define GT_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)
