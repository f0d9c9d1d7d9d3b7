// SPDX-License-Identifier: MIT
// Finishing the futures QtOffload hands out, and the one workaround for
// QTBUG-118032 ("QFuture: continuations can be executed twice").
//
// Qt 6.4's QFutureInterface<T>::reportFinished() is QFutureInterfaceBase::
// reportFinished() (Finished set under m_mutex) followed by runContinuation()
// (the stored continuation taken under continuationMutex). then() attaches
// through setContinuation(), which under continuationMutex runs the
// continuation inline when it sees Finished, and then stores it anyway, to
// keep its promise alive. When Finished is set between those two steps of the
// finishing thread, then() runs the continuation inline, stores it, and the
// finishing thread's runContinuation() finds and runs it a second time, on a
// moved-from promise: a crash in reportStarted(). Upstream fixed it in qtbase
// 04b5d2b94f96c73a13973f6a57cefbf07d2e850b (a continuationExecuted flag),
// released in 6.10 and picked to 6.9, 6.8 and 6.5; Qt 6.4 never got it.
//
// The fix here closes the window for every future QtOffload finishes: Finished
// is set and the stored continuation is taken in ONE critical section of
// continuationMutex. A then() that locks after it sees Finished and runs the
// continuation inline; one that locked before stored it, and it is run here.
// Either way it runs once. Lock order: continuationMutex, then m_mutex inside
// reportFinished(). Qt never takes them the other way round: setContinuation(),
// runContinuation() and cleanContinuation() take only continuationMutex (they
// read the state atomically), cancel() and the report*() functions only
// m_mutex, and the continuation itself runs with neither held, here as in Qt.
//
// Futures that QtOffload does not finish (QtConcurrent's, a QPromise's) keep
// the race on these versions; whenFinished() is race-free for any QFuture.

#include <QtOffload/impl/finishfuture.h>

#include "tsan_p.h"

#include <QtCore/QFutureInterface>

#include <functional>
#include <utility>

#if QT_VERSION < QT_VERSION_CHECK(6, 10, 0)
// Conservative: the fix is known to be in 6.10; the 6.5, 6.8 and 6.9 backports
// are not confirmed for a particular patch release.
#define QTOFFLOAD_QTBUG_118032 1
#endif

#if defined(QTOFFLOAD_QTBUG_118032)
#include <QtCore/QPromise>
#include <QtCore/private/qfutureinterface_p.h>

namespace QtOffload::detail {
struct FutureInternalsTag;
} // namespace QtOffload::detail

QT_BEGIN_NAMESPACE
/*
  QFutureInterfaceBase::d is private, and every specialisation of QPromise
  is a friend of QFutureInterfaceBase ("template<class T> friend class
  QPromise;" in qfutureinterface.h). An explicit specialisation for a type
  of our own is ordinary, legal C++: it is a distinct class that inherits
  nothing from the primary template, and this file is the only place that
  names it.
*/
template<> class QPromise<QtOffload::detail::FutureInternalsTag>
{
public:
    static QFutureInterfaceBasePrivate *privateOf(const QFutureInterfaceBase &future) noexcept { return future.d; }
};
QT_END_NAMESPACE
#endif

namespace QtOffload::detail {

void finishFuture(QFutureInterfaceBase &future) noexcept
{
    // The worker's writes (the result, the exception) happen before any read
    // through the future; Qt's mutex, uninstrumented, does not tell TSan so.
    QTOFFLOAD_HAPPENS_BEFORE(&future);
#if defined(QTOFFLOAD_QTBUG_118032)
    using Internals = QPromise<FutureInternalsTag>;
    QFutureInterfaceBasePrivate *const d = Internals::privateOf(future);
    QMutexLocker lock(&d->continuationMutex);
    if (future.isFinished())
        return; // finished before: its continuation, if any, has been run
    future.reportFinished();
    std::function<void(const QFutureInterfaceBase &)> continuation = std::exchange(d->continuation, nullptr);
    if (!continuation)
        return;
    lock.unlock();
    continuation(future);
    lock.relock();
    // As runContinuation() does: keep the continuation, and so its promise,
    // alive with the future unless cleanContinuation() came meanwhile.
    if (d->continuationState != QFutureInterfaceBasePrivate::Cleaned)
        d->continuation = std::move(continuation);
#else
    QFutureInterface<void> base(future);
    base.reportFinished(); // reportFinished() + runContinuation(), race-free on these versions
#endif
}

} // namespace QtOffload::detail
