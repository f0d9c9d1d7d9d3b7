// SPDX-License-Identifier: MIT
#include <QtOffload/threadpool.h>

#include "lifecycle_p.h"
#include "spin_p.h"

#include <QtCore/QDebug>
#include <QtCore/QThread>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace QtOffload {

using Clock = std::chrono::steady_clock;

class ThreadPoolPrivate
{
public:
    ThreadPoolPrivate(int maxThreads, QString name) : name(std::move(name)), maxThreads(maxThreads) {}

    void submit(detail::JobPtr job);
    void workerLoop();
    void monitorLoop();
    void startWorker();
    void spinForWork() const;
    void recordLocked(detail::JobOutcome outcome);
    QStringList shutdown(std::chrono::milliseconds timeout);
    bool isWorkerThread() const;
    int idleLocked() const { return spinning + sleeping; }
    int hardThreadCap() const { return maxThreads * 4 + 16; }

    const QString name;
    const int maxThreads;

    mutable std::mutex mutex;
    std::condition_variable workCv;    // sleeping workers
    std::condition_variable idleCv;    // waitForDone() and shutdown()
    std::condition_variable monitorCv; // the starvation monitor
    std::deque<detail::JobPtr> queue;
    // Read without the lock by spinning workers, to notice work cheaply.
    std::atomic<qsizetype> queuedHint{0};
    std::atomic<bool> stopping{false};

    std::vector<QThread *> threads; // every worker ever started and not yet joined
    QThread *monitor = nullptr;
    int liveThreads = 0;
    int spinning = 0;
    int sleeping = 0;
    int runningJobs = 0;
    int nextThreadIndex = 1;
    bool shuttingDown = false;
    quint64 jobsStarted = 0; // progress, for starvation detection
    std::chrono::milliseconds starvationTimeout{500};

    qint64 submitted = 0;
    qint64 succeeded = 0;
    qint64 failed = 0;
    qint64 cancelled = 0;
    qint64 overflowThreads = 0;
    Clock::duration totalRunTime{0};
};

namespace {
std::atomic<ThreadPool *> s_explicitDefault{nullptr};

struct ProcessPool
{
    ~ProcessPool()
    {
        std::lock_guard lock(mutex);
        destroyed = true;
        current.store(nullptr);
        pool.reset();
    }
    std::mutex mutex;
    std::unique_ptr<ThreadPool> pool;
    std::atomic<ThreadPool *> current{nullptr};
    bool destroyed = false;
};

ProcessPool &processPool()
{
    static ProcessPool instance;
    return instance;
}

// How long an idle worker keeps looking for work before it sleeps. Long
// enough to bridge the gap between jobs of a burst, short enough not to
// steal a 2-core machine from the thread that submits.
constexpr auto spinBeforeSleep = std::chrono::microseconds(50);

// The pool's critical sections are a few dozen instructions; a contended
// std::mutex would put the thread to sleep in the kernel and wake it with a
// second system call. Retrying for a moment first keeps a burst of submissions
// and pops out of the kernel.
void lockQuickly(std::unique_lock<std::mutex> &lock)
{
    for (int attempt = 0; attempt < 64; ++attempt) {
        if (lock.try_lock())
            return;
        detail::cpuRelax();
    }
    lock.lock();
}
} // namespace

void ThreadPoolPrivate::recordLocked(detail::JobOutcome outcome)
{
    --runningJobs;
    switch (outcome) {
    case detail::JobOutcome::Succeeded: ++succeeded; break;
    case detail::JobOutcome::Failed: ++failed; break;
    case detail::JobOutcome::Cancelled: ++cancelled; break;
    }
}

void ThreadPoolPrivate::workerLoop()
{
    // Busy time is taken per stretch of back-to-back jobs, not per job: on a
    // virtual machine a clock read can cost as much as a trivial job.
    std::optional<Clock::time_point> busySince;
    std::unique_lock lock(mutex, std::defer_lock);
    lockQuickly(lock);
    for (;;) {
        if (queue.empty()) {
            if (busySince)
                totalRunTime += Clock::now() - *std::exchange(busySince, std::nullopt);
            if (runningJobs == 0)
                idleCv.notify_all();
            if (shuttingDown || liveThreads > maxThreads)
                break; // overflow threads leave as soon as they are idle
            ++spinning;
            lock.unlock();
            spinForWork();
            lockQuickly(lock);
            --spinning;
            if (queue.empty()) {
                if (shuttingDown)
                    break;
                ++sleeping;
                workCv.wait(lock);
                --sleeping;
                continue;
            }
        }
        detail::JobPtr job = std::move(queue.front());
        queue.pop_front();
        queuedHint.fetch_sub(1, std::memory_order_relaxed);
        ++runningJobs;
        ++jobsStarted;
        lock.unlock();

        if (!busySince)
            busySince = Clock::now();
        const detail::JobOutcome outcome = job->run();
        job.reset();

        lockQuickly(lock);
        recordLocked(outcome);
    }
    --liveThreads;
    idleCv.notify_all();
}

