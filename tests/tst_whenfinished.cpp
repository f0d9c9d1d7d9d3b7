// SPDX-License-Identifier: MIT
// whenFinished(): the race-free way back to a context object's thread.

#include <QtOffload/threaded.h>
#include <QtOffload/whenfinished.h>

#include <support/gate.h>

#include <QtCore/QEventLoop>
#include <QtCore/QPromise>
#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <functional>
#include <memory>
#include <stdexcept>

using QtOffload::threaded;
using QtOffload::ThreadPool;
using QtOffload::whenFinished;

namespace {
constexpr int waitMs = 10000;
}

class tst_WhenFinished : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testDeliversResultOnContextThread();
    void testCalledFromAnotherThread();
    void testVoidFuture();
    void testBackToBackRoundTripsEachDeliveredOnce();
    void testFailureReachesFutureCallback();
    void testFailureWithResultCallbackWarns();
    void testCancelledWithResultCallbackWarns();
    void testDestroyedContextIsNotCalled();
    void testNullContextThrows();
    void testAContextThreadThatEndsFirstFreesTheWatch();
    void testABatchOfResultsTakesOneWakeUp();
    void testACancelByAnExceptionWaitsForTheFinish();
};

void tst_WhenFinished::testDeliversResultOnContextThread()
{
    ThreadPool pool(1);
    QThread *calledOn = nullptr;
    int value = 0;
    whenFinished(threaded(&pool, [] { return 41 + 1; })(), this, [&](int result) {
        calledOn = QThread::currentThread();
        value = result;
    });
    QTRY_COMPARE_WITH_TIMEOUT(value, 42, waitMs);
    QCOMPARE(calledOn, thread());
}

void tst_WhenFinished::testCalledFromAnotherThread()
{
    ThreadPool pool(1);
    QThread *calledOn = nullptr;
    int value = 0;
    std::unique_ptr<QThread> caller(QThread::create([&] {
        whenFinished(threaded(&pool, [] { return 7; })(), this, [&](int result) {
            calledOn = QThread::currentThread();
            value = result;
        });
    }));
    caller->start();
    QVERIFY(caller->wait(waitMs));
    QTRY_COMPARE_WITH_TIMEOUT(value, 7, waitMs);
    QCOMPARE(calledOn, thread());
}

void tst_WhenFinished::testVoidFuture()
{
    ThreadPool pool(1);
    bool ran = false;
    bool called = false;
    whenFinished(threaded(&pool, [&ran] { ran = true; })(), this, [&] { called = ran; });
    QTRY_VERIFY_WITH_TIMEOUT(called, waitMs);
}

void tst_WhenFinished::testBackToBackRoundTripsEachDeliveredOnce()
{
    // The pattern that crashes future.then(context, ...) on Qt 6.4 about once
    // per million calls: each job submitted from the previous callback, the
    // worker finishing while the callback is being attached.
    constexpr int trips = 10'000;
    ThreadPool pool(2);
    auto echo = threaded(&pool, [](int i) { return i; });
    int delivered = 0;
    int wrong = 0;
    QEventLoop loop;
    std::function<void(int)> next = [&](int i) {
        whenFinished(echo(i), this, [&, i](int result) {
            ++delivered;
            if (result != i)
                ++wrong;
            if (i + 1 < trips)
                next(i + 1);
            else
                loop.quit();
        });
    };
    QTimer deadline;
    deadline.setSingleShot(true);
    connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    deadline.start(60000);
    next(0);
    loop.exec();
    QCOMPARE(delivered, trips);
    QCOMPARE(wrong, 0);
    // Nothing is delivered twice: a late duplicate would arrive with the next event loop turn.
    QCoreApplication::processEvents();
    QCOMPARE(delivered, trips);
}

void tst_WhenFinished::testFailureReachesFutureCallback()
{
    ThreadPool pool(1);
    QString caught;
    bool called = false;
    whenFinished(threaded(&pool, []() -> int { throw std::runtime_error("disk on fire"); })(), this,
                 [&](QFuture<int> finished) {
                     called = true;
                     try {
                         (void)finished.result();
                     } catch (const std::runtime_error &e) {
                         caught = QString::fromUtf8(e.what());
                     }
                 });
    QTRY_VERIFY_WITH_TIMEOUT(called, waitMs);
    QCOMPARE(caught, QStringLiteral("disk on fire"));
}

void tst_WhenFinished::testFailureWithResultCallbackWarns()
{
    ThreadPool pool(1);
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("threw, so its callback is not called: disk on fire")));
    const QFuture<int> failing = threaded(&pool, []() -> int { throw std::runtime_error("disk on fire"); })();
    bool resultCallbackCalled = false;
    bool laterCallbackCalled = false;
    whenFinished(failing, this, [&](int) { resultCallbackCalled = true; });
    // Watchers of one future report in the order they were set up: once this
    // one ran, the first one has had its turn.
    whenFinished(failing, this, [&](QFuture<int>) { laterCallbackCalled = true; });
    QTRY_VERIFY_WITH_TIMEOUT(laterCallbackCalled, waitMs);
    QVERIFY(!resultCallbackCalled);
}

