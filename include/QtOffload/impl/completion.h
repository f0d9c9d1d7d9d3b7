// SPDX-License-Identifier: MIT
#pragma once

// A one-shot, cross-thread result slot: one side completes it (a value, an
// exception, a cancellation), the other waits for it — blocking with probes
// (invokeBlocking) or in a nested event loop (Entrypoint::run). Futures and
// QCoro tasks are observed into one, so both callers treat them alike.

#include <QtOffload/errors.h>
#include <QtOffload/impl/futurewatch.h>
#include <QtOffload/impl/job.h>

#include <QtCore/QFuture>
#include <QtCore/QPointer>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

class QThread;

namespace QtOffload::detail {

/*!
  Qt 6 marks a future that failed with an exception as cancelled too; this
  tells a real cancel: no exception, or the CancelledError that a cancelled
  QtOffload future carries once it finished.
*/
inline bool isCancellation(const QFuture<void> &future)
{
    if (!future.isCanceled())
        return false;
    QFutureInterfaceBase state = QFutureInterfaceBase::get(future); // shares the future's state
    if (!state.hasException())
        return true;
    try {
        std::rethrow_exception(state.exceptionStore().exception());
    } catch (const CancelledError &) {
        return true;
    } catch (...) {
        return false;
    }
}

class QTOFFLOAD_EXPORT Completion
{
public:
    enum class Status { Pending, Succeeded, Failed, Cancelled, Abandoned };

    virtual ~Completion();

    void succeed() noexcept { finish(Status::Succeeded, {}); }
    void fail(std::exception_ptr error) noexcept { finish(Status::Failed, std::move(error)); }
    void cancel() noexcept { finish(Status::Cancelled, {}); }
    //! The work was dropped without running (its target died). No-op once completed.
    void abandon() noexcept { finish(Status::Abandoned, {}); }

    /*!
      Called by the side that does the work, right before it starts: false
      when the waiter already gave up (timeout, dead target), so work nobody
      waits for any more is never started late.
    */
    bool beginRun() const;

    //! Also fail with CancelledError once \a future is cancelled, even if it never finishes.
    void watchCancellation(const QFuture<void> &future);

    struct WaitTarget
    {
        QThread *thread = nullptr; //!< fail once it has finished
        bool mainEventLoop = false; //!< fail once the application quits
        const char *what = "the target";
    };
    /*!
      Blocks the calling thread until completed, \a timeout passes
      (TimeoutError) or \a target dies (ShutdownError). Then throws what the
      status says, or returns for success.
    */
    void wait(const WaitTarget &target, std::chrono::milliseconds timeout);

    /*!
      Runs a nested event loop in the calling thread until completed, then
      throws what the status says. A watcher registered with setWatcher() in
      this thread is deleted on the way out: no later loop may turn to
      deliver its deleteLater().
    */
    void waitInEventLoop();

    //! The FutureWatch that completes this one, if any.
    void setWatcher(QObject *watcher);

    Status status() const;

protected:
    void throwUnlessSucceeded() const;

private:
    void finish(Status status, std::exception_ptr error) noexcept;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::atomic<bool> m_completed { false }; // m_status != Pending, readable without the lock
    Status m_status = Status::Pending;
    std::exception_ptr m_error;
    QFuture<void> m_watched;
    bool m_watching = false; // a default QFuture reports cancelled, so it can't stand for "none"
    std::function<void()> m_onFinished;
    QPointer<QObject> m_watcher; // touched only in the watcher's thread
};

template<typename T> class CompletionOf final : public Completion
{
public:
    template<typename... A> void succeedWith(A &&...value) noexcept
    {
        try {
            m_value.emplace(std::forward<A>(value)...);
            succeed();
        } catch (...) {
            fail(std::current_exception());
        }
    }
    T take()
    {
        throwUnlessSucceeded();
        return std::move(*m_value);
    }

private:
    std::optional<T> m_value;
};

template<> class CompletionOf<void> final : public Completion
{
public:
    void succeedWith() noexcept { succeed(); }
    void take() { throwUnlessSucceeded(); }
};

//! Abandons the completion if destroyed first — e.g. with a coroutine frame that never resumes.
struct AbandonGuard
{
    explicit AbandonGuard(std::shared_ptr<Completion> c) noexcept
        : completion(std::move(c))
    {
    }
    AbandonGuard(const AbandonGuard &) = delete;
    AbandonGuard &operator=(const AbandonGuard &) = delete;
    ~AbandonGuard()
    {
        if (armed.load(std::memory_order_acquire))
            completion->abandon();
    }
    //! The work ran: whoever drops the last reference, in whichever thread, must not abandon.
    void disarm() noexcept { armed.store(false, std::memory_order_release); }

