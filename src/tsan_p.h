// SPDX-License-Identifier: MIT
#pragma once

// ThreadSanitizer cannot see the synchronisation inside an uninstrumented Qt
// (posted events, QFutureInterface's mutex). Where our data crosses threads
// through Qt, these annotations tell it about the happens-before edge.

#if defined(__SANITIZE_THREAD__)
#define QTOFFLOAD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QTOFFLOAD_TSAN 1
#endif
#endif

#if defined(QTOFFLOAD_TSAN)
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#define QTOFFLOAD_HAPPENS_BEFORE(addr) __tsan_release(const_cast<void *>(static_cast<const void *>(addr)))
#define QTOFFLOAD_HAPPENS_AFTER(addr) __tsan_acquire(const_cast<void *>(static_cast<const void *>(addr)))
#else
#define QTOFFLOAD_HAPPENS_BEFORE(addr) ((void)(addr))
#define QTOFFLOAD_HAPPENS_AFTER(addr) ((void)(addr))
#endif
