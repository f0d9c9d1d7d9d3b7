// SPDX-License-Identifier: MIT
// invokeBlocking: from a worker, run f in another thread's event loop and
// wait for its (possibly asynchronous) result - the seed's sync_wait_coroutine.

#include <support/gate.h>

#include <QtOffload/contextvar.h>
#include <QtOffload/invokeblocking.h>
#include <QtOffload/threaded.h>

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QPromise>
#include <QtCore/QRandomGenerator>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

#include <QCoro/QCoroAbstractSocket>
#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>
#include <QCoro/QCoroTimer>

#include <condition_variable>
#include <mutex>

using namespace std::chrono_literals;
using QtOffload::invokeBlocking;
using QtOffload::ThreadPool;

static_assert(std::is_void_v<decltype(invokeBlocking([] {}))>);
static_assert(std::is_same_v<decltype(invokeBlocking([] { return QCoro::Task<int>(); })), int>);
static_assert(std::is_same_v<decltype(invokeBlocking([] { return QFuture<QString>(); })), QString>);

// A deadline for every future the tests read, so a stuck job fails instead of hanging.
#define QTRY_FINISHED(future) QTRY_VERIFY_WITH_TIMEOUT((future).isFinished(), 10000)

namespace {

constexpr int waitMs = 10000;

QtOffload::ContextVar<QString> requestId(QStringLiteral("request_id"));

struct CustomError
{
    int code;
};

//! What \a call threw, by name; the library's own error types first, as they derive from Error.
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
    } catch (const std::invalid_argument &) {
        return QStringLiteral("invalid_argument");
    } catch (const std::exception &e) {
        return QStringLiteral("other: ") + QString::fromUtf8(e.what());
    } catch (...) {
        return QStringLiteral("other");
    }
}

QThread *mainThread() { return QCoreApplication::instance()->thread(); }

QCoro::Task<> sleepPrecisely(std::chrono::milliseconds delay)
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setSingleShot(true);
    timer.start(delay);
    co_await timer;
}

struct TimerReport
{
    int ticksWhileSuspended = 0;
    QThread *startedIn = nullptr;
    QThread *resumedIn = nullptr;
    int value = 0;
};

//! Awaits a timer; \a ticks is a tick counter of the same thread, read before and after.
QCoro::Task<TimerReport> awaitTimer(int value, std::shared_ptr<const int> ticks)
{
    TimerReport report;
    report.startedIn = QThread::currentThread();
    const int before = ticks ? *ticks : 0;
    co_await sleepPrecisely(100ms);
    report.ticksWhileSuspended = ticks ? *ticks - before : 0;
    report.resumedIn = QThread::currentThread();
    report.value = value * 3;
    co_return report;
}

QCoro::Task<int> failAfterTimer(int code)
{
    co_await sleepPrecisely(10ms);
    throw CustomError { code };
}

QCoro::Task<QByteArray> tcpRoundTrip(quint16 port, QByteArray message)
{
    QTcpSocket socket;
    const bool connected
        = co_await qCoro(socket).connectToHost(QHostAddress::LocalHost, port, QIODevice::ReadWrite, 10s);
    if (!connected)
        throw std::runtime_error("could not connect to the test server");
    socket.write(message);
    QByteArray reply;
    while (reply.size() < message.size()) {
        const QByteArray chunk = co_await qCoro(socket).read(message.size() - reply.size(), 10s);
        if (chunk.isEmpty())
            throw std::runtime_error("the test server did not answer");
        reply += chunk;
    }
    co_return reply;
}

struct ChainReport
{
    QThread *taskThread = nullptr;
    QThread *innerThread = nullptr;
    int value = 0;
};

QCoro::Task<ChainReport> chainIntoPool(ThreadPool *pool, int n)
{
    ChainReport report;
    report.taskThread = QThread::currentThread();
    const auto [doubled, inner]
        = co_await QtOffload::threaded(pool, [](int x) { return std::make_pair(x * 2, QThread::currentThread()); })(n);
    report.innerThread = inner;
    report.value = doubled + 1;
    co_return report;
}

QCoro::Task<QStringList> requestIdAroundSuspension()
{
    QStringList seen { requestId.get(QStringLiteral("<unset>")) };
    co_await sleepPrecisely(10ms);
    seen << requestId.get(QStringLiteral("<unset>"));
    co_return seen;
}

