// SPDX-License-Identifier: MIT
#pragma once

#include <utility>

namespace QtOffload::detail {

// Whether this thread is running a QtOffload job right now (a pool worker, a
// separate thread, a QThreadPool thread inside one of our jobs). Such a
// thread runs no event loop until the job returns, so nothing posted to it
// is delivered: an object made there that needs its event loop, a
// generator, must be moved to its consuming thread.
inline thread_local bool t_runningJob = false;

//! Marks the current thread as running a job while it lives.
class RunningJobScope
{
public:
    RunningJobScope() noexcept
        : m_outer(std::exchange(t_runningJob, true))
    {
    }
    ~RunningJobScope() { t_runningJob = m_outer; }
    RunningJobScope(const RunningJobScope &) = delete;
    RunningJobScope &operator=(const RunningJobScope &) = delete;

private:
    const bool m_outer;
};

inline bool currentThreadRunsAJob() noexcept { return t_runningJob; }

} // namespace QtOffload::detail
