// SPDX-License-Identifier: MIT
#include <QtOffload/threadpool.h>

#include "jobthread_p.h"
#include "spin_p.h"
#include "threadpool_p.h"
#include "threadpriority_p.h"

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
    ThreadPoolPrivate(int maxThreads, QString name)
        : name(std::move(name))
        , maxThreads(maxThreads)
    {
    }

    struct WorkerSlot;

    void submit(detail::JobPtr job);
    void workerLoop();
    //! The reserved thread's loop: Interactive jobs only (see JobPriority).
    void reservedLoop();
    //! Runs \a job, taken from a queue under \a lock, with the lock released; counts its outcome.
    void runJob(std::unique_lock<std::mutex> &lock, WorkerSlot &slot, detail::JobPtr job);
    //! The next queued job for a worker, Interactive ones first (see interactiveInARow).
    detail::JobPtr takeQueuedLocked(int &interactiveInARow);
    //! The first job of \a from, one of the two queues; keeps queued up to date.
    detail::JobPtr popLocked(std::deque<detail::JobPtr> &from);
    bool hasQueuedLocked() const { return !queue.empty() || !interactiveQueue.empty(); }
    //! Hands an Interactive job that found no idle worker to the reserved thread; false when it is busy.
    bool wakeReservedThread();
    void monitorLoop();
    void startWorker();
    void spinForWork() const;
    bool claimIdleWorker();
    //! One spinner off the count, if any is on it.
    bool takeSpinner();
    void recordLocked(detail::JobOutcome outcome);
    void takeSubmittedLocked();
    void wakeMonitorIfIdle();
    QStringList shutdown(std::chrono::milliseconds timeout);
    //! Job::requestStop() for every job running now.
    void requestStopOfRunningJobs();
    bool isWorkerThread() const;
    int idle() const { return spinning.load() + sleeping.load(); }
    //! A job was submitted and has not started (or is about to be counted so).
    bool hasWork() const
    {
        return submittedJobs.load(std::memory_order_relaxed) || submittedInteractive.load(std::memory_order_relaxed)
            || queued.load(std::memory_order_relaxed) != 0;
    }
    bool reserveThread(int cap);
    int hardThreadCap() const { return maxThreads * 4 + 16; }

    const QString name;
    const int maxThreads;

    alignas(64) mutable std::mutex mutex;
    std::condition_variable workCv; // sleeping workers
    std::condition_variable idleCv; // waitForDone() and shutdown()
    std::condition_variable monitorCv; // the starvation monitor
    // Submission: submit() pushes onto a lock-free list (newest first) with
    // one compare-and-swap and never takes the workers' mutex, except to
    // wake a sleeping worker; a worker moves the whole list, oldest first,
    // to the job queue under the mutex. submitting counts the submit() calls
    // between their stopping check and their push, so that shutdown() can
    // wait for them and then cancel everything that was pushed.
    // Each on a cache line of its own: the submitting thread and the workers
    // write them from different cores.
    alignas(64) std::atomic<detail::Job *> submittedJobs { nullptr };
    // Interactive jobs, pushed the same way onto a list of their own.
    alignas(64) std::atomic<detail::Job *> submittedInteractive { nullptr };
    alignas(64) std::atomic<int> submitting { 0 };
    std::atomic<bool> stopping { false };
    alignas(64) std::deque<detail::JobPtr> queue;
    std::deque<detail::JobPtr> interactiveQueue;
    // Both queues' sizes, for the readers that do not take the lock; only workers write it.
    std::atomic<qsizetype> queued { 0 };

    std::vector<QThread *> threads; // every worker ever started and not yet joined, the reserved thread too
    // What a worker runs, for shutdown()'s stop requests. The worker sets it
    // under the mutex as it takes a job; after the job it gives the job back
    // before destroying it, which waits while a shutdown has it claimed.
    struct WorkerSlot
    {
        std::atomic<detail::Job *> running { nullptr };
        //! A mark that is never a job: the slot's job is being asked to stop.
        detail::Job *stopMark() { return reinterpret_cast<detail::Job *>(this); }
        //! Takes the running job, if any, for a stop request; give it back with running.store(job).
        bool claimForStop(detail::Job *&job);
        //! The worker is done with \a job.
        void release(detail::Job *job);
    };
    std::vector<WorkerSlot *> workerSlots; // guarded by mutex, one per live worker
    QThread *monitor = nullptr;
    // The reserved thread, under the mutex. Woken is a hand-over: a submit()
    // that saw it Sleeping has its job taken by it, so a second Interactive
    // job does not count on it before it is Busy again.
    enum class ReservedState { NotStarted, Busy, Sleeping, Woken, Finished };
    ReservedState reservedState = ReservedState::NotStarted;
    std::condition_variable reservedCv;
    // The workers' priority; each takes it on before its next job.
    std::atomic<ThreadPriority> threadPriority { ThreadPriority::Normal };
    const detail::BaseScheduling baseScheduling = detail::BaseScheduling::ofCurrentThread();
    std::atomic<bool> monitorStarted { false };
    std::atomic<bool> monitorMayBeIdle { false }; // the monitor waits for a starvation to begin
    // Written under the mutex, read by submit() without it.
    alignas(64) std::atomic<int> liveThreads { 0 };
    // Idle workers that no submitted job has claimed yet. A submit() claims
    // one for its job (a spinner first: it needs no wake-up) or, when there
    // is none, starts a thread; so a worker that was woken but has not run
    // yet is never counted as free for the next job, however long the
    // kernel takes to schedule it (on a loaded machine, a whole long job).
    // spinning is claimed without a lock; a spinner that finds work takes
    // itself off unless a claim already did, so it may briefly count one
    // spinner too few, never one too many, and spinners poll anyway.
    // sleeping changes only under the mutex: a claim of a sleeper leaves a
    // wake ticket, which the first sleeper to wake takes instead of taking
    // itself off the count, so sleeping is exact.
    std::atomic<int> spinning { 0 };
    std::atomic<int> sleeping { 0 };
    int wakeTickets = 0;
    int runningJobs = 0;
    int nextThreadIndex = 1;
    bool shuttingDown = false;
    quint64 jobsStarted = 0; // progress, for starvation detection
    std::chrono::milliseconds starvationTimeout { 500 };

    alignas(64) qint64 succeeded = 0;
    qint64 failed = 0;
    qint64 cancelled = 0;
    qint64 overflowThreads = 0;
    Clock::duration totalRunTime { 0 };
};

