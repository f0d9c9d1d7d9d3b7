// SPDX-License-Identifier: MIT
// Executor: its four kinds of target (the default pool looked up at each
// submission, a ThreadPool, a QThreadPool, a new thread per job), resolved()
// and threadPool(), null targets, submission to a target that shut down or
// is gone (ShutdownError, and the job's future cancelled), and how
// submitCall() calls a callable by what it takes first.

#include <QtOffload/executor.h>
#include <QtOffload/threadpool.h>

#include <support/gate.h>

#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtTest/QtTest>

#include <atomic>
#include <memory>
#include <stdexcept>

using namespace std::chrono_literals;
using QtOffload::Executor;
using QtOffload::JobControl;
using QtOffload::StopToken;
using QtOffload::ThreadPool;

namespace {

// Every wait is bounded: a broken executor fails a test instead of hanging it.
constexpr int waitMs = 10000;

// What the dispatch of submitCall() makes of each kind of callable.
static_assert(QtOffload::detail::TakesStopToken<bool (*)(StopToken, int), int>);
static_assert(!QtOffload::detail::TakesStopToken<bool (*)(int), int>);
static_assert(!QtOffload::detail::TakesStopToken<bool (*)(JobControl &, int), int>);
static_assert(QtOffload::detail::TakesJobControl<bool (*)(JobControl &, int), int>);
static_assert(!QtOffload::detail::TakesJobControl<bool (*)(StopToken, int), int>);
// The result is decayed: a reference to a caller's object never reaches the future.
static_assert(std::is_same_v<decltype(QtOffload::detail::submitCall(std::declval<const Executor &>(),
                                                                    std::declval<const QString &(*)()>())),
                             QFuture<QString>>);
static_assert(std::is_same_v<decltype(QtOffload::detail::submitCall(std::declval<const Executor &>(),
                                                                    std::declval<int (*)(JobControl &, int)>(), 1)),
                             QFuture<int>>);

//! The name of the thread a job submitted through \a executor ran on.
QFuture<QString> threadNameOn(const Executor &executor)
{
    return QtOffload::detail::submitCall(executor, [] { return QThread::currentThread()->objectName(); });
}

QString poolThreadName(const QString &pool, int index)
{
    return QStringLiteral("QtOffload pool %1 #%2").arg(pool).arg(index);
}

//! A job built by hand, as the wrappers build theirs, so a test can hold its future while submit() refuses it.
struct HandMadeJob
{
    std::shared_ptr<std::atomic<bool>> ran = std::make_shared<std::atomic<bool>>(false);
    QtOffload::detail::JobPtr job;
    QFuture<int> future;

    HandMadeJob()
    {
        auto body = [flag = ran] {
            *flag = true;
            return 1;
        };
        auto made = std::make_unique<QtOffload::detail::FutureJob<int, decltype(body)>>(std::move(body));
        future = made->future();
        job = std::move(made);
    }
};

//! \a executor refuses a job with ShutdownError, and nothing waits on it forever: its future ends cancelled, unrun.
void verifyRefusesAndCancels(const QtOffload::Executor &executor)
{
    HandMadeJob refused;
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError,
                             QtOffload::detail::SubmitAccess::submit(executor, std::move(refused.job)));
    QVERIFY(refused.future.isFinished());
    QVERIFY(refused.future.isCanceled());
    QVERIFY(!*refused.ran);
}

} // namespace

class tst_Executor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testKinds();
    void testNullTargetsThrow();
    void testDefaultIsLookedUpAtEachSubmission();
    void testResolvedPinsTheDefaultPoolOfThatMoment();
    void testResolvedLeavesOtherKindsAlone();
    void testSubmitToThreadPool();
    void testSubmitToQThreadPool();
    void testSeparateThreadPerJob();
    void testSubmitAfterShutdownThrowsAndCancels();
    void testSubmitToDestroyedPoolThrowsAndCancels();
    void testSubmitToDestroyedQThreadPoolThrowsAndCancels();
    void testSubmitCallCopiesArguments();
    void testSubmitCallWiresStopTokenToCancel();
    void testSubmitCallHandsJobControl();
};

void tst_Executor::testKinds()
{
    const Executor byDefault;
    QVERIFY(byDefault.isDefaultPool());
    QVERIFY(!byDefault.isSeparateThread());
    QCOMPARE(byDefault.threadPool(), nullptr); // looked up at each submission

    ThreadPool pool(1, QStringLiteral("kinds"));
    const Executor onPool(&pool);
    QVERIFY(!onPool.isDefaultPool());
    QVERIFY(!onPool.isSeparateThread());
    QCOMPARE(onPool.threadPool(), &pool);
    const Executor copy = onPool;
    QCOMPARE(copy.threadPool(), &pool);

    QThreadPool qtPool;
    const Executor onQtPool(&qtPool);
    QVERIFY(!onQtPool.isDefaultPool());
    QVERIFY(!onQtPool.isSeparateThread());
    QCOMPARE(onQtPool.threadPool(), nullptr); // not one of ours

    const Executor separate = Executor::separateThread();
    QVERIFY(separate.isSeparateThread());
    QVERIFY(!separate.isDefaultPool());
    QCOMPARE(separate.threadPool(), nullptr);
}

