// SPDX-License-Identifier: MIT
// ContextVar: the snapshot every wrapper captures at call time, and the
// seed's audit example (five writes, each with the user_id current at its call).

#include <support/gate.h>

#include <QtOffload/contextvar.h>
#include <QtOffload/threaded.h>

#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtCore/QtEndian>
#include <QtTest/QtTest>

#include <QCoro/QCoroGenerator>
#include <QCoro/QCoroTask>

#include <algorithm>
#include <condition_variable>
#include <mutex>

using namespace std::chrono_literals;
using QtOffload::Context;
using QtOffload::ContextScope;
using QtOffload::ContextVar;
using QtOffload::ThreadPool;

namespace {

ContextVar<int> counter(QStringLiteral("counter"));
ContextVar<int> otherCounter(QStringLiteral("other_counter"));
ContextVar<QString> userName(QStringLiteral("user_name"));
ContextVar<quint32> userId(QStringLiteral("user_id"));

// Bounded waits inside jobs: a broken library fails the test instead of hanging it.
constexpr int jobWaitMs = 10000;

// A deadline for every future the tests read. (Note: result() alone must not be
// trusted to block: QtOffload's job futures are not in the Running state.)
#define QTRY_FINISHED(future) QTRY_VERIFY_WITH_TIMEOUT((future).isFinished(), 10000)

template<typename T> struct Collected
{
    QList<T> chunks;
    std::exception_ptr error;
    bool done = false;
};

template<typename T> QCoro::Task<> collect(QtOffload::TypedGenerator<T> *generator, std::shared_ptr<Collected<T>> state)
{
    try {
        while (auto chunk = co_await generator->next())
            state->chunks.append(*chunk);
    } catch (...) {
        state->error = std::current_exception();
    }
    state->done = true;
}

// The seed's read_log: a generator function wrapped by threaded() becomes a generator.
QCoro::Generator<quint32> readLog(QString path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot open the audit log");
    for (QByteArray record = file.read(4); record.size() == 4; record = file.read(4))
        co_yield qFromBigEndian<quint32>(record.constData());
}

// The seed's write_user: appends the caller's user_id as a big-endian uint32.
void writeUser(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::Append))
        throw std::runtime_error("cannot open the audit log");
    uchar record[4];
    qToBigEndian<quint32>(userId.get(), record);
    if (file.write(reinterpret_cast<const char *>(record), sizeof record) != qint64(sizeof record))
        throw std::runtime_error("short write to the audit log");
}

} // namespace

class tst_ContextVar : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void testGetSetAndDefault();
    void testTokenResetRestoresPrevious();
    void testResetWithForeignTokenThrows();
    void testJobSeesSubmitterValueAtCallTime();
    void testJobSetIsInvisibleToSubmitterAndOtherJobs();
    void testNothingLeaksIntoNextJobOnSameThread();
    void testThreadedSeparateSeesSnapshot();
    void testIterableProducerSeesSnapshot();
    void testCoroutineGeneratorProducerSeesSnapshot();
    void testCaptureAndRun();
    void testRunRestoresAfterException();
    void testAuditExampleInCallOrder();
    void testAuditExampleOnManyThreads();

private:
    void runAudit(ThreadPool *pool, QList<quint32> *written, QList<quint32> *readBack);

    // Every test starts from an empty context and leaves the main thread's as it found it.
    std::unique_ptr<ContextScope> m_scope;
};

void tst_ContextVar::init() { m_scope = std::make_unique<ContextScope>(Context()); }

void tst_ContextVar::cleanup() { m_scope.reset(); }

void tst_ContextVar::testGetSetAndDefault()
{
    QCOMPARE(counter.name(), QStringLiteral("counter"));
    QVERIFY(!counter.hasValue());
    QVERIFY_THROWS_EXCEPTION(QtOffload::LookupError, counter.get());
    const int fallback = QRandomGenerator::global()->bounded(1000);
    QCOMPARE(counter.get(fallback), fallback);

    counter.set(fallback + 1);
    QVERIFY(counter.hasValue());
    QCOMPARE(counter.get(), fallback + 1);
    QCOMPARE(counter.get(fallback), fallback + 1);

    // Variables are independent of each other.
    QVERIFY(!userName.hasValue());
    userName.set(QStringLiteral("alice"));
    QCOMPARE(userName.get(), QStringLiteral("alice"));
    QCOMPARE(counter.get(), fallback + 1);
}

void tst_ContextVar::testTokenResetRestoresPrevious()
{
    const auto unset = counter.set(1);
    const auto one = counter.set(2);
    QCOMPARE(counter.get(), 2);
    counter.reset(one);
    QCOMPARE(counter.get(), 1);
    counter.reset(unset);
    QVERIFY(!counter.hasValue());
    QVERIFY_THROWS_EXCEPTION(QtOffload::LookupError, counter.get());
}

