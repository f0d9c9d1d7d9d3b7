// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/impl/job.h>

#include <QtCore/QPointer>
#include <QtCore/QString>

class QThreadPool;

namespace QtOffload {

class ThreadPool;

/*!
  Where a job runs: the default pool (resolved when the job is submitted), a
  named ThreadPool or QThreadPool, or a new dedicated QThread per job. The
  wrappers and the generators hand their jobs to one; ThreadPool::run()
  hands its job to its pool directly.
*/
class QTOFFLOAD_EXPORT Executor
{
public:
    //! ThreadPool::defaultPool(), looked up at each submission.
    Executor() noexcept;
    //! Throws std::invalid_argument when \a pool is null.
    Executor(ThreadPool *pool);
    //! Throws std::invalid_argument when \a pool is null.
    Executor(QThreadPool *pool);

    //! Each job gets a new QThread named \a namePrefix + " #n"; it ends when the job returns.
    static Executor separateThread(const QString &namePrefix = QStringLiteral("QtOffload separate"));

    //! True for separateThread(): each job gets a QThread of its own.
    bool isSeparateThread() const noexcept { return m_kind == Kind::Separate; }
    //! True for Executor(): the default pool, looked up when a job is submitted.
    bool isDefaultPool() const noexcept { return m_kind == Kind::DefaultPool; }

    /*!
      This executor with the default pool looked up now, so that later
      submissions go to the same pool; any other executor is returned as it
      is. Thread: any.
    */
    Executor resolved() const;
    /*!
      The ThreadPool submit() hands jobs to; null for the default pool not
      yet resolved(), a QThreadPool or a separate thread.
    */
    ThreadPool *threadPool() const noexcept;

    /*!
      This executor with its jobs submitted at \a priority (see JobPriority);
      an executor's priority is JobPriority::Normal unless this set it.
    */
    [[nodiscard]] Executor withPriority(JobPriority priority) const;
    //! The priority its jobs are submitted with.
    JobPriority priority() const noexcept { return m_priority; }

private:
    friend struct detail::SubmitAccess;
    /*!
      Queues \a job. Throws ShutdownError when the target pool is shutting
      down or was destroyed; the job is then cancelled (its future reports
      cancelled) so nothing waits on it forever.
    */
    void submit(detail::JobPtr job) const;

    enum class Kind { DefaultPool, Pool, QtPool, Separate };
    Kind m_kind = Kind::DefaultPool;
    JobPriority m_priority = JobPriority::Normal;
    QPointer<QObject> m_target;
    QString m_name;
};

} // namespace QtOffload
