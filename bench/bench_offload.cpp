// SPDX-License-Identifier: MIT
// One run, QtOffload side by side with Qt's own way of doing the same thing.
// Each figure: one warm-up, then the median of REPS repetitions.
//
// Every method is measured alone, in a process of its own that this one
// starts: no pool of another method is alive, spinning or sleeping, while it
// is timed (on a VM an idle thread's wake-up costs 40-100 us, a busy core's
// 5-8 us, so one method's threads would change the other's figures).
//
// Usage: bench_offload [--load N] [repetitions]             the whole table
//        bench_offload [--load N] --measure NAME [reps]    one method; prints its figures
//        bench_offload --load-table ROUNDS [reps]           the pairs that must hold under load, at 0, 1 and 2
//                                                           busy processes, medians and ratios
// --load N runs N busy processes (a CPU-bound loop each) beside the
// measurements, as on a user's desktop where a browser, a compile or an
// indexer shares the cores; they end with this process.

#include "roundtrip.h"

#include <QtOffload/QtOffload>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QFutureWatcher>
#include <QtCore/QMap>
#include <QtCore/QProcess>
#include <QtCore/QPromise>
#include <QtCore/QSysInfo>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

using namespace QtOffload;
using Clock = std::chrono::steady_clock;

namespace {

int repetitions = 5;

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

//! Warm-up once, then the median of the repetitions; \a run returns a figure.
double measure(const std::function<double()> &run)
{
    run();
    std::vector<double> figures;
    for (int i = 0; i < repetitions; ++i)
        figures.push_back(run());
    return median(figures);
}

double nanosecondsSince(Clock::time_point start, int count)
{
    return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / count;
}

//! The longest lateness of a 1 ms timer on this thread while \a work runs its event loop.
class StallMeter
{
public:
    StallMeter()
    {
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_worst = std::max(m_worst, now - m_last - 1'000'000);
            m_gaps.push_back(now - m_last);
            m_last = now;
        });
        m_timer.setTimerType(Qt::PreciseTimer);
        m_clock.start();
        m_last = m_clock.nsecsElapsed();
        m_timer.start(1);
    }
    double worstMs() const { return double(m_worst) / 1e6; }
    //! The longest gap between two ticks, and the 99th percentile of the gaps.
    double longestGapMs() const
    {
        return m_gaps.empty() ? 0 : double(*std::max_element(m_gaps.begin(), m_gaps.end())) / 1e6;
    }
    //! The longest gap, counting the one still open now (a stream that never let the timer fire has only that).
    double longestGapUntilNowMs() const
    {
        return std::max(longestGapMs(), double(m_clock.nsecsElapsed() - m_last) / 1e6);
    }
    double p99GapMs() const
    {
        if (m_gaps.empty())
            return 0;
        std::vector<qint64> sorted = m_gaps;
        std::sort(sorted.begin(), sorted.end());
        return double(sorted[sorted.size() * 99 / 100]) / 1e6;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_worst = 0;
    std::vector<qint64> m_gaps;
};

//! Keeps the calling thread's core busy for \a duration, as a job that computes would.
void busyFor(std::chrono::microseconds duration)
{
    const auto until = Clock::now() + duration;
    while (Clock::now() < until) { }
}

/*!
  A view that offloads \a jobs jobs of \a work each, 50 per event-loop turn,
  and takes every result back on its own thread through \a submit(i, onResult).
  Returns the longest and the 99th-percentile gap between its 1 ms timer's
  ticks, and the total time, in ms.
*/
template<typename Submit> std::vector<double> resultGrid(int jobs, Submit submit)
{
    constexpr int perTurn = 50;
    QEventLoop loop;
    StallMeter stall;
    int delivered = 0;
    int submitted = 0;
    const auto start = Clock::now();
    std::function<void()> submitSome = [&] {
        for (int i = 0; i < perTurn && submitted < jobs; ++i, ++submitted) {
            submit(submitted, [&] {
                if (++delivered == jobs)
                    loop.quit();
            });
        }
        if (submitted < jobs)
            QTimer::singleShot(0, &loop, submitSome);
    };
    QTimer::singleShot(0, &loop, submitSome);
    loop.exec();
    const double totalMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return { stall.longestGapMs(), stall.p99GapMs(), totalMs };
}

//! The grid with threaded() + whenFinished(), the pool's workers at \a priority.
std::vector<double> threadedGrid(int jobs, std::chrono::microseconds work,
                                 ThreadPriority priority = ThreadPriority::Normal)
{
    ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
    pool.setThreadPriority(priority);
    QObject context;
    auto job = threaded(&pool, [work](int i) {
        busyFor(work);
        return i;
    });
    return resultGrid(jobs, [&](int i, std::function<void()> onResult) {
        whenFinished(job(i), &context, [onResult = std::move(onResult)](int) { onResult(); });
    });
}

//! The grid with QtConcurrent::run() + a QFutureWatcher per job.
std::vector<double> concurrentGrid(int jobs, std::chrono::microseconds work)
{
    QObject context;
    return resultGrid(jobs, [&](int i, std::function<void()> onResult) {
        auto *watcher = new QFutureWatcher<int>(&context);
        QObject::connect(watcher, &QFutureWatcher<int>::finished, &context, [watcher, onResult = std::move(onResult)] {
            watcher->deleteLater();
            onResult();
        });
        watcher->setFuture(QtConcurrent::run([work, i] {
            busyFor(work);
            return i;
        }));
    });
}

/*!
  The latency lane: a pool of idealThreadCount() threads gets twice as many
  CPU-bound bulk jobs of 2 s as it has threads, so every thread is busy for
  4 s; meanwhile a short interactive job is submitted every 10 ms for 3 s.
  \a startBulk and \a startInteractive submit a job each. Returns the
  interactive jobs' start delays (submission to start) at p50, p99 and the
  longest, in ms.
*/
constexpr auto bulkJobLength = std::chrono::seconds(2);
constexpr int interactiveJobs = 300;
constexpr auto interactiveEvery = std::chrono::milliseconds(10);

