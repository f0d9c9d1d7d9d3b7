// SPDX-License-Identifier: MIT
// ThreadPool: lazy growth, thread names, counters, waitForDone, run(),
// destruction with work queued, shutdown, the default pool and starvation.
// Scheduling is made deterministic the Qt way: the pool's threads are held
// by jobs blocked on a gate while the test arranges the queue.

#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>

#include <support/cpuload.h>
#include <support/gate.h>
#include <support/sanitizers.h>

#include <QtCore/QProcess>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <stdexcept>

using namespace std::chrono_literals;
using QtOffload::ThreadPool;

namespace {

// Every wait inside a job is bounded: a broken pool fails a test instead of hanging it.
constexpr int waitMs = 10000;

// Set in the environment of a child run of this executable (testPoolSizeFromEnvironment).
constexpr char printDefaultPoolSize[] = "TST_THREADPOOL_PRINT_DEFAULT_POOL_SIZE";

// future.waitForFinished() with a deadline, callable from a pool thread.
template<typename T> bool waitForFinished(QFuture<T> future, int timeoutMs)
{
    auto done = std::make_shared<Gate>();
    (void)future.then(QtFuture::Launch::Sync, [done](const QFuture<T> &) { done->release(); });
    return done->tryAcquire(1, timeoutMs);
}

QString poolThreadName(const QString &pool, int index)
{
    return QStringLiteral("QtOffload pool %1 #%2").arg(pool).arg(index);
}

} // namespace

class tst_ThreadPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testMaxThreadCount();
    void testThreadsStartLazilyAndGrowToMax();
    void testThreadNames();
    void testRunReturnsValue();
    void testRunMoveOnlyArgumentAndResult();
    void testRunRethrowsJobException();
    void testStartRunsWithoutFuture();
    void testStartWarnsAndCountsEscapedException();
    void testStatisticsAddUp();
    void testRunningCountsOnlyStartedJobs();
    void testWaitForDone();
    void testDestroyCancelsQueuedAndFinishesRunning();
    void testSubmitAfterShutdownThrows();
    void testShutdownReportsBusyThreads();
    void testShutdownAsksRunningJobsToStop();
    void testSetDefault();
    void testDestroyingDefaultRevertsToProcessPool();
    void testPoolSizeFromEnvironment_data();
    void testPoolSizeFromEnvironment();
    void testStarvationStartsOverflowThread_data();
    void testStarvationStartsOverflowThread();
    void testJobWaitingOnJobQueuedBehindItCompletes_data();
    void testJobWaitingOnJobQueuedBehindItCompletes();
    void testJobBehindLongOnesGetsAThreadUnderLoad_data();
    void testJobBehindLongOnesGetsAThreadUnderLoad();
};

void tst_ThreadPool::testMaxThreadCount()
{
    QCOMPARE(ThreadPool(3).maxThreadCount(), 3);
    QCOMPARE(ThreadPool(0).maxThreadCount(), QThread::idealThreadCount());
    QCOMPARE(ThreadPool(-1).maxThreadCount(), QThread::idealThreadCount());
    ThreadPool named(1, QStringLiteral("named"));
    QCOMPARE(named.name(), QStringLiteral("named"));
    QCOMPARE(named.objectName(), QStringLiteral("QtOffload pool named"));
}

