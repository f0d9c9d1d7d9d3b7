// SPDX-License-Identifier: MIT
// QtGenerator and its typed handle: producers of every kind, pull and push
// consumers, ordering, backpressure, bounded memory, close() and errors.
#include <QtOffload/contextvar.h>
#include <QtOffload/generator.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>

#include <QtCore/QFile>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>
#include <qcoro/qcorogenerator.h>

#include <atomic>
#include <memory>
#include <stdexcept>

using namespace std::chrono_literals;
using namespace QtOffload;

namespace {

constexpr int waitMs = 20000;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

// Pulls every chunk with co_await next() until the end (or \a limit chunks).
template<typename T>
QCoro::Task<QList<T>> pullAll(TypedGenerator<T> *generator, int limit)
{
    QList<T> chunks;
    while (limit < 0 || chunks.size() < limit) {
        auto chunk = co_await generator->next();
        if (!chunk)
            break;
        chunks << std::move(*chunk);
    }
    co_return chunks;
}

template<typename T>
QCoro::Task<std::optional<T>> nextOf(TypedGenerator<T> *generator)
{
    co_return co_await generator->next();
}

template<typename T>
QCoro::Task<> runCapturing(QCoro::Task<T> task, std::optional<T> *result, std::exception_ptr *error, bool *done,
                           QEventLoop *loop)
{
    try {
        result->emplace(co_await std::move(task));
    } catch (...) {
        *error = std::current_exception();
    }
    *done = true;
    loop->quit();
}

/*!
  QCoro::waitFor() that also ends when the task throws (QCoro 0.8's keeps
  its loop running forever then) and gives up loudly after a deadline.
*/
template<typename T>
T await(QCoro::Task<T> task)
{
    QEventLoop loop;
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    auto runner = runCapturing(std::move(task), &result, &error, &done, &loop);
    if (!done) {
        QTimer deadline;
        QObject::connect(&deadline, &QTimer::timeout, &loop, [] { qFatal("a generator test waited for %d ms", waitMs); });
        deadline.start(waitMs);
        loop.exec();
    }
    if (error)
        std::rethrow_exception(error);
    return std::move(*result);
}

template<typename T>
QList<T> pull(TypedGenerator<T> *generator, int limit = -1)
{
    return await(pullAll(generator, limit));
}

template<typename T>
std::optional<T> next(TypedGenerator<T> *generator)
{
    return await(nextOf(generator));
}

QCoro::Generator<int> countTo(int n)
{
    for (int i = 0; i < n; ++i)
        co_yield i;
}

QList<int> sequence(int n)
{
    QList<int> values;
    for (int i = 0; i < n; ++i)
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
    static inline std::atomic<int> live{0};
    static inline std::atomic<int> peak{0};

    LiveChunk() = default;
    explicit LiveChunk(qsizetype bytes) : m_bytes(bytes, 'x') { born(); }
    LiveChunk(const LiveChunk &other) : m_bytes(other.m_bytes) { bornIfReal(); }
    LiveChunk(LiveChunk &&other) noexcept : m_bytes(std::move(other.m_bytes)) { other.m_bytes = QByteArray(); }
    LiveChunk &operator=(LiveChunk other) noexcept
    {
        diedIfReal();
        m_bytes = std::move(other.m_bytes);
        other.m_bytes = QByteArray();
        return *this;
    }
    ~LiveChunk() { diedIfReal(); }
    qsizetype size() const { return m_bytes.size(); }

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
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
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
    std::atomic<int> attempts{0}; // yields begun
    std::atomic<int> accepted{0}; // yields that returned true
    std::atomic<bool> sawClosed{false};
    std::atomic<bool> returned{false};
    QSemaphore returnedSignal;
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

} // namespace

class tst_Generator : public QObject
{
    Q_OBJECT

private:
    ThreadPool m_pool{4, QStringLiteral("generators")};

private Q_SLOTS:
    void init() { ThreadPool::setDefault(&m_pool); }
    void cleanup()
    {
        QVERIFY(m_pool.waitForDone(std::chrono::milliseconds(waitMs)));
        ThreadPool::setDefault(nullptr);
    }

