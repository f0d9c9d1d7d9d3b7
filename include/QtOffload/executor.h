// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/job.h>

#include <QtCore/QPointer>
#include <QtCore/QString>

#include <type_traits>

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

//! f(StopToken, args...) is how \a Fn is called: it is handed a stop token first.
template<typename Fn, typename... Args>
concept TakesStopToken = std::is_invocable_v < std::decay_t<Fn>
&, StopToken, std::decay_t<Args> &&... > ;

//! f(JobControl &, args...) is how \a Fn is called: it is handed the job's control first.
template<typename Fn, typename... Args>
concept TakesJobControl = std::is_invocable_v < std::decay_t<Fn>
&, JobControl &, std::decay_t<Args> &&... > ;

template<typename Body> struct BodyResult
{
    using Type = ResultType<std::invoke_result_t<Body &>>;
};
template<typename Body>
requires std::is_invocable_v<Body &, JobControl &>
struct BodyResult<Body>
{
    using Type = ResultType<std::invoke_result_t<Body &, JobControl &>>;
};

/*!
  Submits \a body as one job; \a stop (none or one) is requested by the
  future's cancel() and at shutdown. A body taking JobControl & gets the job's.
*/
template<typename Body, typename... Stop> auto submitBody(const Executor &executor, Body body, Stop... stop)
{
    static_assert(sizeof...(Stop) <= 1 && (std::is_same_v<Stop, StopSource> && ...));
    using R = typename BodyResult<Body>::Type;
    auto job = std::make_unique<FutureJob<R, Body>>(std::move(body));
    if constexpr (FutureJob<R, Body>::Controlled) {
        static_assert(sizeof...(Stop) == 1);
        (job->setControl(std::move(stop)), ...);
    } else {
        (job->setStopSource(std::move(stop)), ...);
    }
    QFuture<R> future = job->future();
    executor.submit(std::move(job));
    return future;
}

/*!
  Builds the job for f(args...), f(jobControl, args...) when f takes a
  JobControl & first, or f(stopToken, args...) when it takes a StopToken
  first, and submits it; the returned future reports its result.
*/
template<typename F, typename... Args> auto submitCall(const Executor &executor, F &&f, Args &&...args)
{
    if constexpr (TakesJobControl<F, Args...>) {
        auto body = [f = std::forward<F>(f), tuple = std::make_tuple(std::forward<Args>(args)...)](
                        JobControl &control) mutable -> decltype(auto) {
            return std::apply(
                [&](auto &&...unpacked) -> decltype(auto) { return std::invoke(f, control, std::move(unpacked)...); },
                std::move(tuple));
        };
        return submitBody(executor, std::move(body), StopSource());
    } else if constexpr (TakesStopToken<F, Args...>) {
        StopSource stop;
        StopToken token = stop.token();
        return submitBody(executor, bindArguments(std::forward<F>(f), std::move(token), std::forward<Args>(args)...),
                          std::move(stop));
    } else if constexpr (std::is_invocable_v<std::decay_t<F> &, std::decay_t<Args> &&...>) {
        return submitBody(executor, bindArguments(std::forward<F>(f), std::forward<Args>(args)...));
    } else {
        static_assert(std::is_invocable_v<std::decay_t<F> &, std::decay_t<Args> &&...>,
                      "QtOffload: the job's callable cannot be called with these arguments as a job calls it. Each "
                      "argument is copied or moved into the job and handed to the callable as an rvalue, so a "
                      "parameter that takes a non-const reference (T &) cannot bind: take it by value or by "
                      "const T &, or pass std::ref(x) to share the caller's object (which must then outlive the job)");
    }
}
} // namespace detail

} // namespace QtOffload
