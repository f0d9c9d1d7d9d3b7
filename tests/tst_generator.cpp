// SPDX-License-Identifier: MIT
// QtGenerator and its typed handle: producers of every kind, pull and push
// consumers, ordering, backpressure, bounded memory, close() and errors.
// (Many generators at random buffer sizes at once: tests/stress.)
#include <support/await.h>
#include <support/gate.h>
#include <support/sanitizers.h>

#include <QtOffload/contextvar.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>
#include <qcoro/qcoroasyncgenerator.h>
#include <qcoro/qcorogenerator.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>

using namespace std::chrono_literals;
using namespace QtOffload;

// `co_await gen->next()` gives std::optional<T>: empty means the end.
static_assert(
    std::is_same_v<decltype(std::declval<QtOffload::NextChunk<QString>>().await_resume()), std::optional<QString>>);
static_assert(!std::is_copy_constructible_v<TypedGenerator<int>>);

namespace {

constexpr int waitMs = 20000;

// Pulls every chunk with co_await next() until the end (or \a limit chunks, then breaks out).
template<typename T> QCoro::Task<QList<T>> pullAll(TypedGenerator<T> *generator, int limit)
{
    QList<T> chunks;
    while (auto chunk = co_await generator->next()) {
        chunks << std::move(*chunk);
        if (chunks.size() == limit)
            break;
    }
    co_return chunks;
}

template<typename T> QCoro::Task<std::optional<T>> nextOf(TypedGenerator<T> *generator)
{
    co_return co_await generator->next();
}

template<typename T> QList<T> pull(TypedGenerator<T> *generator, int limit = -1)
{
    return await(pullAll(generator, limit));
}

template<typename T> std::optional<T> next(TypedGenerator<T> *generator) { return await(nextOf(generator)); }

//! QCORO_FOREACH straight on the typed handle (begin()/end() awaitables).
QCoro::Task<QList<int>> foreachAll(TypedGenerator<int> *generator)
{
    QList<int> chunks;
    QCORO_FOREACH(int chunk, *generator) { chunks << chunk; }
    co_return chunks;
}

QCoro::Generator<int> countTo(int n)
{
    for (int i = 0; i < n; ++i)
        co_yield i;
}

QList<int> sequence(int n, int from = 0)
{
    QList<int> values;
    for (int i = from; i < from + n; ++i)
        values << i;
    return values;
}

struct PlannedFailure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};
struct NotAStdException
{
    int code;
};

// A chunk that counts how many exist at once: what the process really holds.
class LiveChunk
{
public:
    static inline std::atomic<int> live { 0 };
    static inline std::atomic<int> peak { 0 };

    LiveChunk() = default;
    explicit LiveChunk(qsizetype bytes)
        : m_bytes(bytes, 'x')
    {
        born();
    }
    LiveChunk(const LiveChunk &other)
        : m_bytes(other.m_bytes)
    {
        bornIfReal();
    }
    LiveChunk(LiveChunk &&other) noexcept
        : m_bytes(std::move(other.m_bytes))
    {
        other.m_bytes = QByteArray();
    }
    LiveChunk &operator=(LiveChunk other) noexcept
    {
        diedIfReal();
        m_bytes = std::move(other.m_bytes);
        other.m_bytes = QByteArray();
        return *this;
    }
    ~LiveChunk() { diedIfReal(); }
    qsizetype size() const { return m_bytes.size(); }
    const QByteArray &bytes() const { return m_bytes; }

private:
    void bornIfReal()
    {
        if (!m_bytes.isNull())
            born();
    }
    void born()
    {
        m_bytes.detach(); // a copy owns its own bytes, as a real chunk would
        const int now = ++live;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) { }
    }
    void diedIfReal()
    {
        if (!m_bytes.isNull())
            --live;
    }
    QByteArray m_bytes;
};

// Counts a producer's progress, so a test can see where it blocks.
struct ProducerProbe
{
    std::atomic<int> attempts { 0 }; // yields begun
    std::atomic<int> accepted { 0 }; // yields that returned true
    std::atomic<bool> sawClosed { false };
    std::atomic<bool> returned { false };
    Gate returnedSignal;

    //! Blocked inside yield number \a accepted + 1: \a accepted went through, the next one waits.
    bool blockedAfter(int acceptedCount) const { return accepted == acceptedCount && attempts == acceptedCount + 1; }
};

auto endlessProducer(std::shared_ptr<ProducerProbe> probe)
{
    return [probe](Sink<int> &out) {
        for (int i = 0;; ++i) {
            ++probe->attempts;
            if (!out.yield(i)) {
                probe->sawClosed = true;
                break;
            }
            ++probe->accepted;
        }
        probe->returned = true;
        probe->returnedSignal.release();
    };
}

void countUpTo(Sink<int> &out, int n)
{
    for (int i = 0; i < n; ++i) {
        if (!out.yield(i))
            return;
    }
}