template<typename StartBulk, typename StartInteractive>
std::vector<double> interactiveDelays(StartBulk startBulk, StartInteractive startInteractive)
{
    const int threads = QThread::idealThreadCount();
    std::atomic<int> bulkDone { 0 };
    for (int i = 0; i < 2 * threads; ++i) {
        startBulk([&bulkDone] {
            busyFor(bulkJobLength);
            ++bulkDone;
        });
    }
    std::vector<std::atomic<qint64>> delays(interactiveJobs);
    std::atomic<int> interactiveDone { 0 };
    auto next = Clock::now();
    for (int i = 0; i < interactiveJobs; ++i, next += interactiveEvery) {
        std::this_thread::sleep_until(next);
        const auto submitted = Clock::now();
        startInteractive([&delays, &interactiveDone, submitted, i] {
            delays[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - submitted).count();
            ++interactiveDone;
        });
    }
    while (interactiveDone.load() < interactiveJobs || bulkDone.load() < 2 * threads)
        std::this_thread::sleep_for(std::chrono::milliseconds(10)); // the pools' own waits differ: poll both alike
    std::vector<double> sorted;
    for (const auto &delay : delays)
        sorted.push_back(double(delay.load()) / 1e6);
    std::sort(sorted.begin(), sorted.end());
    return { sorted[sorted.size() / 2], sorted[sorted.size() * 99 / 100], sorted.back() };
}

std::vector<double> interactiveOnThreadPool()
{
    ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
    return interactiveDelays(
        [&](std::function<void()> job) { pool.start(std::move(job)); },
        [&](std::function<void()> job) { (void)pool.run(JobPriority::Interactive, std::move(job)); });
}

std::vector<double> interactiveOnQThreadPool()
{
    QThreadPool pool;
    pool.setMaxThreadCount(QThread::idealThreadCount());
    return interactiveDelays([&](std::function<void()> job) { pool.start(std::move(job)); },
                             [&](std::function<void()> job) { pool.start(std::move(job), INT_MAX); });
}

/*!
  A slow consumer: 60 chunks produced at once into a buffer that holds them
  all (maxSize 64), each costing its handler 5 ms, as appending to a text
  view does. Returns the longest gap between the consumer thread's 1 ms timer
  ticks while the stream runs, and the total time, in ms.
*/
constexpr int slowChunks = 60;
constexpr auto slowHandler = std::chrono::milliseconds(5);

std::vector<double> slowConsumerGenerator()
{
    QEventLoop loop;
    auto generator = threadedIterable(
        [](Sink<int> &out) {
            for (int i = 0; i < slowChunks; ++i)
                out.yield(i);
        },
        64)();
    std::optional<StallMeter> stall;
    int delivered = 0;
    generator->onChunk(&loop, [&](const int &) {
        if (delivered++ == 0)
            stall.emplace();
        busyFor(slowHandler);
    });
    QObject::connect(generator.get(), &QtGenerator::finished, &loop, &QEventLoop::quit);
    const auto start = Clock::now();
    loop.exec();
    return { stall->longestGapUntilNowMs(), std::chrono::duration<double, std::milli>(Clock::now() - start).count() };
}

std::vector<double> slowConsumerPromise()
{
    QEventLoop loop;
    QFutureWatcher<int> watcher;
    std::optional<StallMeter> stall;
    int delivered = 0;
    QObject::connect(&watcher, &QFutureWatcher<int>::resultsReadyAt, &loop, [&](int begin, int end) {
        for (int i = begin; i < end; ++i) {
            if (delivered++ == 0)
                stall.emplace();
            busyFor(slowHandler);
        }
    });
    QObject::connect(&watcher, &QFutureWatcher<int>::finished, &loop, &QEventLoop::quit);
    const auto start = Clock::now();
    watcher.setFuture(QtConcurrent::run([](QPromise<int> &promise) {
        for (int i = 0; i < slowChunks; ++i)
            promise.addResult(i);
    }));
    loop.exec();
    return { stall->longestGapUntilNowMs(), std::chrono::duration<double, std::milli>(Clock::now() - start).count() };
}

constexpr int burstJobs = 200'000;

//! Reads every result (so none is optimised away) and returns the time per job since \a start.
double readAllResults(const std::vector<QFuture<int>> &futures, Clock::time_point start)
{
    long long sum = 0;
    for (const auto &future : futures)
        sum += future.result();
    if (sum == 42)
        std::puts("");
    return nanosecondsSince(start, burstJobs);
}

double threadedBurst(ThreadPool &pool)
{
    auto add = threaded(&pool, [](int x) { return x + 1; });
    const auto start = Clock::now();
    std::vector<QFuture<int>> futures;
    futures.reserve(burstJobs);
    for (int i = 0; i < burstJobs; ++i)
        futures.push_back(add(i));
    return readAllResults(futures, start);
}

