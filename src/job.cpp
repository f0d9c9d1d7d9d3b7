// SPDX-License-Identifier: MIT
#include <QtOffload/job.h>

#include "spin_p.h"

#include <QtCore/QDebug>

namespace QtOffload::detail {
Job::~Job() = default;

void waitForContinuationAttach(std::chrono::steady_clock::time_point handedOut) noexcept
{
    const auto attached = handedOut + continuationAttachGuard;
    while (std::chrono::steady_clock::now() < attached) {
        for (int i = 0; i < 16; ++i)
            cpuRelax();
    }
}

void warnUnhandled(const std::exception_ptr &error) noexcept
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        qWarning("QtOffload: a job started with ThreadPool::start() threw: %s", e.what());
    } catch (...) {
        qWarning("QtOffload: a job started with ThreadPool::start() threw a non-std::exception");
    }
}
} // namespace QtOffload::detail