namespace {
std::atomic<ThreadPool *> s_explicitDefault { nullptr };

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
    std::atomic<ThreadPool *> current { nullptr };
    bool destroyed = false;
};

ProcessPool &processPool()
{
    static ProcessPool instance;
    return instance;
}

// How many Interactive jobs in a row a worker takes while Normal jobs wait:
// what bounds the delay a stream of Interactive jobs can cause Normal ones.
constexpr int maxInteractiveInARow = 4;

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
    case detail::JobOutcome::Succeeded:
        ++succeeded;
        break;
    case detail::JobOutcome::Failed:
        ++failed;
        break;
    case detail::JobOutcome::Cancelled:
        ++cancelled;
        break;
    }
}

bool ThreadPoolPrivate::WorkerSlot::claimForStop(detail::Job *&job)
{
    job = running.load();
    return job && job != stopMark() && running.compare_exchange_strong(job, stopMark());
}

void ThreadPoolPrivate::WorkerSlot::release(detail::Job *job)
{
    detail::Job *expected = job;
    // A shutdown that claimed the job calls its requestStop(): the job lives until it gives it back.
    while (!running.compare_exchange_weak(expected, nullptr)) {
        expected = job;
        std::this_thread::yield();
    }
}

void ThreadPoolPrivate::workerLoop()
{
    const detail::RunningJobScope runningJob; // between jobs it runs no event loop either
    WorkerSlot slot;
    ThreadPriority priority = ThreadPriority::Normal;
    bool retiring = false; // it could not take on the pool's priority: it leaves when idle
    // Busy time is taken per stretch of back-to-back jobs, not per job: on a
    // virtual machine a clock read can cost as much as a trivial job.
    std::optional<Clock::time_point> busySince;
    int interactiveInARow = 0;
    std::unique_lock lock(mutex, std::defer_lock);
    lockQuickly(lock);
    workerSlots.push_back(&slot);
    for (;;) {
        if (!hasQueuedLocked())
            takeSubmittedLocked();
        if (!hasQueuedLocked()) {
            if (busySince)
                totalRunTime += Clock::now() - *std::exchange(busySince, std::nullopt);
            if (runningJobs == 0)
                idleCv.notify_all();
            if (shuttingDown || retiring || liveThreads.load() > maxThreads)
                break; // overflow threads leave as soon as they are idle
            spinning.fetch_add(1);
            lock.unlock();
            spinForWork();
            (void)takeSpinner(); // unless a claim took this spinner off already
            lockQuickly(lock);
            takeSubmittedLocked();
            if (!hasQueuedLocked()) {
                if (shuttingDown)
                    break;
                // Counted as sleeping before it looks at the list once more: a
                // submit() that pushed before claims us under the mutex, which
                // we hold until wait() releases it, and wakes us.
                sleeping.fetch_add(1);
                if (submittedJobs.load() == nullptr && submittedInteractive.load() == nullptr)
                    workCv.wait(lock);
                if (wakeTickets > 0)
                    --wakeTickets; // a claim already took one sleeper off the count
                else
                    sleeping.fetch_sub(1);
                continue;
            }
        }
        if (const auto wanted = threadPriority.load(std::memory_order_relaxed); wanted != priority) {
            // Before a job is taken: a taken job is counted as running, and waitForDone() must not miss it.
            lock.unlock(); // a system call
            retiring = !detail::applyThreadPriority(wanted, baseScheduling);
            priority = wanted;
            lockQuickly(lock);
            continue; // the queues may have changed meanwhile
        }
        detail::JobPtr job = takeQueuedLocked(interactiveInARow);
        if (!busySince)
            busySince = Clock::now();
        runJob(lock, slot, std::move(job));
    }
    std::erase(workerSlots, &slot);
    --liveThreads;
    idleCv.notify_all();
}

