// SPDX-License-Identifier: MIT
// Load and starvation on a QtOffload::ThreadPool: a million threaded() jobs
// with random results, faults of every exception shape and cancellations,
// each future checked; and jobs that block on jobs of their own pool, which
// only finish if the pool grows overflow threads.

#include <QtOffload/invokeblocking.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>

#include <support/gate.h>
#include <support/peakrss.h>
#include <support/sanitizers.h>
#include <support/seed.h>
#include <support/watchdog.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using QtOffload::ThreadPool;

namespace {

constexpr qint64 totalJobs = sanitizerScaled<qint64>(1'000'000, 100'000);
constexpr int chainCount = sanitizerScaled(20'000, 2'000);
constexpr int submitterCount = 4;
// Futures a submitter keeps in flight before checking them: keeps memory flat at 1M jobs.
constexpr int windowSize = 1000;
constexpr std::chrono::milliseconds scenarioDeadline = 120s;

// One of each shape a job can throw: std, derived from std::exception, a scalar, a non-std class.
struct CustomError : std::exception
{
    explicit CustomError(quint64 c)
        : code(c)
    {
    }
    const char *what() const noexcept override { return "CustomError"; }
    quint64 code;
};
struct NotAnException
{
    quint64 code;
};

enum class Fate : quint8 { Value, RuntimeError, CustomError, Int, Struct };

struct Plan
{
    quint64 value = 0;
    Fate fate = Fate::Value;
    bool cancel = false;
};

Plan randomPlan(std::mt19937_64 &rng)
{
    Plan plan;
    plan.value = rng();
    const auto roll = rng() % 100;
    // 70 % values, 30 % faults spread over the four shapes; 10 % cancelled.
    plan.fate = roll < 70 ? Fate::Value : Fate(1 + (roll - 70) % 4);
    plan.cancel = rng() % 10 == 0;
    return plan;
}

quint64 runPlan(Plan plan, std::atomic<int> *runs)
{
    runs->fetch_add(1, std::memory_order_relaxed);
    switch (plan.fate) {
    case Fate::Value:
        return plan.value;
    case Fate::RuntimeError:
        throw std::runtime_error(std::to_string(plan.value));
    case Fate::CustomError:
        throw CustomError(plan.value);
    case Fate::Int:
        throw int(plan.value % 100000);
    case Fate::Struct:
        throw NotAnException { plan.value };
    }
    return 0;
}

struct SubmitterReport
{
    qint64 jobs = 0;
    qint64 faultsThrown = 0;
    qint64 cancelRequests = 0;
    qint64 neverRan = 0; // cancelled before they started
    qint64 ranDespiteCancel = 0;
    qint64 succeededRuns = 0;
    qint64 failedRuns = 0;
    qint64 mismatches = 0;
    QStringList firstMismatches;

    void mismatch(qint64 job, const QString &what)
    {
        ++mismatches;
        if (firstMismatches.size() < 20)
            firstMismatches << QStringLiteral("job %1: %2").arg(job).arg(what);
    }
};

//! The outcome \a future reports, checked against \a plan. Returns the problem, or an empty string.
QString checkOutcome(QFuture<quint64> &future, const Plan &plan)
{
    const auto expect = [&plan](Fate fate, bool payloadOk) -> QString {
        if (plan.fate != fate)
            return QStringLiteral("threw fate %1, planned %2").arg(int(fate)).arg(int(plan.fate));
        return payloadOk ? QString() : QStringLiteral("wrong exception payload");
    };
    try {
        future.waitForFinished();
        if (future.resultCount() > 0) {
            if (plan.fate != Fate::Value)
                return QStringLiteral("a value instead of the planned fault %1").arg(int(plan.fate));
            return future.result() == plan.value ? QString() : QStringLiteral("wrong value");
        }
        return QStringLiteral("neither a value nor an exception");
    } catch (const QtOffload::CancelledError &) {
        // Cancelled after it started: Qt drops a late result or exception, and the future carries a CancelledError.
        return plan.cancel && future.isCanceled() ? QString() : QStringLiteral("a CancelledError, and not cancelled");
    } catch (const CustomError &e) {
        return expect(Fate::CustomError, e.code == plan.value);
    } catch (const std::runtime_error &e) {
        return expect(Fate::RuntimeError, e.what() == std::to_string(plan.value));
    } catch (int e) {
        return expect(Fate::Int, quint64(e) == plan.value % 100000);
    } catch (const NotAnException &e) {
        return expect(Fate::Struct, e.code == plan.value);
    } catch (...) {
        return QStringLiteral("an exception of an unexpected type");
    }
}

// Read by the watchdog while the submitters run.
std::atomic<qint64> s_verified[submitterCount];

void submitLoad(ThreadPool *pool, int index, quint64 seed, qint64 count, SubmitterReport &report)
{
    std::mt19937_64 rng(seed);
    auto job = QtOffload::threaded(pool, runPlan);
    std::vector<Plan> plans(windowSize);
    std::vector<QFuture<quint64>> futures;
    futures.reserve(windowSize);
    auto runs = std::make_unique<std::atomic<int>[]>(windowSize);

    // No then()/onCanceled() counting here: Qt 6.4.2 may run a continuation
    // twice when it is attached while another thread finishes the future.
    for (qint64 base = 0; base < count; base += windowSize) {
        const int n = int(std::min<qint64>(windowSize, count - base));
        futures.clear();
        for (int i = 0; i < n; ++i) {
            plans[i] = randomPlan(rng);
            runs[i].store(0, std::memory_order_relaxed);
            QFuture<quint64> future = job(plans[i], &runs[i]);
            if (plans[i].cancel) {
                ++report.cancelRequests;
                future.cancel();
            }
            futures.push_back(std::move(future));
        }
        for (int i = 0; i < n; ++i) {
            try {
                futures[i].waitForFinished(); // bounded by the test's watchdog
            } catch (...) {
                // The outcome is checked below.
            }
            const Plan &plan = plans[i];
            const int ran = runs[i].load();
            ++report.jobs;
            if (!futures[i].isFinished())
                report.mismatch(base + i, QStringLiteral("waitForFinished() returned on an unfinished future"));
            if (ran > 1)
                report.mismatch(base + i, QStringLiteral("ran %1 times").arg(ran));
            if (ran == 0) {
                if (!plan.cancel)
                    report.mismatch(base + i, QStringLiteral("never ran, yet nobody cancelled it"));
                else if (!futures[i].isCanceled() || futures[i].resultCount() != 0)
                    report.mismatch(base + i, QStringLiteral("never ran but does not report cancelled"));
                ++report.neverRan;
                continue;
            }
            if (plan.cancel)
                ++report.ranDespiteCancel;
            if (plan.fate == Fate::Value) {
                ++report.succeededRuns;
            } else {
                ++report.failedRuns;
                ++report.faultsThrown;
            }
            if (const QString problem = checkOutcome(futures[i], plan); !problem.isEmpty())
                report.mismatch(base + i, problem);
        }
        s_verified[index].store(base + n);
    }
}

// Counts the jobs of one scenario, for the watchdog's report.
std::atomic<qint64> s_nestedStarted { 0 };

//! A job that fans \a fanout children out onto its own pool and blocks on them.
quint64 nestedJob(ThreadPool *pool, int depth, int fanout)
{
    s_nestedStarted.fetch_add(1);
    if (depth == 0)
        return 1;
    auto child = QtOffload::threaded(pool, nestedJob);
    std::vector<QFuture<quint64>> children;
    for (int i = 0; i < fanout; ++i)
        children.push_back(child(pool, depth - 1, fanout));
    quint64 nodes = 1;
    for (auto &future : children)
        nodes += future.result(); // blocks this worker: only an overflow thread can run the child
    return nodes;
}

} // namespace

class StressJobsTest : public QObject
{
    Q_OBJECT

private:
    QElapsedTimer m_wall;
    qint64 m_jobs = 0;
    qint64 m_faults = 0;
    qint64 m_cancelled = 0;
    qint64 m_overflowThreads = 0;
    quint64 m_seed = 0;

private Q_SLOTS:
    void initTestCase()
    {
        m_wall.start();
        m_seed = stressSeed();
    }