    void testCoroutineProducerRunsInWorker()
    {
        auto producerThread = std::make_shared<std::atomic<QThread *>>(nullptr);
        auto generator = threadedIterable([producerThread](int n) -> QCoro::Generator<int> {
            producerThread->store(QThread::currentThread());
            for (int i = 0; i < n; ++i)
                co_yield i * i;
        })(5);
        QCOMPARE(pull(generator.get()), (QList<int>{0, 1, 4, 9, 16}));
        QVERIFY(producerThread->load() != nullptr);
        QVERIFY(producerThread->load() != QThread::currentThread());
    }

    void testThreadedOnGeneratorFunctionGivesGenerator()
    {
        auto generator = threaded(countTo)(4);
        static_assert(std::is_same_v<decltype(generator), std::unique_ptr<TypedGenerator<int>>>);
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

    void testNextAfterFinishStaysEmpty()
    {
        auto generator = threadedIterable([](Sink<int> &out) { out.yield(7); })();
        QCOMPARE(pull(generator.get()), QList<int>{7});
        QVERIFY(!next(generator.get()).has_value());
        QVERIFY(!next(generator.get()).has_value());
        QVERIFY(generator->isDone());
    }

    void testChunkReadyInOwnerThreadThenFinished()
    {
        auto generator = threadedIterable([](Sink<QString> &out) {
            for (const char *word : {"alpha", "beta", "gamma"})
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
        QCOMPARE(received, (QStringList{QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma")}));
        QVERIFY(!wrongThread);
        QVERIFY(generator->isDone());
        QVERIFY(!generator->isRunning());
    }

    void testConcurrentGeneratorsDeliverEverySequenceNumberInOrder()
    {
        const int total = sanitized ? 100'000 : 1'000'000;
        constexpr int generatorCount = 3;
        std::vector<std::unique_ptr<TypedGenerator<int>>> generators;
        std::vector<int> next(generatorCount, 0);
        int errors = 0;
        int finished = 0;
        QEventLoop allFinished;
        for (int g = 0; g < generatorCount; ++g) {
            generators.push_back(threadedIterable([](Sink<int> &out, int n) {
                for (int i = 0; i < n; ++i) {
                    if (!out.yield(i))
                        return;
                }
            }, 64 << g)(total));
            generators.back()->onChunk(this, [&, g](const int &value) {
                if (value != next[g] || QThread::currentThread() != thread())
                    ++errors;
                next[g] = value + 1;
            });
            connect(generators.back().get(), &QtGenerator::finished, this, [&] {
                if (++finished == generatorCount)
                    allFinished.quit();
            });
        }
        // A real event loop: QTRY_* sleeps between its turns, which would pace the stream.
        QTimer deadline;
        connect(&deadline, &QTimer::timeout, &allFinished, &QEventLoop::quit);
        deadline.start(120000);
        allFinished.exec();
        QCOMPARE(finished, generatorCount);
        QCOMPARE(errors, 0);
        for (int g = 0; g < generatorCount; ++g)
            QCOMPARE(next[g], total);
    }

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
        auto generator = threadedIterable([](Sink<int> &) { throw NotAStdException{42}; })();
        try {
            next(generator.get());
            QFAIL("the producer's exception was not rethrown");
        } catch (const NotAStdException &e) {
            QCOMPARE(e.code, 42);
        }
    }

    void testErrorOccurredThenFinishedInPushMode()
    {
        auto generator = threadedIterable([](Sink<int> &out) {
            out.yield(1);
            throw PlannedFailure("bad sector");
        })();
        QStringList events;
        connect(generator.get(), &QtGenerator::chunkReady, this, [&](const QVariant &v) { events << v.toString(); });
        connect(generator.get(), &QtGenerator::errorOccurred, this, [&](const QString &m) { events << m; });
        connect(generator.get(), &QtGenerator::finished, this, [&] { events << QStringLiteral("finished"); });
        QTRY_VERIFY_WITH_TIMEOUT(events.contains(QStringLiteral("finished")), waitMs);
        QCOMPARE(events.size(), 3);
        QCOMPARE(events.at(0), QStringLiteral("1"));
        QVERIFY2(events.at(1).contains(QStringLiteral("bad sector")), qPrintable(events.at(1)));
        QCOMPARE(events.at(2), QStringLiteral("finished"));
    }

    void testBackpressureBlocksProducerAtMaxSize_data()
    {
        QTest::addColumn<int>("maxSize");
        QTest::newRow("direct hand-off") << 0;
        QTest::newRow("1") << 1;
        QTest::newRow("8") << 8;
    }

    void testBackpressureBlocksProducerAtMaxSize()
    {
        QFETCH(int, maxSize);
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), maxSize)();
        const int taken = 5;
        QCOMPARE(pull(generator.get(), taken), sequence(taken));
        // The producer runs ahead until the buffer is full, then blocks in yield().
        QTRY_VERIFY_WITH_TIMEOUT(probe->attempts.load() > probe->accepted.load() && probe->accepted.load() >= taken, waitMs);
        QVERIFY2(probe->accepted.load() <= taken + maxSize,
                 qPrintable(QStringLiteral("%1 chunks accepted, %2 taken").arg(probe->accepted.load()).arg(taken)));
        QVERIFY(generator->buffered() <= std::max(maxSize, 1)); // a handed-off chunk waits in the slot
        QVERIFY(!probe->returned);
        QFuture<void> closed = generator->close(); // wakes the blocked producer
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        QVERIFY(probe->returned);
    }

    void testSlowConsumerHoldsAtMostMaxSizePlusTwoChunks()
    {
        // 1 GiB in 64 KiB chunks; less under a sanitizer, where each chunk costs far more.
        constexpr qsizetype chunkBytes = 64 * 1024;
        const int chunks = sanitized ? 1024 : 16 * 1024;
        constexpr int maxSize = 4;
        LiveChunk::live = 0;
        LiveChunk::peak = 0;
        auto generator = threadedIterable([](Sink<LiveChunk> &out, int count) {
            for (int i = 0; i < count; ++i) {
                if (!out.yield(LiveChunk(chunkBytes)))
                    return;
            }
        }, maxSize)(chunks);
        qint64 bytes = 0;
        int received = 0;
        generator->onChunk(this, [&](const LiveChunk &chunk) {
            bytes += chunk.size();
            ++received;
            // Slower than the producer: hash what arrived.
            QCryptographicHash::hash(QByteArray(chunk.size(), 'y'), QCryptographicHash::Md5);
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(180000));
        QCOMPARE(received, chunks);
        QCOMPARE(bytes, qint64(chunks) * chunkBytes);
        QVERIFY2(LiveChunk::peak.load() <= maxSize + 2, qPrintable(QStringLiteral("peak %1 live chunks").arg(LiveChunk::peak.load())));
        generator.reset();
        QCOMPARE(LiveChunk::live.load(), 0);
    }

    void testCloseTwiceGivesFinishedFuture()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 1)();
        QCOMPARE(pull(generator.get(), 1), sequence(1));
        QFuture<void> first = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(first.isFinished(), waitMs);
        QFuture<void> second = generator->close();
        QVERIFY(second.isFinished());
    }

    void testCloseBeforeStartFinishesAtOnce()
    {
        bool ran = false;
        auto generator = threadedIterable([&ran](Sink<int> &) { ran = true; })();
        QVERIFY(generator->close().isFinished());
        QVERIFY(!ran);
    }

    void testDestroyingHandleReleasesBlockedProducer()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 1)();
        QCOMPARE(pull(generator.get(), 2), sequence(2));
        QTRY_VERIFY_WITH_TIMEOUT(probe->attempts.load() > probe->accepted.load(), waitMs); // blocked on the full buffer
        generator.reset();
        QVERIFY(probe->returnedSignal.tryAcquire(1, waitMs));
        QVERIFY(probe->sawClosed);
    }