void ThreadPoolPrivate::spinForWork() const
{
    const auto spinUntil = Clock::now() + spinBeforeSleep;
    for (;;) {
        for (int i = 0; i < 32; ++i) {
            if (queuedHint.load(std::memory_order_relaxed) != 0 || stopping.load(std::memory_order_relaxed))
                return;
            detail::cpuRelax();
        }
        if (Clock::now() >= spinUntil)
            return;
        // Every worker may spin, so give the core to the submitting thread if it waits for one.
        std::this_thread::yield();
    }
}

void ThreadPoolPrivate::startWorker()
{
    QThread *thread = QThread::create([this] { workerLoop(); });
    {
        std::lock_guard lock(mutex);
        thread->setObjectName(QStringLiteral("QtOffload pool %1 #%2").arg(name).arg(nextThreadIndex++));
        threads.push_back(thread);
    }
    thread->start();
}

void ThreadPoolPrivate::submit(detail::JobPtr job)
{
    std::unique_lock lock(mutex, std::defer_lock);
    lockQuickly(lock);
    if (shuttingDown) {
        lock.unlock();
        job->cancel();
        throw ShutdownError("QtOffload: ThreadPool \"" + name.toStdString() + "\" is shutting down and takes no more jobs");
    }
    queue.push_back(std::move(job));
    queuedHint.fetch_add(1, std::memory_order_relaxed);
    ++submitted;
    const qsizetype waiting = qsizetype(queue.size());
    const bool wake = sleeping > 0 && waiting > spinning;
    bool grow = false;
    if (waiting > idleLocked() && liveThreads < maxThreads) {
        ++liveThreads;
        grow = true;
    }
    const bool starving = !grow && idleLocked() == 0 && liveThreads >= maxThreads;
    if (starving && !monitor && starvationTimeout != Forever) {
        monitor = QThread::create([this] { monitorLoop(); });
        monitor->setObjectName(QStringLiteral("QtOffload pool %1 monitor").arg(name));
        monitor->start();
    }
    lock.unlock();
    if (wake)
        workCv.notify_one();
    if (starving)
        monitorCv.notify_one();
    if (grow)
        startWorker();
}

void ThreadPoolPrivate::monitorLoop()
{
    std::unique_lock lock(mutex);
    while (!shuttingDown) {
        const auto starving = [this] { return !queue.empty() && idleLocked() == 0 && liveThreads >= maxThreads; };
        if (!starving() || starvationTimeout == Forever) {
            monitorCv.wait(lock);
            continue;
        }
        const quint64 progressBefore = jobsStarted;
        monitorCv.wait_for(lock, starvationTimeout);
        if (shuttingDown)
            break;
        if (starving() && jobsStarted == progressBefore && liveThreads < hardThreadCap()) {
            ++liveThreads;
            ++overflowThreads;
            lock.unlock();
            startWorker();
            lock.lock();
        }
    }
}

QStringList ThreadPoolPrivate::shutdown(std::chrono::milliseconds timeout)
{
    std::deque<detail::JobPtr> dropped;
    {
        std::lock_guard lock(mutex);
        shuttingDown = true;
        stopping.store(true);
        dropped.swap(queue);
        queuedHint.store(0);
        cancelled += qint64(dropped.size());
    }
    for (auto &job : dropped)
        job->cancel();
    dropped.clear();
    workCv.notify_all();
    monitorCv.notify_all();

    std::unique_lock lock(mutex);
    const auto done = [this] { return liveThreads == 0; };
    if (timeout == Forever)
        idleCv.wait(lock, done);
    else
        idleCv.wait_for(lock, timeout, done);
    if (!done()) {
        QStringList busy;
        for (QThread *thread : threads) {
            if (!thread->isFinished())
                busy << thread->objectName();
        }
        return busy;
    }
    std::vector<QThread *> joined;
    joined.swap(threads);
    QThread *monitorThread = std::exchange(monitor, nullptr);
    lock.unlock();
    for (QThread *thread : joined) {
        thread->wait();
        delete thread;
    }
    if (monitorThread) {
        monitorThread->wait();
        delete monitorThread;
    }
    return {};
}