// Reads /dev/urandom forever, 8 bytes a chunk, recording its thread.
auto urandomReader(std::shared_ptr<std::atomic<QThread *>> thread)
{
    return [thread](Sink<QByteArray> &out) {
        thread->store(QThread::currentThread());
        QFile random(QStringLiteral("/dev/urandom"));
        if (!random.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            throw std::runtime_error("no /dev/urandom");
        while (out.yield(random.read(8))) { }
    };
}

QCoro::Task<int> readTenThenBreak(TypedGenerator<QByteArray> *generator)
{
    int count = 0;
    while (auto chunk = co_await generator->next()) {
        if (chunk->size() != 8)
            co_return -1;
        if (++count == 10)
            break;
    }
    co_return count;
}

// Order and thread of one stream, whatever the consumer style.
struct SequenceCheck
{
    QThread *owner = nullptr;
    int expected = 0;
    int errors = 0;
    std::function<void()> onEnd;

    void see(int value)
    {
        if (value != expected || QThread::currentThread() != owner)
            ++errors;
        expected = value + 1;
    }
};

QCoro::Task<> pullChecking(TypedGenerator<int> *generator, SequenceCheck *check)
{
    while (auto chunk = co_await generator->next())
        check->see(*chunk);
    check->onEnd();
}

QCoro::Task<> takeOne(TypedGenerator<int> *generator, std::atomic<int> *taken)
{
    const std::optional<int> chunk = co_await generator->next();
    if (chunk)
        ++*taken;
}

// Marks a coroutine producer's frame as destroyed.
struct FrameGuard
{
    std::shared_ptr<std::atomic<bool>> destroyed;
    ~FrameGuard() { *destroyed = true; }
};

QCoro::Generator<int> endlessCoroutine(std::shared_ptr<std::atomic<bool>> destroyed,
                                       std::shared_ptr<std::atomic<int>> yielded)
{
    FrameGuard guard { destroyed };
    for (int i = 0;; ++i) {
        ++*yielded;
        co_yield i;
    }
}

} // namespace

class tst_Generator : public QObject
{
    Q_OBJECT

private:
    ThreadPool m_pool { 4, QStringLiteral("generators") };

private Q_SLOTS:
    void testAGeneratorMadeInAJobAndMovedDelivers()
    {
        // Made inside a pool job, moved to this thread, handed back: it joins this thread's lane.
        ThreadPool pool(1);
        QThread *consumer = QThread::currentThread();
        const auto make = [consumer](int n) {
            TypedGenerator<int> *made = threadedIterable([](int count) { return sequence(count); }, 4)(n).release();
            made->moveToThread(consumer);
            return made;
        };
        std::unique_ptr<TypedGenerator<int>> pushed(threaded(&pool, make)(50).result());
        QList<int> received;
        pushed->onChunk(this, [&received](int chunk) { received << chunk; });
        QTRY_VERIFY_WITH_TIMEOUT(pushed->isDone(), waitMs);
        QCOMPARE(received, sequence(50));
        QCOMPARE(pushed->endReason(), QtGenerator::EndReason::Completed);

        std::unique_ptr<TypedGenerator<int>> pulled(threaded(&pool, make)(30).result());
        QCOMPARE(pull(pulled.get()), sequence(30));
    }

    void testAGeneratorStrandedInAJobSaysSo()
    {
        // Made inside a job and not moved: its thread runs no event loop. The first consumer hears why.
        ThreadPool pool(1, QStringLiteral("strand"));
        const auto make
            = [](int n) { return threadedIterable([](int count) { return sequence(count); })(n).release(); };
        std::unique_ptr<TypedGenerator<int>> generator(threaded(&pool, make)(5).result());
        QStringList errors;
        connect(generator.get(), &QtGenerator::errorOccurred, this, [&errors](const QString &m) { errors << m; });
        QTest::ignoreMessage(
            QtWarningMsg,
            QRegularExpression(QStringLiteral("lives in thread \"QtOffload pool strand #1\", which runs a "
                                              "job and no event loop")));
        int chunks = 0;
        generator->onChunk(this, [&chunks](int) { ++chunks; });
        QCOMPARE(errors.size(), 1);
        QVERIFY(errors.first().contains(QLatin1String("moveToThread()")));
        // A later consumer is refused too: next() throws instead of waiting for ever.
        QVERIFY_THROWS_EXCEPTION(std::logic_error, next(generator.get()));
        QCOMPARE(chunks, 0);
        QVERIFY(generator->close().isFinished()); // it never started
    }

    void testAGeneratorMovedMidStreamGoesOnInItsNewThread()
    {
        QThread worker;
        worker.setObjectName(QStringLiteral("moved-to"));
        worker.start();
        const auto stop = qScopeGuard([&worker] {
            worker.quit();
            worker.wait();
        });
        QThread *main = QThread::currentThread();
        auto generator = threadedIterable([](int count) { return sequence(count); }, 2)(40);
        std::mutex mutex;
        QList<int> received;
        QList<QThread *> threads;
        Gate done;
        TypedGenerator<int> *raw = generator.get();
        generator->onChunk(nullptr, [&, raw](int chunk) {
            {
                std::lock_guard lock(mutex);
                received << chunk;
                threads << QThread::currentThread();
            }
            if (chunk == 9)
                raw->moveToThread(&worker); // from inside its own delivery
        });
        // Emitted in the new thread, which moves it back, so it is destroyed where it lives.
        connect(raw, &QtGenerator::finished, raw, [raw, main, &done] {
            raw->moveToThread(main);
            done.release();
        });
        QTRY_VERIFY_WITH_TIMEOUT(done.available() == 1, waitMs); // this thread's loop delivers the first chunks
        std::lock_guard lock(mutex);
        QCOMPARE(received, sequence(40));
        QCOMPARE(threads.count(main), 10);
        QCOMPARE(threads.count(&worker), 30);
        QCOMPARE(raw->endReason(), QtGenerator::EndReason::Completed);
    }

    void init() { ThreadPool::setDefault(&m_pool); }
    void cleanup()
    {
        // Whatever a test did, no producer may still be running afterwards.
        QVERIFY(m_pool.waitForDone(std::chrono::milliseconds(waitMs)));
        QCOMPARE(m_pool.statistics().running, 0);
        ThreadPool::setDefault(nullptr);
    }

    // --- producers ---

