// SPDX-License-Identifier: MIT
#include <QtOffload/job.h>

namespace QtOffload::detail {
Job::~Job() = default;
}
