// SPDX-License-Identifier: MIT
// StopToken and StopSource on their own: a default token never stops,
// waitFor() sleeps out its timeout unless a stop comes and then wakes at
// once, copies share one state, requestStop() is idempotent and safe from
// any thread with any number of waiters, and a watched QFuture's cancel()
// is reported as a stop (waitFor() polls for it).
// Every waitFor() that could hang runs on a waiter thread of its own, and the
// test waits for it with a deadline; the waiter's state is shared, so one
// that never returns (a failing test) is left behind writing nowhere dangling.

#include <QtOffload/stoptoken.h>

#include <support/gate.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QFutureInterface>
#include <QtCore/QScopeGuard>
#include <QtTest/QtTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using QtOffload::StopSource;
using QtOffload::StopToken;

namespace {

constexpr int waitMs = 10000;
// How soon a stop must reach a waiter: generous, for loaded machines and sanitizers,
// yet far below the hour the waiters ask to sleep.
constexpr qint64 promptMs = 2000;

struct Waiter
{
    Gate started;
    Gate returned;
    std::atomic<int> result { -1 }; // 1: waitFor() said stopped, 0: it timed out
    std::atomic<qint64> elapsedMs { -1 };
};

//! Calls token.waitFor(\a timeout) on a new thread.
std::shared_ptr<Waiter> startWaiter(StopToken token, std::chrono::milliseconds timeout)
{
    auto waiter = std::make_shared<Waiter>();
    std::thread([token, timeout, waiter] {
        waiter->started.release();
        QElapsedTimer clock;
        clock.start();
        const bool stopped = token.waitFor(timeout);
        waiter->elapsedMs = clock.elapsed();
        waiter->result = stopped ? 1 : 0;
        waiter->returned.release();
    }).detach();
    return waiter;
}

QFutureInterface<void> runningPromise()
{
    return QFutureInterface<void>(
        QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
}

} // namespace

class tst_StopToken : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testDefaultTokenNeverStops();
    void testWaitForSleepsOutItsTimeoutWithoutStop();
    void testRequestStopWakesWaiterEarly();
    void testStoppedTokenReturnsAtOnce();
    void testRequestStopIsIdempotent();
    void testCopiesShareState();
    void testTokenOutlivesItsSource();
    void testWatchedFutureCancelIsAStop();
    void testWatchedFutureAlreadyCancelled();
    void testWatchedFutureNotCancelledTimesOut();
    void testManyWaitersAndRequesters();
};

void tst_StopToken::testDefaultTokenNeverStops()
{
    const StopToken never;
    QVERIFY(!never.isStopRequested());
    const StopToken copy = never;
    QVERIFY(!copy.isStopRequested());

    auto waiter = startWaiter(never, 30ms);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 0);
    QVERIFY2(waiter->elapsedMs.load() >= 30, qPrintable(QString::number(waiter->elapsedMs.load())));
    QVERIFY(!never.isStopRequested());
}

void tst_StopToken::testWaitForSleepsOutItsTimeoutWithoutStop()
{
    StopSource source;
    const StopToken token = source.token();
    QVERIFY(!token.isStopRequested());
    QVERIFY(!source.isStopRequested());

    auto waiter = startWaiter(token, 30ms);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 0);
    QVERIFY2(waiter->elapsedMs.load() >= 30, qPrintable(QString::number(waiter->elapsedMs.load())));

    auto immediate = startWaiter(token, 0ms);
    QVERIFY(immediate->returned.tryAcquire(1, waitMs));
    QCOMPARE(immediate->result.load(), 0);
    QVERIFY(!token.isStopRequested());
}

void tst_StopToken::testRequestStopWakesWaiterEarly()
{
    StopSource source;
    auto waiter = startWaiter(source.token(), 1h);
    QVERIFY(waiter->started.tryAcquire(1, waitMs));
    QElapsedTimer sinceStop;
    sinceStop.start();
    source.requestStop();
    QVERIFY2(waiter->returned.tryAcquire(1, waitMs), "StopToken::waitFor did not return after requestStop()");
    QVERIFY2(sinceStop.elapsed() < promptMs, qPrintable(QString::number(sinceStop.elapsed())));
    QCOMPARE(waiter->result.load(), 1);
    QVERIFY(source.isStopRequested());
    QVERIFY(source.token().isStopRequested());
}

void tst_StopToken::testStoppedTokenReturnsAtOnce()
{
    StopSource source;
    source.requestStop();
    auto waiter = startWaiter(source.token(), 1h);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 1);
    QVERIFY2(waiter->elapsedMs.load() < promptMs, qPrintable(QString::number(waiter->elapsedMs.load())));
}

void tst_StopToken::testRequestStopIsIdempotent()
{
    StopSource source;
    const StopToken token = source.token();
    source.requestStop();
    source.requestStop();
    QVERIFY(source.isStopRequested());
    QVERIFY(token.isStopRequested());
    source.requestStop(); // after a waiter woke, too
    auto waiter = startWaiter(token, 1h);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 1);
    source.requestStop();
    QVERIFY(token.isStopRequested());
}

