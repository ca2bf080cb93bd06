// DG_ASAN: defined when AddressSanitizer instruments this build (GCC's -fsanitize=address, or
// clang's), with its manual-poisoning interface included.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define DG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DG_ASAN 1
#endif
#endif

#ifdef DG_ASAN
#include <sanitizer/asan_interface.h>
#endif
