// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/contextvar.h>
#include <QtOffload/impl/completion.h>

#include <QtCore/QMetaObject>
#include <QtCore/QThread>

namespace QtOffload {

namespace detail {

struct InvokeTarget
{
    QThread *thread = nullptr;
    QObject *context = nullptr; //!< must still live when the call runs (null: a thread was named)
    bool mainEventLoop = false;
};
//! Throw std::invalid_argument for null, ShutdownError when the target can no longer run anything.
QTOFFLOAD_EXPORT InvokeTarget invokeTargetFor(QObject *context);
QTOFFLOAD_EXPORT InvokeTarget invokeTargetFor(QThread *thread);
QTOFFLOAD_EXPORT InvokeTarget mainThreadInvokeTarget();

/*!
  Runs \a job in \a thread's event loop: run() there, or cancel() if the
  event is dropped unrun (its thread ended with it still queued).
*/
QTOFFLOAD_EXPORT void postToEventLoop(QThread *thread, JobPtr job);

//! Runs \a f on the calling thread (the target's own thread); futures and tasks are awaited in a nested loop.
template<typename F> AwaitedResultOf<F> invokeInline(F &f)
{
    auto completion = std::make_shared<CompletionOf<AwaitedResultOf<F>>>();
    completeFromCall(f, completion);
    completion->waitInEventLoop();
    return completion->take();
}

//! The job invokeBlocking() posts: runs f in the target thread and completes the caller's wait.
template<typename F, typename V> class InvokeJob final : public Job
{
public:
    InvokeJob(F f, std::shared_ptr<CompletionOf<V>> completion, QObject *context)
        : m_f(std::move(f))
        , m_completion(std::move(completion))
        , m_context(context)
        , m_hasContext(context != nullptr)
    {
    }

    JobOutcome run() noexcept override
    {
        if ((m_hasContext && !m_context) || !m_completion->beginRun()) {
            m_completion->abandon(); // context destroyed first, or the caller gave up
            return JobOutcome::Cancelled;
        }
        ContextScope scope(m_snapshot);
        return completeFromCall(std::move(m_f), m_completion) ? JobOutcome::Succeeded : JobOutcome::Failed;
    }

    void cancel() noexcept override { m_completion->abandon(); }

private:
    F m_f;
    std::shared_ptr<CompletionOf<V>> m_completion;
    QPointer<QObject> m_context;
    bool m_hasContext;
    Context m_snapshot = Context::capture();
};

template<typename F>
auto invokeBlockingOn(const InvokeTarget &target, F f, std::chrono::milliseconds timeout) -> AwaitedResultOf<F>
{
    using V = AwaitedResultOf<F>;
    if (QThread::currentThread() == target.thread)
        return invokeInline(f);

    auto completion = std::make_shared<CompletionOf<V>>();
    postToEventLoop(target.thread, std::make_unique<InvokeJob<F, V>>(std::move(f), completion, target.context));
    completion->wait({ target.thread, target.mainEventLoop, "invokeBlocking" }, timeout);
    return completion->take();
}

} // namespace detail

/*!
  The seed's sync_wait_coroutine. From a worker, runs \a f in \a context's
  thread (through its event loop) and blocks the caller until it is done;
  returns f's result (move-only too) or rethrows its exception as its own type.

  If f returns QFuture<T> or QCoro::Task<T>, the caller also waits for that
  to finish and gets T, while the target thread keeps processing events.
  A cancelled future throws CancelledError.

  Called on the target thread itself, f runs inline (a returned future or
  task is awaited in a nested event loop) instead of deadlocking.

  Errors: std::invalid_argument for a null context; ShutdownError when the
  context is destroyed before f ran, the target thread has finished or the
  application quits; TimeoutError after \a timeout.

  \warning If the target thread blocks waiting for the caller (for example
  the GUI thread calls waitForFinished() on the very job that is inside
  invokeBlocking), both wait for each other until \a timeout; give one when
  that can happen.

  The caller's ContextVar values are visible to f.
*/
template<typename F> auto invokeBlocking(QObject *context, F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::invokeTargetFor(context), std::move(f), timeout);
}

//! invokeBlocking() into \a thread's event loop.
template<typename F> auto invokeBlocking(QThread *thread, F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::invokeTargetFor(thread), std::move(f), timeout);
}

//! invokeBlocking() into the application's main thread (the seed's "current loop").
template<typename F> auto invokeBlocking(F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::mainThreadInvokeTarget(), std::move(f), timeout);
}

} // namespace QtOffload
