// SPDX-License-Identifier: MIT
// Shutdown and lifetime under load: a pool, an Entrypoint and the
// application itself are destroyed while jobs, separate threads, producers
// blocked on full buffers and invokeBlocking() calls are in flight. Each must
// end in bounded time with every future finished or cancelled, none pending.
// Deleting the context of .then(ctx, ...) or a generator's owner mid-flight
// must never deliver to a dead object or leave a producer blocked.

#include <QtOffload/entrypoint.h>
#include <QtOffload/invokeblocking.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <support/gate.h>
#include <support/peakrss.h>
#include <support/sanitizers.h>
#include <support/watchdog.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <QCoro/QCoroTask>

#include <atomic>
#include <functional>
#include <optional>

using namespace std::chrono_literals;
using QtOffload::StopToken;
using QtOffload::ThreadPool;

namespace {

constexpr int queuedJobCount = sanitizerScaled(2000, 200);
constexpr int contextCount = sanitizerScaled(1000, 100);
// Waits inside jobs are bounded: a library that never releases them fails the test instead of hanging it.
constexpr int jobWaitMs = 20000;
const char childVariable[] = "QTOFFLOAD_STRESS_CHILD";

//! How a finished future ended, for QCOMPARE. "pending" is the one answer no test accepts.
template<typename T> QString outcomeOf(QFuture<T> future)
{
    if (!future.isFinished())
        return QStringLiteral("pending");
    try {
        future.waitForFinished();
        if (future.resultCount() > 0)
            return QStringLiteral("value");
        return future.isCanceled() ? QStringLiteral("cancelled") : QStringLiteral("no value");
    } catch (const QtOffload::ShutdownError &) {
        return QStringLiteral("ShutdownError");
    } catch (const QtOffload::TimeoutError &) {
        return QStringLiteral("TimeoutError");
    } catch (const QtOffload::CancelledError &) {
        return QStringLiteral("CancelledError");
    } catch (const std::exception &e) {
        return QStringLiteral("exception: ") + QString::fromUtf8(e.what());
    } catch (...) {
        return QStringLiteral("unknown exception");
    }
}

//! Waits for \a future (its exception is not rethrown here), then names its outcome.
template<typename T> QString settle(QFuture<T> future)
{
    try {
        future.waitForFinished();
    } catch (...) {
        // outcomeOf() names it.
    }
    return outcomeOf(future);
}

struct ProducerFlags
{
    std::atomic<int> attempts { 0 }; // yields begun; one more than yielded while blocked
    std::atomic<bool> exited { false };
    Gate exitSignal; // for waits where no event loop is left
};

//! Never ends by itself: only a close() (or the generator's destruction) lets it return.
void endlessProducer(QtOffload::Sink<int> &out, std::shared_ptr<ProducerFlags> flags)
{
    const auto exit = qScopeGuard([&flags] {
        flags->exited = true;
        flags->exitSignal.release();
    });
    for (int i = 0;; ++i) {
        flags->attempts.fetch_add(1);
        if (!out.yield(i))
            return;
    }
}

//! Takes one chunk, then stops reading: the producer fills the buffer and blocks.
QCoro::Task<> pullOne(QtOffload::TypedGenerator<int> *generator, std::shared_ptr<std::atomic<bool>> gotOne)
{
    const std::optional<int> chunk = co_await generator->next();
    *gotOne = chunk.has_value();
}

struct BlockedGenerator
{
    std::shared_ptr<ProducerFlags> flags = std::make_shared<ProducerFlags>();
    std::shared_ptr<std::atomic<bool>> gotOne = std::make_shared<std::atomic<bool>>(false);
    std::unique_ptr<QtOffload::TypedGenerator<int>> generator;
};

constexpr qsizetype blockedMaxSize = 2;

//! Opens a generator on \a executor and pulls one chunk; the caller waits until it is blocked().
BlockedGenerator openBlockedGenerator(const QtOffload::Executor &executor)
{
    BlockedGenerator blocked;
    blocked.generator = QtOffload::threadedIterable(executor, endlessProducer, blockedMaxSize)(blocked.flags);
    pullOne(blocked.generator.get(), blocked.gotOne);
    return blocked;
}

bool producerIsBlocked(const BlockedGenerator &blocked)
{
    // One chunk taken plus a full buffer, and the next yield has begun.
    return *blocked.gotOne && blocked.flags->attempts.load() > blockedMaxSize + 1;
}

/*!
  The child process of testApplicationDestroyedWithWorkInFlight: destroys its
  QCoreApplication while a pool job and a separate thread wait in
  invokeBlocking(), a separate thread loops on its stop token and a producer
  is blocked on a full buffer. Prints one line per check; exit code 0 when
  all hold.
*/
int applicationShutdownChild(int argc, char **argv)
{
    const HardWatchdog watchdog(60s, "the application-shutdown child");
    ThreadPool pool(2, QStringLiteral("child"));
    pool.setStarvationTimeout(QtOffload::Forever);
    QFutureInterface<int> neverFinished(
        QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
    std::atomic<int> invoked { 0 };
    Gate started;
    const auto waitsForever = [&invoked, &neverFinished] {
        ++invoked;
        return neverFinished.future();
    };
    BlockedGenerator blocked;
    QFuture<int> poolInvoke, queuedAfter, separateInvoke, separateStop;

    int failures = 0;
    const auto check = [&failures](bool ok, const QString &what) {
        std::printf("%s %s\n", ok ? "ok  " : "FAIL", qPrintable(what));
        failures += ok ? 0 : 1;
    };
    {
        auto app = std::make_unique<QCoreApplication>(argc, argv);
        blocked = openBlockedGenerator(QtOffload::Executor(&pool));
        check(QTest::qWaitFor([&] { return producerIsBlocked(blocked); }, jobWaitMs),
              QStringLiteral("the producer blocked on its full buffer"));
        poolInvoke = QtOffload::threaded(&pool, [&] { return QtOffload::invokeBlocking(waitsForever); })();
        queuedAfter = QtOffload::threaded(&pool, [] { return 2; })(); // both pool threads are busy
        separateInvoke = QtOffload::threadedSeparate([&] { return QtOffload::invokeBlocking(waitsForever); })();
        separateStop = QtOffload::threadedSeparate([&started](StopToken stop) {
            started.release();
            int turns = 0;
            while (!stop.waitFor(20ms))
                ++turns;
            return turns;
        })();
        // Both invokeBlocking() calls are in flight once their f has run and handed back a pending future.
        check(QTest::qWaitFor([&] { return invoked.load() == 2; }, jobWaitMs),
              QStringLiteral("both invokeBlocking calls are in flight"));
        check(started.tryAcquire(1, jobWaitMs), QStringLiteral("the separate thread runs"));
        check(!queuedAfter.isFinished(), QStringLiteral("a job is still queued behind them"));
        app.reset();
    }
    // All of it has to come loose now. Qt 6.4's QFuture::waitForFinished() on
    // an unfinished future dereferences QThreadPool::globalInstance(), which is
    // null once the application is gone, so wait for isFinished() instead.
    const auto settle = [](const QFuture<int> &future) {
        (void)QTest::qWaitFor([&future] { return future.isFinished(); }, jobWaitMs);
        return outcomeOf(future);
    };
    const QString poolOutcome = settle(poolInvoke);
    check(poolOutcome == QLatin1String("ShutdownError"), QStringLiteral("pool job in invokeBlocking: ") + poolOutcome);
    const QString queuedOutcome = settle(queuedAfter);
    check(queuedOutcome == QLatin1String("value"), QStringLiteral("queued job: ") + queuedOutcome);
    const QString separateOutcome = settle(separateInvoke);
    check(separateOutcome == QLatin1String("ShutdownError"),
          QStringLiteral("separate thread in invokeBlocking: ") + separateOutcome);
    const QString stopOutcome = settle(separateStop);
    check(stopOutcome == QLatin1String("value"), QStringLiteral("separate thread with a stop token: ") + stopOutcome);
    check(blocked.flags->exitSignal.tryAcquire(1, jobWaitMs), QStringLiteral("the blocked producer was released"));
    blocked.generator.reset();
    neverFinished.reportCanceled();
    neverFinished.reportFinished();
    check(pool.waitForDone(std::chrono::milliseconds(jobWaitMs)), QStringLiteral("the pool drained"));
    return failures == 0 ? 0 : 1;
}

} // namespace

class StressShutdownTest : public QObject
{
    Q_OBJECT

private:
    QElapsedTimer m_wall;
    qint64 m_inFlight = 0;
    qint64 m_cancelled = 0;
    qint64 m_contextsDeleted = 0;
    int m_producersReleased = 0;

private Q_SLOTS:
    void initTestCase() { m_wall.start(); }

