// SPDX-License-Identifier: MIT
// threaded(): submission at call time, parallel calls, argument and result
// passing, every kind of callable, exceptions through every way of reading a
// result (result, waitForFinished, then/onFailed, co_await), cancellation,
// QThreadPool, null and destroyed pools, and a responsive event loop while a
// job is awaited.

#include <QtOffload/threaded.h>

#include <support/await.h>
#include <support/gate.h>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using QtOffload::threaded;
using QtOffload::ThreadPool;

namespace {

// Every wait inside a job is bounded: a broken library fails a test instead of hanging it.
constexpr int waitMs = 10000;

struct CodedError : std::runtime_error
{
    explicit CodedError(int code)
        : std::runtime_error("coded error " + std::to_string(code))
        , code(code)
    {
    }
    int code;
};

// The code of the CodedError that read() throws, or -1 when it throws none.
template<typename Read> int thrownCode(Read read)
{
    try {
        read();
    } catch (const CodedError &error) {
        return error.code;
    }
    return -1;
}

int plusOne(int x) { return x + 1; }

const QString &greeting()
{
    static const QString text = QStringLiteral("hello");
    return text;
}

struct Account
{
    std::atomic<int> balance { 0 };
    int deposit(int amount) { return balance += amount; }
};

struct Price
{
    int cents = 0;
    int withTax(int percent) const { return cents + cents * percent / 100; }
};

struct Scale
{
    int factor = 1;
    int operator()(int x) const { return factor * x; }
};

// What a call of the wrapper returns: QFuture of the callable's decayed result.
template<typename F, typename... Args>
using CallResult = std::invoke_result_t<const decltype(threaded(std::declval<F>())) &, Args...>;
static_assert(std::is_same_v<CallResult<int (*)(int), int>, QFuture<int>>);
static_assert(std::is_same_v<CallResult<const QString &(*)()>, QFuture<QString>>);
static_assert(std::is_same_v<CallResult<void (*)()>, QFuture<void>>);
static_assert(std::is_same_v<CallResult<std::unique_ptr<int> (*)(std::unique_ptr<int>), std::unique_ptr<int>>,
                             QFuture<std::unique_ptr<int>>>);
static_assert(std::is_same_v<CallResult<int (Price::*)(int) const, Price, int>, QFuture<int>>);
static_assert(std::is_same_v<CallResult<Scale, int>, QFuture<int>>);
static_assert(std::is_same_v<CallResult<std::function<QString(int)>, int>, QFuture<QString>>);
static_assert(std::is_same_v<CallResult<bool (*)(QtOffload::StopToken, int), int>, QFuture<bool>>);
static_assert(std::is_same_v<decltype(threaded(std::declval<QThreadPool *>(), plusOne)(1)), QFuture<int>>);
static_assert(std::is_same_v<decltype(threaded(std::declval<ThreadPool *>(), plusOne)(1)), QFuture<int>>);

QCoro::Task<int> codeOfAwaitedFailure(QFuture<int> future)
{
    try {
        (void)co_await future;
    } catch (const CodedError &error) {
        co_return error.code;
    }
    co_return -1;
}

QCoro::Task<bool> awaitValue(QFuture<bool> future) { co_return co_await future; }

// What co_await of a future that is cancelled while the coroutine waits gives: the value, or the error's name.
template<typename T>
QCoro::Task<QString> outcomeOfAwaitCancelled(QFuture<T> future, std::function<void()> afterCancel = {})
{
    QTimer::singleShot(0, [future, afterCancel]() mutable { // once the coroutine is suspended
        future.cancel();
        if (afterCancel)
            afterCancel();
    });
    try {
        if constexpr (std::is_void_v<T>) {
            co_await future;
            co_return QStringLiteral("returned");
        } else {
            co_return QString::number(co_await future);
        }
    } catch (const QtOffload::CancelledError &) {
        co_return QStringLiteral("CancelledError");
    }
}

} // namespace