/*
  A minimal event dispatcher (posted events only) that counts wake-ups. Qt
  wakes a thread's dispatcher right after queueing an event for it, so
  `posted` tells the test that a cross-thread call is queued: the only public
  hook that makes "the call is queued, now kill its target" deterministic.
*/
class PostWatchingDispatcher final : public QAbstractEventDispatcher
{
public:
    Gate posted;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override
    {
        Q_EMIT awake();
        QCoreApplication::sendPostedEvents();
        if (!flags.testFlag(QEventLoop::WaitForMoreEvents))
            return false;
        std::unique_lock lock(m_mutex);
        if (!m_woken) {
            Q_EMIT aboutToBlock();
            m_cv.wait(lock, [this] { return m_woken; });
        }
        m_woken = false;
        return true;
    }
    void wakeUp() override
    {
        {
            std::lock_guard lock(m_mutex);
            m_woken = true;
        }
        m_cv.notify_all();
        posted.release();
    }
    void interrupt() override { wakeUp(); }
    void registerSocketNotifier(QSocketNotifier *) override { }
    void unregisterSocketNotifier(QSocketNotifier *) override { }
    void registerTimer(int, qint64, Qt::TimerType, QObject *) override { }
    bool unregisterTimer(int) override { return false; }
    bool unregisterTimers(QObject *) override { return false; }
    QList<TimerInfo> registeredTimers(QObject *) const override { return {}; }
    int remainingTime(int) override { return -1; }

    void forgetPosts() { posted.forget(); }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_woken = false;
};

//! A QThread running an event loop, with a context object living in it.
struct TargetThread
{
    /*!
      With \a busy and \a release, the thread's first event keeps it busy until
      \a release; it is queued before start(), so the thread's creation orders
      it for ThreadSanitizer (Qt's own posting is invisible to it).
    */
    explicit TargetThread(Gate *busy = nullptr, Gate *release = nullptr)
    {
        thread.setObjectName(QStringLiteral("invoke target"));
        context = new QObject;
        context->moveToThread(&thread);
        QObject::connect(&thread, &QThread::finished, context, &QObject::deleteLater);
        if (busy) {
            QMetaObject::invokeMethod(context, [busy, release] {
                busy->release();
                release->tryAcquire(1, waitMs);
            });
            thread.start();
            return;
        }
        thread.start();
        // Its event loop runs from here on (testJustStartedThreadIsATarget covers the moment before).
        QMetaObject::invokeMethod(
            context, [] {}, Qt::BlockingQueuedConnection);
    }
    ~TargetThread()
    {
        thread.quit();
        thread.wait();
    }
    QThread thread;
    QObject *context = nullptr;
};

} // namespace

class tst_InvokeBlocking : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testRunsInMainThreadAndReturnsValue();
    void testMoveOnlyResult();
    void testVoidResult();
    void testRethrowsOwnExceptionType();
    void testRethrowsNonStdException();
    void testTaskAwaitsTimerWhileLoopRuns();
    void testTaskExceptionIsRethrown();
    void testTaskAwaitsTcpRoundTrip();
    void testCapturingTaskLambdaOutlivesSuspension();
    void testFutureResult();
    void testCancelledFutureThrowsCancelledError();
    void testCancelledUnfinishedFutureThrowsCancelledError();
    void testQObjectContextInItsOwnThread();
    void testQThreadTarget();
    void testJustStartedThreadIsATarget();
    void testInlineOnTargetThread();
    void testInlineTaskOnTargetThread();
    void testInlineOnWorkerQThread();
    void testNullContextThrowsInvalidArgument();
    void testFinishedThreadThrowsShutdownError();
    void testThreadFinishingWhileCallQueuedThrowsShutdownError();
    void testContextDeletedBeforeCallRanThrowsShutdownError();
    void testTimeoutThrowsTimeoutError();
    void testMainThreadWaitingOnItsJobTimesOut();
    void testTimedOutCallDoesNotRunLater();
    void testChainsIntoAnotherThreadedJob();
    void testCallerContextVarsVisibleInF();
    void testCallerContextVarsVisibleAcrossTaskSuspension();