void tst_ContextVar::testResetWithForeignTokenThrows()
{
    // Same T, another variable: only the token's origin tells them apart.
    const auto foreign = otherCounter.set(4);
    counter.set(3);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, counter.reset(foreign));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, counter.reset(ContextVar<int>::Token()));
    QCOMPARE(counter.get(), 3);
    QCOMPARE(otherCounter.get(), 4);
}

void tst_ContextVar::testJobSeesSubmitterValueAtCallTime()
{
    Gate submitterChanged;
    ThreadPool pool(2, QStringLiteral("ctx")); // destroyed first: it waits for the job using the gate
    counter.set(1);
    QFuture<int> job = QtOffload::threaded(&pool, [&submitterChanged] {
        // Read only after the submitter changed its value: the call's snapshot must win.
        if (!submitterChanged.tryAcquire(1, jobWaitMs))
            throw std::runtime_error("the submitter never signalled");
        return counter.get(-1);
    })();
    counter.set(2);
    submitterChanged.release();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), 1);
    QCOMPARE(counter.get(), 2);
}

void tst_ContextVar::testJobSetIsInvisibleToSubmitterAndOtherJobs()
{
    Gate aHasSet;
    Gate bHasRead;
    ThreadPool pool(2, QStringLiteral("ctx"));
    counter.set(1);
    // A and B run at the same time (two threads): B reads after A's set().
    QFuture<int> a = QtOffload::threaded(&pool, [&] {
        counter.set(100);
        aHasSet.release();
        if (!bHasRead.tryAcquire(1, jobWaitMs))
            throw std::runtime_error("B never read");
        return counter.get(); // A still sees its own value
    })();
    QFuture<int> b = QtOffload::threaded(&pool, [&] {
        if (!aHasSet.tryAcquire(1, jobWaitMs))
            throw std::runtime_error("A never set");
        const int seen = counter.get(-1);
        bHasRead.release();
        return seen;
    })();
    QTRY_FINISHED(b);
    QTRY_FINISHED(a);
    QCOMPARE(b.result(), 1);
    QCOMPARE(a.result(), 100);
    QCOMPARE(counter.get(), 1);
    QFuture<int> later = QtOffload::threaded(&pool, [] { return counter.get(-1); })();
    QTRY_FINISHED(later);
    QCOMPARE(later.result(), 1);
}

void tst_ContextVar::testNothingLeaksIntoNextJobOnSameThread()
{
    ThreadPool pool(1, QStringLiteral("ctx-single"));
    userName.set(QStringLiteral("submitter"));
    QFuture<QThread *> first = QtOffload::threaded(&pool, [] {
        counter.set(5); // never reset: the pool must drop it with the job
        userName.set(QStringLiteral("job"));
        return QThread::currentThread();
    })();
    QTRY_FINISHED(first);
    QThread *const firstThread = first.result();

    m_scope.reset();
    m_scope = std::make_unique<ContextScope>(Context()); // submit the next one from an empty context
    QFuture<std::tuple<QThread *, bool, bool>> second = QtOffload::threaded(
        &pool, [] { return std::make_tuple(QThread::currentThread(), counter.hasValue(), userName.hasValue()); })();
    QTRY_FINISHED(second);
    const auto [secondThread, sawCounter, sawName] = second.result();
    QCOMPARE(secondThread, firstThread);
    QVERIFY(!sawCounter);
    QVERIFY(!sawName);
}

void tst_ContextVar::testThreadedSeparateSeesSnapshot()
{
    auto submitterChanged = std::make_shared<Gate>();
    userName.set(QStringLiteral("before"));
    QFuture<QString> job = QtOffload::threadedSeparate([submitterChanged](const QString &suffix) {
        if (!submitterChanged->tryAcquire(1, jobWaitMs))
            throw std::runtime_error("the submitter never signalled");
        const QString seen = userName.get() + suffix;
        userName.set(QStringLiteral("separate"));
        return seen;
    })(QStringLiteral("!"));
    userName.set(QStringLiteral("after"));
    submitterChanged->release();
    QTRY_FINISHED(job);
    QCOMPARE(job.result(), QStringLiteral("before!"));
    QCOMPARE(userName.get(), QStringLiteral("after"));
}