    void testCoroutineProducerRunsInWorker()
    {
        auto producerThread = std::make_shared<std::atomic<QThread *>>(nullptr);
        auto generator = threadedIterable([producerThread](int n) -> QCoro::Generator<int> {
            producerThread->store(QThread::currentThread());
            for (int i = 0; i < n; ++i)
                co_yield i *i;
        })(5);
        QCOMPARE(pull(generator.get()), (QList<int> { 0, 1, 4, 9, 16 }));
        QVERIFY(producerThread->load() != nullptr);
        QVERIFY(producerThread->load() != QThread::currentThread());
    }

    void testThreadedOnGeneratorFunctionGivesGenerator()
    {
        auto generator = threaded(countTo)(4);
        static_assert(std::is_same_v<decltype(generator), std::unique_ptr<TypedGenerator<int>>>);
        if (!qEnvironmentVariableIsSet("QTOFFLOAD_ITERABLE_MAX_SIZE"))
            QCOMPARE(generator->maxSize(), qsizetype(1024)); // the SPEC's default buffer
        QCOMPARE(pull(generator.get()), sequence(4));
    }

    void testRangeProducer()
    {
        auto generator = threadedIterable([](int n) { return sequence(n); })(3);
        QCOMPARE(pull(generator.get()), sequence(3));
    }