private:
    ThreadPool m_pool { 4, QStringLiteral("invoke") };
};

void tst_InvokeBlocking::testRunsInMainThreadAndReturnsValue()
{
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<std::tuple<QThread *, QThread *, int>> job = QtOffload::threaded(&m_pool, [](int n) {
        const auto [thread, doubled] = invokeBlocking([n] { return std::make_pair(QThread::currentThread(), n * 2); });
        return std::make_tuple(QThread::currentThread(), thread, doubled);
    })(input);
    QTRY_FINISHED(job);
    const auto [worker, ranIn, doubled] = job.result();
    QCOMPARE(ranIn, mainThread());
    QVERIFY(worker != mainThread());
    QCOMPARE(doubled, input * 2);
}

void tst_InvokeBlocking::testMoveOnlyResult()
{
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<std::pair<QThread *, int>> job = QtOffload::threaded(&m_pool, [](int n) {
        std::unique_ptr<std::pair<QThread *, int>> made = invokeBlocking(
            [n] { return std::make_unique<std::pair<QThread *, int>>(QThread::currentThread(), n + 1); });
        return *made;
    })(input);
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, mainThread());
    QCOMPARE(job.result().second, input + 1);
}

void tst_InvokeBlocking::testVoidResult()
{
    struct State
    {
        QThread *ranIn = nullptr;
        bool sawItAfterReturn = false;
    };
    auto state = std::make_shared<State>();
    QFuture<void> job = QtOffload::threaded(&m_pool, [state] {
        invokeBlocking([state] { state->ranIn = QThread::currentThread(); });
        // invokeBlocking returned, so f has run: its write happened before.
        state->sawItAfterReturn = state->ranIn != nullptr;
    })();
    QTRY_FINISHED(job);
    QCOMPARE(state->ranIn, mainThread());
    QVERIFY(state->sawItAfterReturn);
}

void tst_InvokeBlocking::testRethrowsOwnExceptionType()
{
    const int code = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<std::pair<QString, int>> job = QtOffload::threaded(&m_pool, [](int c) {
        QString message;
        int caught = 0;
        try {
            invokeBlocking([] { throw std::out_of_range("index out of range"); });
        } catch (const std::out_of_range &e) {
            message = QString::fromUtf8(e.what());
        }
        try {
            invokeBlocking([c]() -> int { throw CustomError { c }; });
        } catch (const CustomError &e) {
            caught = e.code;
        }
        return std::make_pair(message, caught);
    })(code);
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, QStringLiteral("index out of range"));
    QCOMPARE(job.result().second, code);
}

void tst_InvokeBlocking::testRethrowsNonStdException()
{
    QFuture<int> job = QtOffload::threaded(&m_pool, [] {
        try {
            invokeBlocking([] { throw 42; });
        } catch (int value) {
            return value;
        }
        return -1;
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), 42);
}

void tst_InvokeBlocking::testTaskAwaitsTimerWhileLoopRuns()
{
    // The main loop must keep turning while the worker waits for the task.
    auto ticks = std::make_shared<int>(0);
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    connect(&ticker, &QTimer::timeout, this, [ticks] { ++*ticks; });
    ticker.start(5ms);

    const int input = QRandomGenerator::global()->bounded(1, 1000);
    std::shared_ptr<const int> tickCounter = ticks;
    QFuture<TimerReport> job = QtOffload::threaded(&m_pool, [tickCounter](int n) {
        return invokeBlocking([n, tickCounter] { return awaitTimer(n, tickCounter); });
    })(input);
    QTRY_FINISHED(job);
    const TimerReport report = job.result();
    QCOMPARE(report.value, input * 3);
    QCOMPARE(report.startedIn, mainThread());
    QCOMPARE(report.resumedIn, mainThread());
    // The ticker's deadline precedes the 100 ms timer's, so a turning loop ticks first.
    QVERIFY2(report.ticksWhileSuspended >= 1, qPrintable(QString::number(report.ticksWhileSuspended)));
}

void tst_InvokeBlocking::testTaskExceptionIsRethrown()
{
    const int code = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<int> job = QtOffload::threaded(&m_pool, [](int c) {
        try {
            return invokeBlocking([c] { return failAfterTimer(c); });
        } catch (const CustomError &e) {
            return -e.code;
        }
    })(code);
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), -code);
}