//! The floor under both: one QFutureInterface created, fulfilled and read, all on this thread.
double futureAloneBurst()
{
    const auto start = Clock::now();
    std::vector<QFuture<int>> futures;
    futures.reserve(burstJobs);
    for (int i = 0; i < burstJobs; ++i) {
        QFutureInterface<int> promise(
            QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
        promise.reportAndMoveResult(i + 1);
        promise.reportFinished();
        futures.push_back(promise.future());
    }
    return readAllResults(futures, start);
}

double concurrentBurst()
{
    const auto start = Clock::now();
    std::vector<QFuture<int>> futures;
    futures.reserve(burstJobs);
    for (int i = 0; i < burstJobs; ++i)
        futures.push_back(QtConcurrent::run([i] { return i + 1; }));
    return readAllResults(futures, start);
}

double poolStartBurst(ThreadPool &pool)
{
    std::atomic<long long> sum { 0 };
    const auto start = Clock::now();
    for (int i = 0; i < burstJobs; ++i)
        pool.start([i, &sum] { sum.fetch_add(i + 1, std::memory_order_relaxed); });
    pool.waitForDone();
    return nanosecondsSince(start, burstJobs);
}

double rawStartBurst()
{
    std::atomic<long long> sum { 0 };
    const auto start = Clock::now();
    for (int i = 0; i < burstJobs; ++i)
        QThreadPool::globalInstance()->start([i, &sum] { sum.fetch_add(i + 1, std::memory_order_relaxed); });
    QThreadPool::globalInstance()->waitForDone();
    return nanosecondsSince(start, burstJobs);
}

constexpr int roundTrips = 5'000;

constexpr int blockingCalls = 10'000;

//! A worker calls into the main thread blockingCalls times; the main loop serves them.
template<typename Call> double blockingRoundTrip(QObject *context, Call call)
{
    QEventLoop loop;
    double result = 0;
    QThread *worker = QThread::create([&] {
        const auto start = Clock::now();
        int sum = 0;
        for (int i = 0; i < blockingCalls; ++i)
            sum += call(context, i);
        result = nanosecondsSince(start, blockingCalls);
        if (sum == 42)
            std::puts("");
        QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection);
    });
    worker->start();
    loop.exec();
    worker->wait();
    delete worker;
    return result;
}

constexpr int streamItems = 1'000'000;

struct StreamFigures
{
    double nsPerItem = 0;
    double worstStallMs = 0;
};

StreamFigures generatorStream(qsizetype maxSize)
{
    StallMeter stall;
    QEventLoop loop;
    auto generator = threadedIterable(
        [](Sink<int> &out) {
            for (int i = 0; i < streamItems; ++i) {
                if (!out.yield(i))
                    return;
            }
        },
        maxSize)();
    long long sum = 0;
    generator->onChunk(&loop, [&sum](const int &value) { sum += value; });
    QObject::connect(generator.get(), &QtGenerator::finished, &loop, &QEventLoop::quit);
    const auto start = Clock::now();
    loop.exec();
    const double ns = nanosecondsSince(start, streamItems);
    if (sum != (long long)streamItems * (streamItems - 1) / 2)
        qFatal("generator stream lost items");
    return { ns, stall.worstMs() };
}

StreamFigures promiseStream()
{
    StallMeter stall;
    QEventLoop loop;
    QFutureWatcher<int> watcher;
    long long sum = 0;
    QObject::connect(&watcher, &QFutureWatcher<int>::resultsReadyAt, &loop, [&](int begin, int end) {
        for (int i = begin; i < end; ++i)
            sum += watcher.resultAt(i);
    });
    QObject::connect(&watcher, &QFutureWatcher<int>::finished, &loop, &QEventLoop::quit);
    const auto start = Clock::now();
    watcher.setFuture(QtConcurrent::run([](QPromise<int> &promise) {
        for (int i = 0; i < streamItems; ++i)
            promise.addResult(i);
    }));
    loop.exec();
    const double ns = nanosecondsSince(start, streamItems);
    if (sum != (long long)streamItems * (streamItems - 1) / 2)
        qFatal("QPromise stream lost items");
    return { ns, stall.worstMs() };
}

// 1 GiB in 64 KiB chunks. Each chunk owns its buffer and counts the bytes
// alive, so the figure is what the stream holds, not what malloc kept.
constexpr qsizetype chunkBytes = 64 * 1024;
constexpr int gibChunks = 16 * 1024;
std::atomic<qint64> s_liveBytes { 0 };
std::atomic<qint64> s_peakLiveBytes { 0 };

void countLiveBytes(qint64 delta)
{
    const qint64 now = s_liveBytes.fetch_add(delta) + delta;
    qint64 peak = s_peakLiveBytes.load();
    while (now > peak && !s_peakLiveBytes.compare_exchange_weak(peak, now)) { }
}

class Chunk
{
public:
    Chunk() = default;
    explicit Chunk(int seed)
        : m_bytes(chunkBytes, char(seed))
    {
        countLiveBytes(qint64(m_bytes.capacity()));
    }
    Chunk(const Chunk &other)
        : m_bytes(other.m_bytes)
    {
        countLiveBytes(qint64(m_bytes.capacity()));
    }
    Chunk(Chunk &&other) noexcept
        : m_bytes(std::exchange(other.m_bytes, {}))
    {
    }
    Chunk &operator=(Chunk other) noexcept
    {
        countLiveBytes(-qint64(m_bytes.capacity()));
        m_bytes = std::exchange(other.m_bytes, {});
        return *this;
    }
    ~Chunk() { countLiveBytes(-qint64(m_bytes.capacity())); }
    char first() const { return m_bytes.empty() ? 0 : m_bytes.front(); }

private:
    std::vector<char> m_bytes;
};

struct GibFigures
{
    double mibPerSecond = 0;
    double peakMib = 0;
    double worstStallMs = 0;
};

template<typename Stream> GibFigures gibStream(Stream stream)
{
    s_peakLiveBytes.store(s_liveBytes.load());
    StallMeter stall;
    const auto start = Clock::now();
    const long long sum = stream();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    long long expected = 0;
    for (int i = 0; i < gibChunks; ++i)
        expected += char(i);
    if (sum != expected)
        qFatal("1 GiB stream lost chunks");
    return { 1024.0 / seconds, double(s_peakLiveBytes.load()) / (1024.0 * 1024.0), stall.worstMs() };
}

long long generatorGib(qsizetype maxSize)
{
    QEventLoop loop;
    auto generator = threadedIterable(
        [](Sink<Chunk> &out) {
            for (int i = 0; i < gibChunks; ++i) {
                if (!out.yield(Chunk(i)))
                    return;
            }
        },
        maxSize)();
    long long sum = 0;
    generator->onChunk(&loop, [&sum](const Chunk &chunk) { sum += chunk.first(); });
    QObject::connect(generator.get(), &QtGenerator::finished, &loop, &QEventLoop::quit);
    loop.exec();
    return sum;
}

