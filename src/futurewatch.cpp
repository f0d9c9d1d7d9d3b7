// SPDX-License-Identifier: MIT
// Watching a future: finish → Qt's callout on the finishing thread → the
// receiving thread's delivery lane → the handler.
//
// A QFutureWatcher takes two posted events per result: Qt posts its callout
// event to the watcher, and the watcher's slot would then schedule the
// lane, a second trip through the event loop. Under CPU contention every
// trip is a chance to lose the core, and whenFinished() round trips were
// 1.7x (one busy process) to 4x (two) slower than a QFutureWatcher's own.
// So the watch is Qt's QFutureCallOutInterface itself, the private hook a
// QFutureWatcher uses: the finishing thread schedules the lane directly, and
// a lane already woken for another result posts nothing, so a batch of
// results finishing together costs one wake-up. The price is coupling to
// QFutureInterfaceBasePrivate, which QtOffload reaches already on every Qt
// version (src/futureinternals_p.h); its callout interface is exported for
// outside users (QtJambi), and its outputConnections and m_mutex have kept
// their meaning since Qt 4.
//
// Qt calls postCallOutEvent() with the future's m_mutex held, and the lane
// takes its own mutex inside it; the lane never takes a future's mutex
// while it holds its own, so the order is one way.

#include <QtOffload/impl/deliverylane.h>
#include <QtOffload/impl/finishfuture.h>
#include <QtOffload/impl/futurewatch.h>

#include "futureinternals_p.h"
#include "tsan_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QPointer>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>

namespace QtOffload::detail {

namespace {

class FutureWatch final : public QObject, private QFutureCallOutInterface, private LaneClient
{
public:
    FutureWatch(const QFuture<void> &future, QThread *thread, QObject *context, bool reportUnfinishedCancel,
                FutureEndHandler handler)
        : LaneClient(thread)
        , m_future(future)
        , m_d(futurePrivate(QFutureInterfaceBase::get(m_future)))
        , m_context(context)
        , m_hasContext(context != nullptr)
        , m_reportUnfinishedCancel(reportUnfinishedCancel)
        , m_handler(std::move(handler))
    {
    }
    ~FutureWatch() override;

    //! See watchFuture().
    static FutureWatch *start(FutureWatch *watch, QObject *context);

protected:
    bool event(QEvent *event) override;

private:
    //! Starts hearing the future's callouts; from here the watch may be delivered, and destroyed, in its thread.
    void connectToFuture();
    void postCallOutEvent(const QFutureCallOutEvent &callOut) override;
    void callOutInterfaceDisconnected() override { }
    bool deliverOne() override;
    void laneRetired() noexcept override { delete this; } // nothing is delivered in its thread any more
    //! Whether the future has ended in a way the handler is told about. Under the future's m_mutex.
    bool hasEndedLocked() const;

