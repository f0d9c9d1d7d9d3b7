// SPDX-License-Identifier: MIT
// Entrypoint: the application object, the default pool, run() (the seed's
// run_until_complete) and the orderly shutdown.
//
// A process holds one QCoreApplication at a time and one test must see
// Entrypoint create it, so there is no test-wide application
// (QTEST_APPLESS_MAIN): each test's application lives within that test.

#include <support/gate.h>

#include <QtOffload/entrypoint.h>
#include <QtOffload/invokeblocking.h>
#include <QtOffload/threaded.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QPromise>
#include <QtCore/QRandomGenerator>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <condition_variable>
#include <mutex>

using namespace std::chrono_literals;
using QtOffload::Entrypoint;
using QtOffload::invokeBlocking;
using QtOffload::StopToken;
using QtOffload::ThreadPool;

// A deadline for every future the tests read, so a stuck job fails instead of hanging.
#define QTRY_FINISHED(future) QTRY_VERIFY_WITH_TIMEOUT((future).isFinished(), 10000)

namespace {

constexpr int waitMs = 10000;

struct CustomError
{
    int code;
};

template<typename F> QString outcomeOf(F &&call)
{
    try {
        call();
        return QStringLiteral("returned");
    } catch (const QtOffload::ShutdownError &) {
        return QStringLiteral("ShutdownError");
    } catch (const QtOffload::TimeoutError &) {
        return QStringLiteral("TimeoutError");
    } catch (const QtOffload::CancelledError &) {
        return QStringLiteral("CancelledError");
    } catch (...) {
        return QStringLiteral("other");
    }
}

//! outcomeOf(\a call) on a plain thread of its own (not a pool's, not the main one).
template<typename F> QString outcomeOnWorker(F call)
{
    QString outcome = QStringLiteral("did not finish");
    std::unique_ptr<QThread> worker(QThread::create([&] { outcome = outcomeOf(call); }));
    worker->start();
    // Turn the main loop meanwhile (when there is one): the call may need it.
    (void)QTest::qWaitFor([&worker] { return worker->isFinished(); }, waitMs);
    if (!worker->wait(QDeadlineTimer(std::chrono::milliseconds(waitMs))))
        qFatal("outcomeOnWorker: the worker hangs");
    return outcome;
}

QCoro::Task<int> squareOnPool(int x)
{
    co_return co_await QtOffload::threaded([](int v) { return v * v; })(x);
}

QCoro::Task<int> failOnPool(int code)
{
    co_await QtOffload::threaded([] {})();
    throw CustomError { code };
}

QCoro::Task<> touchOnPool(std::shared_ptr<std::atomic<bool>> touched)
{
    // Not `co_await threaded([touched] {...})()`: g++ 12 destroys a capturing
    // lambda temporary of a co_await expression twice (a compiler bug).
    co_await QtOffload::threaded([](const std::shared_ptr<std::atomic<bool>> &flag) { flag->store(true); })(touched);
}

QCoro::Task<std::optional<int>> nextChunk(QtOffload::TypedGenerator<int> *generator)
{
    co_return co_await generator->next();
}

QCoro::Task<int> countRemaining(QtOffload::TypedGenerator<int> *generator)
{
    int count = 0;
    while (co_await generator->next())
        ++count;
    co_return count;
}

} // namespace

class tst_Entrypoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testCreatesApplicationWhenNoneExists();
    void testReusesExistingApplication();
    void testInstallsPoolAsDefault();
    void testPoolSizeFromEnvironment();
    void testRunCallable();
    void testRunVoidCallable();
    void testRunFuture();
    void testRunTask();
    void testRunCallableReturningTaskOrFuture();
    void testRunRethrowsExceptions();
    void testRunCancelledFutureThrowsCancelledError();
    void testShutdownClosesOpenGenerator();
    void testShutdownStopsAndJoinsSeparateThreads();
    void testShutdownStopsQThreadPoolJobs();
    void testShutdownReportsThreadIgnoringStop();
    void testShutdownCancelsQueuedPoolJobs();
    void testInvokeBlockingDuringShutdownFails();
    void testInvokeBlockingAfterShutdownFails();
    void testSeparateThreadInInvokeBlockingIsNotReportedStuck();
    void testSecondEntrypointWorks();
    void testAThreadGivenUpOnIsNotWaitedForAgain();
    void testPoolStaysValidAfterShutdown();

