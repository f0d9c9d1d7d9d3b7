// SPDX-License-Identifier: MIT
// The latency lane (JobPriority::Interactive) and the workers' thread priority.

#include <QtOffload/executor.h>
#include <QtOffload/priority.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>

#include <support/gate.h>

#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

#include <memory>
#include <mutex>
#include <optional>

#if defined(Q_OS_LINUX)
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace std::chrono_literals;
using QtOffload::Executor;
using QtOffload::JobPriority;
using QtOffload::ThreadPool;
using QtOffload::ThreadPriority;

namespace {

constexpr int waitMs = 10000;

template<typename T> bool waitForFinished(QFuture<T> future, int timeoutMs = waitMs)
{
    auto done = std::make_shared<Gate>();
    (void)future.then(QtFuture::Launch::Sync, [done](const QFuture<T> &) { done->release(); });
    return done->tryAcquire(1, timeoutMs);
}

//! The order in which jobs ran, by label.
class RunOrder
{
public:
    auto job(QString label)
    {
        return [this, label] {
            std::lock_guard lock(m_mutex);
            m_labels << label;
        };
    }
    QStringList labels() const
    {
        std::lock_guard lock(m_mutex);
        return m_labels;
    }

private:
    mutable std::mutex m_mutex;
    QStringList m_labels;
};

/*!
  A pool of one worker with that worker and the reserved thread both held by
  a job, so that a test can arrange the queues behind them. Opens both
  before the pool goes, whatever a failed check left held.
*/
struct HeldPool
{
    explicit HeldPool(const QString &name)
        : pool(1, name)
    {
        pool.setStarvationTimeout(QtOffload::Forever); // no overflow thread may take a queued job
    }
    ~HeldPool()
    {
        worker.openAll();
        reserved.openAll();
    }
    HeldPool(const HeldPool &) = delete;
    HeldPool &operator=(const HeldPool &) = delete;

    //! Starts the two holding jobs; false when they did not start.
    bool hold()
    {
        heldWorker = pool.run(worker.job());
        if (!worker.started.tryAcquire())
            return false;
        heldReserved = pool.run(JobPriority::Interactive, reserved.job());
        return reserved.started.tryAcquire();
    }

    JobGate worker;
    JobGate reserved;
    QFuture<bool> heldWorker;
    QFuture<bool> heldReserved;
    ThreadPool pool; // last: destroyed first, once the gates are open
};

QString currentThreadName() { return QThread::currentThread()->objectName(); }

#if defined(Q_OS_LINUX)
struct Scheduling
{
    int policy = -1;
    int nice = 0;
};

Scheduling currentScheduling() { return { sched_getscheduler(0), getpriority(PRIO_PROCESS, id_t(gettid())) }; }

/*!
  Takes CAP_SYS_NICE out of the calling thread's effective capabilities
  while it lives, so that the threads it starts may not raise their
  priority, as an unprivileged user's may not (the tests run as root in
  CI). Linux keeps capabilities per thread, and a new thread inherits them.
*/
class WithoutSysNice
{
public:
    WithoutSysNice()
    {
        __user_cap_header_struct header { _LINUX_CAPABILITY_VERSION_3, 0 };
        if (syscall(SYS_capget, &header, m_saved) != 0)
            return;
        __user_cap_data_struct reduced[2] = { m_saved[0], m_saved[1] };
        reduced[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
        m_dropped = syscall(SYS_capset, &header, reduced) == 0;
    }
    ~WithoutSysNice()
    {
        __user_cap_header_struct header { _LINUX_CAPABILITY_VERSION_3, 0 };
        if (m_dropped)
            (void)syscall(SYS_capset, &header, m_saved);
    }
    WithoutSysNice(const WithoutSysNice &) = delete;
    WithoutSysNice &operator=(const WithoutSysNice &) = delete;

private:
    __user_cap_data_struct m_saved[2] {};
    bool m_dropped = false;
};
#endif

} // namespace

class tst_JobPriority : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testInteractiveJobStartsWhileBulkJobsFillThePool();
    void testIdleWorkerTakesInteractiveJobsFirst();
    void testInteractiveJobsCannotStarveNormalOnes();
    void testWithPriorityOnThreadedAndExecutor();
    void testQThreadPoolStartsInteractiveJobsFirst();
    void testShutdownCancelsQueuedInteractiveJobsAndJoinsTheReservedThread();
    void testWaitForDoneWaitsForTheReservedThread();
    void testThreadPriorityProperty();
#if defined(Q_OS_LINUX)
    void testWorkersTakeOnThreadPriority();
    void testReservedThreadKeepsNormalPriority();
    void testAWorkerThatCannotRaiseItsPriorityLeavesForANewOne();
#endif
};