void ThreadPoolPrivate::reservedLoop()
{
    const detail::RunningJobScope runningJob;
    WorkerSlot slot;
    // Started by whichever thread submitted, possibly a Background worker.
    (void)detail::applyThreadPriority(ThreadPriority::Normal, baseScheduling);
    std::unique_lock lock(mutex);
    workerSlots.push_back(&slot);
    for (;;) {
        takeSubmittedLocked();
        if (!interactiveQueue.empty()) {
            reservedState = ReservedState::Busy;
            detail::JobPtr job = popLocked(interactiveQueue);
            const auto start = Clock::now(); // Interactive jobs are few: a clock read each is cheap
            runJob(lock, slot, std::move(job));
            totalRunTime += Clock::now() - start;
            continue;
        }
        if (runningJobs == 0)
            idleCv.notify_all();
        if (shuttingDown)
            break;
        // A submit() that pushed before sees Sleeping under the mutex, after this looked at the list.
        reservedState = ReservedState::Sleeping;
        reservedCv.wait(lock, [this] { return reservedState == ReservedState::Woken || shuttingDown; });
    }
    reservedState = ReservedState::Finished;
    std::erase(workerSlots, &slot);
    idleCv.notify_all();
}

void ThreadPoolPrivate::runJob(std::unique_lock<std::mutex> &lock, WorkerSlot &slot, detail::JobPtr job)
{
    ++runningJobs;
    ++jobsStarted;
    slot.running.store(job.get(), std::memory_order_relaxed); // under the mutex, for shutdown()
    lock.unlock();
    const detail::JobOutcome outcome = job->run();
    slot.release(job.get());
    job.reset();
    lockQuickly(lock);
    recordLocked(outcome);
}

detail::JobPtr ThreadPoolPrivate::takeQueuedLocked(int &interactiveInARow)
{
    const bool interactive = !interactiveQueue.empty() && (queue.empty() || interactiveInARow < maxInteractiveInARow);
    interactiveInARow = interactive ? interactiveInARow + 1 : 0;
    return popLocked(interactive ? interactiveQueue : queue);
}

detail::JobPtr ThreadPoolPrivate::popLocked(std::deque<detail::JobPtr> &from)
{
    detail::JobPtr job = std::move(from.front());
    from.pop_front();
    queued.store(qsizetype(queue.size() + interactiveQueue.size()), std::memory_order_relaxed);
    return job;
}

