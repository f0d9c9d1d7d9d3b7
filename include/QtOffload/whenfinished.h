// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/impl/futurewatch.h>

#include <QtCore/QFuture>

#include <exception>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace QtOffload {

namespace detail {
//! Says, with qWarning, why a whenFinished() callback taking the result was not called.
QTOFFLOAD_EXPORT void warnNotDelivered(const QFutureInterfaceBase &future) noexcept;
} // namespace detail

/*!
  Calls \a f on \a context's thread once \a future has finished, for any
  QFuture, whoever finishes it.

  Futures that QtOffload hands out are safe with future.then(context, f)
  too. Others are not on Qt 6.4: its QFuture::then() can run the
  continuation twice, and crash, when another thread finishes the future at
  the moment then() attaches it (QTBUG-118032, fixed in Qt 6.10 and its
  backports; QtConcurrent::run(...).then(ctx, ...) shows it about once per
  million back-to-back calls on a 2-core machine). whenFinished() hears
  the finish the way a QFutureWatcher does, under the future's own mutex,
  so it is race-free for QtConcurrent's futures and a QPromise's alike; and
  it takes one event-loop wake-up per batch of results, where a
  QFutureWatcher takes one posted event per result.

  \a f takes one of:
  - the finished QFuture<T>: always called; result() rethrows the job's
    exception, isCanceled() tells a cancellation;
  - the result (T), or nothing for QFuture<void>: called only when the job
    succeeded; a failure or a cancellation is reported with qWarning instead.

  \a f runs on \a context's thread, in a turn of its delivery lane (see
  deliverylane.h): thousands of results finishing at once are handed out
  a budget at a time, and the thread's timers run between the turns.

  If \a context is destroyed first, \a f is never called. Throws
  std::invalid_argument if \a context is null. Thread: any; \a context's
  thread must run an event loop.
*/
template<typename T, typename F> void whenFinished(const QFuture<T> &future, QObject *context, F &&f)
{
    constexpr bool takesFuture = std::is_invocable_v<std::decay_t<F> &, QFuture<T>>;
    if constexpr (!takesFuture) {
        if constexpr (std::is_void_v<T>)
            static_assert(std::is_invocable_v<std::decay_t<F> &>,
                          "QtOffload::whenFinished: f must take QFuture<void> or nothing");
        else
            static_assert(std::is_invocable_v<std::decay_t<F> &, T>,
                          "QtOffload::whenFinished: f must take QFuture<T> or T");
    }
    if (!context)
        throw std::invalid_argument("QtOffload::whenFinished: the context object is null");

    auto deliver = [future, f = std::forward<F>(f)](detail::FutureEnd) mutable {
        if constexpr (takesFuture) {
            std::invoke(f, future);
        } else if (future.isCanceled()) {
            detail::warnNotDelivered(QFutureInterfaceBase::get(future));
        } else if constexpr (std::is_void_v<T>) {
            std::invoke(f);
        } else {
            std::invoke(f, future.result());
        }
    };
    detail::watchFuture(QFuture<void>(future), context, false, std::move(deliver));
}

} // namespace QtOffload