private:
    // QCoreApplication keeps references to these for its whole life.
    int m_argc = 1;
    char m_arg0[15] = "tst_entrypoint";
    char *m_argv[2] = { m_arg0, nullptr };
};

void tst_Entrypoint::testCreatesApplicationWhenNoneExists()
{
    QVERIFY(!QCoreApplication::instance());
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
        QVERIFY(QCoreApplication::instance());
        QCOMPARE(ep.application(), QCoreApplication::instance());
        QCOMPARE(ep.application()->thread(), QThread::currentThread());
    }
    QVERIFY(!QCoreApplication::instance()); // it made the application, so it took it down
}

void tst_Entrypoint::testReusesExistingApplication()
{
    QCoreApplication app(m_argc, m_argv);
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
        QCOMPARE(ep.application(), &app);
        QCOMPARE(ep.run([] { return QCoreApplication::instance(); }), &app);
    }
    QCOMPARE(QCoreApplication::instance(), &app);

    // The application lives on, and so does its main loop for invokeBlocking.
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<int> job = QtOffload::threaded([](int n) { return invokeBlocking([n] { return n + 1; }); })(input);
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), input + 1);
}

void tst_Entrypoint::testInstallsPoolAsDefault()
{
    ThreadPool *const before = ThreadPool::defaultPool();
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 3, .poolName = QStringLiteral("ep-test") });
        QVERIFY(ep.pool());
        QCOMPARE(ThreadPool::defaultPool(), ep.pool());
        QCOMPARE(ep.pool()->maxThreadCount(), 3);
        const QString thread = ep.run(QtOffload::threaded([] { return QThread::currentThread()->objectName(); })());
        QVERIFY2(thread.startsWith(QStringLiteral("QtOffload pool ep-test #")), qPrintable(thread));
    }
    QCOMPARE(ThreadPool::defaultPool(), before);
}

void tst_Entrypoint::testPoolSizeFromEnvironment()
{
    const int size = QRandomGenerator::global()->bounded(2, 9);
    qputenv("QTOFFLOAD_POOL_SIZE", QByteArray::number(size));
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 0 });
        QCOMPARE(ep.pool()->maxThreadCount(), size);
    }
    qunsetenv("QTOFFLOAD_POOL_SIZE");
}

void tst_Entrypoint::testRunCallable()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    const auto [value, thread, loopLevel] = ep.run([input] {
        return std::make_tuple(input * 2, QThread::currentThread(), QThread::currentThread()->loopLevel());
    });
    QCOMPARE(value, input * 2);
    QCOMPARE(thread, QThread::currentThread());
    QVERIFY(loopLevel >= 1); // called from the event loop, not directly

    // Move-only results come out too.
    const std::unique_ptr<int> owned = ep.run([input] { return std::make_unique<int>(input); });
    QCOMPARE(*owned, input);
}

void tst_Entrypoint::testRunVoidCallable()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    int loopLevel = 0;
    static_assert(std::is_void_v<decltype(ep.run([] {}))>);
    ep.run([&loopLevel] { loopLevel = QThread::currentThread()->loopLevel(); });
    QVERIFY(loopLevel >= 1);
}

void tst_Entrypoint::testRunFuture()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QCOMPARE(ep.run(QtOffload::threaded([](int x) { return x * 3; })(input)), input * 3);

    // A future completed by the event loop itself: run() must keep it turning.
    QPromise<int> promise;
    promise.start();
    QTimer::singleShot(10ms, ep.application(), [&promise, input] {
        promise.addResult(input + 7);
        promise.finish();
    });
    QCOMPARE(ep.run(promise.future()), input + 7);
}

void tst_Entrypoint::testRunTask()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QCOMPARE(ep.run(squareOnPool(input)), input * input);

    auto touched = std::make_shared<std::atomic<bool>>(false);
    static_assert(std::is_void_v<decltype(ep.run(touchOnPool(touched)))>);
    ep.run(touchOnPool(touched));
    QVERIFY(touched->load());
}

void tst_Entrypoint::testRunCallableReturningTaskOrFuture()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QCOMPARE(ep.run([input] { return squareOnPool(input); }), input * input);
    QCOMPARE(ep.run([input] { return QtOffload::threaded([](int x) { return x - 1; })(input); }), input - 1);
}