void tst_WhenFinished::testCancelledWithResultCallbackWarns()
{
    ThreadPool pool(1);
    Gate started;
    Gate open;
    QFuture<bool> blocker = threaded(&pool, [&] {
        started.release();
        return open.tryAcquire(1, waitMs);
    })();
    QVERIFY(started.tryAcquire(1, waitMs));
    QFuture<int> queued = threaded(&pool, [] { return 1; })();
    queued.cancel();
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("was cancelled; its callback is not called")));
    bool resultCallbackCalled = false;
    bool laterCallbackCalled = false;
    whenFinished(queued, this, [&](int) { resultCallbackCalled = true; });
    whenFinished(queued, this, [&](QFuture<int> finished) { laterCallbackCalled = finished.isCanceled(); });
    open.release();
    QTRY_VERIFY_WITH_TIMEOUT(laterCallbackCalled, waitMs);
    QVERIFY(!resultCallbackCalled);
    QVERIFY(blocker.result());
}

void tst_WhenFinished::testDestroyedContextIsNotCalled()
{
    ThreadPool pool(1);
    Gate open;
    const QFuture<int> job = threaded(&pool, [&open] { return open.tryAcquire(1, waitMs) ? 5 : -1; })();
    auto context = std::make_unique<QObject>();
    bool deadContextCalled = false;
    bool livingContextCalled = false;
    whenFinished(job, context.get(), [&](int) { deadContextCalled = true; });
    whenFinished(job, this, [&](int) { livingContextCalled = true; });
    context.reset();
    open.release();
    QTRY_VERIFY_WITH_TIMEOUT(livingContextCalled, waitMs);
    QVERIFY(!deadContextCalled);
}

void tst_WhenFinished::testNullContextThrows()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, whenFinished(QFuture<void>(), nullptr, [] {}));
}

void tst_WhenFinished::testAContextThreadThatEndsFirstFreesTheWatch()
{
    // The context's thread ends without running its event loop again, so
    // neither the watch's set-up nor the future's end is ever delivered
    // there: the watch, and the callback it holds, must go with the thread.
    Gate leave;
    std::unique_ptr<QThread> thread(QThread::create([&leave] { leave.acquire(); }));
    QObject context;
    context.moveToThread(thread.get());
    thread->start();
    QPromise<int> promise;
    promise.start();
    auto held = std::make_shared<int>(1);
    const std::weak_ptr<int> token = held;
    bool called = false;
    whenFinished(promise.future(), &context, [held = std::move(held), &called](int) { called = true; });
    QVERIFY(!token.expired());
    leave.release();
    QVERIFY(thread->wait(waitMs));
    QVERIFY(token.expired()); // destroyed as the thread finished, not leaked
    promise.addResult(1);
    promise.finish();
    QVERIFY(!called);
}

namespace {
//! Counts the events this thread's objects receive while it lives.
class EventCounter : public QObject
{
public:
    EventCounter() { QCoreApplication::instance()->installEventFilter(this); }
    ~EventCounter() override { QCoreApplication::instance()->removeEventFilter(this); }
    int count = 0;

protected:
    bool eventFilter(QObject *, QEvent *) override
    {
        ++count;
        return false;
    }
};
} // namespace

void tst_WhenFinished::testABatchOfResultsTakesOneWakeUp()
{
    // 200 results finish while this thread runs no event loop; a
    // QFutureWatcher would take events per result (1,179 for these 200 when
    // this test was written), the watches schedule one lane turn for them all.
    constexpr int results = 200;
    ThreadPool pool(1);
    Gate open;
    auto blocker = threaded(&pool, [&open] { return open.tryAcquire(1, waitMs) ? 1 : -1; })();
    const auto one = threaded(&pool, [] { return 1; });
    std::vector<QFuture<int>> futures;
    int delivered = 0;
    for (int i = 0; i < results; ++i) {
        futures.push_back(one());
        whenFinished(futures.back(), this, [&delivered](int value) { delivered += value; });
    }
    QCoreApplication::sendPostedEvents(); // nothing of the set-up is left for the count
    EventCounter events;
    open.release();
    for (QFuture<int> &future : futures)
        future.waitForFinished();
    QTRY_COMPARE_WITH_TIMEOUT(delivered, results, waitMs);
    QCOMPARE(blocker.result(), 1);
    QVERIFY2(events.count <= 3, qPrintable(QString::number(events.count)));
}

void tst_WhenFinished::testACancelByAnExceptionWaitsForTheFinish()
{
    // Qt marks a future that failed cancelled before it is finished; the
    // callback taking the future must see it finished, with the exception.
    QPromise<int> promise;
    promise.start();
    bool called = false;
    bool finishedWhenCalled = false;
    whenFinished(promise.future(), this, [&](QFuture<int> future) {
        called = true;
        finishedWhenCalled = future.isFinished();
    });
    promise.setException(std::make_exception_ptr(std::runtime_error("no")));
    QCoreApplication::processEvents();
    QVERIFY(!called);
    promise.finish();
    QTRY_VERIFY_WITH_TIMEOUT(called, waitMs);
    QVERIFY(finishedWhenCalled);
}

QTEST_GUILESS_MAIN(tst_WhenFinished)

#include "tst_whenfinished.moc"
