// SPDX-License-Identifier: MIT
#pragma once

// Which sanitizer a suite is built with. Under either one every operation is
// several times slower, so bounded stress loops do less there, and a few
// cases cannot run at all (fork under TSan, Qt's own leaks under LSan).
// GCC defines __SANITIZE_*__; Clang answers __has_feature().

#if defined(__SANITIZE_THREAD__)
#define QTOFFLOAD_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QTOFFLOAD_TEST_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define QTOFFLOAD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QTOFFLOAD_TEST_ASAN 1
#endif
#endif

#if defined(QTOFFLOAD_TEST_TSAN) || defined(QTOFFLOAD_TEST_ASAN)
inline constexpr bool underSanitizer = true;
#else
inline constexpr bool underSanitizer = false;
#endif

//! \a plain in the release build, \a sanitized under TSan or ASan.
template<typename T> constexpr T sanitizerScaled(T plain, T sanitized) { return underSanitizer ? sanitized : plain; }
