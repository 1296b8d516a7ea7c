#ifndef QEFF_BASE_TSAN_H_
#define QEFF_BASE_TSAN_H_

// Happens-before edges for ThreadSanitizer (--config=tsan) that a library
// makes where TSan cannot see them: Debian's oneTBB is not instrumented, so
// the fork and join of tbb::parallel_for and task_arena::execute (an atomic
// inside libtbb.so) are invisible and every write of a parallel chunk looks
// like a race with the caller's later read. QEFF_TSAN_RELEASE(p) before the
// edge and QEFF_TSAN_ACQUIRE(p) after it, on the same address, state the
// ordering that oneTBB documents. Only for edges a library guarantees; never
// to silence a report. No-ops in every other build.
#if defined(__SANITIZE_THREAD__)
#define QEFF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QEFF_TSAN 1
#endif
#endif

#ifdef QEFF_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define QEFF_TSAN_ACQUIRE(p) __tsan_acquire(static_cast<void*>(p))
#define QEFF_TSAN_RELEASE(p) __tsan_release(static_cast<void*>(p))
#else
#define QEFF_TSAN_ACQUIRE(p) ((void)(p))
#define QEFF_TSAN_RELEASE(p) ((void)(p))
#endif

#endif  // QEFF_BASE_TSAN_H_