void tst_JobPriority::testInteractiveJobStartsWhileBulkJobsFillThePool()
{
    ThreadPool pool(2, QStringLiteral("lane"));
    pool.setStarvationTimeout(QtOffload::Forever); // no overflow thread may take the job instead
    JobGate bulk;
    const auto openBulk = qScopeGuard([&] { bulk.openAll(); });
    QList<QFuture<bool>> bulkJobs;
    for (int i = 0; i < 5; ++i)
        bulkJobs << pool.run(bulk.job());
    QVERIFY(bulk.started.tryAcquire(2));

    QFuture<QString> interactive = pool.run(JobPriority::Interactive, currentThreadName);
    QVERIFY(waitForFinished(interactive));
    QCOMPARE(interactive.result(), QStringLiteral("QtOffload pool lane interactive"));
    QCOMPARE(bulk.started.available(), 0); // the bulk jobs still hold both workers, three wait
    QCOMPARE(pool.statistics().queued, 3);

    bulk.openAll();
    for (const auto &job : bulkJobs)
        QVERIFY(waitForFinished(job));
    QCOMPARE(pool.statistics().threads, 2); // the reserved thread is not one of the workers
}

void tst_JobPriority::testIdleWorkerTakesInteractiveJobsFirst()
{
    HeldPool held(QStringLiteral("order"));
    QVERIFY(held.hold());
    ThreadPool &pool = held.pool;

    RunOrder order;
    (void)pool.run(order.job(QStringLiteral("N1")));
    (void)pool.run(order.job(QStringLiteral("N2")));
    (void)pool.run(JobPriority::Interactive, order.job(QStringLiteral("I1")));
    QFuture<void> last = pool.run(JobPriority::Interactive, order.job(QStringLiteral("I2")));
    held.worker.open.release();
    QVERIFY(pool.waitForDone(0ms) == false);
    QTRY_COMPARE_WITH_TIMEOUT(order.labels().size(), 4, waitMs);
    QCOMPARE(order.labels(),
             (QStringList { QStringLiteral("I1"), QStringLiteral("I2"), QStringLiteral("N1"), QStringLiteral("N2") }));
    QVERIFY(last.isFinished());
}

void tst_JobPriority::testInteractiveJobsCannotStarveNormalOnes()
{
    HeldPool held(QStringLiteral("bound"));
    QVERIFY(held.hold());
    ThreadPool &pool = held.pool;

    RunOrder order;
    (void)pool.run(order.job(QStringLiteral("N1")));
    (void)pool.run(order.job(QStringLiteral("N2")));
    for (int i = 1; i <= 10; ++i)
        (void)pool.run(JobPriority::Interactive, order.job(QStringLiteral("I%1").arg(i)));
    held.worker.open.release();
    QTRY_COMPARE_WITH_TIMEOUT(order.labels().size(), 12, waitMs);
    // Four Interactive jobs in a row at most while Normal ones wait.
    QCOMPARE(order.labels(),
             (QStringList { QStringLiteral("I1"), QStringLiteral("I2"), QStringLiteral("I3"), QStringLiteral("I4"),
                            QStringLiteral("N1"), QStringLiteral("I5"), QStringLiteral("I6"), QStringLiteral("I7"),
                            QStringLiteral("I8"), QStringLiteral("N2"), QStringLiteral("I9"), QStringLiteral("I10") }));
}