void tst_ThreadPool::testThreadsStartLazilyAndGrowToMax()
{
    JobGate gate;
    ThreadPool pool(3, QStringLiteral("lazy"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever); // no overflow thread may blur the count
    QCOMPARE(pool.statistics().threads, 0);

    QList<QFuture<bool>> futures;
    for (int i = 1; i <= 3; ++i) {
        // Every earlier job holds its thread, so each submission needs a new one.
        futures << pool.run(gate.job());
        QVERIFY(gate.started.tryAcquire(1, waitMs));
        QCOMPARE(pool.statistics().threads, i);
    }
    futures << pool.run(gate.job());
    QCOMPARE(pool.statistics().threads, 3);
    QCOMPARE(pool.statistics().queued, 1);

    gate.open.release(4);
    QVERIFY(pool.waitForDone(10s));
    for (const QFuture<bool> &future : std::as_const(futures))
        QVERIFY(future.result());
    QVERIFY(pool.statistics().threads <= 3);
}

void tst_ThreadPool::testThreadNames()
{
    ThreadPool pool(2, QStringLiteral("names"));
    Gate arrived;
    Gate go;
    const auto cleanup = qScopeGuard([&] { go.release(2); });
    const auto job = [&] {
        // Both jobs meet here, so they run on two different threads.
        arrived.release();
        go.tryAcquire(1, waitMs);
        return QThread::currentThread()->objectName();
    };
    QFuture<QString> first = pool.run(job);
    QFuture<QString> second = pool.run(job);
    QVERIFY(arrived.tryAcquire(2, waitMs));
    go.release(2);
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && second.isFinished(), waitMs);

    const QSet<QString> names { first.result(), second.result() };
    QCOMPARE(
        names,
        (QSet<QString> { poolThreadName(QStringLiteral("names"), 1), poolThreadName(QStringLiteral("names"), 2) }));
}

void tst_ThreadPool::testRunReturnsValue()
{
    ThreadPool pool(1);
    QFuture<QString> future
        = pool.run([](int times, const QString &text) { return text.repeated(times); }, 3, QStringLiteral("ab"));
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), QStringLiteral("ababab"));
    QVERIFY(!future.isCanceled());
}

void tst_ThreadPool::testRunMoveOnlyArgumentAndResult()
{
    ThreadPool pool(1);
    auto future
        = pool.run([](std::unique_ptr<int> value) { return std::make_unique<QString>(QString::number(*value * 2)); },
                   std::make_unique<int>(21));
    static_assert(std::is_same_v<decltype(future), QFuture<std::unique_ptr<QString>>>);
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    std::unique_ptr<QString> result = future.takeResult();
    QVERIFY(result);
    QCOMPARE(*result, QStringLiteral("42"));
}

void tst_ThreadPool::testRunRethrowsJobException()
{
    ThreadPool pool(1);
    QFuture<int> future = pool.run([]() -> int { throw std::out_of_range("index 7"); });
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, future.waitForFinished());
    QTRY_COMPARE_WITH_TIMEOUT(pool.statistics().failed, 1, waitMs);
}

void tst_ThreadPool::testStartRunsWithoutFuture()
{
    ThreadPool pool(2, QStringLiteral("start"));
    Gate done;
    std::atomic<int> sum { 0 };
    auto moveOnly = std::make_unique<int>(40);
    pool.start(
        [&sum, &done](std::unique_ptr<int> value, int extra) {
            sum += *value + extra;
            done.release();
        },
        std::move(moveOnly), 2);
    QVERIFY(done.tryAcquire(1, waitMs));
    QCOMPARE(sum.load(), 42);
    QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
    QCOMPARE(pool.statistics().succeeded, 1);

    QVERIFY(pool.shutdown().isEmpty());
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, pool.start([] {}));
}

void tst_ThreadPool::testStartWarnsAndCountsEscapedException()
{
    ThreadPool pool(1, QStringLiteral("start-throws"));
    QTest::ignoreMessage(QtWarningMsg, "QtOffload: a job started with ThreadPool::start() threw: planned failure");
    QTest::ignoreMessage(QtWarningMsg,
                         "QtOffload: a job started with ThreadPool::start() threw: an exception of type int (not "
                         "derived from std::exception)");
    pool.start([] { throw std::runtime_error("planned failure"); });
    pool.start([] { throw 42; });
    QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
    QCOMPARE(pool.statistics().failed, 2);
}