class tst_Threaded : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testReturnsFutureImmediately();
    void testSubmittedAtCallTime();
    void testRunsOnDefaultPool();
    void testTwoCallsRunInParallel();
    void testArgumentsCopiedAtCallTime();
    void testMoveOnlyArgumentAndResult();
    void testVoidResult();
    void testFunctionPointer();
    void testMemberFunctionPointer();
    void testFunctor();
    void testStdFunction();
    void testLambda();
    void testExceptionFromResult();
    void testExceptionFromWaitForFinished();
    void testExceptionFromThenOnFailed();
    void testExceptionFromCoAwait();
    void testNonStdExceptionRethrownAsInt();
    void testCancelledBeforeStartNeverRuns();
    void testStopTokenOnPool();
    void testAwaitingACancelledRunningJobThrowsCancelledError();
    void testAwaitingACancelledQueuedJobThrowsCancelledError();
    void testResultOfACancelledJobThrowsCancelledError();
    void testQThreadPool();
    void testQThreadPoolCancelledBeforeStartNeverRuns();
    void testNullPoolThrows();
    void testThenWithContextRunsOnContextThread();
    void testDestroyedPoolThrowsShutdownError();
    void testCoAwaitKeepsEventLoopResponsive();
};

void tst_Threaded::testReturnsFutureImmediately()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    QFuture<bool> future = threaded(&pool, gate.job())();
    // The call came back while its job is still blocked inside.
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    QVERIFY(future.isStarted());
    QVERIFY(!future.isFinished());
    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY(future.result());
}

void tst_Threaded::testSubmittedAtCallTime()
{
    ThreadPool pool(1);
    Gate ran;
    (void)threaded(&pool, [&ran] { ran.release(); })(); // the future is dropped unread
    QCOMPARE(pool.statistics().submitted, 1);
    QVERIFY(ran.tryAcquire(1, waitMs));
}

void tst_Threaded::testRunsOnDefaultPool()
{
    QFuture<QString> future = threaded([] { return QThread::currentThread()->objectName(); })();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY2(future.result().startsWith(QStringLiteral("QtOffload pool default #")), qPrintable(future.result()));
}

void tst_Threaded::testTwoCallsRunInParallel()
{
    // Each job signals its own semaphore and waits for the other's: both
    // return true only if they ran at the same time.
    ThreadPool pool(2);
    Gate arrived[2];
    const auto cleanup = qScopeGuard([&] {
        arrived[0].release();
        arrived[1].release();
    });
    auto call = threaded(&pool, [&arrived](int me) {
        arrived[me].release();
        return arrived[1 - me].tryAcquire(1, waitMs);
    });
    QFuture<bool> first = call(0);
    QFuture<bool> second = call(1);
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && second.isFinished(), 2 * waitMs);
    QVERIFY(first.result());
    QVERIFY(second.result());
}

void tst_Threaded::testArgumentsCopiedAtCallTime()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    (void)threaded(&pool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));

    QFuture<QString> future;
    {
        // The job runs only after these variables changed and went out of
        // scope: it must have its own copies (ASan catches a dangling one).
        QString text = QStringLiteral("before");
        std::vector<int> numbers { 1, 2, 3 };
        future = threaded(&pool, [](const QString &t, const std::vector<int> &n) -> QString {
            return t + QString::number(n.size());
        })(text, numbers);
        text = QStringLiteral("after");
        numbers.assign(10, 0);
    }
    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), QStringLiteral("before3"));
}

void tst_Threaded::testMoveOnlyArgumentAndResult()
{
    ThreadPool pool(1);
    auto call = threaded(
        &pool, [](std::unique_ptr<int> value) { return std::make_unique<QString>(QString::number(*value * 2)); });
    auto argument = std::make_unique<int>(21);
    QFuture<std::unique_ptr<QString>> future = call(std::move(argument));
    QVERIFY(!argument); // moved into the job at the call
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    std::unique_ptr<QString> result = future.takeResult();
    QVERIFY(result);
    QCOMPARE(*result, QStringLiteral("42"));
}

void tst_Threaded::testVoidResult()
{
    ThreadPool pool(1);
    std::atomic<int> total { 0 };
    QFuture<void> future = threaded(&pool, [&total](int n) { total += n; })(3);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    future.waitForFinished();
    QVERIFY(!future.isCanceled());
    QCOMPARE(total.load(), 3);
}

void tst_Threaded::testFunctionPointer()
{
    ThreadPool pool(1);
    QFuture<int> future = threaded(&pool, plusOne)(41);
    QFuture<QString> reference = threaded(&pool, greeting)();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished() && reference.isFinished(), waitMs);
    QCOMPARE(future.result(), 42);
    QCOMPARE(reference.result(), QStringLiteral("hello"));
}

