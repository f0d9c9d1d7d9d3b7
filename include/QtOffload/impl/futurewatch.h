// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.

#include <QtOffload/qtoffloadglobal.h>

#include <QtCore/QFuture>

#include <functional>

namespace QtOffload::detail {

//! How a watched future ended.
enum class FutureEnd {
    Finished,
    CancelledUnfinished, //!< cancelled (not by an exception), and perhaps never finished: asked for only by a waiter
};

using FutureEndHandler = std::function<void(FutureEnd)>;

/*!
  The one way QtOffload watches a QFuture, for any future, whoever finishes
  it (QFuture::then() is not safe for that on Qt 6.4: QTBUG-118032).
  whenFinished(), QtJob and the Completion behind invokeBlocking() and
  Entrypoint::run() use it.

  Calls \a handler once, on \a context's thread (the calling thread when
  \a context is null), in a turn of that thread's delivery lane; the
  finishing thread's one act is to schedule the watch there (see
  src/futurewatch.cpp). With \a reportUnfinishedCancel, a cancel reports
  CancelledUnfinished at once instead of waiting for a finish that may never
  come. The handler is not called when \a context is destroyed first, nor
  when the receiving thread ends first: the watch is destroyed with its
  lane. Thread: any.

  Returns the watch, a QObject living in the receiving thread, for a caller
  on that thread that may drop it early by deleting it; elsewhere it may be
  gone by the time this returns. Null when that thread has finished already.
*/
QTOFFLOAD_EXPORT QObject *watchFuture(const QFuture<void> &future, QObject *context, bool reportUnfinishedCancel,
                                      FutureEndHandler handler);

} // namespace QtOffload::detail