void tst_ThreadPool::testStatisticsAddUp()
{
    JobGate gate;
    std::atomic<int> droppedRan { 0 };
    ThreadPool pool(2, QStringLiteral("stats"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever);

    QList<QFuture<bool>> held;
    for (int i = 0; i < 2; ++i) {
        held << pool.run(gate.job());
        QVERIFY(gate.started.tryAcquire(1, waitMs));
    }
    // Both threads are held: everything below waits in the queue.
    QList<QFuture<int>> succeeding;
    QList<QFuture<int>> failing;
    QList<QFuture<int>> dropped;
    for (int i = 0; i < 5; ++i)
        succeeding << pool.run([i] { return i; });
    for (int i = 0; i < 3; ++i)
        failing << pool.run([]() -> int { throw std::runtime_error("planned failure"); });
    for (int i = 0; i < 4; ++i) {
        dropped << pool.run([&droppedRan] { return ++droppedRan; });
        dropped.last().cancel();
    }

    ThreadPool::Statistics stats = pool.statistics();
    QCOMPARE(stats.submitted, 14);
    QCOMPARE(stats.queued, 12);
    QCOMPARE(stats.running, 2);
    QCOMPARE(stats.threads, 2);
    QCOMPARE(stats.succeeded + stats.failed + stats.cancelled, 0);

    gate.open.release(2);
    QVERIFY(pool.waitForDone(10s));
    stats = pool.statistics();
    QCOMPARE(stats.submitted, 14);
    QCOMPARE(stats.succeeded, 7);
    QCOMPARE(stats.failed, 3);
    QCOMPARE(stats.cancelled, 4);
    QCOMPARE(stats.succeeded + stats.failed + stats.cancelled, stats.submitted);
    QCOMPARE(stats.queued, 0);
    QCOMPARE(stats.running, 0);
    QCOMPARE(stats.overflowThreads, 0);
    QVERIFY(stats.threads >= 1 && stats.threads <= 2);
    QVERIFY(stats.totalRunTime > 0ns);
    QCOMPARE(droppedRan.load(), 0);
    for (const QFuture<int> &future : std::as_const(dropped))
        QVERIFY(future.isCanceled());
}

void tst_ThreadPool::testRunningCountsOnlyStartedJobs()
{
    // "Running now" is what occupies the threads, so it never exceeds them:
    // a job behind the running one is still queued, whichever worker will take it.
    JobGate first;
    JobGate second;
    ThreadPool pool(1, QStringLiteral("counted"));
    const auto cleanup = qScopeGuard([&] {
        first.openAll();
        second.openAll();
    });
    pool.setStarvationTimeout(QtOffload::Forever);
    (void)pool.run(first.job());
    QVERIFY(first.started.tryAcquire(1, waitMs));
    (void)pool.run(second.job());
    for (int i = 0; i < 4; ++i)
        (void)pool.run([] { return 0; });

    first.open.release();
    QVERIFY(second.started.tryAcquire(1, waitMs));
    const ThreadPool::Statistics stats = pool.statistics();
    QCOMPARE(stats.running, 1);
    QCOMPARE(stats.queued, 4);
    second.open.release();
    QVERIFY(pool.waitForDone(10s));
}

void tst_ThreadPool::testWaitForDone()
{
    JobGate gate;
    ThreadPool pool(1, QStringLiteral("wait"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    pool.setStarvationTimeout(QtOffload::Forever); // the queued job must wait for the held one
    QVERIFY(pool.waitForDone(0ms)); // nothing submitted yet

    QFuture<bool> held = pool.run(gate.job());
    QFuture<int> queued = pool.run([] { return 7; });
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    QVERIFY(!pool.waitForDone(50ms)); // cannot go idle while the gate holds its thread
    QVERIFY(!queued.isFinished());

    gate.open.release();
    QVERIFY(pool.waitForDone(10s));
    QVERIFY(held.isFinished() && queued.isFinished());
    QVERIFY(held.result());
    QCOMPARE(queued.result(), 7);
}

void tst_ThreadPool::testDestroyCancelsQueuedAndFinishesRunning()
{
    JobGate gate;
    std::atomic<int> queuedRan { 0 };
    auto *pool = new ThreadPool(1, QStringLiteral("doomed"));
    pool->setStarvationTimeout(QtOffload::Forever);
    std::unique_ptr<QThread> destroyer(QThread::create([pool] { delete pool; }));
    pool->moveToThread(destroyer.get());
    const auto cleanup = qScopeGuard([&] {
        gate.openAll();
        if (!destroyer->wait(QDeadlineTimer(waitMs)))
            (void)destroyer.release(); // destroying a running QThread aborts; the failure is reported already
    });

    QFuture<bool> running = pool->run(gate.job());
    QVERIFY(gate.started.tryAcquire(1, waitMs));
    QList<QFuture<int>> queued;
    for (int i = 0; i < 3; ++i)
        queued << pool->run([&queuedRan] { return ++queuedRan; });

    destroyer->start();
    // The destructor cancels the queued jobs at once, then waits for the running one.
    for (const QFuture<int> &future : std::as_const(queued))
        QTRY_VERIFY_WITH_TIMEOUT(future.isCanceled() && future.isFinished(), waitMs);
    QVERIFY(!running.isFinished());
    QVERIFY(!destroyer->isFinished());

    gate.open.release();
    QVERIFY(destroyer->wait(QDeadlineTimer(waitMs)));
    QVERIFY(running.isFinished());
    QVERIFY(!running.isCanceled());
    QVERIFY(running.result());
    QCOMPARE(queuedRan.load(), 0);
}

void tst_ThreadPool::testSubmitAfterShutdownThrows()
{
    ThreadPool pool(1, QStringLiteral("closed"));
    QFuture<int> before = pool.run([] { return 1; });
    QTRY_VERIFY_WITH_TIMEOUT(before.isFinished(), waitMs);
    QVERIFY(pool.shutdown().isEmpty());

    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)pool.run([] { return 2; }));
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)QtOffload::threaded(&pool, [] { return 3; })());
    QCOMPARE(pool.statistics().submitted, 1);
    QCOMPARE(before.result(), 1);
}