long long promiseGib()
{
    QEventLoop loop;
    QFutureWatcher<Chunk> watcher;
    long long sum = 0;
    QObject::connect(&watcher, &QFutureWatcher<Chunk>::resultsReadyAt, &loop, [&](int begin, int end) {
        for (int i = begin; i < end; ++i)
            sum += watcher.resultAt(i).first();
    });
    QObject::connect(&watcher, &QFutureWatcher<Chunk>::finished, &loop, &QEventLoop::quit);
    watcher.setFuture(QtConcurrent::run([](QPromise<Chunk> &promise) {
        for (int i = 0; i < gibChunks; ++i)
            promise.addResult(Chunk(i));
    }));
    loop.exec();
    return sum;
}

//! The two-thread floor: futures made here, fulfilled on one other thread
//! through the simplest hand-off there is (a single-producer,
//! single-consumer ring), and read here. What any pool must at least pay.
double futureHandOffBurst()
{
    constexpr int ringSize = 1024;
    std::vector<QFutureInterface<int>> ring(ringSize);
    std::atomic<int> published { 0 }; // slots the submitter has filled
    std::atomic<int> fulfilled { 0 }; // slots the other thread has finished
    std::thread fulfiller([&] {
        for (int i = 0; i < burstJobs; ++i) {
            while (published.load(std::memory_order_acquire) == i)
                std::this_thread::yield();
            QFutureInterface<int> promise = std::move(ring[i % ringSize]);
            promise.reportAndMoveResult(i + 1);
            promise.reportFinished();
            fulfilled.store(i + 1, std::memory_order_release);
        }
    });
    const auto start = Clock::now();
    std::vector<QFuture<int>> futures;
    futures.reserve(burstJobs);
    for (int i = 0; i < burstJobs; ++i) {
        while (i - fulfilled.load(std::memory_order_acquire) >= ringSize)
            std::this_thread::yield();
        QFutureInterface<int> promise(
            QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
        futures.push_back(promise.future());
        ring[i % ringSize] = std::move(promise);
        published.store(i + 1, std::memory_order_release);
    }
    const double result = readAllResults(futures, start);
    fulfiller.join();
    return result;
}

/*
  Progress: a job of progressSteps cheap steps reports each one (values
  1..progressSteps, range 0..progressSteps) while the main thread runs its
  1 ms timer and watches the future with a QFutureWatcher.
*/
constexpr int progressSteps = 10'000'000;

//! One step of the job's work: a 64-bit LCG step, which the compiler can neither fold nor vectorise.
quint64 progressStep(quint64 accumulated, int i) { return accumulated * 6364136223846793005ULL + quint64(i); }

struct ProgressOutcome
{
    quint64 accumulated = 0;
    double workerMs = 0;
};

//! The job's loop, timed inside the job; \a report(i) after each step.
template<typename Report> ProgressOutcome progressLoop(Report report)
{
    QElapsedTimer timer;
    timer.start();
    quint64 accumulated = 1;
    for (int i = 1; i <= progressSteps; ++i) {
        accumulated = progressStep(accumulated, i);
        report(i);
    }
    return { accumulated, double(timer.nsecsElapsed()) / 1e6 };
}

//! What every job must compute, so that no method's loop is cut short unnoticed.
quint64 expectedProgressAccumulation()
{
    static const quint64 expected = progressLoop([](int) {}).accumulated;
    return expected;
}

//! The figures of one progress method, in the order its process prints them.
enum ProgressFigure {
    ProgressWorkerMs, // median: the job's loop, timed inside the job
    ProgressWallMs, // median: submit to the watcher's finished()
    ProgressDeliveries, // median: progressValueChanged() signals the watcher emitted
    ProgressLastSeen, // lowest over the runs: the last value progressValueChanged() carried (-1: none)
    ProgressAtFinished, // lowest over the runs: the future's progressValue() in finished()
    ProgressGapMs, // median: the longest gap between two 1 ms timer ticks on the main thread
    ProgressWorstGapMs, // highest over the runs: the same
    ProgressWakeUps, // median: times the main thread's event dispatcher woke up (awake())
    ProgressFigureCount
};

//! One run: \a submit() starts the job on the main thread, which watches it until finished().
template<typename Submit> std::vector<double> progressRun(Submit submit)
{
    QEventLoop loop;
    QFutureWatcher<ProgressOutcome> watcher;
    int deliveries = 0;
    int lastSeen = -1;
    int atFinished = -1;
    int wakeUps = 0;
    double longestGapMs = 0;
    std::optional<StallMeter> stall;
    Clock::time_point start;
    double wallMs = 0;
    QObject::connect(&watcher, &QFutureWatcher<ProgressOutcome>::progressValueChanged, &loop, [&](int value) {
        ++deliveries;
        lastSeen = value;
    });
    QObject::connect(&watcher, &QFutureWatcher<ProgressOutcome>::finished, &loop, [&] {
        wallMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        longestGapMs = stall->longestGapUntilNowMs();
        atFinished = watcher.future().progressValue();
        loop.quit();
    });
    QObject::connect(QAbstractEventDispatcher::instance(), &QAbstractEventDispatcher::awake, &loop, [&] { ++wakeUps; });
    stall.emplace();
    start = Clock::now();
    watcher.setFuture(submit());
    loop.exec();
    const ProgressOutcome outcome = watcher.result();
    if (outcome.accumulated != expectedProgressAccumulation())
        qFatal("progress job computed a wrong result");
    return { outcome.workerMs, wallMs, double(deliveries), double(lastSeen), double(atFinished),
             longestGapMs,     0,      double(wakeUps) };
}

//! One warm-up, then the repetitions, summed up as ProgressFigure says.
template<typename Submit> std::vector<double> progressFigures(Submit submit)
{
    expectedProgressAccumulation();
    progressRun(submit);
    std::vector<std::vector<double>> runs;
    for (int i = 0; i < repetitions; ++i)
        runs.push_back(progressRun(submit));
    const auto column = [&](int figure) {
        std::vector<double> values;
        for (const auto &run : runs)
            values.push_back(run[figure]);
        return values;
    };
    const auto lowest
        = [](const std::vector<double> &values) { return *std::min_element(values.begin(), values.end()); };
    const auto highest
        = [](const std::vector<double> &values) { return *std::max_element(values.begin(), values.end()); };
    std::vector<double> figures(ProgressFigureCount);
    figures[ProgressWorkerMs] = median(column(ProgressWorkerMs));
    figures[ProgressWallMs] = median(column(ProgressWallMs));
    figures[ProgressDeliveries] = median(column(ProgressDeliveries));
    figures[ProgressLastSeen] = lowest(column(ProgressLastSeen));
    figures[ProgressAtFinished] = lowest(column(ProgressAtFinished));
    figures[ProgressGapMs] = median(column(ProgressGapMs));
    figures[ProgressWorstGapMs] = highest(column(ProgressGapMs));
    figures[ProgressWakeUps] = median(column(ProgressWakeUps));
    return figures;
}

//! The baseline: the same loop, no reports, on the default pool.
std::vector<double> progressNone()
{
    return progressFigures([] { return threaded([] { return progressLoop([](int) {}); })(); });
}

//! QtOffload: a job taking JobControl &, on the default pool.
std::vector<double> progressJobControl()
{
    return progressFigures([] {
        return threaded([](JobControl &control) {
            control.setProgressRange(0, progressSteps);
            return progressLoop([&control](int i) { control.setProgressValue(i); });
        })();
    });
}

//! Qt: QtConcurrent::run() with a QPromise, on the global QThreadPool.
std::vector<double> progressPromise()
{
    return progressFigures([] {
        return QtConcurrent::run([](QPromise<ProgressOutcome> &promise) {
            promise.setProgressRange(0, progressSteps);
            promise.addResult(progressLoop([&promise](int i) { promise.setProgressValue(i); }));
        });
    });
}

using Figures = std::vector<double>;

StreamFigures streamFigures(const std::function<StreamFigures()> &stream)
{
    stream(); // warm-up
    std::vector<double> ns;
    double worstStall = 0;
    for (int i = 0; i < repetitions; ++i) {
        const StreamFigures run = stream();
        ns.push_back(run.nsPerItem);
        worstStall = std::max(worstStall, run.worstStallMs);
    }
    return { median(ns), worstStall };
}

Figures gibFigures(const std::function<long long()> &stream)
{
    std::vector<double> speeds;
    double peak = 0;
    double worstStall = 0;
    for (int i = 0; i < std::min(repetitions, 3); ++i) { // each moves a gibibyte
        const GibFigures run = gibStream(stream);
        speeds.push_back(run.mibPerSecond);
        peak = std::max(peak, run.peakMib);
        worstStall = std::max(worstStall, run.worstStallMs);
    }
    return { median(speeds), peak, worstStall };
}

template<typename Call> Figures blockingFigures(Call call)
{
    QObject context;
    return { measure([&] { return blockingRoundTrip(&context, call); }) };
}

//! Every method, by the name the parent process asks for. Each builds its own pool, if it has one.
const QMap<QByteArray, std::function<Figures()>> &methods()
{
    static const QMap<QByteArray, std::function<Figures()>> all {
        { "burst-threaded",
          [] {
              ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
              return Figures { measure([&] { return threadedBurst(pool); }) };
          } },
        { "burst-qtconcurrent", [] { return Figures { measure(concurrentBurst) }; } },
        { "burst-one-thread", [] { return Figures { measure(futureAloneBurst) }; } },
        { "burst-two-threads", [] { return Figures { measure(futureHandOffBurst) }; } },
        { "start-threadpool",
          [] {
              ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
              return Figures { measure([&] { return poolStartBurst(pool); }) };
          } },
        { "start-qthreadpool", [] { return Figures { measure(rawStartBurst) }; } },
        { "then-threaded",
          [] {
              ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
              auto one = threaded(&pool, [] { return 1; });
              return Figures { measure(
                  [&] { return bench::roundTrip(roundTrips, bench::viaThen([&] { return one(); })); }) };
          } },
        { "then-qtconcurrent",
          [] {
              const auto submit = [] { return QtConcurrent::run([] { return 1; }); };
              return Figures { measure([&] { return bench::roundTrip(roundTrips, bench::viaThen(submit)); }) };
          } },
        { "whenfinished-threaded",
          [] {
              ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
              auto one = threaded(&pool, [] { return 1; });
              return Figures { measure(
                  [&] { return bench::roundTrip(roundTrips, bench::viaWhenFinished([&] { return one(); })); }) };
          } },
        { "whenfinished-qtconcurrent",
          [] {
              const auto submit = [] { return QtConcurrent::run([] { return 1; }); };
              return Figures { measure([&] { return bench::roundTrip(roundTrips, bench::viaWhenFinished(submit)); }) };
          } },
        { "blocking-invokeblocking",
          [] {
              return blockingFigures([](QObject *target, int i) { return invokeBlocking(target, [i] { return i; }); });
          } },
        { "blocking-qt",
          [] {
              return blockingFigures([](QObject *target, int i) {
                  int value = 0;
                  QMetaObject::invokeMethod(
                      target, [i] { return i; }, Qt::BlockingQueuedConnection, &value);
                  return value;
              });
          } },
        { "stream-1024",
          [] {
              const StreamFigures f = streamFigures([] { return generatorStream(1024); });
              return Figures { f.nsPerItem, f.worstStallMs };
          } },
        { "stream-2",
          [] {
              const StreamFigures f = streamFigures([] { return generatorStream(2); });
              return Figures { f.nsPerItem, f.worstStallMs };
          } },
        { "stream-promise",
          [] {
              const StreamFigures f = streamFigures(promiseStream);
              return Figures { f.nsPerItem, f.worstStallMs };
          } },
        { "grid-100us-threaded", [] { return threadedGrid(4000, std::chrono::microseconds(100)); } },
        { "grid-100us-qtconcurrent", [] { return concurrentGrid(4000, std::chrono::microseconds(100)); } },
        { "grid-100us-background",
          [] { return threadedGrid(4000, std::chrono::microseconds(100), ThreadPriority::Background); } },
        { "grid-100us-idle", [] { return threadedGrid(4000, std::chrono::microseconds(100), ThreadPriority::Idle); } },
        { "grid-2ms-threaded", [] { return threadedGrid(1000, std::chrono::milliseconds(2)); } },
        { "grid-2ms-background",
          [] { return threadedGrid(1000, std::chrono::milliseconds(2), ThreadPriority::Background); } },
        { "interactive-threadpool", interactiveOnThreadPool },
        { "interactive-qthreadpool", interactiveOnQThreadPool },
        { "grid-2ms-qtconcurrent", [] { return concurrentGrid(1000, std::chrono::milliseconds(2)); } },
        { "slow-consumer-generator", slowConsumerGenerator },
        { "slow-consumer-qpromise", slowConsumerPromise },
        { "gib-2", [] { return gibFigures([] { return generatorGib(2); }); } },
        { "gib-1024", [] { return gibFigures([] { return generatorGib(1024); }); } },
        { "gib-promise", [] { return gibFigures(promiseGib); } },
        { "progress-none", progressNone },
        { "progress-jobcontrol", progressJobControl },
        { "progress-qpromise", progressPromise },
    };
    return all;
}

/*!
  Runs \a name in a process of its own and returns what it printed. Qt's own
  then() can crash (QTBUG-118032, once in about a million round trips on
  Qt 6.4 and 6.8): a crashed run is said on stderr and measured again, at
  most \a attempts times in all.
*/
Figures measureAlone(const QByteArray &name, int attempts = 3)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
                { QStringLiteral("--measure"), QString::fromLatin1(name), QString::number(repetitions) });
    if (!child.waitForFinished(30 * 60 * 1000) || child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0) {
        if (attempts <= 1)
            qFatal("bench_offload: measuring %s failed", name.constData());
        std::fprintf(stderr, "bench_offload: measuring %s crashed; measuring it again\n", name.constData());
        return measureAlone(name, attempts - 1);
    }
    Figures figures;
    for (const QByteArray &field : child.readAllStandardOutput().simplified().split(' '))
        figures.push_back(field.toDouble());
    return figures;
}