void tst_Threaded::testMemberFunctionPointer()
{
    ThreadPool pool(1);
    // An object passed by value is copied into the job...
    QFuture<int> copied = threaded(&pool, &Price::withTax)(Price { 200 }, 10);
    // ...one passed by pointer is the caller's own.
    Account account;
    account.balance = 10;
    QFuture<int> shared = threaded(&pool, &Account::deposit)(&account, 5);
    QTRY_VERIFY_WITH_TIMEOUT(copied.isFinished() && shared.isFinished(), waitMs);
    QCOMPARE(copied.result(), 220);
    QCOMPARE(shared.result(), 15);
    QCOMPARE(account.balance.load(), 15);
}

void tst_Threaded::testFunctor()
{
    ThreadPool pool(1);
    QFuture<int> future = threaded(&pool, Scale { 3 })(14);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), 42);
}

void tst_Threaded::testStdFunction()
{
    ThreadPool pool(1);
    const std::function<QString(int)> describe = [](int x) { return QStringLiteral("#%1").arg(x); };
    QFuture<QString> future = threaded(&pool, describe)(7);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), QStringLiteral("#7"));
}

void tst_Threaded::testLambda()
{
    ThreadPool pool(1);
    auto call
        = threaded(&pool, [prefix = QStringLiteral("n=")](int x) -> QString { return prefix + QString::number(x); });
    QFuture<QString> first = call(1);
    QFuture<QString> second = call(2); // each call runs its own copy of the lambda
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && second.isFinished(), waitMs);
    QCOMPARE(first.result(), QStringLiteral("n=1"));
    QCOMPARE(second.result(), QStringLiteral("n=2"));
}

void tst_Threaded::testExceptionFromResult()
{
    ThreadPool pool(1);
    QFuture<int> future = threaded(&pool, [](int code) -> int { throw CodedError(code); })(7);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(thrownCode([&] { (void)future.result(); }), 7);
    QCOMPARE(pool.statistics().failed, 1);
}

void tst_Threaded::testExceptionFromWaitForFinished()
{
    ThreadPool pool(1);
    QFuture<int> valued = threaded(&pool, [](int code) -> int { throw CodedError(code); })(8);
    QFuture<void> empty = threaded(&pool, [] { throw CodedError(9); })();
    QTRY_VERIFY_WITH_TIMEOUT(valued.isFinished() && empty.isFinished(), waitMs);
    QCOMPARE(thrownCode([&] { valued.waitForFinished(); }), 8);
    QCOMPARE(thrownCode([&] { empty.waitForFinished(); }), 9);
}

void tst_Threaded::testExceptionFromThenOnFailed()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    QFuture<int> future = threaded(&pool, [&gate](int code) -> int {
        gate.open.tryAcquire(1, waitMs);
        throw CodedError(code);
    })(11);
    // Attached while the job is held, so the failure reaches a waiting chain.
    QFuture<int> handled = future
                               .then([](int value) { return value * 100; }) // skipped: the job failed
                               .onFailed([](const std::logic_error &) { return -2; }) // not the thrown type
                               .onFailed([](const CodedError &error) { return error.code; });
    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(handled.isFinished(), waitMs);
    QCOMPARE(handled.result(), 11);
}

void tst_Threaded::testExceptionFromCoAwait()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    QFuture<int> future = threaded(&pool, [&gate](int code) -> int {
        gate.open.tryAcquire(1, waitMs);
        throw CodedError(code);
    })(13);
    // Released from the event loop, so the coroutine is suspended in co_await when the job fails.
    QTimer::singleShot(0, this, [&gate] { gate.open.release(); });
    QCOMPARE(await(codeOfAwaitedFailure(future)), 13);
}

void tst_Threaded::testNonStdExceptionRethrownAsInt()
{
    ThreadPool pool(1);
    QFuture<QString> future = threaded(&pool, []() -> QString { throw 42; })();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    int caught = 0;
    try {
        (void)future.result();
    } catch (int value) {
        caught = value;
    }
    QCOMPARE(caught, 42);

    QFuture<QString> handled = future.onFailed([](int value) { return QString::number(value); });
    QTRY_VERIFY_WITH_TIMEOUT(handled.isFinished(), waitMs);
    QCOMPARE(handled.result(), QStringLiteral("42"));
}