    const std::shared_ptr<Completion> completion;
    std::atomic<bool> armed { true };
};

template<typename T> struct IsTask : std::false_type
{
};
template<typename T> struct IsTask<QCoro::Task<T>> : std::true_type
{
    using ValueType = T;
};

//! \a keepAlive lives as long as the task runs: the callable whose captures a coroutine lambda uses.
template<typename T>
QCoro::Task<> observeTask(QCoro::Task<T> task, std::shared_ptr<CompletionOf<T>> completion,
                          std::shared_ptr<void> keepAlive = {})
{
    AbandonGuard guard(completion);
    const auto keep = std::move(keepAlive);
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(task);
            completion->succeedWith();
        } else {
            completion->succeedWith(co_await std::move(task));
        }
    } catch (...) {
        completion->fail(std::current_exception());
    }
}

/*!
  Completes \a completion when \a future finishes, or is cancelled without
  an exception (such a future may never say finished). Call it on a thread
  whose event loop runs: the watch lives there.
*/
template<typename T> void observeFuture(QFuture<T> future, const std::shared_ptr<CompletionOf<T>> &completion)
{
    completion->watchCancellation(QFuture<void>(future));
    auto complete = [future, completion](FutureEnd end) mutable {
        try {
            if (end == FutureEnd::CancelledUnfinished) {
                completion->cancel();
            } else if (future.isCanceled() && future.resultCount() == 0) {
                future.waitForFinished(); // rethrows an exception that cancelled it
                completion->cancel();
            } else if constexpr (std::is_void_v<T>) {
                future.waitForFinished();
                completion->succeedWith();
            } else if constexpr (std::is_copy_constructible_v<T>) {
                completion->succeedWith(future.result());
            } else {
                completion->succeedWith(future.takeResult());
            }
        } catch (...) {
            completion->fail(std::current_exception());
        }
    };
    completion->setWatcher(watchFuture(QFuture<void>(future), nullptr, true, std::move(complete)));
}

//! What a completion filled from \a R yields: T for QFuture<T> and QCoro::Task<T>, else R.
template<typename R> struct Awaited
{
    using Type = R;
};
template<typename T> struct Awaited<QFuture<T>>
{
    using Type = T;
};
template<typename T> struct Awaited<QCoro::Task<T>>
{
    using Type = T;
};

template<typename F> using AwaitedResultOf = typename Awaited<ResultType<std::invoke_result_t<F &>>>::Type;

/*!
  The one place that tells a future, a task, void and a value apart: calls
  \a f and completes \a completion from what it returns. A QFuture or a
  QCoro::Task is awaited (observed from the calling thread, whose event loop
  must run); a value or void completes it at once; an exception fails it.
  Returns false when \a f threw.
*/
template<typename F, typename V>
bool completeFromCall(F &&f, const std::shared_ptr<CompletionOf<V>> &completion) noexcept
{
    using R = ResultType<std::invoke_result_t<F &>>;
    try {
        if constexpr (IsTask<R>::value) {
            if constexpr (std::is_lvalue_reference_v<F>) {
                observeTask(std::invoke(f), completion); // the caller keeps f alive until it is done
            } else {
                // A coroutine lambda's captures live in the lambda object, not in
                // its frame: keep the callable alive until the task finishes.
                auto callable = std::make_shared<std::decay_t<F>>(std::forward<F>(f));
                observeTask(std::invoke(*callable), completion, callable);
            }
        } else if constexpr (IsQFuture<R>::value) {
            observeFuture(std::invoke(f), completion);
        } else if constexpr (std::is_void_v<R>) {
            std::invoke(f);
            completion->succeedWith();
        } else {
            completion->succeedWith(std::invoke(f));
        }
        return true;
    } catch (...) {
        completion->fail(std::current_exception());
        return false;
    }
}

//! Starts the awaitable \a value (a QFuture<T> or QCoro::Task<T>) into a completion; returns it.
template<typename V> auto observe(V value)
{
    auto completion = std::make_shared<CompletionOf<typename Awaited<V>::Type>>();
    completeFromCall([value = std::move(value)]() mutable { return std::move(value); }, completion);
    return completion;
}

} // namespace QtOffload::detail
