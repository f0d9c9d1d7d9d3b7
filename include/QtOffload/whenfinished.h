// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureWatcher>
#include <QtCore/QThread>

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
  million back-to-back calls on a 2-core machine). whenFinished() goes
  through a QFutureWatcher, which Qt 6.4 synchronises correctly, so it is
  race-free for QtConcurrent's futures and a QPromise's alike.

  \a f takes one of:
  - the finished QFuture<T>: always called; result() rethrows the job's
    exception, isCanceled() tells a cancellation;
  - the result (T), or nothing for QFuture<void>: called only when the job
    succeeded; a failure or a cancellation is reported with qWarning instead.

  If \a context is destroyed first, \a f is never called. Throws
  std::invalid_argument if \a context is null. Thread: any; \a f runs on
  \a context's thread, whose event loop must run.
*/
template<typename T, typename F>
void whenFinished(const QFuture<T> &future, QObject *context, F &&f)
{
    constexpr bool takesFuture = std::is_invocable_v<std::decay_t<F> &, QFuture<T>>;
    if constexpr (!takesFuture) {
        if constexpr (std::is_void_v<T>)
            static_assert(std::is_invocable_v<std::decay_t<F> &>, "QtOffload::whenFinished: f must take QFuture<void> or nothing");
        else
            static_assert(std::is_invocable_v<std::decay_t<F> &, T>, "QtOffload::whenFinished: f must take QFuture<T> or T");
    }
    if (!context)
        throw std::invalid_argument("QtOffload::whenFinished: the context object is null");

    auto *watcher = new QFutureWatcher<T>();
    watcher->moveToThread(context->thread());
    QObject::connect(context, &QObject::destroyed, watcher, &QObject::deleteLater);
    QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                     [watcher, f = std::forward<F>(f)]() mutable {
                         watcher->deleteLater();
                         const QFuture<T> finished = watcher->future();
                         if constexpr (takesFuture) {
                             std::invoke(f, finished);
                         } else if (finished.isCanceled()) {
                             detail::warnNotDelivered(QFutureInterfaceBase::get(finished));
                         } else if constexpr (std::is_void_v<T>) {
                             std::invoke(f);
                         } else {
                             std::invoke(f, finished.result());
                         }
                     });
    if (QThread::currentThread() == context->thread()) {
        watcher->setFuture(future);
    } else {
        // A QObject is set up in its own thread; the watcher reports there anyway.
        QMetaObject::invokeMethod(watcher, [watcher, future] { watcher->setFuture(future); }, Qt::QueuedConnection);
    }
}

} // namespace QtOffload