    void testEndlessUrandomClosedAfterTenChunksLeavesNoThread()
    {
        ThreadPool pool(2, QStringLiteral("urandom"));
        auto reader = [](Sink<QByteArray> &out) {
            QFile random(QStringLiteral("/dev/urandom"));
            if (!random.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
                throw std::runtime_error("no /dev/urandom");
            while (out.yield(random.read(8))) {
            }
        };
        {
            auto closedExplicitly = threadedIterable(Executor(&pool), reader, 2)();
            QCOMPARE(pull(closedExplicitly.get(), 10).size(), 10);
            QFuture<void> closed = closedExplicitly->close();
            QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished(), waitMs);
        }
        {
            auto abandoned = threadedIterable(Executor(&pool), reader, 2)();
            QCOMPARE(pull(abandoned.get(), 10).size(), 10); // the `break`, then the handle goes
        }
        QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
        QCOMPARE(pool.statistics().running, 0);
        QCOMPARE(pool.statistics().succeeded, 2);
    }

    void testSeparateProducerRunsOnItsOwnThread()
    {
        const qint64 submittedBefore = m_pool.statistics().submitted;
        auto threadName = std::make_shared<QString>();
        auto generator = threadedIterableSeparate([threadName](Sink<int> &out) {
            *threadName = QThread::currentThread()->objectName();
            out.yield(1);
        })();
        QCOMPARE(pull(generator.get()), QList<int>{1});
        QVERIFY2(threadName->startsWith(QStringLiteral("QtOffload generator")), qPrintable(*threadName));
        QCOMPARE(m_pool.statistics().submitted, submittedBefore); // no pool slot taken
    }