void tst_JobPriority::testWithPriorityOnThreadedAndExecutor()
{
    ThreadPool pool(1, QStringLiteral("wrap"));
    pool.setStarvationTimeout(QtOffload::Forever);
    const Executor executor(&pool);
    QCOMPARE(executor.priority(), JobPriority::Normal);
    const Executor interactiveExecutor = executor.withPriority(JobPriority::Interactive);
    QCOMPARE(interactiveExecutor.priority(), JobPriority::Interactive);
    QCOMPARE(executor.priority(), JobPriority::Normal); // a copy, not a change
    QCOMPARE(interactiveExecutor.threadPool(), &pool);

    JobGate worker;
    const auto openWorker = qScopeGuard([&] { worker.openAll(); });
    (void)pool.run(worker.job());
    QVERIFY(worker.started.tryAcquire());

    const auto wrapper
        = QtOffload::threaded(&pool, [](int n) -> QString { return currentThreadName() + QString::number(n); });
    QFuture<QString> viaWrapper = wrapper.withPriority(JobPriority::Interactive)(1);
    QVERIFY(waitForFinished(viaWrapper));
    QCOMPARE(viaWrapper.result(), QStringLiteral("QtOffload pool wrap interactive1"));
    QFuture<QString> viaExecutor = QtOffload::threaded(interactiveExecutor, currentThreadName)();
    QVERIFY(waitForFinished(viaExecutor));
    QCOMPARE(viaExecutor.result(), QStringLiteral("QtOffload pool wrap interactive"));

    QFuture<QString> normal = wrapper(2); // the wrapper itself kept its Normal priority: it waits for the worker
    QVERIFY(!waitForFinished(normal, 50));
    worker.open.release();
    QVERIFY(waitForFinished(normal));
    QCOMPARE(normal.result(), QStringLiteral("QtOffload pool wrap #12"));
}

void tst_JobPriority::testQThreadPoolStartsInteractiveJobsFirst()
{
    QThreadPool qtPool;
    qtPool.setMaxThreadCount(1);
    JobGate worker;
    const auto openWorker = qScopeGuard([&] { worker.openAll(); });
    (void)QtOffload::threaded(&qtPool, worker.job())();
    QVERIFY(worker.started.tryAcquire());

    RunOrder order;
    (void)QtOffload::threaded(&qtPool, order.job(QStringLiteral("N")))();
    (void)QtOffload::threaded(&qtPool, order.job(QStringLiteral("I"))).withPriority(JobPriority::Interactive)();
    worker.open.release();
    QVERIFY(qtPool.waitForDone(waitMs));
    QCOMPARE(order.labels(), (QStringList { QStringLiteral("I"), QStringLiteral("N") }));
}

void tst_JobPriority::testShutdownCancelsQueuedInteractiveJobsAndJoinsTheReservedThread()
{
    HeldPool held(QStringLiteral("stop"));
    QVERIFY(held.hold());
    ThreadPool &pool = held.pool;
    QFuture<void> queued = pool.run(JobPriority::Interactive, [] {});

    QStringList busy = pool.shutdown(0ms);
    busy.sort();
    QCOMPARE(
        busy,
        (QStringList { QStringLiteral("QtOffload pool stop #1"), QStringLiteral("QtOffload pool stop interactive") }));
    QVERIFY(queued.isCanceled());
    QVERIFY_THROWS_EXCEPTION(QtOffload::ShutdownError, (void)pool.run(JobPriority::Interactive, [] {}));

    held.worker.openAll();
    held.reserved.openAll();
    QCOMPARE(pool.shutdown(), QStringList());
    QVERIFY(held.heldWorker.result());
    QVERIFY(held.heldReserved.result());
    QCOMPARE(pool.statistics().cancelled, 1);
}

void tst_JobPriority::testWaitForDoneWaitsForTheReservedThread()
{
    HeldPool held(QStringLiteral("done"));
    QVERIFY(held.hold());
    ThreadPool &pool = held.pool;
    held.worker.open.release();
    QVERIFY(!pool.waitForDone(50ms)); // the reserved thread still runs its job
    held.reserved.open.release();
    QVERIFY(pool.waitForDone(std::chrono::milliseconds(waitMs)));
    QCOMPARE(pool.statistics().succeeded, 2);
}

void tst_JobPriority::testThreadPriorityProperty()
{
    ThreadPool pool(1);
    QCOMPARE(pool.threadPriority(), ThreadPriority::Normal);
    QSignalSpy changed(&pool, &ThreadPool::threadPriorityChanged);
    pool.setThreadPriority(ThreadPriority::Background);
    pool.setThreadPriority(ThreadPriority::Background);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).value<ThreadPriority>(), ThreadPriority::Background);
    QCOMPARE(pool.property("threadPriority").value<ThreadPriority>(), ThreadPriority::Background);
    QVERIFY(pool.setProperty("threadPriority", QVariant::fromValue(ThreadPriority::Idle)));
    QCOMPARE(pool.threadPriority(), ThreadPriority::Idle);
    QCOMPARE(changed.size(), 2);
}