    void testPushProducerSeesCloseAsFalse()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 2)();
        QCOMPARE(pull(generator.get(), 3), sequence(3));
        QFuture<void> closed = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QVERIFY(probe->returned); // the future means the producer really returned
        QVERIFY(probe->sawClosed);
        QVERIFY(!next(generator.get()).has_value()); // closed: the end, for good
    }

    void testIteratorWrapperOnCustomPool()
    {
        const qint64 submittedBefore = m_pool.statistics().submitted;
        ThreadPool pool(1, QStringLiteral("wrapper"));
        auto threadName = std::make_shared<QString>();
        IteratorWrapper wrapper(
            [threadName](Sink<int> &out) {
                *threadName = QThread::currentThread()->objectName();
                for (int i = 0; i < 100; ++i)
                    out.yield(i);
            },
            &pool, 2);
        static_assert(std::is_same_v<decltype(wrapper), IteratorWrapper<int>>);
        QCOMPARE(pull(&wrapper), sequence(100));
        QCOMPARE(*threadName, QStringLiteral("QtOffload pool wrapper #1"));
        QCOMPARE(pool.statistics().submitted, 1);
        QCOMPARE(m_pool.statistics().submitted, submittedBefore);
    }

    void testIteratorWrapperSeparateRunsOnDedicatedThread()
    {
        const qint64 submittedBefore = m_pool.statistics().submitted;
        QStringList names;
        for (int run = 0; run < 2; ++run) {
            auto thread = std::make_shared<std::atomic<QThread *>>(nullptr);
            auto name = std::make_shared<QString>();
            IteratorWrapperSeparate wrapper(
                [thread, name]() -> QCoro::Generator<int> {
                    thread->store(QThread::currentThread());
                    *name = QThread::currentThread()->objectName();
                    for (int i = 0; i < 10; ++i)
                        co_yield i;
                },
                2);
            QCOMPARE(pull(&wrapper), sequence(10));
            QVERIFY(thread->load() != QThread::currentThread());
            QVERIFY2(name->startsWith(QStringLiteral("QtOffload generator #")), qPrintable(*name));
            names << *name;
        }
        QVERIFY2(names.at(0) != names.at(1), qPrintable(names.join(QLatin1Char(',')))); // a new thread each time
        QCOMPARE(m_pool.statistics().submitted, submittedBefore); // no pool slot taken
    }

    void testThreadedIterableSeparateRunsOnDedicatedThread()
    {
        const qint64 submittedBefore = m_pool.statistics().submitted;
        auto name = std::make_shared<QString>();
        auto generator = threadedIterableSeparate([name](Sink<int> &out) {
            *name = QThread::currentThread()->objectName();
            out.yield(1);
        })();
        QCOMPARE(pull(generator.get()), QList<int> { 1 });
        QVERIFY2(name->startsWith(QStringLiteral("QtOffload generator #")), qPrintable(*name));
        QCOMPARE(m_pool.statistics().submitted, submittedBefore);
    }

    // --- consuming ---

    void testNextLoopInTaskGetsOptionalChunks()
    {
        auto generator = threadedIterable([](Sink<QString> &out) {
            out.yield(QStringLiteral("a"));
            out.yield(QStringLiteral("b"));
        })();
        QCOMPARE(pull(generator.get()), (QStringList { QStringLiteral("a"), QStringLiteral("b") }));
        QVERIFY(generator->isDone());
    }

    void testQcoroForeach()
    {
        auto generator = threadedIterable(countUpTo, 3)(50);
        QCOMPARE(await(foreachAll(generator.get())), sequence(50));
    }

    void testNextAfterFinishStaysEmpty()
    {
        auto generator = threadedIterable([](Sink<int> &out) { out.yield(7); })();
        QCOMPARE(pull(generator.get()), QList<int> { 7 });
        QVERIFY(!next(generator.get()).has_value());
        QVERIFY(!next(generator.get()).has_value());
        QVERIFY(generator->isDone());
    }

    void testChunkReadyInOwnerThreadThenFinished()
    {
        auto generator = threadedIterable([](Sink<QString> &out) {
            for (const char *word : { "alpha", "beta", "gamma" })
                out.yield(QString::fromLatin1(word));
        })();
        QStringList received;
        int finishedCount = 0;
        bool wrongThread = false;
        connect(generator.get(), &QtGenerator::chunkReady, this, [&](const QVariant &chunk) {
            wrongThread = wrongThread || QThread::currentThread() != thread();
            received << chunk.toString();
        });
        connect(generator.get(), &QtGenerator::finished, this, [&] {
            QCOMPARE(received.size(), 3); // finished comes after every chunk
            ++finishedCount;
        });
        QTRY_COMPARE_WITH_TIMEOUT(finishedCount, 1, waitMs);
        QCOMPARE(received, (QStringList { QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma") }));
        QVERIFY(!wrongThread);
        QVERIFY(generator->isDone());
        QVERIFY(!generator->isRunning());
    }

    void testConcurrentGeneratorsDeliverEverySequenceNumberInOrder()
    {
        // One stream per consumer style, all at once on the same owner thread.
        const int total = sanitizerScaled(1'000'000, 250'000);
        enum Style { TypedHandler, ChunkReady, Pull, StyleCount };
        std::vector<std::unique_ptr<TypedGenerator<int>>> generators;
        std::vector<SequenceCheck> checks(StyleCount);
        int ended = 0;
        QEventLoop allEnded;
        for (int style = 0; style < StyleCount; ++style) {
            SequenceCheck &check = checks[style];
            check.owner = thread();
            check.onEnd = [&] {
                if (++ended == StyleCount)
                    allEnded.quit();
            };
            generators.push_back(threadedIterable(countUpTo, 64 << style)(total));
            TypedGenerator<int> *generator = generators.back().get();
            if (style != Pull)
                connect(generator, &QtGenerator::finished, this, [&check] { check.onEnd(); });
            switch (style) {
            case TypedHandler:
                generator->onChunk(this, [&check](const int &value) { check.see(value); });
                break;
            case ChunkReady:
                connect(generator, &QtGenerator::chunkReady, this,
                        [&check](const QVariant &value) { check.see(value.toInt()); });
                break;
            case Pull:
                pullChecking(generator, &check);
                break;
            }
        }
        // A real event loop: QTRY_* sleeps between its turns, which would pace the stream.
        QTimer deadline;
        connect(&deadline, &QTimer::timeout, &allEnded, &QEventLoop::quit);
        deadline.start(50000);
        allEnded.exec();
        QCOMPARE(ended, int(StyleCount));
        for (int style = 0; style < StyleCount; ++style) {
            QCOMPARE(checks[style].errors, 0);
            QCOMPARE(checks[style].expected, total); // none lost, none duplicated (order checked per chunk)
        }
    }

    void testChunksArriveInNonMainOwnerThread()
    {
        const int total = sanitizerScaled(50'000, 20'000);
        int received = 0;
        int wrong = 0;
        bool done = false;
        QThread *ownerThread = nullptr;
        // Everything lives and ends inside the owner thread; wait() publishes the results.
        std::unique_ptr<QThread> owner(QThread::create([&] {
            ownerThread = QThread::currentThread();
            QEventLoop loop;
            auto generator = threadedIterable(countUpTo, 16)(total);
            connect(generator.get(), &QtGenerator::chunkReady, &loop, [&](const QVariant &chunk) {
                if (QThread::currentThread() != ownerThread || chunk.toInt() != received)
                    ++wrong;
                ++received;
            });
            connect(generator.get(), &QtGenerator::finished, &loop, &QEventLoop::quit);
            QTimer::singleShot(waitMs, &loop, &QEventLoop::quit);
            loop.exec();
            done = generator->isDone();
        }));
        owner->start();
        QVERIFY(owner->wait(QDeadlineTimer(2 * waitMs)));
        QVERIFY(ownerThread != thread());
        QVERIFY(done);
        QCOMPARE(received, total);
        QCOMPARE(wrong, 0);
    }

    // --- errors ---

    void testStdExceptionRethrownFromNext()
    {
        auto generator = threadedIterable([](Sink<int> &out) {
            out.yield(1);
            throw PlannedFailure("disk on fire");
        })();
        QCOMPARE(next(generator.get()), std::optional<int>(1));
        try {
            next(generator.get());
            QFAIL("the producer's exception was not rethrown");
        } catch (const PlannedFailure &e) {
            QCOMPARE(e.what(), "disk on fire");
        }
        QVERIFY(!next(generator.get()).has_value()); // rethrown once, then the end
    }

    void testNonStdExceptionRethrownFromNext()
    {
        auto generator = threadedIterable([](Sink<int> &) { throw NotAStdException { 42 }; })();
        try {
            next(generator.get());
            QFAIL("the producer's exception was not rethrown");
        } catch (const NotAStdException &e) {
            QCOMPARE(e.code, 42);
        }
    }

    void testErrorOccurredThenFinishedInPushMode_data()
    {
        QTest::addColumn<bool>("stdException");
        QTest::newRow("std::exception subclass") << true;
        QTest::newRow("not a std::exception") << false;
    }

    void testErrorOccurredThenFinishedInPushMode()
    {
        QFETCH(bool, stdException);
        auto generator = threadedIterable([stdException](Sink<int> &out) {
            out.yield(1);
            if (stdException)
                throw PlannedFailure("bad sector");
            throw NotAStdException { 7 };
        })();
        QStringList events;
        connect(generator.get(), &QtGenerator::chunkReady, this, [&](const QVariant &v) { events << v.toString(); });
        connect(generator.get(), &QtGenerator::errorOccurred, this, [&](const QString &m) { events << m; });
        connect(generator.get(), &QtGenerator::finished, this, [&] { events << QStringLiteral("finished"); });
        QTRY_VERIFY_WITH_TIMEOUT(events.contains(QStringLiteral("finished")), waitMs);
        QCOMPARE(events.size(), 3);
        QCOMPARE(events.at(0), QStringLiteral("1"));
        if (stdException)
            QCOMPARE(events.at(1), QStringLiteral("bad sector"));
        else
            QVERIFY2(!events.at(1).isEmpty() && events.at(1) != QStringLiteral("finished"), qPrintable(events.at(1)));
        QCOMPARE(events.at(2), QStringLiteral("finished"));
        QVERIFY(!generator->isRunning());
    }

    // --- backpressure ---

    void testDirectHandOffKeepsProducerInStep()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 0)();
        QCOMPARE(generator->maxSize(), qsizetype(0));
        for (int taken = 1; taken <= 4; ++taken) {
            QCOMPARE(pull(generator.get(), 1), sequence(1, taken - 1));
            // The next chunk sits in the hand-off slot; its yield returns only once it is taken.
            QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(taken) && generator->buffered() == 1, waitMs);
        }
        QFuture<void> closed = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QCOMPARE(probe->accepted.load(), 4);
    }

    void testPullBackpressureBlocksProducerWhenMaxSizeChunksWait_data()
    {
        QTest::addColumn<int>("maxSize");
        QTest::newRow("1") << 1;
        QTest::newRow("4") << 4;
    }

    void testPullBackpressureBlocksProducerWhenMaxSizeChunksWait()
    {
        QFETCH(int, maxSize);
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), maxSize)();
        const int taken = 5;
        QCOMPARE(pull(generator.get(), taken), sequence(taken));
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(taken + maxSize), waitMs);
        QCOMPARE(generator->property("buffered").value<qsizetype>(), qsizetype(maxSize));
        // Taking one lets exactly one more in.
        QCOMPARE(pull(generator.get(), 1), sequence(1, taken));
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(taken + 1 + maxSize), waitMs);
        QVERIFY(!probe->returned);
    }

    void testPausedPushConsumerLetsBufferFillAndBlock_data()
    {
        QTest::addColumn<int>("maxSize");
        QTest::newRow("1") << 1;
        QTest::newRow("4") << 4;
        QTest::newRow("64") << 64;
    }

    void testPausedPushConsumerLetsBufferFillAndBlock()
    {
        QFETCH(int, maxSize);
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), maxSize)();
        QList<int> received;
        const auto resume = [&] {
            return connect(generator.get(), &QtGenerator::chunkReady, this,
                           [&](const QVariant &chunk) { received << chunk.toInt(); });
        };
        QMetaObject::Connection connection = resume();
        QTRY_VERIFY_WITH_TIMEOUT(received.size() >= 10, waitMs);
        disconnect(connection); // pause, between two delivery turns
        const int taken = int(received.size());
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(taken + maxSize), waitMs);
        QCOMPARE(generator->buffered(), qsizetype(maxSize));
        QCOMPARE(received, sequence(taken));

        connection = resume();
        QTRY_VERIFY_WITH_TIMEOUT(received.size() >= taken + maxSize + 10, waitMs);
        disconnect(connection);
        QCOMPARE(received, sequence(int(received.size()))); // the chunks that waited came first
    }

    void testDisconnectingInsideHandlerLosesNoChunk()
    {
        // Chunks are never delivered to nobody: a handler that pauses the
        // stream mid-turn leaves the rest waiting for the next consumer.
        auto generator = threadedIterable(countUpTo, 16)(100);
        QList<int> received;
        QMetaObject::Connection connection;
        connection = connect(generator.get(), &QtGenerator::chunkReady, this, [&](const QVariant &chunk) {
            received << chunk.toInt();
            if (received.size() == 3)
                disconnect(connection);
        });
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), 3, waitMs);
        const QList<int> rest = pull(generator.get());
        QVERIFY2(received + rest == sequence(100),
                 qPrintable(QStringLiteral("after the pause came %1 chunks, the first %2 (expected 97, from 3)")
                                .arg(rest.size())
                                .arg(rest.value(0, -1))));
    }

    void testSlowConsumerHoldsAtMostMaxSizePlusTwoChunks()
    {
        // 1 GiB in 64 KiB chunks; 256 MiB under a sanitizer, where each chunk costs far more.
        constexpr qsizetype chunkBytes = 64 * 1024;
        const int chunks = sanitizerScaled(16 * 1024, 4 * 1024);
        constexpr int maxSize = 4;
        LiveChunk::live = 0;
        LiveChunk::peak = 0;
        auto generator = threadedIterable(
            [](Sink<LiveChunk> &out, int count) {
                for (int i = 0; i < count; ++i) {
                    if (!out.yield(LiveChunk(chunkBytes)))
                        return;
                }
            },
            maxSize)(chunks);
        qint64 bytes = 0;
        int received = 0;
        QCryptographicHash hash(QCryptographicHash::Md5);
        generator->onChunk(this, [&](const LiveChunk &chunk) {
            bytes += chunk.size();
            ++received;
            hash.addData(chunk.bytes()); // slower than the producer, which only fills the bytes
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(50000));
        QCOMPARE(received, chunks);
        QCOMPARE(bytes, qint64(chunks) * chunkBytes);
        QVERIFY2(LiveChunk::peak.load() <= maxSize + 2,
                 qPrintable(QStringLiteral("peak %1 live chunks").arg(LiveChunk::peak.load())));
        // Proof the consumer really was the slower side: the buffer did fill up.
        QVERIFY2(LiveChunk::peak.load() >= maxSize,
                 qPrintable(QStringLiteral("peak %1 live chunks").arg(LiveChunk::peak.load())));
        generator.reset();
        QCOMPARE(LiveChunk::live.load(), 0);
    }

    // --- close ---

    void testCloseStopsProducerAtItsNextYield()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto parked = std::make_shared<Gate>();
        auto gate = std::make_shared<Gate>();
        auto beforeReturn = std::make_shared<Gate>();
        auto generator = threadedIterable(
            [=](Sink<int> &out) {
                for (int i = 0;; ++i) {
                    ++probe->attempts;
                    if (!out.yield(i))
                        break;
                    ++probe->accepted;
                    if (i == 2) { // parks between two yields, not blocked on the buffer
                        parked->release();
                        gate->acquire();
                    }
                }
                probe->sawClosed = true;
                parked->release();
                beforeReturn->acquire();
                probe->returned = true;
            },
            16)();
        auto unpark = qScopeGuard([=] { // a failed check must not leave the producer parked
            gate->release();
            beforeReturn->release();
        });
        QCOMPARE(pull(generator.get(), 3), sequence(3));
        QVERIFY(parked->tryAcquire(1, waitMs));

        QFuture<void> closed = generator->close();
        QVERIFY(!closed.isFinished()); // the producer is still inside its body
        QFuture<void> again = generator->close(); // closing again: the same, still running future
        QVERIFY(!again.isFinished());
        gate->release();
        QVERIFY(parked->tryAcquire(1, waitMs)); // the next yield returned false
        QCOMPARE(probe->attempts.load(), 4);
        QCOMPARE(probe->accepted.load(), 3);
        QVERIFY(!closed.isFinished()); // it saw the close but has not returned yet
        beforeReturn->release();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QVERIFY(probe->returned);
        QVERIFY(again.isFinished());
        QVERIFY(!next(generator.get()).has_value());
    }

    void testCloseWakesProducerBlockedOnFullBuffer()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 1)();
        QCOMPARE(pull(generator.get(), 1), sequence(1));
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(2), waitMs);
        QFuture<void> closed = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QVERIFY(probe->returned);
        QVERIFY(probe->sawClosed);
        QCOMPARE(probe->accepted.load(), 2);
    }

    void testCloseEndsCoroutineProducerAndDestroysItsFrame()
    {
        auto destroyed = std::make_shared<std::atomic<bool>>(false);
        auto yielded = std::make_shared<std::atomic<int>>(0);
        auto generator = threadedIterable(endlessCoroutine, 2)(destroyed, yielded);
        QCOMPARE(pull(generator.get(), 3), sequence(3));
        QFuture<void> closed = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QVERIFY(*destroyed); // the frame (and what it held) is gone when the future finishes
        QVERIFY2(*yielded <= 3 + 2 + 1, qPrintable(QString::number(*yielded)));
    }

    void testCloseAfterTheLastChunkWinsOverAFailureNotYetAnnounced()
    {
        // The producer has yielded its last chunk and thrown before the
        // consumer pulls that chunk; the consumer closes on it. As when the
        // producer throws just after the close: Closed, no errorOccurred.
        auto thrown = std::make_shared<Gate>();
        auto generator = threadedIterable(
            [thrown](Sink<int> &out) {
                for (int i = 0; i < 3; ++i)
                    (void)out.yield(i);
                thrown->release();
                throw std::runtime_error("after the last chunk");
            },
            8)();
        QSignalSpy errors(generator.get(), &QtGenerator::errorOccurred);
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QCOMPARE(pull(generator.get(), 1), sequence(1)); // starts the producer
        QVERIFY(thrown->tryAcquire(1, waitMs));
        QCOMPARE(next(generator.get()), std::optional<int>(1));
        QCOMPARE(next(generator.get()), std::optional<int>(2));
        QFuture<void> closed = generator->close();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        QVERIFY(closed.isFinished());
        QCOMPARE(errors.size(), 0);
        QCOMPARE(generator->endReason(), QtGenerator::EndReason::Closed);
    }

    void testCloseTwiceGivesFinishedFuture()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 1)();
        QCOMPARE(pull(generator.get(), 1), sequence(1));
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QFuture<void> first = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(first.isFinished(), waitMs);
        QFuture<void> second = generator->close();
        QVERIFY(second.isFinished());
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        (void)generator->close();
        QCoreApplication::processEvents();
        QCOMPARE(finished.size(), 1); // closing again changes nothing
    }

    void testCloseBeforeStartFinishesAtOnce()
    {
        auto ran = std::make_shared<std::atomic<bool>>(false);
        auto generator = threadedIterable([ran](Sink<int> &) { *ran = true; })();
        QVERIFY(generator->close().isFinished());
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(waitMs)); // finished() still comes, from the event loop
        QVERIFY(!*ran);
    }

    void testDestroyingHandleReleasesBlockedProducer()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 1)();
        QCOMPARE(pull(generator.get(), 2), sequence(2));
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(3), waitMs);
        generator.reset();
        QVERIFY(probe->returnedSignal.tryAcquire(1, waitMs));
        QVERIFY(probe->sawClosed);
    }

    void testEndlessUrandomClosedAfterTenChunksLeavesNoThread()
    {
        ThreadPool pool(2, QStringLiteral("urandom"));
        auto thread = std::make_shared<std::atomic<QThread *>>(nullptr);
        {
            auto closedExplicitly = threadedIterable(Executor(&pool), urandomReader(thread), 2)();
            QCOMPARE(await(readTenThenBreak(closedExplicitly.get())), 10);
            QFuture<void> closed = closedExplicitly->close();
            QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        }
        {
            auto abandoned = threadedIterable(Executor(&pool), urandomReader(thread), 2)();
            QCOMPARE(await(readTenThenBreak(abandoned.get())), 10);
        } // the handle goes: nobody calls close()
        QTRY_COMPARE_WITH_TIMEOUT(pool.statistics().running, 0, waitMs);
        QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
        QCOMPARE(pool.statistics().succeeded, 2);
    }

    void testAbandonedSeparateUrandomProducerEndsItsThread()
    {
        auto thread = std::make_shared<std::atomic<QThread *>>(nullptr);
        QPointer<QThread> producerThread;
        {
            IteratorWrapperSeparate abandoned(urandomReader(thread), 2);
            QCOMPARE(await(readTenThenBreak(&abandoned)), 10);
            // Still alive: an endless producer cannot have returned yet.
            producerThread = thread->load();
            QVERIFY(producerThread);
            QVERIFY(!producerThread->isFinished());
        }
        QTRY_VERIFY_WITH_TIMEOUT(!producerThread || producerThread->isFinished(), waitMs);
    }

    // --- properties ---

    // --- destroyed by what it delivers ---

    void testDestroyedFromEachOfItsCalls_data()
    {
        QTest::addColumn<QString>("by");
        QTest::addColumn<bool>("fails");
        // Each of the generator's calls out, destroying it: what it delivers next must not touch it.
        for (const char *by :
             { "onChunk", "chunkReady", "onChunk before chunkReady", "chunkReady after onChunk", "bufferedChanged",
               "progressChanged", "runningChanged(true)", "runningChanged(false)", "finished" })
            QTest::newRow(by) << QString::fromLatin1(by) << false;
        QTest::newRow("errorOccurred") << QStringLiteral("errorOccurred") << true;
        QTest::newRow("failed, finished") << QStringLiteral("finished") << true;
    }

    void testDestroyedFromEachOfItsCalls()
    {
        QFETCH(QString, by);
        QFETCH(bool, fails);
        // Released once the producer's state is gone, whether it ran or not.
        auto returned = std::make_shared<Gate>();
        std::shared_ptr<void> producerState(nullptr, [returned](void *) { returned->release(); });
        auto filled = std::make_shared<Gate>();
        auto *generator = threadedIterable(
                              [producerState = std::move(producerState), filled, fails](Sink<int> &out) {
                                  out.setProgressRange(0, 6);
                                  for (int i = 0; i < 6; ++i) {
                                      out.setProgressValue(i);
                                      if (!out.yield(i))
                                          return;
                                  }
                                  filled->release();
                                  if (fails)
                                      throw std::runtime_error("the producer failed");
                              },
                              16)()
                              .release();
        QSignalSpy destroyed(generator, &QObject::destroyed);
        int deletions = 0;
        auto destroy = [&] {
            ++deletions;
            delete generator;
        };
        const bool handlerDeletes = by.startsWith(QLatin1String("onChunk"));
        const bool signalDeletes = by.startsWith(QLatin1String("chunkReady"));
        const bool connectHandler = by != QLatin1String("chunkReady");
        const bool connectSignal = signalDeletes || by == QLatin1String("onChunk before chunkReady");
        QList<int> handled;
        QList<int> signalled;
        if (connectHandler) {
            generator->onChunk(nullptr, [&](const int &chunk) {
                handled << chunk;
                // The rest is buffered before the next take, so that its take changes buffered.
                if (chunk == 0)
                    QVERIFY(filled->tryAcquire(1, waitMs));
                if (chunk == 1 && handlerDeletes) {
                    destroy();
                    QCOMPARE(chunk, 1); // the chunk it reads outlives the generator
                }
            });
        }
        if (connectSignal) {
            connect(generator, &QtGenerator::chunkReady, this, [&](const QVariant &chunk) {
                signalled << chunk.toInt();
                if (chunk.toInt() == 1 && signalDeletes)
                    destroy();
            });
        }
        const auto once = [&](auto signal, auto when) {
            connect(generator, signal, this, [=, &destroy](auto... arguments) {
                if (when(arguments...))
                    destroy();
            });
        };
        if (by == QLatin1String("bufferedChanged"))
            once(&QtGenerator::bufferedChanged, [](qsizetype) { return true; });
        else if (by == QLatin1String("progressChanged"))
            once(&QtGenerator::progressChanged, [] { return true; });
        else if (by == QLatin1String("runningChanged(true)"))
            once(&QtGenerator::runningChanged, [](bool running) { return running; });
        else if (by == QLatin1String("runningChanged(false)"))
            once(&QtGenerator::runningChanged, [](bool running) { return !running; });
        else if (by == QLatin1String("errorOccurred"))
            once(&QtGenerator::errorOccurred, [](const QString &) { return true; });
        else if (by == QLatin1String("finished"))
            once(&QtGenerator::finished, [] { return true; });

        QVERIFY(destroyed.wait(waitMs));
        QCOMPARE(deletions, 1);
        QVERIFY(returned->tryAcquire(1, waitMs)); // destroying it closed the stream: the producer's state is gone
        // Whatever the lane still had for it runs now, and must find nothing of it.
        QCoreApplication::processEvents();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        if (handlerDeletes || signalDeletes) {
            // Nothing after the chunk that destroyed it; the one that went to the
            // handler first goes on to chunkReady only if the handler left the generator.
            QCOMPARE(handled, connectHandler ? sequence(2) : QList<int> {});
            QCOMPARE(signalled, connectSignal ? sequence(handlerDeletes ? 1 : 2) : QList<int> {});
        }
    }

    void testDestroyedWhileAPulledChunkIsHandedOut()
    {
        // A pulled chunk goes to chunkReady first; a slot that destroys the
        // generator there leaves the waiting next() with a ShutdownError.
        auto *generator = threadedIterable(countTo, 4)(10).release();
        QSignalSpy destroyed(generator, &QObject::destroyed);
        QList<int> signalled;
        connect(generator, &QtGenerator::chunkReady, this, [&](const QVariant &chunk) {
            signalled << chunk.toInt();
            if (chunk.toInt() == 1)
                delete generator;
        });
        QCOMPARE(next(generator), std::optional<int>(0));
        QVERIFY_THROWS_EXCEPTION(ShutdownError, next(generator));
        QCOMPARE(destroyed.size(), 1);
        QCOMPARE(signalled, (QList<int> { 0, 1 }));
    }

    void testPropertiesAndChangeSignals()
    {
        // A producer parked at gates, so every buffered value is known.
        auto parked = std::make_shared<Gate>();
        auto gate = std::make_shared<Gate>();
        auto generator = threadedIterable(
            [parked, gate](Sink<int> &out) {
                out.yield(0);
                parked->release();
                gate->acquire();
                for (int i = 1; i <= 3; ++i)
                    out.yield(i);
                parked->release();
                gate->acquire();
            },
            3)();
        auto unpark = qScopeGuard([=] { gate->release(2); }); // a failed check must not leave the producer parked
        QSignalSpy running(generator.get(), &QtGenerator::runningChanged);
        QSignalSpy buffered(generator.get(), &QtGenerator::bufferedChanged);
        QSignalSpy done(generator.get(), &QtGenerator::finished);
        QCOMPARE(generator->property("maxSize").value<qsizetype>(), qsizetype(3));
        QCOMPARE(generator->property("running").toBool(), false);
        QCOMPARE(generator->property("done").toBool(), false);

        QCOMPARE(pull(generator.get(), 1), sequence(1));
        QCOMPARE(generator->property("running").toBool(), true);
        QCOMPARE(running.size(), 1);
        QCOMPARE(running.first().first().toBool(), true);
        QVERIFY(parked->tryAcquire(1, waitMs));
        gate->release();
        QVERIFY(parked->tryAcquire(1, waitMs));
        QCOMPARE(generator->property("buffered").value<qsizetype>(), qsizetype(3)); // full
        QVERIFY(buffered.isEmpty()); // pull mode: refreshed at next() only

        QCOMPARE(pull(generator.get(), 3), sequence(3, 1));
        // Each after its chunk, in a lane turn once the consumer has seen the chunk.
        QTRY_COMPARE_WITH_TIMEOUT(buffered.size(), 3, waitMs);
        QCOMPARE(buffered.at(0).first().value<qsizetype>(), qsizetype(2));
        QCOMPARE(buffered.at(1).first().value<qsizetype>(), qsizetype(1));
        QCOMPARE(buffered.at(2).first().value<qsizetype>(), qsizetype(0));

        gate->release();
        QCOMPARE(pull(generator.get()), QList<int> {});
        QCOMPARE(done.size(), 1);
        QCOMPARE(running.size(), 2);
        QCOMPARE(running.last().first().toBool(), false);
        QCOMPARE(generator->property("running").toBool(), false);
        QCOMPARE(generator->property("done").toBool(), true);
    }

    void testBufferedChangedFollowsPushDelivery()
    {
        auto generator = threadedIterable(countUpTo, 8)(1000);
        QSignalSpy buffered(generator.get(), &QtGenerator::bufferedChanged);
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        int received = 0;
        generator->onChunk(this, [&](const int &) { ++received; });
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(received, 1000);
        for (const auto &arguments : buffered) {
            const qsizetype value = arguments.first().value<qsizetype>();
            QVERIFY2(value >= 0 && value <= 8, qPrintable(QString::number(value)));
        }
        if (!buffered.isEmpty()) // whether a turn ended with chunks waiting depends on timing; the last word is 0
            QCOMPARE(buffered.last().first().value<qsizetype>(), qsizetype(0));
        QCOMPARE(generator->buffered(), qsizetype(0));
    }

    void testNegativeMaxSizeThrows()
    {
        ThreadPool pool(1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)threadedIterable([](Sink<int> &) {}, -1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)threadedIterableSeparate([](Sink<int> &) {}, -1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IteratorWrapper([](Sink<int> &) {}, &pool, -2));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IteratorWrapperSeparate([](Sink<int> &) {}, -5));
        QCOMPARE(pool.statistics().submitted, 0);
    }

    // --- the owner goes away ---

    void testOwnerDestroyedWhileProducerBlocked()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto *owner = new QObject;
        auto *wrapper = new IteratorWrapper(endlessProducer(probe), &m_pool, 1, owner);
        QCOMPARE(pull(wrapper, 1), sequence(1));
        QTRY_VERIFY_WITH_TIMEOUT(probe->blockedAfter(2), waitMs);
        delete owner; // takes the generator with it
        QVERIFY(probe->returnedSignal.tryAcquire(1, waitMs));
        QVERIFY(probe->sawClosed);
    }

    void testOwnerThreadFinishedWhileProducerBlocked()
    {
        auto probe = std::make_shared<ProducerProbe>();
        std::atomic<int> taken { 0 };
        TypedGenerator<int> *generator = nullptr;
        std::unique_ptr<QThread> owner(QThread::create([&] {
            QEventLoop loop;
            generator = threadedIterable(endlessProducer(probe), 1)().release();
            takeOne(generator, &taken);
            loop.exec(); // until quit(); nobody destroys the generator: its thread just ends
        }));
        owner->start();
        auto stopOwner = qScopeGuard([&] { // also when a check fails: never destroy a running QThread
            owner->quit();
            owner->wait();
        });
        QTRY_VERIFY_WITH_TIMEOUT(taken == 1 && probe->blockedAfter(2), waitMs);
        owner->quit();
        QVERIFY(owner->wait(QDeadlineTimer(waitMs)));
        QVERIFY(probe->returnedSignal.tryAcquire());
        QVERIFY(probe->sawClosed);
        delete generator; // its thread is gone; nothing runs its events any more
    }

    // --- context ---

    void testProducerSeesCallersContextVars()
    {
        static ContextVar<QString> requestId(QStringLiteral("request_id"));
        requestId.set(QStringLiteral("req-7"));
        auto generator
            = threadedIterable([](Sink<QString> &out) { out.yield(requestId.get(QStringLiteral("none"))); })();
        requestId.set(QStringLiteral("req-8")); // after the call: not seen by it
        QCOMPARE(pull(generator.get()), QStringList { QStringLiteral("req-7") });
    }
};

QTEST_GUILESS_MAIN(tst_Generator)
#include "tst_generator.moc"
