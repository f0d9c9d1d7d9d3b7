// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/impl/job.h>

class QThreadPool;

namespace QtOffload::detail {

//! Runs \a job on \a pool; it is kept here while it runs, so that a shutdown can ask it to stop.
void startOnQThreadPool(QThreadPool *pool, JobPtr job);
//! Asks every job running on a QThreadPool to stop (Job::requestStop()): an Entrypoint's shutdown, the application's
//! end.
void stopQThreadPoolJobs();

} // namespace QtOffload::detail
