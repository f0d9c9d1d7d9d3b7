// SPDX-License-Identifier: MIT
// The QThreadPool executor: a job runs as a QRunnable. QThreadPool cannot
// list what it runs, so each runnable keeps itself in a list here while it
// runs; stopping goes down that list, as it goes down the separate threads'.

#include "qthreadpooljobs_p.h"

#include "appexit_p.h"
#include "jobthread_p.h"
#include "tsan_p.h"

#include <QtCore/QRunnable>
#include <QtCore/QThreadPool>

#include <algorithm>
#include <limits>
#include <mutex>
#include <vector>

namespace QtOffload::detail {

namespace {

class JobRunnable;

struct RunningOnQThreadPools
{
    std::mutex mutex;
    std::vector<JobRunnable *> running;
};

RunningOnQThreadPools &runningOnQThreadPools()
{
    // Never destroyed: a QThreadPool may still run one of our jobs at exit.
    static RunningOnQThreadPools *const instance = new RunningOnQThreadPools;
    return *instance;
}

class JobRunnable final : public QRunnable
{
public:
    explicit JobRunnable(JobPtr job)
        : m_job(std::move(job))
    {
        setAutoDelete(true);
        QTOFFLOAD_HAPPENS_BEFORE(this); // QThreadPool's hand-over is invisible to TSan
    }

    void run() override
    {
        QTOFFLOAD_HAPPENS_AFTER(this);
        RunningOnQThreadPools &list = runningOnQThreadPools();
        {
            std::lock_guard lock(list.mutex);
            list.running.push_back(this);
        }
        {
            const RunningJobScope running;
            m_job->run();
        }
        // A stop request holds the list's lock while it calls the job: the job outlives it.
        std::lock_guard lock(list.mutex);
        list.running.erase(std::find(list.running.begin(), list.running.end(), this));
    }

    void requestStop() noexcept { m_job->requestStop(); }

private:
    JobPtr m_job;
};

} // namespace

void startOnQThreadPool(QThreadPool *pool, JobPtr job)
{
    atApplicationExit(stopQThreadPoolJobs); // before the application waits for its global pool
    // QThreadPool runs higher priorities first; Interactive goes ahead of every other priority.
    const int priority = job->priority == JobPriority::Interactive ? std::numeric_limits<int>::max() : 0;
    pool->start(new JobRunnable(std::move(job)), priority);
}

void stopQThreadPoolJobs()
{
    RunningOnQThreadPools &list = runningOnQThreadPools();
    std::lock_guard lock(list.mutex);
    for (JobRunnable *runnable : list.running)
        runnable->requestStop();
}

} // namespace QtOffload::detail