QString cpuModel()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        for (QByteArray line = cpuinfo.readLine(); !line.isEmpty(); line = cpuinfo.readLine()) {
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
        }
    }
    return QSysInfo::currentCpuArchitecture();
}

//! One table row; the ratio says how many times better ours is (above 1: better).
void row(const char *what, const char *ours, double oursValue, const char *theirs, double theirsValue, const char *unit,
         bool higherIsBetter = false)
{
    const double ratio = higherIsBetter ? oursValue / theirsValue : theirsValue / oursValue;
    std::printf("| %s | %s: %.1f %s | %s: %.1f %s | %.2fx |\n", what, ours, oursValue, unit, theirs, theirsValue, unit,
                ratio);
}

//! N processes that each keep a core busy while they live.
class BusyProcesses
{
public:
    explicit BusyProcesses(int count)
    {
        for (int i = 0; i < count; ++i) {
            auto process = std::make_unique<QProcess>();
            process->start(QCoreApplication::applicationFilePath(), { QStringLiteral("--busy") });
            if (!process->waitForStarted())
                qFatal("bench_offload: a busy process did not start");
            m_processes.push_back(std::move(process));
        }
    }
    ~BusyProcesses()
    {
        for (const auto &process : m_processes) {
            process->kill();
            process->waitForFinished();
        }
    }
    BusyProcesses(const BusyProcesses &) = delete;
    BusyProcesses &operator=(const BusyProcesses &) = delete;

private:
    std::vector<std::unique_ptr<QProcess>> m_processes;
};