    void cleanupTestCase()
    {
        qInfo("STRESS SUMMARY: tst_stress_shutdown: %lld jobs in flight at destruction (%lld cancelled), "
              "%lld .then() contexts deleted mid-flight, %d blocked producers released, wall %.1f s, peak RSS %lld MiB",
              m_inFlight, m_cancelled, m_contextsDeleted, m_producersReleased, double(m_wall.elapsed()) / 1000.0,
              peakRssKiB() / 1024);
    }

    // Destroying a pool cancels what is queued and waits for what runs,
    // including a job in invokeBlocking() into a live thread and one into
    // this (destroying) thread that gave a timeout.
    void testPoolDestroyedWithJobsInFlight()
    {
        const HardWatchdog watchdog(90s, "destroying a pool with jobs in flight");
        auto pool = std::make_unique<ThreadPool>(4, QStringLiteral("doomed"));
        pool->setStarvationTimeout(QtOffload::Forever); // no overflow thread may start the queued jobs
        QThread helper;
        helper.start();
        QObject helperContext;
        helperContext.moveToThread(&helper);
        const auto stopHelper = qScopeGuard([&] {
            helper.quit();
            helper.wait();
        });

        // The running jobs hold their threads until the destructor has cancelled the queue.
        Gate started;
        Gate queueCancelled;
        std::vector<QFuture<int>> queued;
        auto blocker = QtOffload::threaded(pool.get(), [&] {
            started.release();
            return queueCancelled.tryAcquire(1, jobWaitMs) ? 1 : -1;
        });
        QFuture<int> running[] = { blocker(), blocker() };
        QFuture<int> intoHelper = QtOffload::threaded(pool.get(), [&] {
            started.release();
            return QtOffload::invokeBlocking(&helperContext,
                                             [&] { return queueCancelled.tryAcquire(1, jobWaitMs) ? 1 : -1; });
        })();
        QFuture<int> intoThisThread = QtOffload::threaded(pool.get(), [&] {
            started.release();
            return QtOffload::invokeBlocking([] { return 1; }, 1s);
        })();
        QVERIFY(started.tryAcquire(4, jobWaitMs));
        auto job = QtOffload::threaded(pool.get(), [](int i) { return i; });
        auto stoppable = QtOffload::threaded(pool.get(), [](StopToken stop) { return stop.waitFor(60s) ? 0 : 1; });
        for (int i = 0; i < queuedJobCount; ++i)
            queued.push_back(i % 10 == 0 ? stoppable() : job(i));
        // Attached while nothing can finish (see tst_stress_jobs about then() racing a finish in Qt 6.4).
        queued.back().onFailed([&queueCancelled](const QtOffload::CancelledError &) {
            queueCancelled.release(3);
            return 0;
        });
        m_inFlight += 4 + queuedJobCount;

        pool.reset();

        QCOMPARE(outcomeOf(running[0]), QStringLiteral("value"));
        QCOMPARE(outcomeOf(running[1]), QStringLiteral("value"));
        QCOMPARE(running[0].result() + running[1].result(), 2); // released by the cancellation, not the timeout
        QCOMPARE(outcomeOf(intoHelper), QStringLiteral("value"));
        QCOMPARE(intoHelper.result(), 1);
        QCOMPARE(outcomeOf(intoThisThread), QStringLiteral("TimeoutError"));
        for (int i = 0; i < queuedJobCount; ++i)
            QVERIFY2(outcomeOf(queued[i]) == QLatin1String("CancelledError"), // a cancelled job's future carries it
                     qPrintable(QString::number(i) + QLatin1Char(' ') + outcomeOf(queued[i])));
        m_cancelled += queuedJobCount;
        // Submitting through a wrapper whose pool is gone is a clear error.
        QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)job(1));
        QCoreApplication::processEvents(); // runs the timed-out call now; it must not crash
    }

    // The Entrypoint's shutdown with everything in flight: all of it ends,
    // nothing is reported stuck, every future has an outcome.
    void testEntrypointDestroyedWithWorkInFlight()
    {
        const HardWatchdog watchdog(90s, "destroying an Entrypoint with work in flight");
        int argc = 1;
        char name[] = "tst_stress_shutdown";
        char *argv[] = { name, nullptr };
        auto entrypoint = std::make_unique<QtOffload::Entrypoint>(
            argc, argv,
            QtOffload::EntrypointOptions { .poolSize = 4, .shutdownTimeout = 3s, .poolName = QStringLiteral("ep") });
        entrypoint->pool()->setStarvationTimeout(QtOffload::Forever);

        // Two producers blocked on full buffers, on the Entrypoint's pool.
        BlockedGenerator blocked[2] = { openBlockedGenerator({}), openBlockedGenerator({}) };
        QTRY_VERIFY_WITH_TIMEOUT(producerIsBlocked(blocked[0]) && producerIsBlocked(blocked[1]), jobWaitMs);

        QFutureInterface<int> neverFinished(
            QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
        const auto finishLater = qScopeGuard([&neverFinished] {
            neverFinished.reportCanceled();
            neverFinished.reportFinished();
        });
        std::atomic<int> invoked { 0 };
        const auto waitsForever = [&invoked, &neverFinished] {
            ++invoked;
            return neverFinished.future();
        };
        QFuture<int> poolInvoke[] = { QtOffload::threaded([&] { return QtOffload::invokeBlocking(waitsForever); })(),
                                      QtOffload::threaded([&] { return QtOffload::invokeBlocking(waitsForever); })() };
        QFuture<int> separateInvoke
            = QtOffload::threadedSeparate([&] { return QtOffload::invokeBlocking(waitsForever); })();
        Gate looping;
        auto loop = QtOffload::threadedSeparate([&looping](StopToken stop) {
            looping.release();
            int turns = 0;
            while (!stop.waitFor(20ms))
                ++turns;
            return turns;
        });
        QFuture<int> separateLoops[] = { loop(), loop(), loop() };
        QTRY_VERIFY_WITH_TIMEOUT(invoked.load() == 3, jobWaitMs);
        QVERIFY(looping.tryAcquire(3, jobWaitMs));
        std::vector<QFuture<int>> queued;
        auto job = QtOffload::threaded([](int i) { return i; });
        for (int i = 0; i < queuedJobCount / 10; ++i)
            queued.push_back(job(i)); // all four pool threads are busy
        m_inFlight += 2 + 2 + 1 + 3 + qint64(queued.size());

        const QStringList stuck = entrypoint->shutdown();
        entrypoint.reset();

        // The separate thread in invokeBlocking() can only be freed by closing the main loop;
        // a shutdown that waits for it first reports it stuck after shutdownTimeout.
        QVERIFY2(stuck.isEmpty(), qPrintable(QStringLiteral("reported stuck: ") + stuck.join(QStringLiteral(", "))));
        for (const auto &future : poolInvoke)
            QCOMPARE(settle(future), QStringLiteral("ShutdownError"));
        QCOMPARE(settle(separateInvoke), QStringLiteral("ShutdownError"));
        for (const auto &future : separateLoops)
            QCOMPARE(outcomeOf(future), QStringLiteral("value"));
        for (const auto &future : queued)
            QCOMPARE(outcomeOf(future), QStringLiteral("CancelledError"));
        m_cancelled += qint64(queued.size());
        for (const auto &generator : blocked) {
            QVERIFY(generator.flags->exited);
            QVERIFY(generator.generator->close().isFinished());
            ++m_producersReleased;
        }
    }

    // .then(context, ...) whose context dies while the job is queued or
    // running: nothing reaches the dead object, the live ones get exactly one
    // delivery, and no continuation future is left pending.
    void testThenContextDeletedWhileWorkInFlight()
    {
        const HardWatchdog watchdog(90s, "continuations whose context was deleted");
        ThreadPool pool(2, QStringLiteral("then"));
        pool.setStarvationTimeout(QtOffload::Forever);
        QThread otherThread;
        otherThread.start();
        const auto stopOther = qScopeGuard([&] {
            otherThread.quit();
            otherThread.wait();
        });

        // Each context is deleted in its own thread (inline for this one).
        const auto destroy
            = [](QObject *context) { QtOffload::invokeBlocking(context->thread(), [context] { delete context; }); };

        Gate gate;
        Gate started;
        auto blocker = QtOffload::threaded(&pool, [&] {
            started.release();
            return gate.tryAcquire(1, jobWaitMs) ? -1 : -2;
        });
        QFuture<int> blockers[] = { blocker(), blocker() };
        QVERIFY(started.tryAcquire(2, jobWaitMs));

        auto job = QtOffload::threaded(&pool, [](int i) { return i; });
        std::vector<QPointer<QObject>> contexts;
        std::vector<QFuture<void>> continuations;
        auto delivered = std::make_unique<std::atomic<int>[]>(contextCount);
        std::atomic<int> wrongValue { 0 };
        for (int i = 0; i < contextCount; ++i) {
            auto *context = new QObject;
            if (i % 4 >= 2) // half of them live in another thread
                context->moveToThread(&otherThread);
            contexts.emplace_back(context);
            std::atomic<int> *count = &delivered[i];
            // Nothing can finish while the blockers hold both threads: attaching cannot race a finish.
            continuations.push_back(job(i).then(context, [count, i, &wrongValue](int value) {
                count->fetch_add(1);
                if (value != i)
                    ++wrongValue;
            }));
        }
        // Delete every odd context while its job is still queued.
        for (int i = 1; i < contextCount; i += 2) {
            destroy(contexts[i]);
            QVERIFY(contexts[i].isNull());
        }
        m_contextsDeleted += contextCount / 2;
        gate.release(2);

        const auto allSettled = [&] {
            return std::all_of(continuations.begin(), continuations.end(),
                               [](const QFuture<void> &f) { return f.isFinished(); });
        };
        QTRY_VERIFY_WITH_TIMEOUT(allSettled(), jobWaitMs);
        QCOMPARE(wrongValue.load(), 0);
        for (int i = 0; i < contextCount; ++i) {
            const bool alive = i % 2 == 0;
            QVERIFY2(delivered[i].load() == (alive ? 1 : 0),
                     qPrintable(QStringLiteral("context %1 (%2) got %3 deliveries")
                                    .arg(i)
                                    .arg(alive ? QStringLiteral("alive") : QStringLiteral("deleted"))
                                    .arg(delivered[i].load())));
            QCOMPARE(continuations[i].isCanceled(), !alive);
        }
        for (int i = 0; i < contextCount; i += 2)
            destroy(contexts[i]);
        for (auto &future : blockers)
            QCOMPARE(outcomeOf(future), QStringLiteral("value"));
    }

    // A generator destroyed with its owner: the producer blocked on the full
    // buffer is released, and a coroutine waiting in next() hears about it.
    // Destroying the pool a blocked producer runs on, from the thread of its
    // generator, the only consumer that could make room: the pool closes the
    // streams its producers feed, so the producer returns and the destructor
    // does too (it used to wait forever). Named pool and default pool alike.
    void testPoolDestroyedWhileItsProducerIsBlocked_data()
    {
        QTest::addColumn<bool>("asDefault");
        QTest::newRow("named pool") << false;
        QTest::newRow("default pool") << true;
    }
    void testPoolDestroyedWhileItsProducerIsBlocked()
    {
        QFETCH(bool, asDefault);
        const HardWatchdog watchdog(60s, "a pool destroyed on its generator's thread while the producer was blocked");
        auto pool = std::make_unique<ThreadPool>(2, QStringLiteral("stream"));
        if (asDefault)
            ThreadPool::setDefault(pool.get());
        BlockedGenerator blocked
            = openBlockedGenerator(asDefault ? QtOffload::Executor() : QtOffload::Executor(pool.get()));
        QSignalSpy finished(blocked.generator.get(), &QtOffload::QtGenerator::finished);
        QTRY_VERIFY_WITH_TIMEOUT(producerIsBlocked(blocked), jobWaitMs);
        pool.reset();
        QVERIFY(blocked.flags->exited); // joined with the pool's threads
        // Closed, as Entrypoint's shutdown closes streams: what the consumer
        // had already taken is still read (close() drops the rest), then the
        // stream ends normally.
        auto outcome = std::make_shared<QString>();
        auto chunks = std::make_shared<int>(0);
        [](QtOffload::TypedGenerator<int> *generator, std::shared_ptr<QString> outcome,
           std::shared_ptr<int> chunks) -> QCoro::Task<> {
            try {
                for (;;) {
                    const std::optional<int> chunk = co_await generator->next();
                    if (!chunk)
                        break;
                    ++*chunks;
                }
                *outcome = QStringLiteral("ended");
            } catch (const std::exception &e) {
                *outcome = QString::fromUtf8(e.what());
            }
        }(blocked.generator.get(), outcome, chunks);
        QTRY_VERIFY_WITH_TIMEOUT(!outcome->isEmpty(), jobWaitMs);
        QCOMPARE(*outcome, QStringLiteral("ended"));
        QVERIFY(*chunks <= blockedMaxSize);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, jobWaitMs);
        // The default pool reverted to the process-wide one when its replacement died.
        QVERIFY(ThreadPool::defaultPool() != nullptr);
        m_producersReleased += 1;
    }

    void testGeneratorOwnerDeletedWhileProducerBlocked()
    {
        const HardWatchdog watchdog(60s, "a generator destroyed with its owner");
        ThreadPool pool(2, QStringLiteral("owner"));
        auto *owner = new QObject;
        BlockedGenerator blocked = openBlockedGenerator(QtOffload::Executor(&pool));
        blocked.generator->setParent(owner);
        (void)blocked.generator.release(); // the owner has it now

        // A second one whose consumer is suspended in next() while its producer waits for a gate.
        auto gate = std::make_shared<Gate>();
        auto secondStarted = std::make_shared<std::atomic<bool>>(false);
        auto secondExited = std::make_shared<std::atomic<bool>>(false);
        auto waiting = QtOffload::threadedIterable(
            QtOffload::Executor(&pool),
            [gate, secondStarted, secondExited](QtOffload::Sink<int> &out) {
                *secondStarted = true;
                const auto exit = qScopeGuard([&] { *secondExited = true; });
                if (gate->tryAcquire(1, jobWaitMs))
                    out.yield(1);
            },
            1)();
        waiting->setParent(owner);
        auto *waitingGenerator = waiting.release();
        auto nextError = std::make_shared<QString>();
        auto nextEnded = std::make_shared<bool>(false);
        [](QtOffload::TypedGenerator<int> *generator, std::shared_ptr<QString> error,
           std::shared_ptr<bool> ended) -> QCoro::Task<> {
            try {
                // Bound first: g++ 12 miscompiles `if (co_await generator->next())`.
                const std::optional<int> chunk = co_await generator->next();
                if (chunk)
                    *error = QStringLiteral("a chunk arrived");
            } catch (const QtOffload::ShutdownError &) {
                *error = QStringLiteral("ShutdownError");
            } catch (...) {
                *error = QStringLiteral("another exception");
            }
            *ended = true;
        }(waitingGenerator, nextError, nextEnded);

        QTRY_VERIFY_WITH_TIMEOUT(producerIsBlocked(blocked), jobWaitMs);
        // Closed before it started, the second producer would never run at all.
        QTRY_VERIFY_WITH_TIMEOUT(secondStarted->load(), jobWaitMs);
        QVERIFY(!*nextEnded);
        delete owner;

        QVERIFY(*nextEnded);
        QCOMPARE(*nextError, QStringLiteral("ShutdownError"));
        QTRY_VERIFY_WITH_TIMEOUT(blocked.flags->exited, jobWaitMs);
        gate->release();
        QTRY_VERIFY_WITH_TIMEOUT(*secondExited, jobWaitMs);
        QVERIFY(pool.waitForDone(std::chrono::milliseconds(jobWaitMs)));
        m_producersReleased += 2;
    }

    // A generator whose owner thread finishes while its producer is blocked:
    // the producer is released even though nobody destroyed the generator yet.
    void testGeneratorThreadFinishedWhileProducerBlocked()
    {
        const HardWatchdog watchdog(60s, "a generator whose owner thread finished");
        ThreadPool pool(2, QStringLiteral("owner thread"));
        QThread ownerThread;
        ownerThread.start();
        QObject context;
        context.moveToThread(&ownerThread);
        BlockedGenerator blocked;
        QtOffload::invokeBlocking(&context, [&] { blocked = openBlockedGenerator(QtOffload::Executor(&pool)); });
        QTRY_VERIFY_WITH_TIMEOUT(producerIsBlocked(blocked), jobWaitMs);

        ownerThread.quit();
        QVERIFY(ownerThread.wait(QDeadlineTimer(jobWaitMs)));
        QTRY_VERIFY_WITH_TIMEOUT(blocked.flags->exited, jobWaitMs);
        blocked.generator.reset(); // its thread is gone, so deleting it here is safe
        QVERIFY(pool.waitForDone(std::chrono::milliseconds(jobWaitMs)));
        ++m_producersReleased;
    }

    // The application object itself goes away with work in flight (in a child process, since
    // the test's own application must outlive the test).
    void testApplicationDestroyedWithWorkInFlight()
    {
        QProcess child;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QLatin1String(childVariable), QStringLiteral("application"));
        child.setProcessEnvironment(environment);
        child.setProcessChannelMode(QProcess::MergedChannels);
        child.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child.waitForStarted());
        const bool ended = child.waitForFinished(120000);
        const QString output = QString::fromLocal8Bit(child.readAll());
        if (!ended)
            child.kill();
        QVERIFY2(ended, qPrintable(QStringLiteral("the child hung:\n") + output));
        QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0,
                 qPrintable(QStringLiteral("exit code %1:\n%2").arg(child.exitCode()).arg(output)));
        m_inFlight += 5;
        ++m_producersReleased;
    }
};

int main(int argc, char **argv)
{
    if (qEnvironmentVariable(childVariable) == QLatin1String("application"))
        return applicationShutdownChild(argc, argv);
    QCoreApplication app(argc, argv);
    StressShutdownTest test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_stress_shutdown.moc"
