// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.

#include <QtOffload/impl/deliverylane.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPointer>

#include <functional>

namespace QtOffload::detail {

//! How a watched future ended.
enum class FutureEnd {
    Finished,
    CancelledUnfinished, //!< cancelled (not by an exception), and perhaps never finished: asked for only by a waiter
};

/*!
  The one way QtOffload watches a QFuture: a QFutureWatcher in the receiving
  thread, which Qt 6.4 synchronises correctly for any future, whoever
  finishes it (QFuture::then() is not: QTBUG-118032). whenFinished() and the
  Completion behind invokeBlocking() and Entrypoint::run() both use it.

  It reports once, on the receiving thread, and then deletes itself. It is
  deleted without reporting when its context object is destroyed first.
*/
class QTOFFLOAD_EXPORT FutureWatch final : public QFutureWatcher<void>, private LaneClient
{
public:
    enum class Delivery {
        Direct, //!< the handler runs from the watcher's own event; it must run no user code
        ThroughLane, //!< the handler runs in a turn of the receiving thread's delivery lane
    };
    using Handler = std::function<void(FutureEnd)>;

    /*!
      Watches \a future from \a context's thread, or from the calling thread
      when \a context is null. Thread: any. With \a reportUnfinishedCancel, a
      cancel reports CancelledUnfinished at once instead of waiting for a
      finish that may never come. If the receiving thread ends first, the
      watch is destroyed with its lane, without reporting (null is returned
      when it has finished already). The pointer returned is for a caller on
      the receiving thread: elsewhere the watch may be gone by the time it
      returns.
    */
    static FutureWatch *watch(const QFuture<void> &future, QObject *context, Delivery delivery,
                              bool reportUnfinishedCancel, Handler handler);

protected:
    bool event(QEvent *event) override;

private:
    FutureWatch(QThread *thread, QObject *context, Delivery delivery, Handler handler);
    void report(FutureEnd end);
    bool deliverOne() override;
    void laneRetired() noexcept override;

    const QPointer<QObject> m_context;
    const bool m_hasContext;
    const Delivery m_delivery;
    FutureEnd m_end = FutureEnd::Finished;
    bool m_reported = false;
    Handler m_handler;
};

} // namespace QtOffload::detail