void tst_InvokeBlocking::testTaskAwaitsTcpRoundTrip()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &QTcpServer::newConnection, this, [&server] {
        while (QTcpSocket *peer = server.nextPendingConnection()) {
            connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll().toUpper()); });
            connect(peer, &QTcpSocket::disconnected, peer, &QObject::deleteLater);
        }
    });

    const QByteArray message = "md5\t" + QByteArray::number(QRandomGenerator::global()->generate(), 16);
    QFuture<QByteArray> job = QtOffload::threaded(&m_pool, [port = server.serverPort()](const QByteArray &m) {
        return invokeBlocking([port, m] { return tcpRoundTrip(port, m); });
    })(message);
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), message.toUpper());
}

void tst_InvokeBlocking::testCapturingTaskLambdaOutlivesSuspension()
{
    // f is a coroutine lambda with captures. invokeBlocking owns f, so it must
    // keep it alive until the task it returned has finished; otherwise the
    // captures dangle after the first co_await.
    struct Witness
    {
        explicit Witness(std::shared_ptr<std::atomic<bool>> flag)
            : destroyed(std::move(flag))
        {
        }
        Witness(Witness &&other) noexcept
            : destroyed(std::exchange(other.destroyed, nullptr))
        {
        }
        Witness(const Witness &) = delete;
        ~Witness()
        {
            if (destroyed)
                destroyed->store(true);
        }
        std::shared_ptr<std::atomic<bool>> destroyed;
    };

    QFuture<QString> job = QtOffload::threaded(&m_pool, [](const QString &text) {
        auto destroyed = std::make_shared<std::atomic<bool>>(false);
        return invokeBlocking([witness = Witness(destroyed), text]() -> QCoro::Task<QString> {
            const auto closureDestroyed = witness.destroyed; // a frame-local copy that survives the closure
            co_await sleepPrecisely(20ms);
            if (closureDestroyed->load())
                co_return QStringLiteral("f was destroyed while its task was suspended");
            co_return text + text;
        });
    })(QStringLiteral("abc"));
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("abcabc"));
}

void tst_InvokeBlocking::testFutureResult()
{
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<std::pair<int, QThread *>> job = QtOffload::threaded(&m_pool, [](int n) {
        const int value = invokeBlocking([n] {
            // Completed later by a timer of the main thread: the worker waits for it.
            auto promise = std::make_shared<QPromise<int>>();
            promise->start();
            QTimer::singleShot(20ms, [promise, n] {
                promise->addResult(n * 5);
                promise->finish();
            });
            return promise->future();
        });
        return std::make_pair(value, QThread::currentThread());
    })(input);
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, input * 5);
    QVERIFY(job.result().second != mainThread());
}