/*!
  The figures that must hold on a busy machine too: each pair of methods at
  0, 1 and 2 busy processes, in \a rounds rounds that alternate which of the
  two goes first, each method in a process of its own (the median of
  `repetitions` there). Prints the medians over the rounds and QtOffload's
  time over Qt's: below 1, QtOffload is faster.
*/
void loadTable(int rounds)
{
    struct Pair
    {
        const char *what;
        QByteArray ours;
        QByteArray theirs;
        double scale; // to the unit
        const char *unit;
        std::vector<int> loads;
    };
    const std::vector<Pair> pairs {
        { ".then(context) round trip (threaded vs QtConcurrent::run)",
          "then-threaded",
          "then-qtconcurrent",
          1e-3,
          "us",
          { 0, 1, 2 } },
        { "whenFinished round trip (threaded vs QtConcurrent::run + QFutureWatcher)",
          "whenfinished-threaded",
          "whenfinished-qtconcurrent",
          1e-3,
          "us",
          { 0, 1, 2 } },
        { "200k jobs, per job (threaded vs QtConcurrent::run)",
          "burst-threaded",
          "burst-qtconcurrent",
          1,
          "ns",
          { 0, 1 } },
        { "1M ints, per item, maxSize 2 (generator vs QPromise stream)",
          "stream-2",
          "stream-promise",
          1,
          "ns",
          { 0, 1 } },
        { "1M ints, per item, maxSize 1024 (generator vs QPromise stream)",
          "stream-1024",
          "stream-promise",
          1,
          "ns",
          { 0, 1 } },
    };
    std::printf("QtOffload under load: %s, %d cores, Qt %s, %d rounds alternating the two methods, each the median of "
                "%d runs in a process of its own\n\n| what | busy processes | QtOffload | Qt | QtOffload's time / "
                "Qt's |\n|---|---|---|---|---|\n",
                qPrintable(cpuModel()), QThread::idealThreadCount(), qVersion(), rounds, repetitions);
    for (int load = 0; load <= 2; ++load) {
        const BusyProcesses busy(load);
        for (const Pair &pair : pairs) {
            if (std::find(pair.loads.begin(), pair.loads.end(), load) == pair.loads.end())
                continue;
            std::vector<double> ours;
            std::vector<double> theirs;
            for (int round = 0; round < rounds; ++round) {
                if (round % 2 == 0)
                    ours.push_back(measureAlone(pair.ours)[0]);
                theirs.push_back(measureAlone(pair.theirs)[0]);
                if (round % 2 != 0)
                    ours.push_back(measureAlone(pair.ours)[0]);
            }
            const double oursMedian = median(ours) * pair.scale;
            const double theirsMedian = median(theirs) * pair.scale;
            std::printf("| %s | %d | %.2f %s | %.2f %s | %.2fx |\n", pair.what, load, oursMedian, pair.unit,
                        theirsMedian, pair.unit, oursMedian / theirsMedian);
            std::fflush(stdout);
        }
    }
}

