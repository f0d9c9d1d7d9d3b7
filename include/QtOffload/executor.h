// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/job.h>

#include <QtCore/QPointer>
#include <QtCore/QString>

class QThreadPool;

namespace QtOffload {

class ThreadPool;

/*!
  Where a job runs: the default pool (resolved when the job is submitted), a
  named ThreadPool or QThreadPool, or a new dedicated QThread per job. Every
  wrapper, generator and ThreadPool::run() submits through submit(), the one
  submit path of the module.
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

    bool isSeparateThread() const noexcept { return m_kind == Kind::Separate; }
    bool isDefaultPool() const noexcept { return m_kind == Kind::DefaultPool; }

    /*!
      Queues \a job. Throws ShutdownError when the target pool is shutting
      down or was destroyed; the job is then cancelled (its future reports
      cancelled) so nothing waits on it forever.
    */
    void submit(detail::JobPtr job) const;

private:
    enum class Kind { DefaultPool, Pool, QtPool, Separate };
    Kind m_kind = Kind::DefaultPool;
    QPointer<QObject> m_target;
    QString m_name;
};

namespace detail {
/*!
  Builds the job for f(args...) and submits it; the returned future reports
  its result.
*/
template<typename F, typename... Args>
auto submitCall(const Executor &executor, F &&f, Args &&...args)
{
    auto body = bindArguments(std::forward<F>(f), std::forward<Args>(args)...);
    using R = ResultType<decltype(body())>;
    auto job = std::make_unique<FutureJob<R, decltype(body)>>(std::move(body));
    QFuture<R> future = job->future();
    executor.submit(std::move(job));
    return future;
}
} // namespace detail

} // namespace QtOffload