void tst_Entrypoint::testRunRethrowsExceptions()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    const int code = QRandomGenerator::global()->bounded(1, 1000);
    const auto codeThrownBy = [&ep](auto &&what) {
        try {
            ep.run(std::forward<decltype(what)>(what));
        } catch (const CustomError &e) {
            return e.code;
        }
        return -1;
    };
    QCOMPARE(codeThrownBy(failOnPool(code)), code);
    QCOMPARE(codeThrownBy([code] { return failOnPool(code + 1); }), code + 1);
    QCOMPARE(codeThrownBy([code]() -> int { throw CustomError { code + 2 }; }), code + 2);
    QCOMPARE(codeThrownBy(QtOffload::threaded([code] { throw CustomError { code + 3 }; })()), code + 3);
}

void tst_Entrypoint::testRunCancelledFutureThrowsCancelledError()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });

    QPromise<int> finished;
    finished.start();
    QTimer::singleShot(10ms, ep.application(), [&finished] {
        finished.future().cancel();
        finished.finish();
    });
    QVERIFY_THROWS_EXCEPTION(QtOffload::CancelledError, ep.run(finished.future()));

    // Cancelled but never finished: such a future notifies nobody, run() must still return.
    QPromise<int> unfinished;
    unfinished.start();
    QTimer::singleShot(10ms, ep.application(), [&unfinished] { unfinished.future().cancel(); });
    QVERIFY_THROWS_EXCEPTION(QtOffload::CancelledError, ep.run(unfinished.future()));
}

void tst_Entrypoint::testShutdownClosesOpenGenerator()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 2 });
    auto produced = std::make_shared<std::atomic<int>>(0);
    auto returned = std::make_shared<std::atomic<bool>>(false);
    auto generator = QtOffload::threadedIterable(
        [produced, returned](QtOffload::Sink<int> &out) {
            for (int i = 0; out.yield(i); ++i)
                produced->fetch_add(1);
            returned->store(true);
        },
        2)();
    QCOMPARE(ep.run(nextChunk(generator.get())), std::optional<int>(0));
    // The infinite producer runs on until the buffer is full, then blocks there.
    QTRY_VERIFY_WITH_TIMEOUT(produced->load() >= generator->maxSize(), waitMs);
    QVERIFY(!returned->load());

    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(stuck.join(QStringLiteral(", "))));
    QVERIFY(returned->load()); // the pool drained, so the producer has returned

    // The consumer reaches the end instead of waiting for chunks that cannot come.
    const int remaining = ep.run(countRemaining(generator.get()));
    QVERIFY(remaining <= generator->maxSize() + 1);
}

void tst_Entrypoint::testShutdownStopsAndJoinsSeparateThreads()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1 });
    auto started = std::make_shared<Gate>();
    auto exited = std::make_shared<std::atomic<int>>(0);
    const auto loop = [started, exited](StopToken stop) {
        started->release();
        int turns = 0;
        while (!stop.waitFor(5ms))
            ++turns;
        exited->fetch_add(1);
        return turns;
    };
    QFuture<int> first = QtOffload::threadedSeparate(loop)();
    QFuture<int> second = QtOffload::threadedSeparate(loop)();
    QVERIFY(started->tryAcquire(2, waitMs));
    QVERIFY(!first.isFinished());

    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(stuck.join(QStringLiteral(", "))));
    QCOMPARE(exited->load(), 2); // joined: nothing left running after shutdown()
    QVERIFY(first.isFinished() && second.isFinished());
    QVERIFY(!first.isCanceled()); // stopped, so it returned its result
    QVERIFY(first.result() >= 0);
}

