// SPDX-License-Identifier: MIT
// The delivery lane: what reaches a thread (chunks, whenFinished() results)
// is handed out in time-bounded turns, and the thread's timers run between
// them. Runs on the glib dispatcher and, as tst_deliverylane_unix, on the
// plain unix one (QT_NO_GLIB=1).

#include <QtOffload/QtOffload>
#include <QtOffload/impl/deliverylane.h>

#include <support/await.h>
#include <support/gate.h>
#include <support/loopthread.h>
#include <support/sanitizers.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QPointer>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <qcoro/qcoroasyncgenerator.h>
#include <qcoro/qcorotask.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

using namespace QtOffload;
using namespace std::chrono_literals;

namespace {

constexpr int waitMs = 20000;

//! Keeps the calling thread busy for \a duration, as a handler that appends to a text view does.
void busyFor(std::chrono::microseconds duration)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.nsecsElapsed() < std::chrono::nanoseconds(duration).count()) { }
}

//! A 1 ms timer on this thread, recording the longest gap between its ticks while armed.
class TimerProbe
{
public:
    TimerProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.elapsed();
            if (m_armed) {
                ++m_ticks;
                m_longestGap = std::max(m_longestGap, now - m_last);
            }
            m_last = now;
        });
        m_clock.start();
        m_timer.start(1);
    }
    //! From now on ticks count (call it where the measured work begins).
    void arm()
    {
        m_armed = true;
        m_last = m_clock.elapsed();
    }
    void disarm()
    {
        if (m_armed)
            m_longestGap = std::max(m_longestGap, m_clock.elapsed() - m_last);
        m_armed = false;
    }
    qint64 longestGapMs() const { return m_longestGap; }
    int ticks() const { return m_ticks; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_longestGap = 0;
    int m_ticks = 0;
    bool m_armed = false;
};

QCoro::Task<QList<int>> foreachChunks(TypedGenerator<int> &generator)
{
    QList<int> chunks;
    QCORO_FOREACH(int chunk, generator) { chunks.append(chunk); }
    co_return chunks;
}

QCoro::Task<int> countMoveOnly(TypedGenerator<std::unique_ptr<int>> *generator)
{
    int sum = 0;
    while (auto chunk = co_await generator->next())
        sum += **chunk;
    co_return sum;
}

std::unique_ptr<TypedGenerator<std::unique_ptr<int>>> moveOnlyChunks(int count)
{
    return threadedIterable(
        [count](Sink<std::unique_ptr<int>> &out) {
            for (int i = 1; i <= count; ++i) {
                if (!out.yield(std::make_unique<int>(i)))
                    return;
            }
        },
        2)();
}

//! A bare lane client that records where it was destroyed, and whether inside its own delivery.
class RecordingClient final : public detail::LaneClient
{
public:
    struct Record
    {
        std::atomic<QThread *> destroyedOn { nullptr };
        std::atomic<bool> destroyedWhileDelivering { false };
        std::atomic<int> deliveries { 0 };
    };

    RecordingClient(QThread *thread, Record &record, std::function<void()> onDelivery = {})
        : LaneClient(thread)
        , m_record(record)
        , m_onDelivery(std::move(onDelivery))
    {
    }
    ~RecordingClient() override
    {
        m_record.destroyedWhileDelivering = m_delivering;
        m_record.destroyedOn = QThread::currentThread();
    }
    using LaneClient::deleteOnLane;
    using LaneClient::scheduleDelivery;
    using LaneClient::scheduleDeliveryIn; // from the lane's thread

private:
    bool deliverOne() override
    {
        m_delivering = true;
        ++m_record.deliveries;
        if (m_onDelivery)
            m_onDelivery();
        m_delivering = false;
        return false;
    }

    Record &m_record;
    const std::function<void()> m_onDelivery;
    bool m_delivering = false;
};

} // namespace