void tst_ContextVar::testIterableProducerSeesSnapshot()
{
    ThreadPool pool(1, QStringLiteral("ctx-gen"));
    counter.set(10);
    // The producer starts lazily (first next()), well after the submitter's next set().
    auto generator = QtOffload::threadedIterable(
        QtOffload::Executor(&pool),
        [](QtOffload::Sink<int> &out, int n) {
            for (int i = 0; i < n; ++i) {
                if (!out.yield(counter.get() + i))
                    return;
                counter.set(counter.get() + 1000); // the producer's own changes stay its own
            }
        },
        1)(3);
    counter.set(20);
    auto state = std::make_shared<Collected<int>>();
    collect(generator.get(), state);
    QTRY_VERIFY_WITH_TIMEOUT(state->done, 10000);
    QVERIFY(!state->error);
    QCOMPARE(state->chunks, (QList<int> { 10, 1011, 2012 }));
    QCOMPARE(counter.get(), 20);
}

void tst_ContextVar::testCoroutineGeneratorProducerSeesSnapshot()
{
    ThreadPool pool(1, QStringLiteral("ctx-gen"));
    userName.set(QStringLiteral("carol"));
    auto generator = QtOffload::threaded(&pool, [](int n) -> QCoro::Generator<QString> {
        for (int i = 0; i < n; ++i)
            co_yield userName.get(QStringLiteral("<unset>"));
    })(2);
    userName.set(QStringLiteral("dave"));
    auto state = std::make_shared<Collected<QString>>();
    collect(generator.get(), state);
    QTRY_VERIFY_WITH_TIMEOUT(state->done, 10000);
    QVERIFY(!state->error);
    QCOMPARE(state->chunks, (QStringList { QStringLiteral("carol"), QStringLiteral("carol") }));
}

void tst_ContextVar::testCaptureAndRun()
{
    const Context empty = Context::capture();
    counter.set(1);
    const Context one = Context::capture();
    counter.set(2);

    QCOMPARE(one.run([] { return counter.get(); }), 1);
    QCOMPARE(empty.run([] { return counter.hasValue(); }), false);
    QCOMPARE(counter.get(), 2);

    // set() inside run() changes only that run's copy, not the snapshot.
    QCOMPARE(one.run([] {
        counter.set(50);
        return counter.get();
    }),
             50);
    QCOMPARE(one.run([] { return counter.get(); }), 1);
    QCOMPARE(counter.get(), 2);

    // A snapshot travels to any thread.
    std::optional<int> seenElsewhere;
    std::unique_ptr<QThread> thread(QThread::create([&] { seenElsewhere = one.run([] { return counter.get(-1); }); }));
    thread->start();
    QVERIFY(thread->wait(QDeadlineTimer(10s)));
    QCOMPARE(seenElsewhere, std::optional<int>(1));
}

void tst_ContextVar::testRunRestoresAfterException()
{
    counter.set(7);
    const Context snapshot = Context::capture();
    counter.set(8);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, snapshot.run([] {
        counter.set(9);
        throw std::runtime_error("boom");
    }));
    QCOMPARE(counter.get(), 8);
}

void tst_ContextVar::runAudit(ThreadPool *pool, QList<quint32> *written, QList<quint32> *readBack)
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("audit.bin"));

    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("audit seed %u", seed);
    QRandomGenerator random(seed);

    auto write = QtOffload::threaded(pool, &writeUser);
    QList<QFuture<void>> futures;
    for (int i = 0; i < 5; ++i) {
        const auto id = quint32(random.bounded(1, 65536));
        userId.set(id);
        written->append(id);
        futures.append(write(path));
    }
    for (QFuture<void> &future : futures) { // the seed's gather
        QTRY_FINISHED(future);
        future.waitForFinished(); // rethrows a failed write
    }

    auto log = QtOffload::threaded(pool, &readLog)(path);
    auto state = std::make_shared<Collected<quint32>>();
    collect(log.get(), state);
    QTRY_VERIFY_WITH_TIMEOUT(state->done, 10000);
    if (state->error)
        std::rethrow_exception(state->error);
    *readBack = state->chunks;
}

void tst_ContextVar::testAuditExampleInCallOrder()
{
    ThreadPool pool(1, QStringLiteral("audit")); // one thread: the writes happen in call order
    QList<quint32> written;
    QList<quint32> readBack;
    runAudit(&pool, &written, &readBack);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(written.size(), 5);
    QCOMPARE(readBack, written);
}

void tst_ContextVar::testAuditExampleOnManyThreads()
{
    ThreadPool pool(4, QStringLiteral("audit"));
    QList<quint32> written;
    QList<quint32> readBack;
    runAudit(&pool, &written, &readBack);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(written.size(), 5);
    std::sort(written.begin(), written.end());
    std::sort(readBack.begin(), readBack.end());
    QCOMPARE(readBack, written);
}

QTEST_GUILESS_MAIN(tst_ContextVar)
#include "tst_contextvar.moc"