[[noreturn]] void keepACoreBusy()
{
    volatile quint64 state = 1;
    for (;;)
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments();
    if (args.size() == 2 && args.at(1) == QStringLiteral("--busy"))
        keepACoreBusy(); // one of the processes --load starts; killed by the one that started it
    int load = 0;
    if (const qsizetype at = args.indexOf(QStringLiteral("--load")); at > 0 && at + 1 < args.size()) {
        load = std::max(0, args.at(at + 1).toInt());
        args.remove(at, 2);
    }
    const BusyProcesses busy(load);
    if (args.size() >= 3 && args.at(1) == QStringLiteral("--measure")) {
        if (args.size() > 3)
            repetitions = std::max(1, args.at(3).toInt());
        const auto method = methods().constFind(args.at(2).toLatin1());
        if (method == methods().constEnd()) {
            std::fprintf(stderr, "bench_offload: no method %s; one of: %s\n", qPrintable(args.at(2)),
                         methods().keys().join(' ').constData());
            return 2;
        }
        for (double figure : (*method)())
            std::printf("%.6g ", figure);
        std::printf("\n");
        return 0;
    }
    if (args.size() >= 3 && args.at(1) == QStringLiteral("--load-table")) {
        repetitions = args.size() > 3 ? std::max(1, args.at(3).toInt()) : 3;
        loadTable(std::max(1, args.at(2).toInt()));
        return 0;
    }
    if (args.size() > 1)
        repetitions = std::max(1, args.at(1).toInt());

    std::printf("QtOffload benchmarks: %s, %d cores, Qt %s, QCoro %s, g++ %d.%d, %s build, "
                "median of %d runs after one warm-up, each method in a process of its own, "
                "%d busy processes beside it\n\n",
                qPrintable(cpuModel()), QThread::idealThreadCount(), qVersion(), QTOFFLOAD_BENCH_QCORO_VERSION,
                __GNUC__, __GNUC_MINOR__,
#if defined(NDEBUG)
                "optimised (-O2)",
#else
                "debug",
#endif
                repetitions, load);
    std::printf("| what | QtOffload | Qt | ratio |\n|---|---|---|---|\n");

    const double burst = measureAlone("burst-threaded")[0];
    const double concurrent = measureAlone("burst-qtconcurrent")[0];
    row("200k jobs submitted, then all results read (per job)", "threaded on ThreadPool", burst, "QtConcurrent::run",
        concurrent, "ns");
    const double oneThread = measureAlone("burst-one-thread")[0];
    const double twoThreads = measureAlone("burst-two-threads")[0];
    row("the floor: the same 200k QFutures made, fulfilled and read on one thread", "threaded on ThreadPool", burst,
        "QFutureInterface alone", oneThread, "ns");
    row("the two-thread floor: made here, fulfilled on one other thread through a ring", "threaded on ThreadPool",
        burst, "QFutureInterface hand-off", twoThreads, "ns");
    const double start = measureAlone("start-threadpool")[0];
    const double rawStart = measureAlone("start-qthreadpool")[0];
    row("200k jobs, no result (per job)", "ThreadPool::start", start, "QThreadPool::start", rawStart, "ns");

    const double then = measureAlone("then-threaded")[0];
    const double concurrentThen = measureAlone("then-qtconcurrent")[0];
    row("event thread -> worker -> .then(context) round trip", "threaded", then / 1000, "QtConcurrent::run",
        concurrentThen / 1000, "us");
    const double watched = measureAlone("whenfinished-threaded")[0];
    const double concurrentWatched = measureAlone("whenfinished-qtconcurrent")[0];
    row("event thread -> worker -> whenFinished(context) round trip", "threaded", watched / 1000,
        "QtConcurrent::run + QFutureWatcher", concurrentWatched / 1000, "us");

    const double blocking = measureAlone("blocking-invokeblocking")[0];
    const double qtBlocking = measureAlone("blocking-qt")[0];
    row("worker -> main thread blocking call", "invokeBlocking", blocking / 1000, "BlockingQueuedConnection",
        qtBlocking / 1000, "us");

    const Figures large = measureAlone("stream-1024");
    const Figures small = measureAlone("stream-2");
    const Figures promise = measureAlone("stream-promise");
    row("stream 1M ints, items/s (maxSize 1024)", "generator", 1e9 / large[0], "QPromise + QFutureWatcher",
        1e9 / promise[0], "/s", true);
    row("stream 1M ints, items/s (maxSize 2)", "generator", 1e9 / small[0], "QPromise + QFutureWatcher",
        1e9 / promise[0], "/s", true);
    row("longest event-loop stall while streaming (maxSize 1024)", "generator", large[1], "QPromise + QFutureWatcher",
        promise[1], "ms");
    std::printf("\nStall with maxSize 2: %.1f ms.\n", small[1]);

    std::printf("\n| results taken back on the receiving thread, 50 submitted per event-loop turn (one run) | longest "
                "1 ms timer gap | "
                "p99 gap | total |\n|---|---|---|---|\n");
    const auto gridRow = [](const char *what, const Figures &f) {
        std::printf("| %s | %.1f ms | %.1f ms | %.0f ms |\n", what, f[0], f[1], f[2]);
    };
    gridRow("4,000 jobs of 100 us: threaded + whenFinished", measureAlone("grid-100us-threaded"));
    gridRow("4,000 jobs of 100 us: QtConcurrent::run + QFutureWatcher", measureAlone("grid-100us-qtconcurrent"));
    gridRow("4,000 jobs of 100 us: threaded + whenFinished, ThreadPriority::Background",
            measureAlone("grid-100us-background"));
    gridRow("4,000 jobs of 100 us: threaded + whenFinished, ThreadPriority::Idle", measureAlone("grid-100us-idle"));
    gridRow("1,000 jobs of 2 ms: threaded + whenFinished", measureAlone("grid-2ms-threaded"));
    gridRow("1,000 jobs of 2 ms: threaded + whenFinished, ThreadPriority::Background",
            measureAlone("grid-2ms-background"));
    gridRow("1,000 jobs of 2 ms: QtConcurrent::run + QFutureWatcher", measureAlone("grid-2ms-qtconcurrent"));

    std::printf("\n| a short job submitted every 10 ms for 3 s while 2 s CPU-bound jobs fill every thread (one run) "
                "| start delay p50 | p99 | longest |\n|---|---|---|---|\n");
    const auto delayRow = [](const char *what, const Figures &f) {
        std::printf("| %s | %.2f ms | %.2f ms | %.2f ms |\n", what, f[0], f[1], f[2]);
    };
    delayRow("ThreadPool::run(JobPriority::Interactive, f)", measureAlone("interactive-threadpool"));
    delayRow("QThreadPool::start(f, INT_MAX)", measureAlone("interactive-qthreadpool"));

    std::printf("\n| slow consumer: 60 chunks, 5 ms handler each, maxSize 64 (one run) | longest 1 ms timer gap "
                "| total |\n|---|---|---|\n");
    const auto slowRow
        = [](const char *what, const Figures &f) { std::printf("| %s | %.1f ms | %.0f ms |\n", what, f[0], f[1]); };
    slowRow("generator + onChunk", measureAlone("slow-consumer-generator"));
    slowRow("QPromise + QFutureWatcher::resultsReadyAt", measureAlone("slow-consumer-qpromise"));

    std::printf("\n| 1 GiB in 64 KiB chunks (median of %d) | MiB/s | peak live chunk memory | longest stall |\n"
                "|---|---|---|---|\n",
                std::min(repetitions, 3));
    const auto gibRow = [](const char *what, const Figures &f) {
        std::printf("| %s | %.0f | %.2f MiB | %.1f ms |\n", what, f[0], f[1], f[2]);
    };
    gibRow("generator, maxSize 2", measureAlone("gib-2"));
    gibRow("generator, maxSize 1024", measureAlone("gib-1024"));
    gibRow("QPromise + QFutureWatcher", measureAlone("gib-promise"));

    const Figures none = measureAlone("progress-none");
    const Figures control = measureAlone("progress-jobcontrol");
    const Figures qpromise = measureAlone("progress-qpromise");
    std::printf("\n| progress: a job of 10M cheap steps, each reported (range 0..10M), watched by a QFutureWatcher "
                "(median of %d) | worker time | slowdown | per report | total | deliveries | deliveries/s | last "
                "value seen / progressValue() at finished (lowest run) | longest 1 ms timer gap (worst run) | main "
                "thread wake-ups |\n|---|---|---|---|---|---|---|---|---|---|\n",
                repetitions);
    const auto progressRow = [&none](const char *what, const Figures &f) {
        std::printf("| %s | %.1f ms | %.2fx | %.2f ns | %.1f ms | %.0f | %.1f | %.0f / %.0f | %.1f ms (%.1f ms) | %.0f "
                    "|\n",
                    what, f[ProgressWorkerMs], f[ProgressWorkerMs] / none[ProgressWorkerMs],
                    (f[ProgressWorkerMs] - none[ProgressWorkerMs]) * 1e6 / progressSteps, f[ProgressWallMs],
                    f[ProgressDeliveries], f[ProgressDeliveries] * 1000 / f[ProgressWallMs], f[ProgressLastSeen],
                    f[ProgressAtFinished], f[ProgressGapMs], f[ProgressWorstGapMs], f[ProgressWakeUps]);
    };
    progressRow("no reports (the baseline)", none);
    progressRow("threaded + JobControl::setProgressValue", control);
    progressRow("QtConcurrent::run + QPromise::setProgressValue", qpromise);
    std::printf("\nDeliveries count the current value the watcher is sent when setFuture() connects it; without a "
                "progress range Qt counts results as progress, hence the baseline's 1.\n");
    std::printf("\nWorker slowdown, QtOffload's over QPromise's: %.3f.\n",
                (control[ProgressWorkerMs] / none[ProgressWorkerMs])
                    / (qpromise[ProgressWorkerMs] / none[ProgressWorkerMs]));
    std::printf("\n| what | QtOffload | Qt | ratio |\n|---|---|---|---|\n");
    row("worker time of 10M progress reports", "JobControl", control[ProgressWorkerMs], "QPromise",
        qpromise[ProgressWorkerMs], "ms");
    row("total time, submit to finished()", "JobControl", control[ProgressWallMs], "QPromise", qpromise[ProgressWallMs],
        "ms");
    row("longest 1 ms timer gap while reporting (median run)", "JobControl", control[ProgressGapMs], "QPromise",
        qpromise[ProgressGapMs], "ms");
    return 0;
}