void tst_InvokeBlocking::testCancelledFutureThrowsCancelledError()
{
    QFuture<QString> job = QtOffload::threaded(&m_pool, [] {
        return outcomeOf([] {
            invokeBlocking([] {
                auto promise = std::make_shared<QPromise<int>>();
                promise->start();
                QTimer::singleShot(10ms, [promise] {
                    promise->future().cancel();
                    promise->finish();
                });
                return promise->future();
            });
        });
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("CancelledError"));
}

void tst_InvokeBlocking::testCancelledUnfinishedFutureThrowsCancelledError()
{
    // Cancelled, but never finished while the worker waits: a QFuture then notifies nobody.
    auto promise = std::make_shared<QPromise<int>>();
    promise->start();
    QFuture<QString> job = QtOffload::threaded(&m_pool, [promise] {
        return outcomeOf([promise] {
            invokeBlocking([promise] {
                QTimer::singleShot(10ms, [promise] { promise->future().cancel(); });
                return promise->future();
            });
        });
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("CancelledError"));
    QVERIFY(!promise->future().isFinished());
}

void tst_InvokeBlocking::testQObjectContextInItsOwnThread()
{
    TargetThread target;
    QObject *context = target.context;
    QFuture<std::pair<QThread *, TimerReport>> job = QtOffload::threaded(&m_pool, [context] {
        QThread *plain = invokeBlocking(context, [] { return QThread::currentThread(); });
        // A task there runs on that thread's own event loop, timers included.
        TimerReport report = invokeBlocking(context, [] { return awaitTimer(7, nullptr); });
        return std::make_pair(plain, report);
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, &target.thread);
    QCOMPARE(job.result().second.startedIn, &target.thread);
    QCOMPARE(job.result().second.resumedIn, &target.thread);
    QCOMPARE(job.result().second.value, 21);
}

void tst_InvokeBlocking::testQThreadTarget()
{
    TargetThread target;
    QThread *thread = &target.thread;
    QFuture<QThread *> job = QtOffload::threaded(
        &m_pool, [thread] { return invokeBlocking(thread, [] { return QThread::currentThread(); }); })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), &target.thread);
}

void tst_InvokeBlocking::testJustStartedThreadIsATarget()
{
    // Right after start() the new thread may not have created its event
    // dispatcher yet; it is running and will run the call, so this is no
    // "finished thread" case.
    QStringList outcomes;
    for (int i = 0; i < 20; ++i) {
        QThread thread;
        thread.start();
        outcomes << outcomeOf([&thread] {
            invokeBlocking(
                &thread, [] {}, 5s);
        });
        thread.quit();
        QVERIFY(thread.wait(QDeadlineTimer(10s)));
    }
    QCOMPARE(outcomes, QStringList(20, QStringLiteral("returned")));
}

void tst_InvokeBlocking::testInlineOnTargetThread()
{
    // On the main thread itself: f runs inline; a posted call would time out instead.
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    bool ran = false;
    const auto [thread, value] = invokeBlocking(
        [&ran, input] {
            ran = true;
            return std::make_pair(QThread::currentThread(), input - 1);
        },
        2s);
    QVERIFY(ran);
    QCOMPARE(thread, mainThread());
    QCOMPARE(value, input - 1);

    QObject context;
    QCOMPARE(invokeBlocking(
                 &context, [] { return QThread::currentThread(); }, 2s),
             mainThread());
    QCOMPARE(invokeBlocking(
                 mainThread(), [] { return QThread::currentThread(); }, 2s),
             mainThread());
}

void tst_InvokeBlocking::testInlineTaskOnTargetThread()
{
    // Inline, a task is awaited in a nested event loop, so its timer still fires.
    const TimerReport report = invokeBlocking([] { return awaitTimer(4, nullptr); }, 5s);
    QCOMPARE(report.value, 12);
    QCOMPARE(report.resumedIn, mainThread());
}

void tst_InvokeBlocking::testInlineOnWorkerQThread()
{
    TargetThread target;
    QObject *context = target.context;
    QFuture<std::pair<QThread *, QThread *>> job = QtOffload::threaded(&m_pool, [context] {
        return invokeBlocking(context, [context] {
            // Now on the target thread: invoking into it again must not deadlock.
            QThread *viaObject = invokeBlocking(
                context, [] { return QThread::currentThread(); }, 2s);
            QThread *viaThread = invokeBlocking(
                QThread::currentThread(), [] { return QThread::currentThread(); }, 2s);
            return std::make_pair(viaObject, viaThread);
        });
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, &target.thread);
    QCOMPARE(job.result().second, &target.thread);
}

void tst_InvokeBlocking::testNullContextThrowsInvalidArgument()
{
    bool ran = false;
    QCOMPARE(outcomeOf([&ran] { invokeBlocking(static_cast<QObject *>(nullptr), [&ran] { ran = true; }); }),
             QStringLiteral("invalid_argument"));
    QCOMPARE(outcomeOf([&ran] { invokeBlocking(static_cast<QThread *>(nullptr), [&ran] { ran = true; }); }),
             QStringLiteral("invalid_argument"));
    QVERIFY(!ran);
}

void tst_InvokeBlocking::testFinishedThreadThrowsShutdownError()
{
    QThread finished;
    finished.start();
    auto *orphan = new QObject;
    orphan->moveToThread(&finished);
    finished.quit();
    QVERIFY(finished.wait(QDeadlineTimer(10s)));
    QThread neverStarted;

    auto ran = std::make_shared<std::atomic<bool>>(false);
    QFuture<QStringList> job = QtOffload::threaded(&m_pool, [&finished, &neverStarted, orphan, ran] {
        const auto f = [ran] { ran->store(true); };
        return QStringList { outcomeOf([&] { invokeBlocking(&finished, f); }),
                             outcomeOf([&] { invokeBlocking(orphan, f); }),
                             outcomeOf([&] { invokeBlocking(&neverStarted, f); }) };
    })();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringList(3, QStringLiteral("ShutdownError")));
    QVERIFY(!ran->load());
    delete orphan; // its thread is gone: nothing else can
}

void tst_InvokeBlocking::testThreadFinishingWhileCallQueuedThrowsShutdownError()
{
    Gate started;
    Gate release;
    // A thread with an event dispatcher but no event loop: a queued call would never run.
    std::unique_ptr<QThread> target(QThread::create([&] {
        started.release();
        release.tryAcquire(1, waitMs);
    }));
    auto *dispatcher = new PostWatchingDispatcher;
    target->setEventDispatcher(dispatcher);
    target->start();
    auto join = qScopeGuard([&] {
        release.release();
        target->wait();
    });
    QVERIFY(started.tryAcquire(1, waitMs));
    dispatcher->forgetPosts();

    auto ran = std::make_shared<std::atomic<bool>>(false);
    QThread *thread = target.get();
    QFuture<QString> job = QtOffload::threaded(
        &m_pool, [thread, ran] { return outcomeOf([&] { invokeBlocking(thread, [ran] { ran->store(true); }); }); })();
    QVERIFY(dispatcher->posted.tryAcquire(1, waitMs)); // the call is queued
    release.release(); // now the thread ends without running it
    QVERIFY(target->wait(QDeadlineTimer(10s)));
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("ShutdownError"));
    QVERIFY(!ran->load());
}

