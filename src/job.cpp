// SPDX-License-Identifier: MIT
#include <QtOffload/impl/job.h>

#include "errors_p.h"

#include <QtCore/QDebug>

namespace QtOffload::detail {
Job::~Job() = default;

void warnUnhandled(const std::exception_ptr &error) noexcept
{
    qWarning("QtOffload: a job started with ThreadPool::start() threw: %s", describeException(error).c_str());
}
} // namespace QtOffload::detail