// QThreadPool cannot list what it runs, so QtOffload keeps its jobs there in
// a list while they run, and the shutdown asks them to stop as it asks the
// separate threads: a job looping on its StopToken returns, and a producer
// blocked on its generator's full buffer finds the stream closed.
void tst_Entrypoint::testShutdownStopsQThreadPoolJobs()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1 });
    QThreadPool qtPool;
    qtPool.setMaxThreadCount(2);
    auto started = std::make_shared<Gate>();
    QFuture<int> looping = QtOffload::threaded(&qtPool, [started](StopToken stop) {
        started->release();
        int turns = 0;
        while (!stop.waitFor(5ms))
            ++turns;
        return turns;
    })();
    auto produced = std::make_shared<std::atomic<int>>(0);
    auto returned = std::make_shared<std::atomic<bool>>(false);
    auto generator = QtOffload::threadedIterable(
        QtOffload::Executor(&qtPool),
        [produced, returned](QtOffload::Sink<int> &out) {
            for (int i = 0; out.yield(i); ++i)
                produced->fetch_add(1);
            returned->store(true);
        },
        2)();
    QVERIFY(started->tryAcquire(1, waitMs));
    QCOMPARE(ep.run(nextChunk(generator.get())), std::optional<int>(0));
    QTRY_VERIFY_WITH_TIMEOUT(produced->load() >= generator->maxSize(), waitMs); // blocked on the full buffer

    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(stuck.join(QStringLiteral(", "))));
    QVERIFY(qtPool.waitForDone(waitMs));
    QVERIFY(returned->load());
    QVERIFY(looping.isFinished() && !looping.isCanceled());
    QVERIFY(looping.result() >= 0);
}

void tst_Entrypoint::testShutdownReportsThreadIgnoringStop()
{
    struct State
    {
        Gate started;
        Gate release;
        QString stubbornName;
    };
    auto state = std::make_shared<State>();
    QFuture<void> stubborn;
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 1, .shutdownTimeout = 200ms });
        stubborn = QtOffload::threadedSeparate([state] {
            state->stubbornName = QThread::currentThread()->objectName();
            state->started.release();
            state->release.tryAcquire(1, 3 * waitMs); // ignores any stop request
        })();
        QFuture<void> polite = QtOffload::threadedSeparate([state](StopToken stop) {
            state->started.release();
            while (!stop.waitFor(5ms)) { }
        })();
        QVERIFY(state->started.tryAcquire(2, waitMs));

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ignored its stop request")));
        const QStringList stuck = ep.shutdown();
        QVERIFY2(state->stubbornName.startsWith(QStringLiteral("QtOffload separate #")),
                 qPrintable(state->stubbornName));
        QCOMPARE(stuck, QStringList { state->stubbornName });
        QVERIFY(polite.isFinished());
        QVERIFY(!stubborn.isFinished());
    }
    state->release.release();
    QTRY_VERIFY_WITH_TIMEOUT(stubborn.isFinished(), waitMs);
}

void tst_Entrypoint::testAThreadGivenUpOnIsNotWaitedForAgain()
{
    auto started = std::make_shared<Gate>();
    auto release = std::make_shared<Gate>();
    QFuture<void> stubborn;
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 1, .shutdownTimeout = 200ms });
        stubborn = QtOffload::threadedSeparate([started, release] {
            started->release();
            release->tryAcquire(1, 3 * waitMs); // ignores any stop request
        })();
        QVERIFY(started->tryAcquire(1, waitMs));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ignored its stop request")));
        QCOMPARE(ep.shutdown().size(), 1);
    }
    {
        // A later shutdown (or the process's exit) does not wait for it again: with
        // this timeout it would take a minute if it did.
        Entrypoint ep(m_argc, m_argv, { .poolSize = 1, .shutdownTimeout = 60s });
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(ep.shutdown(), QStringList());
        QVERIFY2(clock.elapsed() < 30'000, qPrintable(QString::number(clock.elapsed())));
    }
    release->release();
    QTRY_VERIFY_WITH_TIMEOUT(stubborn.isFinished(), waitMs);
}

void tst_Entrypoint::testPoolStaysValidAfterShutdown()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1 });
    QtOffload::ThreadPool *pool = ep.pool();
    QVERIFY(ep.shutdown().isEmpty());
    QCOMPARE(ep.pool(), pool); // still there, and it says why it takes no job
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)pool->run([] { return 1; }));
}