void tst_InvokeBlocking::testContextDeletedBeforeCallRanThrowsShutdownError()
{
    Gate busy;
    Gate deleteNow;
    QThread thread;
    auto join = qScopeGuard([&] {
        deleteNow.release();
        thread.quit();
        thread.wait();
    });
    auto *dispatcher = new PostWatchingDispatcher;
    thread.setEventDispatcher(dispatcher);
    auto *context = new QObject;
    context->moveToThread(&thread);

    // Keep the target busy so the call waits in its queue, then delete the
    // context on its own thread, ahead of the call. (Queued before start(),
    // so the thread's creation orders it for ThreadSanitizer.)
    QMetaObject::invokeMethod(dispatcher, [&busy, &deleteNow, context] {
        busy.release();
        if (deleteNow.tryAcquire(1, waitMs))
            delete context;
    });
    thread.start();
    QVERIFY(busy.tryAcquire(1, waitMs));
    dispatcher->forgetPosts();

    auto ran = std::make_shared<std::atomic<bool>>(false);
    QFuture<QString> job = QtOffload::threaded(
        &m_pool, [context, ran] { return outcomeOf([&] { invokeBlocking(context, [ran] { ran->store(true); }); }); })();
    QVERIFY(dispatcher->posted.tryAcquire(1, waitMs)); // the call is queued behind the busy one
    deleteNow.release();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("ShutdownError"));
    QVERIFY(!ran->load());
}

void tst_InvokeBlocking::testTimeoutThrowsTimeoutError()
{
    Gate busy;
    Gate release;
    auto jobDone = std::make_shared<Gate>();
    TargetThread target(&busy, &release);
    auto unblock = qScopeGuard([&release] { release.release(); }); // before the thread is joined
    QVERIFY(busy.tryAcquire(1, waitMs));

    QObject *context = target.context;
    QFuture<QString> job = QtOffload::threaded(&m_pool, [context, jobDone] {
        const QString outcome = outcomeOf([context] {
            invokeBlocking(
                context, [] { return 1; }, 100ms);
        });
        jobDone->release(); // orders the queued call's creation before the target gets to it, for TSan
        return outcome;
    })();
    QVERIFY(jobDone->tryAcquire(1, waitMs));
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("TimeoutError"));
}