void tst_StopToken::testCopiesShareState()
{
    StopSource source;
    const StopSource sourceCopy = source;
    const StopToken token = source.token();
    const StopToken tokenCopy = token;
    const StopToken fromCopy = sourceCopy.token();
    const StopSource unrelated;

    auto waiter = startWaiter(tokenCopy, 1h);
    QVERIFY(waiter->started.tryAcquire(1, waitMs));
    QVERIFY(!token.isStopRequested() && !tokenCopy.isStopRequested() && !fromCopy.isStopRequested());

    StopSource requester = sourceCopy; // a copy of a copy asks for all of them
    requester.requestStop();
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 1);
    QVERIFY(source.isStopRequested());
    QVERIFY(sourceCopy.isStopRequested());
    QVERIFY(token.isStopRequested());
    QVERIFY(tokenCopy.isStopRequested());
    QVERIFY(fromCopy.isStopRequested());
    QVERIFY(!unrelated.isStopRequested());
    QVERIFY(!unrelated.token().isStopRequested());
}

void tst_StopToken::testTokenOutlivesItsSource()
{
    StopToken neverAsked;
    StopToken asked;
    {
        StopSource first;
        neverAsked = first.token();
        StopSource second;
        asked = second.token();
        second.requestStop();
    }
    QVERIFY(!neverAsked.isStopRequested());
    QVERIFY(asked.isStopRequested());
    auto timesOut = startWaiter(neverAsked, 20ms);
    auto stopped = startWaiter(asked, 1h);
    QVERIFY(timesOut->returned.tryAcquire(1, waitMs));
    QVERIFY(stopped->returned.tryAcquire(1, waitMs));
    QCOMPARE(timesOut->result.load(), 0);
    QCOMPARE(stopped->result.load(), 1);
}

void tst_StopToken::testWatchedFutureCancelIsAStop()
{
    QFutureInterface<void> promise = runningPromise();
    const auto finish = qScopeGuard([&promise] { promise.reportFinished(); });
    StopSource source;
    source.watchCancellation(promise);
    const StopToken token = source.token();
    QVERIFY(!token.isStopRequested());

    auto waiter = startWaiter(token, 1h);
    QVERIFY(waiter->started.tryAcquire(1, waitMs));
    QElapsedTimer sinceCancel;
    sinceCancel.start();
    promise.future().cancel(); // no requestStop(): waitFor() polls the future
    QVERIFY2(waiter->returned.tryAcquire(1, waitMs), "StopToken::waitFor did not notice the watched future's cancel()");
    QVERIFY2(sinceCancel.elapsed() < promptMs, qPrintable(QString::number(sinceCancel.elapsed())));
    QCOMPARE(waiter->result.load(), 1);
    QVERIFY(token.isStopRequested());
    QVERIFY(source.isStopRequested());
}

void tst_StopToken::testWatchedFutureAlreadyCancelled()
{
    QFutureInterface<void> promise = runningPromise();
    const auto finish = qScopeGuard([&promise] { promise.reportFinished(); });
    promise.cancel();
    StopSource source;
    QVERIFY(!source.isStopRequested());
    source.watchCancellation(promise);
    QVERIFY(source.isStopRequested());
    auto waiter = startWaiter(source.token(), 1h);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 1);
}

void tst_StopToken::testWatchedFutureNotCancelledTimesOut()
{
    // Polling the future cuts the wait into slices; together they still last the whole timeout.
    QFutureInterface<void> promise = runningPromise();
    const auto finish = qScopeGuard([&promise] { promise.reportFinished(); });
    StopSource source;
    source.watchCancellation(promise);
    auto waiter = startWaiter(source.token(), 50ms);
    QVERIFY(waiter->returned.tryAcquire(1, waitMs));
    QCOMPARE(waiter->result.load(), 0);
    QVERIFY2(waiter->elapsedMs.load() >= 50, qPrintable(QString::number(waiter->elapsedMs.load())));
    QVERIFY(!source.isStopRequested());

    // A stop requested by hand still wakes a waiter at once while a future is watched.
    auto woken = startWaiter(source.token(), 1h);
    QVERIFY(woken->started.tryAcquire(1, waitMs));
    source.requestStop();
    QVERIFY(woken->returned.tryAcquire(1, waitMs));
    QCOMPARE(woken->result.load(), 1);
}

void tst_StopToken::testManyWaitersAndRequesters()
{
    constexpr int waiterCount = 6;
    constexpr int requesterCount = 3;
    StopSource source;
    std::vector<std::shared_ptr<Waiter>> waiters;
    for (int i = 0; i < waiterCount; ++i)
        waiters.push_back(startWaiter(source.token(), 1h));
    for (const auto &waiter : waiters)
        QVERIFY(waiter->started.tryAcquire(1, waitMs));

    // Several threads ask at once, each through its own copy of the source,
    // while this one keeps reading the state.
    struct Requests
    {
        Gate go;
        Gate done;
    };
    auto requests = std::make_shared<Requests>();
    for (int i = 0; i < requesterCount; ++i) {
        std::thread([requests, source]() mutable {
            if (requests->go.tryAcquire(1, waitMs))
                source.requestStop();
            requests->done.release();
        }).detach();
    }
    requests->go.release(requesterCount);
    for (int i = 0; i < 1000; ++i)
        (void)source.isStopRequested();
    QVERIFY(requests->done.tryAcquire(requesterCount, waitMs));
    for (const auto &waiter : waiters) {
        QVERIFY(waiter->returned.tryAcquire(1, waitMs));
        QCOMPARE(waiter->result.load(), 1);
    }
    QVERIFY(source.isStopRequested());
}

QTEST_GUILESS_MAIN(tst_StopToken)

#include "tst_stoptoken.moc"