    void testIteratorWrapperOnCustomPool()
    {
        ThreadPool pool(1, QStringLiteral("wrapper"));
        auto threadName = std::make_shared<QString>();
        IteratorWrapper wrapper([threadName](Sink<int> &out) {
            *threadName = QThread::currentThread()->objectName();
            for (int i = 0; i < 100; ++i)
                out.yield(i);
        }, &pool, 2);
        QCOMPARE(pull(&wrapper), sequence(100));
        QCOMPARE(*threadName, QStringLiteral("QtOffload pool wrapper #1"));
    }

    void testIteratorWrapperSeparate()
    {
        IteratorWrapperSeparate wrapper([] { return countTo(10); }, 2);
        QCOMPARE(pull(&wrapper), sequence(10));
    }

    void testPropertiesAndChangeSignals()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto generator = threadedIterable(endlessProducer(probe), 3)();
        QSignalSpy running(generator.get(), &QtGenerator::runningChanged);
        QSignalSpy buffered(generator.get(), &QtGenerator::bufferedChanged);
        QCOMPARE(generator->property("maxSize").value<qsizetype>(), qsizetype(3));
        QCOMPARE(generator->property("running").toBool(), false);

        QCOMPARE(pull(generator.get(), 1), sequence(1));
        QTRY_VERIFY_WITH_TIMEOUT(generator->property("running").toBool(), waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(generator->property("buffered").value<qsizetype>() > 0, waitMs);
        QVERIFY(!running.isEmpty());
        QCOMPARE(running.first().first().toBool(), true);
        QCOMPARE(pull(generator.get(), 1), QList<int>{1}); // pull mode: next() refreshes buffered
        QVERIFY(!buffered.isEmpty());
        const qsizetype reported = buffered.last().first().value<qsizetype>();
        QVERIFY2(reported >= 1 && reported <= 3, qPrintable(QString::number(reported))); // full, less the one taken, maybe refilled

        QFuture<void> closed = generator->close();
        QTRY_VERIFY_WITH_TIMEOUT(closed.isFinished() && !generator->isRunning(), waitMs);
        QCOMPARE(running.last().first().toBool(), false);
        QTRY_COMPARE_WITH_TIMEOUT(generator->property("done").toBool(), true, waitMs);
    }

    void testNegativeMaxSizeThrows()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)threadedIterable([](Sink<int> &) {}, -1)());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, IteratorWrapperSeparate([](Sink<int> &) {}, -5));
    }

    void testOwnerDestroyedWhileProducerBlocked()
    {
        auto probe = std::make_shared<ProducerProbe>();
        auto *owner = new QObject;
        auto *wrapper = new IteratorWrapper(endlessProducer(probe), &m_pool, 1, owner);
        QCOMPARE(pull(wrapper, 1), sequence(1));
        QTRY_VERIFY_WITH_TIMEOUT(probe->attempts.load() > probe->accepted.load(), waitMs);
        delete owner; // takes the generator with it
        QVERIFY(probe->returnedSignal.tryAcquire(1, waitMs));
        QVERIFY(probe->sawClosed);
    }

    void testProducerSeesCallersContextVars()
    {
        static ContextVar<QString> requestId(QStringLiteral("request_id"));
        requestId.set(QStringLiteral("req-7"));
        auto generator = threadedIterable([](Sink<QString> &out) { out.yield(requestId.get(QStringLiteral("none"))); })();
        requestId.set(QStringLiteral("req-8")); // after the call: not seen by it
        QCOMPARE(pull(generator.get()), QStringList{QStringLiteral("req-7")});
    }
};

QTEST_GUILESS_MAIN(tst_Generator)
#include "tst_generator.moc"