void tst_ThreadPool::testShutdownReportsBusyThreads()
{
    JobGate gate;
    ThreadPool pool(1, QStringLiteral("busy"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    QFuture<bool> held = pool.run(gate.job());
    QVERIFY(gate.started.tryAcquire(1, waitMs));

    QCOMPARE(pool.shutdown(50ms), QStringList { poolThreadName(QStringLiteral("busy"), 1) });
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)pool.run([] { return 0; }));

    gate.open.release();
    QTRY_VERIFY_WITH_TIMEOUT(held.isFinished(), waitMs);
    QVERIFY(!held.isCanceled()); // shutting down never cancels a job that already runs
    QVERIFY(held.result());
    QVERIFY(pool.shutdown(10s).isEmpty());
}

// A pool that shuts down asks what runs on it to stop, down the path the
// work took (Job::requestStop()): a job taking a StopToken sees it, and so
// does a JobControl job, suspended or not. Without the request neither
// would ever return, and shutdown() would report both threads busy.
void tst_ThreadPool::testShutdownAsksRunningJobsToStop()
{
    ThreadPool pool(2, QStringLiteral("stopping"));
    Gate started;
    QFuture<int> looping = pool.run([&started](QtOffload::StopToken stop) {
        started.release();
        int turns = 0;
        while (!stop.waitFor(5ms))
            ++turns;
        return turns;
    });
    QFuture<bool> controlled = pool.run([&started](QtOffload::JobControl &control) {
        started.release();
        while (!control.isStopRequested())
            control.stopToken().waitFor(5ms);
        return true;
    });
    QVERIFY(started.tryAcquire(2, waitMs));

    QVERIFY(pool.shutdown(std::chrono::milliseconds(waitMs)).isEmpty());
    QVERIFY(looping.isFinished() && !looping.isCanceled());
    QVERIFY(looping.result() >= 0);
    QVERIFY(controlled.result());
}

void tst_ThreadPool::testSetDefault()
{
    ThreadPool *process = ThreadPool::defaultPool();
    QVERIFY(process);
    QCOMPARE(process->name(), QStringLiteral("default"));
    QCOMPARE(ThreadPool::defaultPool(), process); // created once

    ThreadPool mine(1, QStringLiteral("mine"));
    ThreadPool::setDefault(&mine);
    const auto restore = qScopeGuard([] { ThreadPool::setDefault(nullptr); });
    QCOMPARE(ThreadPool::defaultPool(), &mine);

    QFuture<QString> future = QtOffload::threaded([] { return QThread::currentThread()->objectName(); })();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(future.result(), poolThreadName(QStringLiteral("mine"), 1));
    QCOMPARE(mine.statistics().submitted, 1);

    ThreadPool::setDefault(nullptr);
    QCOMPARE(ThreadPool::defaultPool(), process);
}