    void cleanupTestCase()
    {
        qInfo("STRESS SUMMARY: tst_stress_jobs: %lld jobs run, %lld faults injected, %lld cancelled before start, "
              "%lld overflow threads, wall %.1f s, peak RSS %lld MiB, seed %llu",
              m_jobs, m_faults, m_cancelled, m_overflowThreads, double(m_wall.elapsed()) / 1000.0, peakRssKiB() / 1024,
              m_seed);
    }

    void testMillionJobsFinishOnceWithTheirOutcome()
    {
        ThreadPool pool(4, QStringLiteral("stress"));
        SubmitterReport reports[submitterCount];
        {
            const HardWatchdog watchdog(scenarioDeadline, [&pool] {
                QStringList progress;
                for (const auto &verified : s_verified)
                    progress << QString::number(verified.load());
                const auto stats = pool.statistics();
                return QStringLiteral("jobs verified per submitter: %1; pool: %2 queued, %3 running, %4 threads")
                    .arg(progress.join(QStringLiteral(", ")))
                    .arg(stats.queued)
                    .arg(stats.running)
                    .arg(stats.threads);
            });
            std::unique_ptr<QThread> threads[submitterCount];
            for (int t = 0; t < submitterCount; ++t) {
                const qint64 count = totalJobs / submitterCount + (t < totalJobs % submitterCount ? 1 : 0);
                threads[t].reset(
                    QThread::create(submitLoad, &pool, t, m_seed + quint64(t), count, std::ref(reports[t])));
                threads[t]->setObjectName(QStringLiteral("stress submitter #%1").arg(t));
                threads[t]->start();
            }
            for (auto &thread : threads)
                thread->wait();
        }

        SubmitterReport total;
        for (const auto &report : reports) {
            total.jobs += report.jobs;
            total.faultsThrown += report.faultsThrown;
            total.cancelRequests += report.cancelRequests;
            total.neverRan += report.neverRan;
            total.ranDespiteCancel += report.ranDespiteCancel;
            total.succeededRuns += report.succeededRuns;
            total.failedRuns += report.failedRuns;
            total.mismatches += report.mismatches;
            total.firstMismatches += report.firstMismatches;
        }
        m_jobs += total.jobs;
        m_faults += total.faultsThrown;
        m_cancelled += total.neverRan;
        qInfo("%lld jobs: %lld succeeded, %lld threw, %lld cancel requests (%lld before start, %lld too late)",
              total.jobs, total.succeededRuns, total.failedRuns, total.cancelRequests, total.neverRan,
              total.ranDespiteCancel);
        QVERIFY2(total.mismatches == 0,
                 qPrintable(QStringLiteral("%1 mismatches, first: %2")
                                .arg(total.mismatches)
                                .arg(total.firstMismatches.join(QStringLiteral("; ")))));
        QCOMPARE(total.jobs, totalJobs);
        // Every shape of fault really happened, and cancellation really stopped jobs.
        QVERIFY(total.faultsThrown > 0);
        QVERIFY(total.neverRan > 0);

        // The counters are updated just after a future finishes; waitForDone covers that gap.
        QVERIFY(pool.waitForDone(30s));
        const ThreadPool::Statistics stats = pool.statistics();
        QCOMPARE(stats.submitted, totalJobs);
        QCOMPARE(stats.submitted, stats.succeeded + stats.failed + stats.cancelled);
        QCOMPARE(stats.succeeded, total.succeededRuns);
        QCOMPARE(stats.failed, total.failedRuns);
        QCOMPARE(stats.cancelled, total.neverRan);
        QCOMPARE(stats.queued, 0);
        QCOMPARE(stats.running, 0);
        QVERIFY(stats.threads <= pool.maxThreadCount() + int(stats.overflowThreads));
    }