    const QFuture<void> m_future;
    QFutureInterfaceBasePrivate *const m_d; // m_future's, kept alive by it
    const QPointer<QObject> m_context;
    const bool m_hasContext;
    const bool m_reportUnfinishedCancel;
    FutureEndHandler m_handler;
};

/*!
  The future's m_mutex, which Qt also takes in its own uninstrumented code
  (sending callouts, reporting the finish): our critical sections tell TSan
  what the mutex orders, as if Qt's were instrumented too.
*/
class FutureLock
{
public:
    explicit FutureLock(QFutureInterfaceBasePrivate *d)
        : m_d(d)
        , m_lock(&d->m_mutex)
    {
        QTOFFLOAD_HAPPENS_AFTER(m_d);
    }
    ~FutureLock() { QTOFFLOAD_HAPPENS_BEFORE(m_d); }
    FutureLock(const FutureLock &) = delete;
    FutureLock &operator=(const FutureLock &) = delete;

private:
    QFutureInterfaceBasePrivate *const m_d;
    QMutexLocker<QMutex> m_lock;
};

//! Connects a FutureWatch made on another thread in its own.
QEvent::Type connectEventType()
{
    static const auto type = QEvent::Type(QEvent::registerEventType());
    return type;
}

FutureWatch::~FutureWatch()
{
    // After this no callout is running (Qt sends them under m_mutex), and none will come.
    const FutureLock lock(m_d);
    m_d->outputConnections.removeOne(static_cast<QFutureCallOutInterface *>(this));
}

void FutureWatch::connectToFuture()
{
    const FutureLock lock(m_d);
    m_d->outputConnections.append(static_cast<QFutureCallOutInterface *>(this));
    QTOFFLOAD_HAPPENS_BEFORE(static_cast<QFutureCallOutInterface *>(this));
    if (!hasEndedLocked())
        return;
    scheduleDelivery(); // ended before: no callout will say so
}

FutureWatch *FutureWatch::start(FutureWatch *watch, QObject *context)
{
    if (context)
        QObject::connect(context, &QObject::destroyed, watch, [watch] { watch->deleteOnLane(); });
    if (QThread::currentThread() == watch->thread()) {
        // No turn of this thread's lane runs until this returns: the order of the two steps does not matter.
        (void)watch->watchLaneEnd(); // a retired lane here: the thread delivers nothing any more either way
        watch->connectToFuture();
        return watch;
    }
    // Connected in its own thread, so that the lane that destroys it as it
    // retires cannot do so while this thread connects it. Handed over
    // through Qt's posted events, which TSan cannot see; once posted, the
    // watch may be delivered and destroyed there at any moment.
    auto *connect = new QEvent(connectEventType());
    QTOFFLOAD_HAPPENS_BEFORE(watch);
    if (watch->watchLaneEnd([watch, connect] { QCoreApplication::postEvent(watch, connect); }))
        return watch;
    delete connect; // the thread has finished: nothing will be delivered there
    delete watch;
    return nullptr;
}

bool FutureWatch::event(QEvent *event)
{
    if (event->type() != connectEventType())
        return QObject::event(event);
    QTOFFLOAD_HAPPENS_AFTER(this);
    connectToFuture();
    return true;
}

bool FutureWatch::hasEndedLocked() const
{
    if (m_future.isFinished())
        return true;
    // Qt marks a future that failed with an exception cancelled too: that one finishes.
    return m_reportUnfinishedCancel && m_future.isCanceled() && !m_d->hasException;
}

void FutureWatch::postCallOutEvent(const QFutureCallOutEvent &callOut)
{
    // Qt holds m_mutex here: what connectToFuture() wrote under it comes first (see FutureLock).
    QTOFFLOAD_HAPPENS_AFTER(static_cast<QFutureCallOutInterface *>(this));
    if (callOut.callOutType == QFutureCallOutEvent::Finished
        || (callOut.callOutType == QFutureCallOutEvent::Canceled && m_reportUnfinishedCancel))
        scheduleDelivery();
}

bool FutureWatch::deliverOne()
{
    // Not under m_mutex when the future has finished: the finishing thread may still hold it.
    if (!m_future.isFinished()) {
        const FutureLock lock(m_d);
        if (!hasEndedLocked())
            return false; // cancelled by an exception: its finish schedules the watch again
    }
    const FutureEnd end = m_future.isFinished() ? FutureEnd::Finished : FutureEnd::CancelledUnfinished;
    // The finishing thread's last touches of the future (its mutexes) come
    // before this thread may drop the last reference; finishFuture() and
    // releasingFuture() tell TSan so, as Qt's uninstrumented reference count
    // would. The local copy keeps the future alive until after the handler,
    // and its copies, are gone.
    const QFuture<void> future = m_future;
    const FutureEndHandler handler = std::move(m_handler);
    const bool contextAlive = !m_hasContext || m_context;
    const auto release = qScopeGuard([&future] { releasingFuture(QFutureInterfaceBase::get(future)); });
    releasingFuture(QFutureInterfaceBase::get(future));
    // A lane turn is not one of this object's own events: it can go at once.
    delete this;
    if (handler && contextAlive)
        handler(end);
    return false;
}

} // namespace

QObject *watchFuture(const QFuture<void> &future, QObject *context, bool reportUnfinishedCancel,
                     FutureEndHandler handler)
{
    QThread *thread = context ? context->thread() : QThread::currentThread();
    auto *watch = new FutureWatch(future, thread, context, reportUnfinishedCancel, std::move(handler));
    watch->moveToThread(thread);
    return FutureWatch::start(watch, context);
}

} // namespace QtOffload::detail