void tst_ThreadPool::testDestroyingDefaultRevertsToProcessPool()
{
    ThreadPool *process = ThreadPool::defaultPool();
    const auto restore = qScopeGuard([] { ThreadPool::setDefault(nullptr); });

    auto installed = std::make_unique<ThreadPool>(1, QStringLiteral("temporary"));
    {
        // Destroying a pool that is not the default leaves the default alone.
        ThreadPool bystander(1);
        ThreadPool::setDefault(installed.get());
    }
    QCOMPARE(ThreadPool::defaultPool(), installed.get());

    installed.reset();
    QCOMPARE(ThreadPool::defaultPool(), process);
    QFuture<QString> future = QtOffload::threaded([] { return QThread::currentThread()->objectName(); })();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY2(future.result().startsWith(QStringLiteral("QtOffload pool default #")), qPrintable(future.result()));
}

void tst_ThreadPool::testPoolSizeFromEnvironment_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("expected");
    QTest::newRow("3") << QStringLiteral("3") << 3;
    QTest::newRow("1") << QStringLiteral("1") << 1;
    QTest::newRow("0 means ideal") << QStringLiteral("0") << QThread::idealThreadCount();
    QTest::newRow("negative means ideal") << QStringLiteral("-4") << QThread::idealThreadCount();
    QTest::newRow("garbage means ideal") << QStringLiteral("many") << QThread::idealThreadCount();
}

void tst_ThreadPool::testPoolSizeFromEnvironment()
{
    // The variable is read when the process-wide pool is created, once per
    // process, so each value gets a fresh child run of this executable.
#if defined(QTOFFLOAD_TEST_TSAN)
    // TSan marks a process that forked while multi-threaded, and kills it at its next new thread.
    QSKIP("QProcess under ThreadSanitizer breaks the rest of this suite; covered by the other builds");
#endif
    QFETCH(QString, value);
    QFETCH(int, expected);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("QTOFFLOAD_POOL_SIZE"), value);
    environment.insert(QLatin1String(printDefaultPoolSize), QStringLiteral("1"));
    QProcess child;
    child.setProcessEnvironment(environment);
    child.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(child.waitForFinished(60000));
    QCOMPARE(child.exitStatus(), QProcess::NormalExit);
    QCOMPARE(child.exitCode(), 0);
    QCOMPARE(child.readAllStandardOutput().trimmed(), QByteArray::number(expected));
}

void tst_ThreadPool::testStarvationStartsOverflowThread_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("2 threads") << 2;
}

void tst_ThreadPool::testStarvationStartsOverflowThread()
{
    QFETCH(int, threads);
    Gate arrived;
    Gate go;
    ThreadPool pool(threads, QStringLiteral("starved"));
    const auto cleanup = qScopeGuard([&] { go.release(threads); });
    pool.setStarvationTimeout(50ms);
    QCOMPARE(pool.starvationTimeout(), 50ms);

    const auto outer = [&](int i) {
        // Every thread of the pool is taken by an outer job before any of them
        // waits on a job of the same pool: only an overflow thread can run it.
        arrived.release();
        if (!go.tryAcquire(1, waitMs))
            return -1;
        QFuture<int> inner = pool.run([i] { return i * 10; });
        return waitForFinished(inner, waitMs) ? inner.result() : -2;
    };
    QList<QFuture<int>> outers;
    for (int i = 1; i <= threads; ++i)
        outers << pool.run(outer, i);
    QVERIFY(arrived.tryAcquire(threads, waitMs));
    go.release(threads);

    for (int i = 1; i <= threads; ++i) {
        QTRY_VERIFY_WITH_TIMEOUT(outers[i - 1].isFinished(), 2 * waitMs);
        QCOMPARE(outers[i - 1].result(), i * 10);
    }
    QVERIFY(pool.statistics().overflowThreads >= 1);
    QVERIFY(pool.waitForDone(10s));
    QTRY_VERIFY_WITH_TIMEOUT(pool.statistics().threads <= threads, waitMs); // overflow threads leave when idle
}

