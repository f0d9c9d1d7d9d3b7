// SPDX-License-Identifier: MIT
// threadedSeparate(): a new named thread per call, never a pool slot, stop
// tokens wired to QFuture::cancel(), and exceptions (StopToken itself:
// tst_stoptoken).
// Jobs here run on threads nobody joins for the test, so whatever they touch
// is shared-owned: a failing check never leaves a job writing to a dead frame.

#include <QtOffload/threaded.h>

#include <support/gate.h>

#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using QtOffload::StopToken;
using QtOffload::threadedSeparate;
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

bool isSeparateThreadName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^QtOffload separate #\\d+$"));
    return pattern.match(name).hasMatch();
}

} // namespace

class tst_ThreadedSeparate : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testEachCallRunsOnNewNamedThread();
    void testThreadGoneAfterJobEnds();
    void testNeverOccupiesDefaultPool();
    void testArgumentsCopiedAndMoveOnlyResult();
    void testStopTokenStopsOnCancel();
    void testStopTokenWaitForReturnsEarlyOnCancel();
    void testExceptionsPropagate();
};

void tst_ThreadedSeparate::testEachCallRunsOnNewNamedThread()
{
    const qint64 defaultSubmitted = ThreadPool::defaultPool()->statistics().submitted;
    // Each job signals its own semaphore and waits for the other's: both
    // answer only if two threads ran them at the same time.
    struct Rendezvous
    {
        Gate arrived[2];
    };
    auto rendezvous = std::make_shared<Rendezvous>();
    auto call = threadedSeparate([rendezvous](int me) {
        rendezvous->arrived[me].release();
        return rendezvous->arrived[1 - me].tryAcquire(1, waitMs) ? QThread::currentThread()->objectName() : QString();
    });
    QFuture<QString> first = call(0);
    QFuture<QString> second = call(1);
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && second.isFinished(), 2 * waitMs);

    const QString firstName = first.result();
    const QString secondName = second.result();
    QVERIFY2(isSeparateThreadName(firstName), qPrintable(firstName));
    QVERIFY2(isSeparateThreadName(secondName), qPrintable(secondName));
    QVERIFY(firstName != secondName);
    QCOMPARE(ThreadPool::defaultPool()->statistics().submitted, defaultSubmitted);
}

void tst_ThreadedSeparate::testThreadGoneAfterJobEnds()
{
    QFuture<QThread *> future = threadedSeparate([] { return QThread::currentThread(); })();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QThread *thread = future.result();
    QVERIFY(thread);
    QVERIFY(thread != QThread::currentThread());
    // Nothing else starts or joins separate threads meanwhile, so the QThread object is still there to ask.
    QTRY_VERIFY_WITH_TIMEOUT(thread->isFinished(), waitMs);
}

void tst_ThreadedSeparate::testNeverOccupiesDefaultPool()
{
    auto open = std::make_shared<Gate>();
    auto started = std::make_shared<Gate>();
    ThreadPool blocker(1, QStringLiteral("blocker"));
    ThreadPool::setDefault(&blocker);
    const auto restore = qScopeGuard([&] {
        open->release(1000);
        ThreadPool::setDefault(nullptr);
    });

    // The default pool's only thread is held...
    QFuture<bool> held = QtOffload::threaded([open, started] {
        started->release();
        return open->tryAcquire(1, waitMs);
    })();
    QVERIFY(started->tryAcquire(1, waitMs));

    // ...and a separate job still runs.
    QFuture<QString> separate = threadedSeparate([] { return QThread::currentThread()->objectName(); })();
    QTRY_VERIFY_WITH_TIMEOUT(separate.isFinished(), waitMs);
    QVERIFY2(isSeparateThreadName(separate.result()), qPrintable(separate.result()));
    QVERIFY(!held.isFinished());
    QCOMPARE(blocker.statistics().submitted, 1);

    open->release();
    QTRY_VERIFY_WITH_TIMEOUT(held.isFinished(), waitMs);
    QVERIFY(held.result());
}

void tst_ThreadedSeparate::testArgumentsCopiedAndMoveOnlyResult()
{
    auto go = std::make_shared<Gate>();
    const auto cleanup = qScopeGuard([&] { go->release(); });
    QString text = QStringLiteral("before");
    auto argument = std::make_unique<int>(7);
    QFuture<std::unique_ptr<QString>> future = threadedSeparate([go](const QString &t, std::unique_ptr<int> n) {
        go->tryAcquire(1, waitMs); // read the arguments only after the caller changed its own
        return std::make_unique<QString>(t + QString::number(*n));
    })(text, std::move(argument));
    QVERIFY(!argument);
    text = QStringLiteral("after");
    go->release();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    std::unique_ptr<QString> result = future.takeResult();
    QVERIFY(result);
    QCOMPARE(*result, QStringLiteral("before7"));
}

void tst_ThreadedSeparate::testStopTokenStopsOnCancel()
{
    struct State
    {
        Gate started;
        std::atomic<int> stoppedAtLoop { -1 };
    };
    auto state = std::make_shared<State>();
    QFuture<void> future = threadedSeparate([state](StopToken stop) {
        state->started.release();
        // The seed's "while not event.is_set()" loop, bounded beyond the test's deadline.
        for (int i = 0; i < 2 * waitMs / 10; ++i) {
            if (stop.waitFor(10ms)) {
                state->stoppedAtLoop = i;
                return;
            }
        }
    })();
    QVERIFY(state->started.tryAcquire(1, waitMs));
    QVERIFY(!future.isFinished());

    future.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QVERIFY(future.isCanceled());
    QVERIFY(state->stoppedAtLoop >= 0);
}

void tst_ThreadedSeparate::testStopTokenWaitForReturnsEarlyOnCancel()
{
    struct State
    {
        Gate started;
        std::atomic<int> stopped { -1 };
    };
    auto state = std::make_shared<State>();
    QFuture<void> future = threadedSeparate([state](StopToken stop) {
        state->started.release();
        state->stopped = stop.waitFor(1h) ? 1 : 0;
    })();
    QVERIFY(state->started.tryAcquire(1, waitMs));
    future.cancel();
    // Long before the hour the job asked to sleep.
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), waitMs);
    QCOMPARE(state->stopped.load(), 1);
}

void tst_ThreadedSeparate::testExceptionsPropagate()
{
    QFuture<int> coded = threadedSeparate([](int code) -> int { throw CodedError(code); })(3);
    QFuture<int> withToken = threadedSeparate([](StopToken, int code) -> int { throw CodedError(code); })(4);
    QFuture<void> raw = threadedSeparate([] { throw 42; })();
    QTRY_VERIFY_WITH_TIMEOUT(coded.isFinished() && withToken.isFinished() && raw.isFinished(), waitMs);

    QCOMPARE(thrownCode([&] { (void)coded.result(); }), 3);
    QCOMPARE(thrownCode([&] { withToken.waitForFinished(); }), 4);
    int caught = 0;
    try {
        raw.waitForFinished();
    } catch (int value) {
        caught = value;
    }
    QCOMPARE(caught, 42);
}

QTEST_GUILESS_MAIN(tst_ThreadedSeparate)

#include "tst_threadedseparate.moc"
