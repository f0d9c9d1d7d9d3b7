// SPDX-License-Identifier: MIT
#include <QtOffload/impl/futurewatch.h>

#include "tsan_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QThread>

namespace QtOffload::detail {

namespace {
//! Sets a FutureWatch made on another thread up in its own.
class SetUpEvent final : public QEvent
{
public:
    explicit SetUpEvent(QFuture<void> watched)
        : QEvent(type())
        , future(std::move(watched))
    {
    }
    static QEvent::Type type()
    {
        static const auto registered = QEvent::Type(QEvent::registerEventType());
        return registered;
    }
    const QFuture<void> future;
};
} // namespace

bool FutureWatch::event(QEvent *event)
{
    if (event->type() != SetUpEvent::type())
        return QFutureWatcher<void>::event(event);
    QTOFFLOAD_HAPPENS_AFTER(event);
    setFuture(static_cast<SetUpEvent *>(event)->future);
    return true;
}

FutureWatch::FutureWatch(QThread *thread, QObject *context, Delivery delivery, Handler handler)
    : LaneClient(thread)
    , m_context(context)
    , m_hasContext(context != nullptr)
    , m_delivery(delivery)
    , m_handler(std::move(handler))
{
}

FutureWatch *FutureWatch::watch(const QFuture<void> &future, QObject *context, Delivery delivery,
                                bool reportUnfinishedCancel, Handler handler)
{
    QThread *thread = context ? context->thread() : QThread::currentThread();
    auto *watch = new FutureWatch(thread, context, delivery, std::move(handler));
    watch->moveToThread(thread);
    if (context)
        QObject::connect(context, &QObject::destroyed, watch, [watch] { watch->deleteOnLane(); });
    QObject::connect(watch, &QFutureWatcherBase::finished, watch, [watch] { watch->report(FutureEnd::Finished); });
    if (reportUnfinishedCancel) {
        QObject::connect(watch, &QFutureWatcherBase::canceled, watch, [watch] {
            // Qt marks a future that failed with an exception cancelled too: that one finishes.
            if (!QFutureInterfaceBase::get(watch->future()).hasException())
                watch->report(FutureEnd::CancelledUnfinished);
        });
    }
    // If the thread ends first, neither the set-up event nor the future's
    // callouts will be delivered there, and the watch would leak with the
    // future it holds: the lane destroys it as it retires.
    if (QThread::currentThread() == thread) {
        watch->setFuture(future);
        (void)watch->watchLaneEnd(); // a retired lane here: the thread delivers nothing any more either way
        return watch;
    }
    // A QFutureWatcher is set up in its own thread; it reports there anyway.
    // Handed over through Qt's posted events, which TSan cannot see. Once
    // posted, the watch may report and destroy itself there at any moment.
    auto *setUp = new SetUpEvent(future);
    QTOFFLOAD_HAPPENS_BEFORE(setUp);
    const bool handedOver = watch->watchLaneEnd([watch, setUp] { QCoreApplication::postEvent(watch, setUp); });
    if (!handedOver) {
        // Its thread has finished: nothing will ever be delivered there.
        delete setUp;
        delete watch;
        return nullptr;
    }
    return watch;
}

void FutureWatch::report(FutureEnd end)
{
    if (m_reported)
        return; // a cancel, then the finish
    m_reported = true;
    m_end = end;
    if (m_delivery == Delivery::ThroughLane) {
        scheduleDelivery();
        return;
    }
    const Handler handler = std::exchange(m_handler, nullptr);
    deleteLater();
    handler(end);
}

void FutureWatch::laneRetired() noexcept
{
    delete this; // nothing will be delivered in its thread any more: it goes without reporting
}

bool FutureWatch::deliverOne()
{
    const Handler handler = std::exchange(m_handler, nullptr);
    const bool contextAlive = !m_hasContext || m_context;
    const FutureEnd end = m_end;
    // A lane turn is not one of this watcher's own events: it can go at once.
    delete this;
    if (handler && contextAlive)
        handler(end);
    return false;
}

} // namespace QtOffload::detail