void tst_ThreadPool::testJobWaitingOnJobQueuedBehindItCompletes_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("2 threads") << 2;
}

void tst_ThreadPool::testJobWaitingOnJobQueuedBehindItCompletes()
{
    // The same starvation as above, but the awaited job was queued from
    // outside, right behind its waiter, while every thread was busy.
    QFETCH(int, threads);
    constexpr int waiterWaitMs = 5000;
    JobGate gate;
    Gate waitersStarted;
    ThreadPool pool(threads, QStringLiteral("behind"));
    const auto cleanup = qScopeGuard([&] { gate.openAll(); });
    // Finite, so the pool watches for starvation; shortened once the waiters run,
    // so no overflow thread can start while the gate holds the pool.
    pool.setStarvationTimeout(1h);

    for (int i = 0; i < threads; ++i) {
        (void)pool.run(gate.job());
        QVERIFY(gate.started.tryAcquire(1, waitMs));
    }
    // The queue is now: waiter 1, awaited 1, waiter 2, awaited 2, ...
    QList<QFuture<int>> waiters;
    for (int i = 1; i <= threads; ++i) {
        auto awaited = std::make_shared<std::promise<QFuture<int>>>();
        waiters << pool.run([&waitersStarted, awaitedFuture = awaited->get_future().share()] {
            waitersStarted.release();
            QFuture<int> future = awaitedFuture.get(); // set right after this job was queued
            return waitForFinished(future, waiterWaitMs) ? future.result() : -1;
        });
        awaited->set_value(pool.run([i] { return 100 + i; }));
    }

    gate.open.release(threads);
    QVERIFY(waitersStarted.tryAcquire(threads, waitMs));
    pool.setStarvationTimeout(50ms);
    for (int i = 1; i <= threads; ++i) {
        QTRY_VERIFY_WITH_TIMEOUT(waiters[i - 1].isFinished(), 2 * waitMs);
        QCOMPARE(waiters[i - 1].result(), 100 + i);
    }
}

void tst_ThreadPool::testJobBehindLongOnesGetsAThreadUnderLoad_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("2 threads") << 2;
    QTest::newRow("4 threads") << 4;
}

void tst_ThreadPool::testJobBehindLongOnesGetsAThreadUnderLoad()
{
    // A pool with one thread started and idle gets long jobs, one fewer
    // than its threads, then a short one: the short one must get a thread of
    // its own at once, not wait behind a long one. Busy threads take every
    // core, so a woken worker is slow to run, which is when a pool that
    // counts it as idle before it runs starts no thread for the next job.
    QFETCH(int, threads);
    const CpuLoad load;
    for (int round = 0; round < 6; ++round) {
        JobGate gate;
        ThreadPool pool(threads, QStringLiteral("under load"));
        const auto cleanup = qScopeGuard([&] { gate.openAll(); });
        pool.setStarvationTimeout(QtOffload::Forever); // only the growth on submission may rescue it
        (void)pool.run([] {});
        QVERIFY(pool.waitForDone(10s)); // one thread, idle

        for (int i = 0; i < threads - 1; ++i)
            (void)pool.run(gate.job());
        const QFuture<int> shortJob = pool.run([] { return 7; });
        QVERIFY2(waitForFinished(shortJob, waitMs),
                 qPrintable(QStringLiteral("round %1: the short job waited behind a held one (threads %2, queued %3)")
                                .arg(round)
                                .arg(pool.statistics().threads)
                                .arg(pool.statistics().queued)));
        QCOMPARE(shortJob.result(), 7);
        QVERIFY(gate.started.tryAcquire(threads - 1, waitMs)); // and every long job has its own thread too
        gate.openAll();
        QVERIFY(pool.waitForDone(10s));
    }
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(printDefaultPoolSize)) {
        std::printf("%d\n", ThreadPool::defaultPool()->maxThreadCount());
        return 0;
    }
    tst_ThreadPool test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_threadpool.moc"