bool ThreadPoolPrivate::isWorkerThread() const
{
    std::lock_guard lock(mutex);
    QThread *current = QThread::currentThread();
    return std::find(threads.begin(), threads.end(), current) != threads.end();
}

ThreadPool::ThreadPool(int maxThreads, QObject *parent) : ThreadPool(maxThreads, QString(), parent) {}

ThreadPool::ThreadPool(int maxThreads, const QString &name, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<ThreadPoolPrivate>(maxThreads > 0 ? maxThreads : QThread::idealThreadCount(),
                                            name.isEmpty() ? QString::number(quintptr(this), 16) : name))
{
    setObjectName(QStringLiteral("QtOffload pool %1").arg(d->name));
}

ThreadPool::~ThreadPool()
{
    ThreadPool *self = this;
    s_explicitDefault.compare_exchange_strong(self, nullptr);
    if (d->isWorkerThread()) {
        // Joining ourselves would deadlock; the worker threads are left to end on their own.
        qCritical("QtOffload: ThreadPool \"%s\" destroyed from one of its own workers; its threads are leaked",
                  qPrintable(d->name));
        {
            std::lock_guard lock(d->mutex);
            d->shuttingDown = true;
        }
        d->workCv.notify_all();
        (void)d.release();
        return;
    }
    d->shutdown(Forever);
}

int ThreadPool::maxThreadCount() const noexcept
{
    return d->maxThreads;
}

QString ThreadPool::name() const
{
    return d->name;
}

ThreadPool::Statistics ThreadPool::statistics() const
{
    std::lock_guard lock(d->mutex);
    Statistics stats;
    stats.threads = d->liveThreads;
    stats.submitted = d->submitted;
    stats.succeeded = d->succeeded;
    stats.failed = d->failed;
    stats.cancelled = d->cancelled;
    stats.queued = qint64(d->queue.size());
    stats.running = d->runningJobs;
    stats.overflowThreads = d->overflowThreads;
    stats.totalRunTime = std::chrono::duration_cast<std::chrono::nanoseconds>(d->totalRunTime);
    return stats;
}

std::chrono::milliseconds ThreadPool::starvationTimeout() const noexcept
{
    std::lock_guard lock(d->mutex);
    return d->starvationTimeout;
}

void ThreadPool::setStarvationTimeout(std::chrono::milliseconds timeout)
{
    if (timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("QtOffload::ThreadPool::setStarvationTimeout: the timeout must be positive");
    {
        std::lock_guard lock(d->mutex);
        d->starvationTimeout = timeout;
    }
    d->monitorCv.notify_all();
}

void ThreadPool::submit(detail::JobPtr job)
{
    d->submit(std::move(job));
}

QStringList ThreadPool::shutdown(std::chrono::milliseconds timeout)
{
    if (d->isWorkerThread())
        throw std::logic_error("QtOffload::ThreadPool::shutdown: called from one of the pool's own workers");
    return d->shutdown(timeout);
}

bool ThreadPool::waitForDone(std::chrono::milliseconds timeout) const
{
    if (d->isWorkerThread())
        throw std::logic_error("QtOffload::ThreadPool::waitForDone: called from one of the pool's own workers");
    std::unique_lock lock(d->mutex);
    const auto idle = [this] { return d->queue.empty() && d->runningJobs == 0; };
    if (timeout == Forever) {
        d->idleCv.wait(lock, idle);
        return true;
    }
    return d->idleCv.wait_for(lock, timeout, idle);
}

ThreadPool *ThreadPool::defaultPool()
{
    if (ThreadPool *pool = s_explicitDefault.load(std::memory_order_acquire))
        return pool;
    ProcessPool &process = processPool();
    if (ThreadPool *pool = process.current.load(std::memory_order_acquire))
        return pool;
    std::lock_guard lock(process.mutex);
    if (process.destroyed)
        return nullptr;
    if (!process.pool) {
        process.pool = std::make_unique<ThreadPool>(detail::defaultPoolSize(), QStringLiteral("default"));
        process.current.store(process.pool.get(), std::memory_order_release);
    }
    return process.pool.get();
}

void ThreadPool::setDefault(ThreadPool *pool) noexcept
{
    s_explicitDefault.store(pool, std::memory_order_release);
}

int detail::defaultPoolSize()
{
    bool ok = false;
    const int size = qEnvironmentVariableIntValue("QTOFFLOAD_POOL_SIZE", &ok);
    return ok && size > 0 ? size : QThread::idealThreadCount();
}

ThreadPool *detail::exchangeDefaultPool(ThreadPool *pool) noexcept
{
    return s_explicitDefault.exchange(pool, std::memory_order_acq_rel);
}

} // namespace QtOffload