    // QFuture::result() must block until the job has returned, like every
    // other QFuture. A future whose job is queued or running has to report
    // isRunning(), or Qt's result() returns at once and reads a result that
    // is not there.
    void testResultWaitsForAPendingJob()
    {
        ThreadPool pool(1, QStringLiteral("pending"));
        Gate gate;
        auto blocker = QtOffload::threaded(&pool, [&gate] { return gate.tryAcquire(1, 10000) ? 1 : 0; })();
        auto queued = QtOffload::threaded(&pool, [] { return 42; })();
        const auto release = qScopeGuard([&] {
            gate.release();
            pool.waitForDone();
        });
        QVERIFY(!blocker.isFinished());
        QVERIFY(!queued.isFinished());
        QVERIFY2(blocker.isRunning() && queued.isRunning(),
                 "a pending job's future is not Running, so QFuture::result() would not wait for it "
                 "(FutureJob's QFutureInterface is constructed Started but not Running)");
        gate.release();
        QCOMPARE(blocker.result(), 1);
        QCOMPARE(queued.result(), 42);
    }

    void testJobsWaitingOnTheirOwnPoolComplete_data()
    {
        QTest::addColumn<int>("poolSize");
        QTest::addColumn<int>("roots");
        QTest::addColumn<int>("depth");
        QTest::addColumn<int>("fanout");
        QTest::newRow("pool of 1, one level") << 1 << 1 << 1 << 3;
        QTest::newRow("pool of 1, tree of depth 4") << 1 << 1 << 4 << 2;
        QTest::newRow("pool of 2, two trees of depth 3") << 2 << 2 << 3 << 2;
        QTest::newRow("pool of 2, four chains of depth 4") << 2 << 4 << 4 << 1;
    }