void ThreadPoolPrivate::spinForWork() const
{
    detail::spinFor(spinBeforeSleep, [this] { return hasWork() || stopping.load(std::memory_order_relaxed); });
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

void ThreadPoolPrivate::takeSubmittedLocked()
{
    const auto takeList = [](std::atomic<detail::Job *> &list, std::deque<detail::JobPtr> &into) {
        if (!list.load(std::memory_order_relaxed))
            return; // a read of a line nobody writes costs nothing, an exchange takes it from the submitter
        detail::Job *newestFirst = list.exchange(nullptr, std::memory_order_acquire);
        detail::Job *oldestFirst = nullptr;
        while (newestFirst)
            oldestFirst = std::exchange(newestFirst, std::exchange(newestFirst->nextSubmitted, oldestFirst));
        while (oldestFirst)
            into.emplace_back(std::exchange(oldestFirst, std::exchange(oldestFirst->nextSubmitted, nullptr)));
    };
    takeList(submittedJobs, queue);
    takeList(submittedInteractive, interactiveQueue);
    queued.store(qsizetype(queue.size() + interactiveQueue.size()), std::memory_order_relaxed);
}

bool ThreadPoolPrivate::reserveThread(int cap)
{
    int live = liveThreads.load();
    while (live < cap) {
        if (liveThreads.compare_exchange_weak(live, live + 1))
            return true;
    }
    return false;
}

void ThreadPoolPrivate::submit(detail::JobPtr job)
{
    submitting.fetch_add(1);
    if (stopping.load()) {
        submitting.fetch_sub(1);
        job->cancel();
        throw ShutdownError("QtOffload: ThreadPool \"" + name.toStdString()
                            + "\" is shutting down and takes no more jobs");
    }
    const bool interactive = job->priority == JobPriority::Interactive;
    std::atomic<detail::Job *> &list = interactive ? submittedInteractive : submittedJobs;
    detail::Job *raw = job.release();
    raw->nextSubmitted = list.load(std::memory_order_relaxed);
    while (!list.compare_exchange_weak(raw->nextSubmitted, raw))
        ;
    submitting.fetch_sub(1);
    if (claimIdleWorker())
        return;
    if (interactive && wakeReservedThread())
        return;
    if (reserveThread(maxThreads))
        startWorker();
    else
        wakeMonitorIfIdle(); // every thread busy and work waiting: a starvation may begin
}

bool ThreadPoolPrivate::claimIdleWorker()
{
    if (takeSpinner())
        return true; // it polls the list: no wake-up needed
    if (sleeping.load() == 0)
        return false;
    {
        std::lock_guard lock(mutex);
        if (sleeping.load(std::memory_order_relaxed) == 0)
            return false;
        sleeping.fetch_sub(1);
        ++wakeTickets;
    }
    workCv.notify_one();
    return true;
}

bool ThreadPoolPrivate::wakeReservedThread()
{
    std::unique_lock lock(mutex);
    switch (reservedState) {
    case ReservedState::NotStarted: {
        if (shuttingDown)
            return false;
        reservedState = ReservedState::Busy; // it looks at the list before it first sleeps
        auto *thread = QThread::create([this] { reservedLoop(); });
        thread->setObjectName(QStringLiteral("QtOffload pool %1 interactive").arg(name));
        threads.push_back(thread);
        lock.unlock();
        thread->start();
        return true;
    }
    case ReservedState::Sleeping:
        reservedState = ReservedState::Woken;
        lock.unlock();
        reservedCv.notify_one();
        return true;
    case ReservedState::Woken:
        return true; // it empties the Interactive queue before it sleeps again
    case ReservedState::Busy:
    case ReservedState::Finished:
        return false; // busy: a worker may be free sooner
    }
    return false;
}

bool ThreadPoolPrivate::takeSpinner()
{
    int spinners = spinning.load();
    while (spinners > 0) {
        if (spinning.compare_exchange_weak(spinners, spinners - 1))
            return true;
    }
    return false;
}

void ThreadPoolPrivate::wakeMonitorIfIdle()
{
    // Nothing is locked while the monitor already watches (a burst keeps every
    // thread busy): it counts itself idle before it looks for a starvation, and
    // this looks after pushing the job (seq_cst), so one of the two sees the other.
    if (monitorStarted.load() && !monitorMayBeIdle.load())
        return;
    std::lock_guard lock(mutex);
    if (!monitor && starvationTimeout != Forever && !shuttingDown) {
        monitor = QThread::create([this] { monitorLoop(); });
        monitor->setObjectName(QStringLiteral("QtOffload pool %1 monitor").arg(name));
        monitor->start();
        monitorStarted.store(true);
    }
    monitorCv.notify_one();
}

void ThreadPoolPrivate::monitorLoop()
{
    std::unique_lock lock(mutex);
    while (!shuttingDown) {
        // Work waits and no worker is free for it, and none has started a job
        // for a whole timeout (one may wait for a job queued behind it). The
        // rescue starts a thread: a regular one while the pool is below
        // maxThreads (submit() grows it too, but a thread may have left
        // meanwhile), past it an overflow thread.
        const auto starving = [this] { return hasWork() && idle() == 0; };
        monitorMayBeIdle.store(true);
        if (!starving() || starvationTimeout == Forever) {
            monitorCv.wait(lock);
            continue;
        }
        monitorMayBeIdle.store(false);
        const quint64 progressBefore = jobsStarted;
        monitorCv.wait_for(lock, starvationTimeout);
        if (shuttingDown)
            break;
        if (!starving() || jobsStarted != progressBefore)
            continue;
        const bool belowMaximum = reserveThread(maxThreads);
        if (!belowMaximum && !reserveThread(hardThreadCap()))
            continue;
        if (!belowMaximum)
            ++overflowThreads;
        lock.unlock();
        startWorker();
        lock.lock();
    }
}

QStringList ThreadPoolPrivate::shutdown(std::chrono::milliseconds timeout)
{
    std::deque<detail::JobPtr> dropped;
    stopping.store(true);
    // A submit() that saw stopping false is about to push: let it, then cancel that job too.
    while (submitting.load() != 0)
        std::this_thread::yield();
    {
        std::lock_guard lock(mutex);
        shuttingDown = true;
        takeSubmittedLocked();
        dropped.swap(queue);
        std::ranges::move(interactiveQueue, std::back_inserter(dropped));
        interactiveQueue.clear();
        queued.store(0, std::memory_order_relaxed);
        cancelled += qint64(dropped.size());
    }
    for (auto &job : dropped)
        job->cancel();
    dropped.clear();
    requestStopOfRunningJobs();
    workCv.notify_all();
    monitorCv.notify_all();
    reservedCv.notify_all();

    std::unique_lock lock(mutex);
    const auto done = [this] {
        return liveThreads.load() == 0
            && (reservedState == ReservedState::NotStarted || reservedState == ReservedState::Finished);
    };
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

void ThreadPoolPrivate::requestStopOfRunningJobs()
{
    // The running jobs are asked to stop as a separate thread's job is: a
    // producer closes its stream, so one blocked on a full buffer returns
    // (its consumer may be the very thread that is destroying this pool); a
    // job taking a StopToken or a JobControl sees its stop requested. After
    // the queue is cancelled, so that a worker they free takes no queued job.
    std::vector<std::pair<WorkerSlot *, detail::Job *>> claimed;
    {
        std::lock_guard lock(mutex);
        for (WorkerSlot *slot : workerSlots) {
            detail::Job *job = nullptr;
            if (slot->claimForStop(job))
                claimed.emplace_back(slot, job);
        }
    }
    // Outside the mutex: a stop may run a producer's close(), which schedules its consumer.
    for (const auto &[slot, job] : claimed) {
        job->requestStop();
        slot->running.store(job);
    }
}

bool ThreadPoolPrivate::isWorkerThread() const
{
    std::lock_guard lock(mutex);
    QThread *current = QThread::currentThread();
    return std::ranges::find(threads, current) != threads.end();
}

ThreadPool::ThreadPool(int maxThreads, QObject *parent)
    : ThreadPool(maxThreads, QString(), parent)
{
}

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
            d->stopping.store(true);
        }
        d->workCv.notify_all();
        d->reservedCv.notify_all();
        (void)d.release();
        return;
    }
    d->shutdown(Forever);
}

