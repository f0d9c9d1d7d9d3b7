// SPDX-License-Identifier: MIT
// What ThreadPriority means on each platform. On Linux a
// normal (SCHED_OTHER) thread's QThread::setPriority() changes nothing, so
// the kernel's own per-thread knobs are used: the scheduling policy and the
// nice value, both of which Linux keeps per thread.

#include "threadpriority_p.h"

#include <QtCore/QThread>

#if defined(Q_OS_LINUX)
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace QtOffload::detail {

#if defined(Q_OS_LINUX)

BaseScheduling BaseScheduling::ofCurrentThread() noexcept
{
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, id_t(gettid())); // -1 is a valid nice value: errno tells
    return { errno == 0 ? nice : 0 };
}

bool applyThreadPriority(ThreadPriority priority, BaseScheduling base) noexcept
{
    // Background is SCHED_BATCH at the lowest nice level: a batch thread
    // does not preempt a thread that was running when it wakes, and at nice
    // 19 the GUI thread gets the core back as soon as it wants it. Measured
    // (bench_offload --measure grid-100us-background, 4,000 jobs of 100 us on
    // 2 cores): the 1 ms timer's p99 gap 1.1-1.4 ms against 5.0 ms at Normal;
    // at nice 10 it was still 2.9-4.8 ms.
    int policy = SCHED_OTHER;
    int nice = base.nice;
    switch (priority) {
    case ThreadPriority::Normal:
        break;
    case ThreadPriority::Background:
        policy = SCHED_BATCH;
        nice = 19;
        break;
    case ThreadPriority::Idle:
        policy = SCHED_IDLE;
        break;
    }
    const sched_param param {};
    if (pthread_setschedparam(pthread_self(), policy, &param) != 0)
        return false;
    // The nice value of SCHED_IDLE threads is ignored: leave it.
    return policy == SCHED_IDLE || setpriority(PRIO_PROCESS, id_t(gettid()), nice) == 0;
}

#else

BaseScheduling BaseScheduling::ofCurrentThread() noexcept { return {}; }

bool applyThreadPriority(ThreadPriority priority, BaseScheduling) noexcept
{
    QThread *thread = QThread::currentThread();
    switch (priority) {
    case ThreadPriority::Normal:
        thread->setPriority(QThread::NormalPriority);
        break;
    case ThreadPriority::Background:
        thread->setPriority(QThread::LowPriority);
        break;
    case ThreadPriority::Idle:
        thread->setPriority(QThread::IdlePriority);
        break;
    }
#if QT_VERSION >= QT_VERSION_CHECK(6, 9, 0)
    thread->setServiceLevel(priority == ThreadPriority::Normal ? QThread::QualityOfService::Auto
                                                               : QThread::QualityOfService::Eco);
#endif
    return true;
}

#endif

} // namespace QtOffload::detail