void tst_Threaded::testCancelledBeforeStartNeverRuns()
{
    JobGate gate;
    std::atomic<bool> ran { false };
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever); // no overflow thread may take the job early
    (void)threaded(&pool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));

    QFuture<void> future = threaded(&pool, [&ran] { ran = true; })();
    future.cancel();
    gate.open.release();
    QVERIFY(pool.waitForDone(10s));
    QVERIFY(future.isCanceled());
    QVERIFY(future.isFinished());
    QVERIFY(!ran);
    QCOMPARE(pool.statistics().cancelled, 1);
}

void tst_Threaded::testStopTokenOnPool()
{
    ThreadPool pool(1);
    Gate started;
    std::atomic<bool> sawStop { false };
    QFuture<int> future = threaded(&pool, [&](QtOffload::StopToken stop, int limit) {
        started.release();
        for (int i = 0; i < limit; ++i) {
            if (stop.waitFor(10ms)) {
                sawStop = true;
                return i;
            }
        }
        return -1;
    })(waitMs / 10);
    QVERIFY(started.tryAcquire(1, waitMs));
    future.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY(sawStop);
}

void tst_Threaded::testAwaitingACancelledRunningJobThrowsCancelledError()
{
    // QCoro reads result() of the awaited future; Qt leaves a cancelled one
    // with none, and reading it crashed (qcoro/qcoro#288).
    ThreadPool pool(1);
    const auto stoppable
        = [](QtOffload::StopToken stop) { return stop.waitFor(std::chrono::milliseconds(waitMs)) ? 1 : -1; };
    QCOMPARE(await(outcomeOfAwaitCancelled(threaded(&pool, stoppable)())), QStringLiteral("CancelledError"));
    const auto stoppableVoid = [](QtOffload::StopToken stop) { (void)stop.waitFor(std::chrono::milliseconds(waitMs)); };
    QCOMPARE(await(outcomeOfAwaitCancelled(threaded(&pool, stoppableVoid)())), QStringLiteral("CancelledError"));
    QVERIFY(pool.waitForDone(10s));
}

void tst_Threaded::testAwaitingACancelledQueuedJobThrowsCancelledError()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever); // the awaited job stays queued behind the held one
    (void)threaded(&pool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    std::atomic<int> ran { 0 };
    // The cancel comes while the job is still queued; the held job lets the worker go after it.
    const auto letTheWorkerGo = [&gate] { gate.open.release(); };
    QFuture<int> queued = threaded(&pool, [&ran] { return ++ran; })();
    QCOMPARE(await(outcomeOfAwaitCancelled(queued, letTheWorkerGo)), QStringLiteral("CancelledError"));
    (void)threaded(&pool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    QFuture<void> queuedVoid = threaded(&pool, [&ran] { ++ran; })();
    QCOMPARE(await(outcomeOfAwaitCancelled(queuedVoid, letTheWorkerGo)), QStringLiteral("CancelledError"));
    QVERIFY(pool.waitForDone(10s));
    QCOMPARE(ran.load(), 0);
    QCOMPARE(pool.statistics().cancelled, 2);
}

void tst_Threaded::testResultOfACancelledJobThrowsCancelledError()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever);
    (void)threaded(&pool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    QFuture<QString> future = threaded(&pool, [] { return QStringLiteral("never"); })();
    future.cancel();
    gate.open.release();
    QVERIFY(pool.waitForDone(10s));
    QVERIFY(future.isCanceled());
    QCOMPARE(future.resultCount(), 0);
    QVERIFY_THROWS_EXCEPTION(QtOffload::CancelledError, (void)future.result());
    QVERIFY_THROWS_EXCEPTION(QtOffload::CancelledError, future.waitForFinished());
    // A result reported before the cancel stays readable.
    QFuture<int> done = threaded(&pool, [] { return 5; })();
    QCOMPARE(done.result(), 5);
    done.cancel();
    QCOMPARE(done.result(), 5);
}