void tst_Executor::testNullTargetsThrow()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)Executor(static_cast<ThreadPool *>(nullptr)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)Executor(static_cast<QThreadPool *>(nullptr)));
}

void tst_Executor::testDefaultIsLookedUpAtEachSubmission()
{
    ThreadPool first(1, QStringLiteral("first"));
    ThreadPool second(1, QStringLiteral("second"));
    const auto restore = qScopeGuard([] { ThreadPool::setDefault(nullptr); });
    const Executor executor;

    ThreadPool::setDefault(&first);
    QFuture<QString> onFirst = threadNameOn(executor);
    ThreadPool::setDefault(&second);
    QFuture<QString> onSecond = threadNameOn(executor);
    ThreadPool::setDefault(nullptr);
    QFuture<QString> onProcessPool = threadNameOn(executor);
    QTRY_VERIFY_WITH_TIMEOUT(onFirst.isFinished() && onSecond.isFinished() && onProcessPool.isFinished(), waitMs);

    QCOMPARE(onFirst.result(), poolThreadName(QStringLiteral("first"), 1));
    QCOMPARE(onSecond.result(), poolThreadName(QStringLiteral("second"), 1));
    QVERIFY2(onProcessPool.result().startsWith(QStringLiteral("QtOffload pool default #")),
             qPrintable(onProcessPool.result()));
    QCOMPARE(first.statistics().submitted, 1);
    QCOMPARE(second.statistics().submitted, 1);
}

void tst_Executor::testResolvedPinsTheDefaultPoolOfThatMoment()
{
    ThreadPool pinned(1, QStringLiteral("pinned"));
    const auto restore = qScopeGuard([] { ThreadPool::setDefault(nullptr); });
    ThreadPool::setDefault(&pinned);
    const Executor resolved = Executor().resolved();
    ThreadPool::setDefault(nullptr);

    QVERIFY(!resolved.isDefaultPool());
    QCOMPARE(resolved.threadPool(), &pinned);
    QFuture<QString> name = threadNameOn(resolved);
    QTRY_VERIFY_WITH_TIMEOUT(name.isFinished(), waitMs);
    QCOMPARE(name.result(), poolThreadName(QStringLiteral("pinned"), 1));
    QCOMPARE(pinned.statistics().submitted, 1);
}

void tst_Executor::testResolvedLeavesOtherKindsAlone()
{
    ThreadPool named(1, QStringLiteral("named"));
    QCOMPARE(Executor(&named).threadPool(), &named);
    QCOMPARE(Executor(&named).resolved().threadPool(), &named);
    QCOMPARE(Executor().threadPool(), nullptr);
    QCOMPARE(Executor().resolved().threadPool(), ThreadPool::defaultPool());
    ThreadPool::setDefault(&named);
    const auto restore = qScopeGuard([] { ThreadPool::setDefault(nullptr); });
    QCOMPARE(Executor().resolved().threadPool(), &named);
    ThreadPool::setDefault(nullptr);
    QVERIFY(Executor::separateThread().resolved().isSeparateThread());
    QCOMPARE(Executor::separateThread().resolved().threadPool(), nullptr);
    QThreadPool qtPool;
    const Executor onQtPool = Executor(&qtPool).resolved();
    QVERIFY(!onQtPool.isDefaultPool() && !onQtPool.isSeparateThread());
    QCOMPARE(onQtPool.threadPool(), nullptr);
}

void tst_Executor::testSubmitToThreadPool()
{
    ThreadPool pool(1, QStringLiteral("target"));
    const qint64 defaultSubmitted = ThreadPool::defaultPool()->statistics().submitted;
    QFuture<QString> name = threadNameOn(Executor(&pool));
    QTRY_VERIFY_WITH_TIMEOUT(name.isFinished(), waitMs);
    QCOMPARE(name.result(), poolThreadName(QStringLiteral("target"), 1));
    QCOMPARE(pool.statistics().submitted, 1);
    QCOMPARE(ThreadPool::defaultPool()->statistics().submitted, defaultSubmitted);
}

void tst_Executor::testSubmitToQThreadPool()
{
    QThreadPool qtPool;
    qtPool.setMaxThreadCount(1);
    const qint64 defaultSubmitted = ThreadPool::defaultPool()->statistics().submitted;
    QFuture<QThread *> ranOn
        = QtOffload::detail::submitCall(Executor(&qtPool), [] { return QThread::currentThread(); });
    QFuture<QString> name = threadNameOn(Executor(&qtPool));
    QTRY_VERIFY_WITH_TIMEOUT(ranOn.isFinished() && name.isFinished(), waitMs);
    QVERIFY(ranOn.result() != QThread::currentThread());
    QVERIFY2(!name.result().contains(QStringLiteral("QtOffload")), qPrintable(name.result())); // a thread of qtPool
    QCOMPARE(ThreadPool::defaultPool()->statistics().submitted, defaultSubmitted);
    QVERIFY(qtPool.waitForDone(waitMs));
}