    void testJobsWaitingOnTheirOwnPoolComplete()
    {
        QFETCH(int, poolSize);
        QFETCH(int, roots);
        QFETCH(int, depth);
        QFETCH(int, fanout);
        qint64 perRoot = 0; // nodes of one tree
        qint64 internalPerRoot = 0;
        for (qint64 level = 0, width = 1; level <= depth; ++level, width *= fanout) {
            perRoot += width;
            if (level < depth)
                internalPerRoot += width;
        }
        // Breadth first, every internal node may block a thread at once; the
        // pool caps itself at 4 x max + 16 threads, so the scenario must fit.
        QVERIFY(roots * internalPerRoot + 1 <= 4 * poolSize + 16);
        QVERIFY(roots >= poolSize); // so the pool is starved and must grow

        ThreadPool pool(poolSize, QStringLiteral("starve"));
        pool.setStarvationTimeout(20ms);
        s_nestedStarted = 0;
        const HardWatchdog watchdog(60s, [&pool] {
            const auto stats = pool.statistics();
            return QStringLiteral("jobs waiting on their own pool: %1 started; pool: %2 threads, %3 overflow, %4 "
                                  "queued, %5 running")
                .arg(s_nestedStarted.load())
                .arg(stats.threads)
                .arg(stats.overflowThreads)
                .arg(stats.queued)
                .arg(stats.running);
        });
        auto root = QtOffload::threaded(&pool, nestedJob);
        std::vector<QFuture<quint64>> futures;
        for (int i = 0; i < roots; ++i)
            futures.push_back(root(&pool, depth, fanout));
        for (auto &future : futures)
            QCOMPARE(future.result(), quint64(perRoot));

        QVERIFY(pool.waitForDone(30s));
        const ThreadPool::Statistics stats = pool.statistics();
        m_jobs += stats.submitted;
        m_overflowThreads += stats.overflowThreads;
        QCOMPARE(stats.submitted, roots * perRoot);
        QCOMPARE(stats.succeeded, stats.submitted);
        QCOMPARE(stats.queued, 0);
        QCOMPARE(stats.running, 0);
        QVERIFY(stats.overflowThreads >= 1);
        QVERIFY(stats.overflowThreads <= 3 * poolSize + 16);
        // Overflow threads leave once idle.
        QTRY_VERIFY_WITH_TIMEOUT(pool.statistics().threads <= poolSize, 10000);
    }

    // The seed's chain: a pool job invokeBlocking()s into the event thread,
    // whose callable starts another threaded job and returns its future.
    // invokeBlocking observes that future while a worker may be finishing it:
    // each result must arrive exactly once. Last in the file: on Qt 6.4.2 a
    // double-run continuation crashes the process, and the other slots should report first.
    void testChainedInvokeBlockingDeliversEachResult()
    {
        std::atomic<int> returned { 0 };
        // Declared first, so it also guards the pools' destructors.
        const HardWatchdog watchdog(scenarioDeadline + 30s, [&returned] {
            return QStringLiteral("%1 of %2 chained invokeBlocking calls returned")
                .arg(returned.load())
                .arg(chainCount);
        });
        // The event loop the invokeBlocking calls run in. A real one, not
        // QTest::qWaitFor(): that sleeps 10 ms between passes, so each chain
        // would wait a pass or two and the suite's duration would depend on
        // how many overflow threads the outer pool happened to start.
        QEventLoop loop;
        ThreadPool outer(2, QStringLiteral("outer"));
        ThreadPool inner(2, QStringLiteral("inner"));
        auto innerJob = QtOffload::threaded(&inner, [](int i) { return i * 2; });
        auto chain = QtOffload::threaded(&outer, [&innerJob, &returned, &loop](int i) {
            const int value = QtOffload::invokeBlocking([&innerJob, i] { return innerJob(i); });
            if (++returned == chainCount)
                QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection);
            return value;
        });
        std::vector<QFuture<int>> futures;
        futures.reserve(chainCount);
        for (int i = 0; i < chainCount; ++i)
            futures.push_back(chain(i));
        QTimer::singleShot(scenarioDeadline, &loop, &QEventLoop::quit);
        loop.exec();
        QVERIFY2(returned.load() == chainCount,
                 qPrintable(QStringLiteral("%1 of %2 chains returned").arg(returned.load()).arg(chainCount)));
        for (int i = 0; i < chainCount; ++i)
            QCOMPARE(futures[size_t(i)].result(), i * 2);
        m_jobs += 2 * chainCount;
    }
};

QTEST_GUILESS_MAIN(StressJobsTest)
#include "tst_stress_jobs.moc"
