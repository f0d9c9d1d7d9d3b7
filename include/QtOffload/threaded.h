// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <type_traits>

namespace QtOffload {

namespace detail {

//! f takes neither a StopToken nor a JobControl first.
template<typename Fn, typename... Args>
concept TakesOnlyItsArguments = !TakesStopToken<Fn, Args...> && !TakesJobControl<Fn, Args...>;

//! The seed's @threaded on a generator function returns an IteratorWrapper.
template<typename Fn, typename... Args>
concept ReturnsQCoroGenerator = TakesOnlyItsArguments<Fn, Args...> && IsQCoroGenerator<BoundResult<Fn, Args...>>::value;

//! What threaded() and threadedSeparate() return: each call submits one job.
template<typename Fn>
class [[nodiscard("threaded(f) only wraps f: call the wrapper, threaded(f)(args...), to submit the job")]] ThreadedCall
{
    static_assert(std::is_copy_constructible_v<Fn>,
                  "QtOffload::threaded: the callable must be copyable (each call runs its own copy)");

public:
    ThreadedCall(Executor executor, Fn fn)
        : m_executor(std::move(executor))
        , m_fn(std::move(fn))
    {
    }

    template<typename... Args>
    [[nodiscard("the future is the only way to learn the job's result or failure")]] auto operator()(Args &&...args)
        const
    {
        // Each job calls its own copy of f, so a mutable lambda is fine.
        if constexpr (ReturnsQCoroGenerator<Fn, Args...>)
            return makeGenerator<void>(m_executor, defaultIterableMaxSize(), m_fn, std::forward<Args>(args)...);
        else
            return submitCall(m_executor, m_fn, std::forward<Args>(args)...);
    }

    /*!
      This wrapper with its jobs submitted at \a priority:
      threaded(f).withPriority(JobPriority::Interactive)(args...) starts
      ahead of the pool's Normal jobs (see JobPriority).
    */
    [[nodiscard]] ThreadedCall withPriority(JobPriority priority) const
    {
        return ThreadedCall(m_executor.withPriority(priority), m_fn);
    }

private:
    Executor m_executor;
    Fn m_fn;
};

} // namespace detail

/*!
  The seed's @threaded. Wraps a blocking callable (function, member function
  pointer, functor, lambda, std::function); each call of the result
  schedules f(args...) on the default pool at once and returns QFuture<R>.

  - Arguments are decay-copied or moved into the job when the wrapper is
    called; a parameter taking a non-const reference does not compile (pass
    std::ref explicitly if you really mean it).
  - f's exception is rethrown, as its own type, by result(),
    waitForFinished(), .then()/.onFailed() and co_await.
  - Cancelling the future before the job starts means f never runs.
  - Back on a context object's thread: whenFinished(future, context, slot),
    or future.then(context, slot): QtOffload finishes its futures so that
    Qt 6.4's then() race (QTBUG-118032) cannot hit them. The future that
    then() returns is Qt's own and keeps the race there: chain further
    inside the continuation, or with then(context, ...), or whenFinished().
  - If f takes a StopToken first, one is passed; the future's cancel()
    requests the stop.
  - If f takes a `JobControl &` first, it gets the job's control: progress
    the future reports (QFutureWatcher::progressValueChanged), a pause check
    point for QFuture::suspend()/resume(), and the stop request.
  - If f returns QCoro::Generator<T>, the call returns a generator
    (std::unique_ptr<TypedGenerator<T>>) with the default buffer of 1024
    chunks (QTOFFLOAD_ITERABLE_MAX_SIZE), as the seed's decorator does.
  - Every ContextVar is captured at the call and seen by the job.

  Calling the wrapper throws ShutdownError when the pool is being destroyed.
*/
template<typename F> auto threaded(F f) { return detail::ThreadedCall<F>(Executor(), std::move(f)); }

//! threaded() on a named executor: a ThreadPool*, a QThreadPool* or an Executor. Throws std::invalid_argument for a
//! null pool.
template<typename F> auto threaded(Executor executor, F f)
{
    return detail::ThreadedCall<F>(std::move(executor), std::move(f));
}
template<typename F> auto threaded(ThreadPool *pool, F f)
{
    return detail::ThreadedCall<F>(Executor(pool), std::move(f));
}
template<typename F> auto threaded(QThreadPool *pool, F f)
{
    return detail::ThreadedCall<F>(Executor(pool), std::move(f));
}

/*!
  The seed's @threaded_separate: like threaded(), but every call runs on a
  new QThread named "QtOffload separate #n", which ends when f returns. It
  never takes a pool slot, so long loops cannot starve the pool. If f's first
  parameter is a StopToken, a stop is requested by the future's cancel(), by
  the Entrypoint's shutdown, or at application exit.
*/
template<typename F> auto threadedSeparate(F f)
{
    return detail::ThreadedCall<F>(Executor::separateThread(), std::move(f));
}

} // namespace QtOffload