int ThreadPool::maxThreadCount() const noexcept { return d->maxThreads; }

QString ThreadPool::name() const { return d->name; }

ThreadPool::Statistics ThreadPool::statistics() const
{
    std::lock_guard lock(d->mutex);
    Statistics stats;
    stats.threads = d->liveThreads.load();
    d->takeSubmittedLocked();
    stats.queued = qint64(d->queue.size() + d->interactiveQueue.size());
    // Every job accepted is queued, running, or was counted when it ended.
    stats.submitted = d->succeeded + d->failed + d->cancelled + stats.queued + d->runningJobs;
    stats.succeeded = d->succeeded;
    stats.failed = d->failed;
    stats.cancelled = d->cancelled;
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

ThreadPriority ThreadPool::threadPriority() const noexcept { return d->threadPriority.load(); }

void ThreadPool::setThreadPriority(ThreadPriority priority)
{
    if (d->threadPriority.exchange(priority) != priority)
        Q_EMIT threadPriorityChanged(priority);
}

void ThreadPool::submit(detail::JobPtr job) { d->submit(std::move(job)); }

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
    const auto idle = [this] { return !d->hasWork() && d->runningJobs == 0; };
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

void ThreadPool::setDefault(ThreadPool *pool) noexcept { s_explicitDefault.store(pool, std::memory_order_release); }

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