class tst_DeliveryLane : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setDeliveryBudget(QThread::currentThread(), DefaultDeliveryBudget); }

    void testSlowConsumerLetsTheTimerFire()
    {
        // 60 chunks, each costing its handler 5 ms, all produced at once into a
        // buffer that holds them all: the old delivery ran the whole stream in
        // one go (gaps of 500-955 ms). A turn now ends after the chunk that
        // spent its budget, and the timer runs before the next one.
        constexpr int chunks = 60;
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; i < chunks; ++i)
                    out.yield(i);
            },
            64)();
        TimerProbe probe;
        int delivered = 0;
        generator->onChunk(this, [&](const int &) {
            if (delivered++ == 0)
                probe.arm();
            busyFor(5ms);
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(waitMs));
        probe.disarm();
        QCOMPARE(delivered, chunks);
        QVERIFY2(probe.longestGapMs() <= 50,
                 qPrintable(QStringLiteral("longest 1 ms timer gap %1 ms").arg(probe.longestGapMs())));
        QVERIFY2(probe.ticks() >= chunks / 10, qPrintable(QStringLiteral("%1 ticks").arg(probe.ticks())));
    }

    void testBurstOfResultsLetsTheTimerFire()
    {
        // 4,000 results that are all there at once, each costing its callback
        // 50 us (200 ms in all): before the lane they were handed out in one pass.
        const int jobs = underSanitizer ? 1000 : 4000;
        QList<QFuture<int>> futures;
        // A pool of our own, so that waiting for it (on its std::mutex, which
        // ThreadSanitizer sees) orders the workers' finishing before our reads.
        ThreadPool pool(2);
        auto job = threaded(&pool, [](int i) { return i; });
        for (int i = 0; i < jobs; ++i)
            futures.append(job(i));
        QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
        TimerProbe probe;
        int delivered = 0;
        int ticksWhenFirst = -1;
        QEventLoop loop;
        for (const auto &future : futures) {
            whenFinished(future, this, [&](int) {
                if (delivered++ == 0) {
                    probe.arm();
                    ticksWhenFirst = probe.ticks();
                }
                busyFor(50us);
                if (delivered == jobs)
                    loop.quit();
            });
        }
        QTimer::singleShot(waitMs, &loop, [] { qFatal("the results did not all come"); });
        loop.exec();
        probe.disarm();
        QCOMPARE(delivered, jobs);
        QVERIFY2(probe.ticks() - ticksWhenFirst >= 3,
                 qPrintable(QStringLiteral("%1 ticks during delivery").arg(probe.ticks() - ticksWhenFirst)));
        QVERIFY2(probe.longestGapMs() <= 50,
                 qPrintable(QStringLiteral("longest 1 ms timer gap %1 ms").arg(probe.longestGapMs())));
    }

    void testEachTurnHandsOutOneItemPerClientInTurn()
    {
        // Budget 0: every turn delivers one chunk; two streams then alternate.
        setDeliveryBudget(QThread::currentThread(), 0us);
        QCOMPARE(deliveryBudget(QThread::currentThread()), 0us);
        // Both producers push all their chunks before the first one is handed
        // out, so that both streams are ready in every turn.
        auto pushedAll = std::make_shared<Gate>();
        const auto producer = [pushedAll](int base) {
            return [base, pushedAll](Sink<int> &out) {
                for (int i = 0; i < 20; ++i)
                    out.yield(base + i);
                pushedAll->release();
            };
        };
        auto first = threadedIterable(producer(0), 64)();
        auto second = threadedIterable(producer(100), 64)();
        QList<int> order;
        QSignalSpy firstDone(first.get(), &QtGenerator::finished);
        QSignalSpy secondDone(second.get(), &QtGenerator::finished);
        bool bothPushed = false;
        const auto record = [&](const int &v) {
            // The first turn may hand out the first stream's chunk before it
            // starts the second stream's producer: wait only once both run.
            if (!bothPushed && first->isRunning() && second->isRunning())
                bothPushed = pushedAll->tryAcquire(2, waitMs);
            order.append(v);
        };
        first->onChunk(this, record);
        second->onChunk(this, record);
        QTRY_VERIFY_WITH_TIMEOUT(firstDone.size() == 1 && secondDone.size() == 1, waitMs);
        QVERIFY(bothPushed);
        QCOMPARE(order.size(), 40);
        int switches = 0;
        for (int i = 1; i < order.size(); ++i)
            switches += (order[i] >= 100) != (order[i - 1] >= 100);
        QVERIFY2(switches >= 10, qPrintable(QStringLiteral("only %1 switches between the streams").arg(switches)));
    }

    void testBudgetErrors()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, setDeliveryBudget(nullptr, 1ms));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, setDeliveryBudget(QThread::currentThread(), -1us));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)deliveryBudget(nullptr));
        QCOMPARE(deliveryBudget(QThread::currentThread()), DefaultDeliveryBudget);
    }

    void testGeneratorDestroyedInItsOwnDelivery()
    {
        // Destroyed by its own handler while the lane holds it and another client.
        auto *doomed = threadedIterable(
                           [](Sink<int> &out) {
                               for (int i = 0; i < 1000; ++i)
                                   out.yield(i);
                           },
                           16)()
                           .release();
        auto survivor = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; i < 100; ++i)
                    out.yield(i);
            },
            16)();
        QPointer<QtGenerator> watch(doomed);
        int seen = 0;
        doomed->onChunk(this, [&](const int &) {
            if (++seen == 3)
                delete doomed;
        });
        int survived = 0;
        survivor->onChunk(this, [&](const int &) { ++survived; });
        QTRY_VERIFY_WITH_TIMEOUT(!watch && survived == 100, waitMs);
        QCOMPARE(seen, 3);
    }

    void testNestedEventLoopInAHandlerStillGetsDeliveries()
    {
        // A chunkReady handler that waits, in a nested event loop, for a result
        // delivered through the same lane.
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; i < 3; ++i)
                    out.yield(i);
            },
            4)();
        int nestedResults = 0;
        generator->onChunk(this, [&](const int &) {
            QEventLoop nested;
            whenFinished(threaded([] { return 7; })(), this, [&](int value) {
                nestedResults += value == 7;
                nested.quit();
            });
            QTimer::singleShot(waitMs, &nested, [] { qFatal("the nested result never came"); });
            nested.exec();
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(nestedResults, 3);
    }

    void testWhenFinishedOnAnotherThreadsLane()
    {
        QThread thread;
        thread.start();
        QObject context;
        context.moveToThread(&thread);
        std::atomic<QThread *> ranOn { nullptr };
        QEventLoop loop;
        whenFinished(threaded([] { return 1; })(), &context, [&](int) {
            ranOn = QThread::currentThread();
            QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection);
        });
        QTimer::singleShot(waitMs, &loop, [] { qFatal("no result on the other thread"); });
        loop.exec();
        QCOMPARE(ranOn.load(), &thread);
        thread.quit();
        QVERIFY(thread.wait(waitMs));
        // A lane outlives nothing: a new thread at the same place gets a new one.
        QThread again;
        again.start();
        QObject second;
        second.moveToThread(&again);
        std::atomic<bool> delivered { false };
        whenFinished(threaded([] { return 2; })(), &second, [&](int) { delivered = true; });
        QTRY_VERIFY_WITH_TIMEOUT(delivered.load(), waitMs);
        again.quit();
        QVERIFY(again.wait(waitMs));
    }

    void testAClientHandedToItsLaneIsDestroyedOnTheLanesThread()
    {
        RecordingClient::Record fromWorker;
        auto *client = new RecordingClient(QThread::currentThread(), fromWorker);
        std::thread([client] { client->deleteOnLane(); }).join();
        QTRY_VERIFY_WITH_TIMEOUT(fromWorker.destroyedOn.load() != nullptr, waitMs);
        QCOMPARE(fromWorker.destroyedOn.load(), QThread::currentThread());
        QCOMPARE(fromWorker.deliveries.load(), 0);

        // The lane's thread has finished: nothing turns there again, so the
        // client goes at once, on the caller's thread.
        QThread finished;
        finished.start();
        RecordingClient::Record late;
        auto *orphan = new RecordingClient(&finished, late);
        finished.quit();
        QVERIFY(finished.wait(waitMs));
        orphan->deleteOnLane();
        QCOMPARE(late.destroyedOn.load(), QThread::currentThread());

        // Handed over in the lane thread's last event: the thread's end destroys it, there.
        RecordingClient *last = nullptr;
        const std::unique_ptr<QThread> ending = threadRunningInItsLoop([&last] { last->deleteOnLane(); });
        RecordingClient::Record atEnd;
        last = new RecordingClient(ending.get(), atEnd); // before the start: the thread sees it
        ending->start();
        QVERIFY(ending->wait(waitMs));
        QCOMPARE(atEnd.destroyedOn.load(), ending.get());
    }

    void testADelayedDeliveryComesOnceTheDelayPassed()
    {
        // The progress relay waits for the end of Qt's throttle window this way.
        QElapsedTimer clock;
        std::atomic<qint64> deliveredAtMs { -1 };
        RecordingClient::Record record;
        RecordingClient client(QThread::currentThread(), record, [&] { deliveredAtMs = clock.elapsed(); });
        RecordingClient::Record goneRecord;
        auto *gone = new RecordingClient(QThread::currentThread(), goneRecord);
        clock.start();
        client.scheduleDeliveryIn(30ms);
        client.scheduleDeliveryIn(10s); // a later delay does not put off the sooner one
        gone->scheduleDeliveryIn(10ms);
        delete gone; // takes its pending delay with it
        QTRY_VERIFY_WITH_TIMEOUT(record.deliveries.load() == 1, waitMs);
        QVERIFY2(deliveredAtMs.load() >= 29, qPrintable(QString::number(deliveredAtMs.load())));
        QVERIFY2(deliveredAtMs.load() < 10'000, qPrintable(QString::number(deliveredAtMs.load())));
        QCOMPARE(goneRecord.deliveries.load(), 0);
    }

    void testAClientHandedOverInItsOwnDeliveryGoesWhenItReturns()
    {
        // Its delivery runs a nested event loop, in which the lane turns again:
        // that inner turn must not destroy it under its own delivery.
        QEventLoop nested;
        RecordingClient::Record quitterRecord;
        RecordingClient quitter(QThread::currentThread(), quitterRecord, [&] { nested.quit(); });
        Gate delivering;
        RecordingClient::Record record;
        auto *client = new RecordingClient(QThread::currentThread(), record, [&] {
            delivering.release();
            QTimer::singleShot(waitMs, &nested, [] { qFatal("the inner turn never came"); });
            nested.exec();
        });
        std::thread worker([&] {
            if (!delivering.tryAcquire())
                return;
            client->deleteOnLane();
            quitter.scheduleDelivery(); // an inner turn runs the deletions first, then this
        });
        client->scheduleDelivery();
        QTRY_VERIFY_WITH_TIMEOUT(record.destroyedOn.load() != nullptr, waitMs);
        worker.join();
        QCOMPARE(record.destroyedOn.load(), QThread::currentThread());
        QVERIFY(!record.destroyedWhileDelivering);
        QCOMPARE(record.deliveries.load(), 1);
        QCOMPARE(quitterRecord.deliveries.load(), 1);
    }

    void testMoveOnlyChunksThroughChunkReadyAreAnError()
    {
        auto generator = moveOnlyChunks(5);
        QSignalSpy errors(generator.get(), &QtGenerator::errorOccurred);
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QList<QVariant> received;
        connect(generator.get(), &QtGenerator::chunkReady, this,
                [&](const QVariant &chunk) { received.append(chunk); });
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(errors.size(), 1);
        const QString message = errors.first().first().toString();
        QVERIFY2(message.contains(QStringLiteral("unique_ptr")) && message.contains(QStringLiteral("onChunk")),
                 qPrintable(message));
        QVERIFY(received.isEmpty());
        QCOMPARE(generator->endReason(), QtGenerator::EndReason::Failed);
        QVERIFY(generator->close().isFinished());
    }

    void testTypedChunkReadyIsQtGeneratorsSignal()
    {
        // The typed handle names the same signal for chunks a QVariant can carry
        // (for move-only ones it does not compile: tests/compile_fail).
        static_assert(std::is_same_v<decltype(&TypedGenerator<int>::chunkReady), decltype(&QtGenerator::chunkReady)>);
        auto generator = threadedIterable([](Sink<int> &out) {
            for (int i = 1; i <= 3; ++i)
                out.yield(i);
        })();
        int sum = 0;
        connect(generator.get(), &TypedGenerator<int>::chunkReady, this,
                [&](const QVariant &chunk) { sum += chunk.toInt(); });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(sum, 6);
    }

    void testMoveOnlyChunksThroughOnChunkAndNext()
    {
        auto pushed = moveOnlyChunks(5);
        int sum = 0;
        pushed->onChunk(this, [&](const std::unique_ptr<int> &chunk) { sum += *chunk; });
        QSignalSpy finished(pushed.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(sum, 15);

        auto pulled = moveOnlyChunks(5);
        QCOMPARE(await(countMoveOnly(pulled.get())), 15);
    }

    void testQCoroForeachWalksTheGenerator()
    {
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; i < 50; ++i)
                    out.yield(i * 2);
            },
            4)();
        const QList<int> chunks = await(foreachChunks(*generator));
        QCOMPARE(chunks.size(), 50);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(chunks[i], i * 2);
        QVERIFY(generator->isDone());
    }

    void testQCoroForeachRethrowsTheProducersError()
    {
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                out.yield(1);
                throw std::runtime_error("producer broke");
            },
            4)();
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, await(foreachChunks(*generator)));
    }
};

QTEST_GUILESS_MAIN(tst_DeliveryLane)
#include "tst_deliverylane.moc"