#if defined(Q_OS_LINUX)
void tst_JobPriority::testWorkersTakeOnThreadPriority()
{
    const Scheduling base = currentScheduling();
    ThreadPool pool(1);
    const auto schedulingOfAJob = [&pool] {
        QFuture<Scheduling> job = pool.run(currentScheduling);
        return waitForFinished(job) ? job.result() : Scheduling {};
    };
    QCOMPARE(schedulingOfAJob().policy, SCHED_OTHER);

    pool.setThreadPriority(ThreadPriority::Background);
    const Scheduling background = schedulingOfAJob();
    QCOMPARE(background.policy, SCHED_BATCH);
    QCOMPARE(background.nice, 19);

    pool.setThreadPriority(ThreadPriority::Idle);
    QCOMPARE(schedulingOfAJob().policy, SCHED_IDLE);

    // Back to Normal: a worker the system lets raise its priority does so at
    // once; one it does not runs this job low, leaves when idle, and the next
    // job starts a new thread at the pool's base priority.
    pool.setThreadPriority(ThreadPriority::Normal);
    Scheduling normal = schedulingOfAJob();
    if (normal.policy != SCHED_OTHER) {
        QTRY_COMPARE_WITH_TIMEOUT(pool.statistics().threads, 0, waitMs);
        normal = schedulingOfAJob();
    }
    QCOMPARE(normal.policy, SCHED_OTHER);
    QCOMPARE(normal.nice, base.nice);
}

void tst_JobPriority::testReservedThreadKeepsNormalPriority()
{
    ThreadPool pool(1);
    pool.setStarvationTimeout(QtOffload::Forever);
    pool.setThreadPriority(ThreadPriority::Idle);
    JobGate worker;
    const auto openWorker = qScopeGuard([&] { worker.openAll(); });
    QFuture<Scheduling> held = pool.run([&worker] {
        worker.job()();
        return currentScheduling();
    });
    QVERIFY(worker.started.tryAcquire());
    // Submitted from the Idle worker's side of the pool would not matter either: the reserved thread resets itself.
    QFuture<Scheduling> interactive = pool.run(JobPriority::Interactive, currentScheduling);
    QVERIFY(waitForFinished(interactive));
    QCOMPARE(interactive.result().policy, SCHED_OTHER);
    worker.open.release();
    QVERIFY(waitForFinished(held));
    QCOMPARE(held.result().policy, SCHED_IDLE);
}

void tst_JobPriority::testAWorkerThatCannotRaiseItsPriorityLeavesForANewOne()
{
    const Scheduling base = currentScheduling();
    std::optional<WithoutSysNice> unprivileged(std::in_place);
    ThreadPool pool(1, QStringLiteral("raise"));
    pool.setThreadPriority(ThreadPriority::Background);
    const auto run = [&pool](auto job) {
        auto future = pool.run(job);
        return waitForFinished(future) ? future.result() : decltype(future.result()) {};
    };
    QCOMPARE(run(currentScheduling).policy, SCHED_BATCH);
    const QString firstWorker = run(currentThreadName);
    if (run([] { return setpriority(PRIO_PROCESS, id_t(gettid()), 0) == 0; }))
        QSKIP("this system lets a thread raise its priority without CAP_SYS_NICE (RLIMIT_NICE)");

    // Threads started from here on may start at the base priority: they inherit the submitter's.
    unprivileged.reset();
    pool.setThreadPriority(ThreadPriority::Normal);
    QCOMPARE(run(currentScheduling).nice, 19); // it could not raise itself: this job runs low
    QTRY_COMPARE_WITH_TIMEOUT(pool.statistics().threads, 0, waitMs); // and it left when idle
    const Scheduling normal = run(currentScheduling);
    QCOMPARE(normal.policy, SCHED_OTHER);
    QCOMPARE(normal.nice, base.nice);
    QCOMPARE(run(currentThreadName), firstWorker.left(firstWorker.size() - 1) + QLatin1Char('2'));
}
#endif

QTEST_GUILESS_MAIN(tst_JobPriority)
#include "tst_jobpriority.moc"
