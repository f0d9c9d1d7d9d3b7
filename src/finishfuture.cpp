// SPDX-License-Identifier: MIT
// Finishing the futures QtOffload hands out: a cancelled one carries a
// CancelledError, and the one workaround for QTBUG-118032 ("QFuture:
// continuations can be executed twice").
//
// Why a cancelled future carries an exception: Qt leaves a cancelled
// QFuture<T> with no result, and QFuture::result() then reads past the end
// of its result store (a crash, not an error). QCoro's co_await calls
// result() on it (qcoro/qcoro#288, open in QCoro 0.8 and 0.12). With a
// CancelledError in the future, result(), waitForFinished() and co_await
// throw it, then() passes it on to onFailed(), as asyncio's await of a
// cancelled task raises CancelledError. Qt's reportException() refuses a
// future that is already cancelled, and the user's cancel() comes first, so
// the exception is put in through QFutureInterfaceBasePrivate, the way
// reportException() itself stores one (hasException, then data.setException()
// under m_mutex). Only a future with no result gets it: a result reported
// before the cancel stays readable, and the result store would need its type
// to be cleared.
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
// released in 6.10 and picked to 6.9, 6.8 and 6.5; Qt 6.4 never got it, and
// Debian trixie's 6.8.2 (6.8.2+dfsg-9+deb13u2) has not either: its
// setContinuation()/runContinuation() are 6.4's.
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

#include <QtOffload/errors.h>
#include <QtOffload/impl/finishfuture.h>

#include "deferredwakeups_p.h"
#include "futureinternals_p.h"
#include "tsan_p.h"

#include <functional>
#include <utility>

// QTOFFLOAD_QTBUG_118032 comes from src/CMakeLists.txt, for Qt before 6.10.

namespace QtOffload::detail {

namespace {
void carryCancellation(QFutureInterfaceBasePrivate *d, const QFutureInterfaceBase &future) noexcept
{
    QMutexLocker lock(&d->m_mutex);
    if (!future.isCanceled() || future.isFinished() || d->hasException || d->data.m_results.count() != 0
        || d->data.m_results.hasNextResult())
        return;
    std::exception_ptr error;
    try {
        error = std::make_exception_ptr(CancelledError("QtOffload: the job was cancelled, so it has no result"));
    } catch (...) {
        return; // no memory for the error: the future stays cancelled, as Qt leaves it
    }
    announceHandOver(error);
    d->hasException = true;
    d->data.setException(error);
}
} // namespace

void finishFuture(QFutureInterfaceBase &future) noexcept
{
    // The worker's writes (the result, the exception) happen before any read
    // through the future; Qt's mutex, uninstrumented, does not tell TSan so.
    QTOFFLOAD_HAPPENS_BEFORE(&future);
    QFutureInterfaceBasePrivate *const d = futurePrivate(future);
    carryCancellation(d, future);
    // Qt sends the Finished callout (a FutureWatch schedules its lane there)
    // with the future's mutex held: the wake-up waits until it is released.
#if defined(QTOFFLOAD_QTBUG_118032)
    DeferredWakeUps wakeUps;
    QMutexLocker lock(&d->continuationMutex);
    if (future.isFinished())
        return; // finished before: its continuation, if any, has been run
    future.reportFinished();
    std::function<void(const QFutureInterfaceBase &)> continuation = std::exchange(d->continuation, nullptr);
    lock.unlock();
    QTOFFLOAD_HAPPENS_BEFORE(d); // see FutureWatch::deliverOne()
    wakeUps.flush();
    if (!continuation)
        return;
    continuation(future);
    lock.relock();
    // As runContinuation() does: keep the continuation, and so its promise,
    // alive with the future unless cleanContinuation() came meanwhile.
    if (d->continuationState != QFutureInterfaceBasePrivate::Cleaned)
        d->continuation = std::move(continuation);
    lock.unlock();
    QTOFFLOAD_HAPPENS_BEFORE(d);
#else
    {
        const DeferredWakeUps wakeUps;
        future.reportFinished(); // QFutureInterfaceBase's: the state and the callouts
        QTOFFLOAD_HAPPENS_BEFORE(d); // see FutureWatch::deliverOne()
    }
    QFutureInterface<void>(future).reportFinished(); // finished already: runs the continuation only
    QTOFFLOAD_HAPPENS_BEFORE(d);
#endif
}

void releasingFuture(const QFutureInterfaceBase &future) noexcept
{
    QFutureInterfaceBasePrivate *const d = futurePrivate(future);
    QTOFFLOAD_HAPPENS_BEFORE(d);
    QTOFFLOAD_HAPPENS_AFTER(d);
}

} // namespace QtOffload::detail