void tst_Entrypoint::testShutdownCancelsQueuedPoolJobs()
{
    struct State
    {
        Gate started;
        Gate proceed;
        std::atomic<int> queuedRan { 0 };
    };
    auto state = std::make_shared<State>();
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1 });
    ep.pool()->setStarvationTimeout(QtOffload::Forever); // no overflow thread may start the queued jobs

    QFuture<bool> running = QtOffload::threaded([state] {
        state->started.release();
        return state->proceed.tryAcquire(1, waitMs);
    })();
    QVERIFY(state->started.tryAcquire(1, waitMs));
    QList<QFuture<void>> queued;
    for (int i = 0; i < 3; ++i)
        queued.append(QtOffload::threaded([state] { state->queuedRan.fetch_add(1); })());
    // The running job may end only once the shutdown has cancelled the queue
    // (the continuation runs in the cancelling thread).
    QFuture<void> releaseRunning
        = queued.first().onFailed([state](const QtOffload::CancelledError &) { state->proceed.release(); });

    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(stuck.join(QStringLiteral(", "))));
    for (const QFuture<void> &job : std::as_const(queued)) {
        QVERIFY(job.isFinished());
        QVERIFY(job.isCanceled());
    }
    QCOMPARE(state->queuedRan.load(), 0);
    QVERIFY(running.isFinished());
    QVERIFY(running.result());
    QVERIFY(releaseRunning.isFinished());
}

void tst_Entrypoint::testInvokeBlockingDuringShutdownFails()
{
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1, .shutdownTimeout = 5s });
    auto started = std::make_shared<Gate>();
    QFuture<QString> job = QtOffload::threaded([started] {
        started->release();
        return outcomeOf([] { invokeBlocking([] { return 1; }); });
    })();
    QVERIFY(started->tryAcquire(1, waitMs));
    // From here the main thread never turns its loop again: only the shutdown can end the call.
    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(stuck.join(QStringLiteral(", "))));
    QVERIFY(job.isFinished()); // the pool drained
    QCOMPARE(job.result(), QStringLiteral("ShutdownError"));
}

void tst_Entrypoint::testInvokeBlockingAfterShutdownFails()
{
    auto ran = std::make_shared<std::atomic<bool>>(false);
    const auto call = [ran] { invokeBlocking([ran] { ran->store(true); }); };
    {
        Entrypoint ep(m_argc, m_argv, { .poolSize = 1 });
        QCOMPARE(outcomeOnWorker(call), QStringLiteral("returned"));
        QVERIFY(ran->load());
        ep.shutdown();
        QCOMPARE(outcomeOnWorker(call), QStringLiteral("ShutdownError")); // application alive, loop closed
    }
    QVERIFY(!QCoreApplication::instance());
    QCOMPARE(outcomeOnWorker(call), QStringLiteral("ShutdownError")); // no application at all
}

void tst_Entrypoint::testSeparateThreadInInvokeBlockingIsNotReportedStuck()
{
    // A separate thread reporting to the GUI (invokeBlocking into the main
    // thread) while the GUI thread shuts down: the main loop will not turn
    // again, so the call must fail at once instead of keeping the thread
    // until shutdownTimeout and getting it reported as stuck.
    Entrypoint ep(m_argc, m_argv, { .poolSize = 1, .shutdownTimeout = 1s });
    auto started = std::make_shared<Gate>();
    QFuture<QString> job = QtOffload::threadedSeparate([started](StopToken stop) {
        started->release();
        QString outcome;
        do { // a progress report per turn; whether or not the stop came first, one is on its way
            outcome = outcomeOf([] { invokeBlocking([] { return 1; }); });
        } while (outcome == QStringLiteral("returned") && !stop.isStopRequested());
        return outcome;
    })();
    QVERIFY(started->tryAcquire(1, waitMs));
    const QStringList stuck = ep.shutdown();
    QVERIFY2(stuck.isEmpty(), qPrintable(QStringLiteral("reported stuck: ") + stuck.join(QStringLiteral(", "))));
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("ShutdownError"));
}

void tst_Entrypoint::testSecondEntrypointWorks()
{
    {
        Entrypoint first(m_argc, m_argv, { .poolSize = 1 });
        QCOMPARE(first.run(QtOffload::threaded([] { return 1; })()), 1);
    }
    QVERIFY(!QCoreApplication::instance());

    Entrypoint second(m_argc, m_argv, { .poolSize = 2 });
    QVERIFY(QCoreApplication::instance());
    QCOMPARE(ThreadPool::defaultPool(), second.pool());
    // The first shutdown closed the main loop for invokeBlocking; the second Entrypoint reopens it.
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<int> job = QtOffload::threaded([](int n) { return invokeBlocking([n] { return n + 1; }); })(input);
    QCOMPARE(second.run(job), input + 1);
    QVERIFY(second.shutdown().isEmpty());
}

QTEST_APPLESS_MAIN(tst_Entrypoint)
#include "tst_entrypoint.moc"