void tst_Threaded::testQThreadPool()
{
    QThreadPool qtPool;
    qtPool.setMaxThreadCount(1);
    QFuture<QString> named = threaded(&qtPool, [](int x) -> QString {
        return QString::number(x * 2) + QLatin1Char(' ') + QThread::currentThread()->objectName();
    })(21);
    QFuture<int> failing = threaded(&qtPool, [](int code) -> int { throw CodedError(code); })(5);
    QFuture<std::unique_ptr<int>> moveOnly
        = threaded(&qtPool, [](std::unique_ptr<int> p) { return p; })(std::make_unique<int>(3));
    QTRY_VERIFY_WITH_TIMEOUT(named.isFinished() && failing.isFinished() && moveOnly.isFinished(), waitMs);

    const QString result = named.result();
    QVERIFY2(result.startsWith(QStringLiteral("42 ")), qPrintable(result));
    QVERIFY2(!result.contains(QStringLiteral("QtOffload")), qPrintable(result)); // a QThreadPool thread, none of ours
    QCOMPARE(thrownCode([&] { (void)failing.result(); }), 5);
    QCOMPARE(*moveOnly.takeResult(), 3);
    QVERIFY(qtPool.waitForDone(waitMs));
}

void tst_Threaded::testQThreadPoolCancelledBeforeStartNeverRuns()
{
    JobGate gate;
    std::atomic<bool> ran { false };
    QThreadPool qtPool;
    qtPool.setMaxThreadCount(1);
    const auto cleanup = qScopeGuard([&] {
        gate.openAll();
        qtPool.waitForDone(waitMs);
    });
    (void)threaded(&qtPool, gate.job())();
    QVERIFY(gate.started.tryAcquire(1, waitMs));

    QFuture<void> future = threaded(&qtPool, [&ran] { ran = true; })();
    future.cancel();
    gate.open.release();
    QVERIFY(qtPool.waitForDone(waitMs));
    QVERIFY(future.isCanceled());
    QVERIFY(!ran);
}

void tst_Threaded::testNullPoolThrows()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)threaded(static_cast<ThreadPool *>(nullptr), plusOne));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)threaded(static_cast<QThreadPool *>(nullptr), plusOne));
}

void tst_Threaded::testThenWithContextRunsOnContextThread()
{
    JobGate gate;
    ThreadPool pool(1);
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    QObject context; // lives in this test's (the main) thread
    QFuture<QThread *> future = threaded(&pool, [&gate] {
        gate.open.tryAcquire(1, waitMs);
        return QThread::currentThread();
    })();
    // Attached while the job is held, so the job's own thread finishes the future.
    QFuture<std::pair<QThread *, QThread *>> continued
        = future.then(&context, [](QThread *jobThread) { return std::pair(jobThread, QThread::currentThread()); });
    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(continued.isFinished(), waitMs);
    const auto [jobThread, continuationThread] = continued.result();
    QVERIFY(jobThread != QThread::currentThread());
    QCOMPARE(continuationThread, QThread::currentThread());
}

void tst_Threaded::testDestroyedPoolThrowsShutdownError()
{
    auto pool = std::make_unique<ThreadPool>(1);
    auto call = threaded(pool.get(), plusOne);
    QFuture<int> before = call(1);
    QTRY_VERIFY_WITH_TIMEOUT(before.isFinished(), waitMs);
    QCOMPARE(before.result(), 2);
    pool.reset();
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)call(2));

    auto qtPool = std::make_unique<QThreadPool>();
    auto qtCall = threaded(qtPool.get(), plusOne);
    qtPool.reset();
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)qtCall(3));
}

void tst_Threaded::testCoAwaitKeepsEventLoopResponsive()
{
    // QCoro's EventLoopChecker idea, made deterministic: the job can only
    // finish after the event loop ticked a timer three times while the
    // coroutine awaited it.
    ThreadPool pool(1);
    Gate enoughTicks;
    int ticks = 0;
    QTimer ticker;
    ticker.setInterval(5ms);
    connect(&ticker, &QTimer::timeout, this, [&] {
        if (++ticks == 3)
            enoughTicks.release();
    });
    ticker.start();
    QFuture<bool> job = threaded(&pool, [&enoughTicks] { return enoughTicks.tryAcquire(1, waitMs); })();
    const bool finished = await(awaitValue(job));
    ticker.stop();
    QVERIFY(finished);
    QVERIFY(ticks >= 3);
}

QTEST_GUILESS_MAIN(tst_Threaded)

#include "tst_threaded.moc"