void tst_InvokeBlocking::testMainThreadWaitingOnItsJobTimesOut()
{
    // The documented deadlock: the GUI thread blocks on a job that is inside
    // invokeBlocking into the GUI thread. With a timeout the job gives up, and
    // the GUI thread's wait ends.
    auto jobDone = std::make_shared<Gate>();
    QFuture<QString> job = QtOffload::threaded(&m_pool, [jobDone] {
        const QString outcome = outcomeOf([] { invokeBlocking([] { return 1; }, 200ms); });
        jobDone->release();
        return outcome;
    })();
    QVERIFY(jobDone->tryAcquire(1, waitMs)); // blocks the main thread without an event loop
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("TimeoutError"));
    QCoreApplication::sendPostedEvents(); // let the stale call go before the next test
}

void tst_InvokeBlocking::testTimedOutCallDoesNotRunLater()
{
    // A caller that got TimeoutError has moved on: its f (typically capturing
    // the caller's locals by reference) must not run afterwards.
    auto ranLate = std::make_shared<std::atomic<bool>>(false);
    auto jobDone = std::make_shared<Gate>();
    QFuture<QString> job = QtOffload::threaded(&m_pool, [jobDone, ranLate] {
        const QString outcome = outcomeOf([ranLate] { invokeBlocking([ranLate] { ranLate->store(true); }, 100ms); });
        jobDone->release();
        return outcome;
    })();
    QVERIFY(jobDone->tryAcquire(1, waitMs));
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("TimeoutError"));
    QCoreApplication::sendPostedEvents(); // the call was queued before the timeout: this delivers it
    QVERIFY2(!ranLate->load(), "f ran after its caller had timed out and returned");
}

void tst_InvokeBlocking::testChainsIntoAnotherThreadedJob()
{
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    ThreadPool *pool = &m_pool;
    QFuture<std::pair<ChainReport, QThread *>> job = QtOffload::threaded(&m_pool, [pool](int n) {
        ChainReport report = invokeBlocking([pool, n] { return chainIntoPool(pool, n); });
        return std::make_pair(report, QThread::currentThread());
    })(input);
    QTRY_FINISHED(job);
    const auto [report, outer] = job.result();
    QCOMPARE(report.value, input * 2 + 1);
    QCOMPARE(report.taskThread, mainThread());
    QVERIFY(report.innerThread != mainThread());
    QVERIFY(report.innerThread != outer); // the outer job still blocks its own thread
}

void tst_InvokeBlocking::testCallerContextVarsVisibleInF()
{
    QtOffload::ContextScope isolation { QtOffload::Context() };
    requestId.set(QStringLiteral("main"));
    const int input = QRandomGenerator::global()->bounded(1, 1000);
    QFuture<std::pair<QString, QString>> job = QtOffload::threaded(&m_pool, [](int n) {
        requestId.set(QStringLiteral("job-%1").arg(n));
        const QString inF = invokeBlocking([] {
            const QString seen = requestId.get(QStringLiteral("<unset>"));
            requestId.set(QStringLiteral("changed by f")); // f's own change stays in f
            return seen;
        });
        return std::make_pair(inF, requestId.get());
    })(input);
    QTRY_FINISHED(job);
    QCOMPARE(job.result().first, QStringLiteral("job-%1").arg(input));
    QCOMPARE(job.result().second, QStringLiteral("job-%1").arg(input));
    QCOMPARE(requestId.get(), QStringLiteral("main"));
}

void tst_InvokeBlocking::testCallerContextVarsVisibleAcrossTaskSuspension()
{
    // In the seed (asyncio), a coroutine submitted from a thread runs in a copy
    // of that thread's context across all its awaits. Here the snapshot is
    // installed only around f's call: after its first suspension the task is
    // resumed by the target's event loop and sees that thread's values.
    QtOffload::ContextScope isolation { QtOffload::Context() };
    requestId.set(QStringLiteral("main"));
    QFuture<QStringList> job = QtOffload::threaded(&m_pool, [] {
        requestId.set(QStringLiteral("worker"));
        return invokeBlocking([] { return requestIdAroundSuspension(); });
    })();
    QTRY_FINISHED(job);
    QEXPECT_FAIL("", "Known limitation: QCoro 0.8 offers no hook to reinstall the snapshot when the task resumes",
                 Continue);
    QCOMPARE(job.result(), (QStringList { QStringLiteral("worker"), QStringLiteral("worker") }));
    QCOMPARE(requestId.get(), QStringLiteral("main"));
}

QTEST_GUILESS_MAIN(tst_InvokeBlocking)
#include "tst_invokeblocking.moc"