void tst_Executor::testSeparateThreadPerJob()
{
    // Both jobs meet before either returns: two threads ran them at the same time.
    struct Rendezvous
    {
        Gate arrived[2];
    };
    auto rendezvous = std::make_shared<Rendezvous>();
    const auto meet = [rendezvous](int me) {
        rendezvous->arrived[me].release();
        return rendezvous->arrived[1 - me].tryAcquire(1, waitMs) ? QThread::currentThread()->objectName() : QString();
    };
    const Executor separate = Executor::separateThread(QStringLiteral("executor test"));
    const qint64 defaultSubmitted = ThreadPool::defaultPool()->statistics().submitted;
    QFuture<QString> first = QtOffload::detail::submitCall(separate, meet, 0);
    QFuture<QString> second = QtOffload::detail::submitCall(separate, meet, 1);
    QFuture<QString> defaultNamed = threadNameOn(Executor::separateThread());
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && second.isFinished() && defaultNamed.isFinished(), 2 * waitMs);

    static const QRegularExpression named(QStringLiteral("^executor test #\\d+$"));
    QVERIFY2(named.match(first.result()).hasMatch(), qPrintable(first.result()));
    QVERIFY2(named.match(second.result()).hasMatch(), qPrintable(second.result()));
    QVERIFY(first.result() != second.result());
    static const QRegularExpression byDefault(QStringLiteral("^QtOffload separate #\\d+$"));
    QVERIFY2(byDefault.match(defaultNamed.result()).hasMatch(), qPrintable(defaultNamed.result()));
    QCOMPARE(ThreadPool::defaultPool()->statistics().submitted, defaultSubmitted);
}

void tst_Executor::testSubmitAfterShutdownThrowsAndCancels()
{
    ThreadPool pool(1, QStringLiteral("closed"));
    QVERIFY(pool.shutdown().isEmpty());

    verifyRefusesAndCancels(Executor(&pool));
    if (QTest::currentTestFailed())
        return;
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)threadNameOn(Executor(&pool)));
    QCOMPARE(pool.statistics().submitted, 0);
}

void tst_Executor::testSubmitToDestroyedPoolThrowsAndCancels()
{
    auto pool = std::make_unique<ThreadPool>(1, QStringLiteral("gone"));
    const Executor executor(pool.get());
    pool.reset();
    QCOMPARE(executor.threadPool(), nullptr); // it does not dangle
    verifyRefusesAndCancels(executor);
}

void tst_Executor::testSubmitToDestroyedQThreadPoolThrowsAndCancels()
{
    auto qtPool = std::make_unique<QThreadPool>();
    const Executor executor(qtPool.get());
    qtPool.reset();
    verifyRefusesAndCancels(executor);
}

void tst_Executor::testSubmitCallCopiesArguments()
{
    JobGate gate; // outlives the pool, whose destructor waits for the job holding it
    ThreadPool pool(1, QStringLiteral("arguments"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    (void)QtOffload::detail::submitCall(Executor(&pool), gate.job());
    QVERIFY(gate.started.tryAcquire(1, waitMs));

    QFuture<QString> future;
    {
        // The job runs only after these changed and went out of scope.
        QString text = QStringLiteral("ab");
        int times = 3;
        future = QtOffload::detail::submitCall(
            Executor(&pool), [](const QString &t, int n) { return t.repeated(n); }, text, times);
        text = QStringLiteral("changed");
        times = 0;
    }
    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), QStringLiteral("ababab"));
}

void tst_Executor::testSubmitCallWiresStopTokenToCancel()
{
    struct State
    {
        Gate started;
        Gate returned;
        std::atomic<int> stopped { -1 };
        std::atomic<int> argument { 0 };
    };
    auto state = std::make_shared<State>();
    ThreadPool pool(1, QStringLiteral("stoppable"));
    QFuture<void> future = QtOffload::detail::submitCall(
        Executor(&pool),
        [state](StopToken stop, int argument) {
            state->argument = argument;
            state->started.release();
            state->stopped = stop.waitFor(1h) ? 1 : 0;
            state->returned.release();
        },
        7);
    QVERIFY(state->started.tryAcquire(1, waitMs));
    future.cancel();
    // Long before the hour the job asked to wait.
    QVERIFY(state->returned.tryAcquire(1, waitMs));
    QCOMPARE(state->stopped.load(), 1);
    QCOMPARE(state->argument.load(), 7);
    QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
}

void tst_Executor::testSubmitCallHandsJobControl()
{
    ThreadPool pool(1, QStringLiteral("controlled"));
    QFuture<int> future = QtOffload::detail::submitCall(
        Executor(&pool),
        [](JobControl &control, int x) {
            return control.isStopRequested() || control.stopToken().isStopRequested() ? -1 : 2 * x;
        },
        21);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), 42);
}

QTEST_GUILESS_MAIN(tst_Executor)

#include "tst_executor.moc"
