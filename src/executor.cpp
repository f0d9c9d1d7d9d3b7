// SPDX-License-Identifier: MIT
#include <QtOffload/executor.h>
#include <QtOffload/threadpool.h>

#include "qthreadpooljobs_p.h"
#include "separatethread_p.h"

#include <QtCore/QThreadPool>

namespace QtOffload {

namespace {
[[noreturn]] void refuse(detail::JobPtr job, const char *why)
{
    job->cancel();
    throw ShutdownError(why);
}
} // namespace

Executor::Executor() noexcept = default;

Executor::Executor(ThreadPool *pool)
    : m_kind(Kind::Pool)
    , m_target(pool)
{
    if (!pool)
        throw std::invalid_argument("QtOffload: the ThreadPool is null");
}

Executor::Executor(QThreadPool *pool)
    : m_kind(Kind::QtPool)
    , m_target(pool)
{
    if (!pool)
        throw std::invalid_argument("QtOffload: the QThreadPool is null");
}

Executor Executor::separateThread(const QString &namePrefix)
{
    Executor executor;
    executor.m_kind = Kind::Separate;
    executor.m_name = namePrefix;
    return executor;
}

Executor Executor::resolved() const
{
    if (m_kind != Kind::DefaultPool)
        return *this;
    ThreadPool *pool = ThreadPool::defaultPool();
    return pool ? Executor(pool) : *this;
}

ThreadPool *Executor::threadPool() const noexcept
{
    return m_kind == Kind::Pool ? static_cast<ThreadPool *>(m_target.data()) : nullptr;
}

Executor Executor::withPriority(JobPriority priority) const
{
    Executor executor = *this;
    executor.m_priority = priority;
    return executor;
}

void Executor::submit(detail::JobPtr job) const
{
    job->priority = m_priority;
    switch (m_kind) {
    case Kind::DefaultPool: {
        ThreadPool *pool = ThreadPool::defaultPool();
        if (!pool)
            refuse(std::move(job), "QtOffload: the default pool was already destroyed (the process is exiting)");
        detail::SubmitAccess::submit(*pool, std::move(job));
        return;
    }
    case Kind::Pool: {
        auto *pool = static_cast<ThreadPool *>(m_target.data());
        if (!pool)
            refuse(std::move(job), "QtOffload: the ThreadPool this wrapper uses was destroyed");
        detail::SubmitAccess::submit(*pool, std::move(job));
        return;
    }
    case Kind::QtPool: {
        auto *pool = static_cast<QThreadPool *>(m_target.data());
        if (!pool)
            refuse(std::move(job), "QtOffload: the QThreadPool this wrapper uses was destroyed");
        detail::startOnQThreadPool(pool, std::move(job));
        return;
    }
    case Kind::Separate:
        detail::startSeparateThread(std::move(job), m_name);
        return;
    }
}

} // namespace QtOffload
