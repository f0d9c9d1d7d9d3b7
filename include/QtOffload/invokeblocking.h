// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/completion.h>
#include <QtOffload/contextvar.h>

#include <QtCore/QMetaObject>
#include <QtCore/QThread>

namespace QtOffload {

namespace detail {

struct InvokeTarget
{
    QObject *receiver = nullptr;
    QThread *thread = nullptr;
    bool mainEventLoop = false;
    bool receiverIsDisposable = false; //!< made for this call: deleted once the call ran
};
//! Throw std::invalid_argument for null, ShutdownError when the target can no longer run anything.
QTOFFLOAD_EXPORT InvokeTarget invokeTargetFor(QObject *context);
QTOFFLOAD_EXPORT InvokeTarget invokeTargetFor(QThread *thread);
QTOFFLOAD_EXPORT InvokeTarget mainThreadInvokeTarget();

template<typename R>
struct Awaited { using Type = R; };
template<typename T>
struct Awaited<QFuture<T>> { using Type = T; };
template<typename T>
struct Awaited<QCoro::Task<T>> { using Type = T; };

template<typename F>
using InvokeResult = ResultType<std::invoke_result_t<F &>>;

//! Runs \a f on the calling thread (the target's own thread); futures and tasks are awaited in a nested loop.
template<typename F>
auto invokeInline(F &f) -> typename Awaited<InvokeResult<F>>::Type
{
    using R = InvokeResult<F>;
    if constexpr (IsQFuture<R>::value || IsTask<R>::value) {
        auto completion = observe(std::invoke(f));
        completion->waitInEventLoop();
        return completion->take();
    } else {
        return std::invoke(f);
    }
}

template<typename F>
auto invokeBlockingOn(const InvokeTarget &target, F f, std::chrono::milliseconds timeout)
    -> typename Awaited<InvokeResult<F>>::Type
{
    using R = InvokeResult<F>;
    using V = typename Awaited<R>::Type;
    if (QThread::currentThread() == target.thread)
        return invokeInline(f);

    auto completion = std::make_shared<CompletionOf<V>>();
    // If the posted call is dropped unrun (its receiver or thread died), the
    // guard's last copy goes with it and the waiting worker hears about it.
    auto guard = std::make_shared<AbandonGuard>(completion);
    QObject *disposable = target.receiverIsDisposable ? target.receiver : nullptr;
    auto call = [f = std::move(f), completion, guard, disposable, context = Context::capture()]() mutable {
        QTOFFLOAD_HAPPENS_AFTER(completion.get());
        guard->completion.reset();
        if (disposable)
            disposable->deleteLater();
        if (!completion->beginRun())
            return;
        ContextScope scope(context);
        try {
            if constexpr (IsTask<R>::value) {
                // A coroutine lambda's captures live in the lambda object, not in
                // its frame: keep the callable alive until the task finishes.
                auto callable = std::make_shared<F>(std::move(f));
                observeTask(std::invoke(*callable), completion, callable);
            } else if constexpr (IsQFuture<R>::value) {
                observeFuture(std::invoke(f), completion);
            } else if constexpr (std::is_void_v<R>) {
                std::invoke(f);
                completion->succeedWith();
            } else {
                completion->succeedWith(std::invoke(f));
            }
        } catch (...) {
            completion->fail(std::current_exception());
        }
    };
    guard.reset();
    QTOFFLOAD_HAPPENS_BEFORE(completion.get());
    QMetaObject::invokeMethod(target.receiver, std::move(call), Qt::QueuedConnection);
    completion->wait({target.thread, target.mainEventLoop, "invokeBlocking"}, timeout);
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
template<typename F>
auto invokeBlocking(QObject *context, F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::invokeTargetFor(context), std::move(f), timeout);
}

//! invokeBlocking() into \a thread's event loop.
template<typename F>
auto invokeBlocking(QThread *thread, F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::invokeTargetFor(thread), std::move(f), timeout);
}

//! invokeBlocking() into the application's main thread (the seed's "current loop").
template<typename F>
auto invokeBlocking(F f, std::chrono::milliseconds timeout = Forever)
{
    return detail::invokeBlockingOn(detail::mainThreadInvokeTarget(), std::move(f), timeout);
}

} // namespace QtOffload
