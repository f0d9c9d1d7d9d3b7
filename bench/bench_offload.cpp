// SPDX-License-Identifier: MIT
// One run, QtOffload side by side with Qt's own way of doing the same thing.
// Each figure: one warm-up, then the median of REPS repetitions.
// Usage: bench_offload [repetitions]

#include "roundtrip.h"

#include <QtOffload/QtOffload>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>
#include <QtCore/QSysInfo>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
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
            m_last = now;
        });
        m_timer.setTimerType(Qt::PreciseTimer);
        m_clock.start();
        m_last = m_clock.nsecsElapsed();
        m_timer.start(1);
    }
    double worstMs() const { return double(m_worst) / 1e6; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_worst = 0;
};

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
        QFutureInterface<int> promise(QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running));
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
    std::atomic<long long> sum{0};
    const auto start = Clock::now();
    for (int i = 0; i < burstJobs; ++i)
        pool.start([i, &sum] { sum.fetch_add(i + 1, std::memory_order_relaxed); });
    pool.waitForDone();
    return nanosecondsSince(start, burstJobs);
}

double rawStartBurst()
{
    std::atomic<long long> sum{0};
    const auto start = Clock::now();
    for (int i = 0; i < burstJobs; ++i)
        QThreadPool::globalInstance()->start([i, &sum] { sum.fetch_add(i + 1, std::memory_order_relaxed); });
    QThreadPool::globalInstance()->waitForDone();
    return nanosecondsSince(start, burstJobs);
}

constexpr int roundTrips = 5'000;

constexpr int blockingCalls = 10'000;

//! A worker calls into the main thread blockingCalls times; the main loop serves them.
template<typename Call>
double blockingRoundTrip(QObject *context, Call call)
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
    auto generator = threadedIterable([](Sink<int> &out) {
        for (int i = 0; i < streamItems; ++i) {
            if (!out.yield(i))
                return;
        }
    }, maxSize)();
    long long sum = 0;
    generator->onChunk(&loop, [&sum](const int &value) { sum += value; });
    QObject::connect(generator.get(), &QtGenerator::finished, &loop, &QEventLoop::quit);
    const auto start = Clock::now();
    loop.exec();
    const double ns = nanosecondsSince(start, streamItems);
    if (sum != (long long)streamItems * (streamItems - 1) / 2)
        qFatal("generator stream lost items");
    return {ns, stall.worstMs()};
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
    return {ns, stall.worstMs()};
}

// 1 GiB in 64 KiB chunks. Each chunk owns its buffer and counts the bytes
// alive, so the figure is what the stream holds, not what malloc kept.
constexpr qsizetype chunkBytes = 64 * 1024;
constexpr int gibChunks = 16 * 1024;
std::atomic<qint64> s_liveBytes{0};
std::atomic<qint64> s_peakLiveBytes{0};

void countLiveBytes(qint64 delta)
{
    const qint64 now = s_liveBytes.fetch_add(delta) + delta;
    qint64 peak = s_peakLiveBytes.load();
    while (now > peak && !s_peakLiveBytes.compare_exchange_weak(peak, now)) {
    }
}

class Chunk
{
public:
    Chunk() = default;
    explicit Chunk(int seed) : m_bytes(chunkBytes, char(seed)) { countLiveBytes(qint64(m_bytes.capacity())); }
    Chunk(const Chunk &other) : m_bytes(other.m_bytes) { countLiveBytes(qint64(m_bytes.capacity())); }
    Chunk(Chunk &&other) noexcept : m_bytes(std::exchange(other.m_bytes, {})) {}
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

template<typename Stream>
GibFigures gibStream(Stream stream)
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
    return {1024.0 / seconds, double(s_peakLiveBytes.load()) / (1024.0 * 1024.0), stall.worstMs()};
}

long long generatorGib(qsizetype maxSize)
{
    QEventLoop loop;
    auto generator = threadedIterable([](Sink<Chunk> &out) {
        for (int i = 0; i < gibChunks; ++i) {
            if (!out.yield(Chunk(i)))
                return;
        }
    }, maxSize)();
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

void row(const char *what, const char *ours, double oursValue, const char *theirs, double theirsValue, const char *unit,
         bool higherIsBetter = false)
{
    const double ratio = higherIsBetter ? oursValue / theirsValue : theirsValue / oursValue;
    std::printf("| %s | %s: %.1f %s | %s: %.1f %s | %.2fx |\n", what, ours, oursValue, unit, theirs, theirsValue, unit, ratio);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc > 1)
        repetitions = std::max(1, QByteArray(argv[1]).toInt());

    std::printf("QtOffload benchmarks: %s, %d cores, Qt %s, QCoro 0.8, g++ %d.%d, %s build, "
                "median of %d runs after one warm-up\n\n",
                qPrintable(cpuModel()), QThread::idealThreadCount(), qVersion(), __GNUC__, __GNUC_MINOR__,
#if defined(NDEBUG)
                "optimised (-O2)",
#else
                "debug",
#endif
                repetitions);
    std::printf("| what | QtOffload | Qt | speed-up |\n|---|---|---|---|\n");

    ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("bench"));
    const double ours = measure([&] { return threadedBurst(pool); });
    const double concurrent = measure(concurrentBurst);
    const double oursRaw = measure([&] { return poolStartBurst(pool); });
    const double raw = measure(rawStartBurst);
    row("200k jobs submitted, then all results read (per job)", "threaded on ThreadPool", ours,
        "QtConcurrent::run", concurrent, "ns");
    const double futureAlone = measure(futureAloneBurst);
    row("the floor: 200k QFutures made, fulfilled and read on one thread (per job)", "threaded on ThreadPool", ours,
        "QFutureInterface alone", futureAlone, "ns");
    row("200k jobs, no result (per job)", "ThreadPool::start", oursRaw, "QThreadPool::start", raw, "ns");

    auto increment = threaded(&pool, [] { return 1; });
    const auto submitOurs = [&] { return increment(); };
    const auto submitConcurrent = [] { return QtConcurrent::run([] { return 1; }); };
    const double oursTrip = measure([&] { return bench::roundTrip(roundTrips, bench::viaThen(submitOurs)); });
    const double concurrentTrip = measure([&] { return bench::roundTrip(roundTrips, bench::viaThen(submitConcurrent)); });
    row("event thread -> worker -> .then(context) round trip", "threaded", oursTrip / 1000, "QtConcurrent::run",
        concurrentTrip / 1000, "us");
    const double oursWatched = measure([&] { return bench::roundTrip(roundTrips, bench::viaWhenFinished(submitOurs)); });
    const double concurrentWatched = measure([&] { return bench::roundTrip(roundTrips, bench::viaWhenFinished(submitConcurrent)); });
    row("event thread -> worker -> whenFinished(context) round trip", "threaded", oursWatched / 1000,
        "QtConcurrent::run", concurrentWatched / 1000, "us");

    QObject context;
    const double oursBlocking = measure([&] {
        return blockingRoundTrip(&context, [](QObject *target, int i) { return invokeBlocking(target, [i] { return i; }); });
    });
    const double qtBlocking = measure([&] {
        return blockingRoundTrip(&context, [](QObject *target, int i) {
            int value = 0;
            QMetaObject::invokeMethod(target, [i] { return i; }, Qt::BlockingQueuedConnection, &value);
            return value;
        });
    });
    row("worker -> main thread blocking call", "invokeBlocking", oursBlocking / 1000, "BlockingQueuedConnection",
        qtBlocking / 1000, "us");

    StreamFigures small, large, promise;
    std::vector<double> smallNs, largeNs, promiseNs;
    generatorStream(1024); // warm-up
    for (int i = 0; i < repetitions; ++i) {
        const auto s = generatorStream(2);
        const auto l = generatorStream(1024);
        const auto p = promiseStream();
        smallNs.push_back(s.nsPerItem);
        largeNs.push_back(l.nsPerItem);
        promiseNs.push_back(p.nsPerItem);
        small.worstStallMs = std::max(small.worstStallMs, s.worstStallMs);
        large.worstStallMs = std::max(large.worstStallMs, l.worstStallMs);
        promise.worstStallMs = std::max(promise.worstStallMs, p.worstStallMs);
    }
    const double promiseItems = 1e9 / median(promiseNs);
    row("stream 1M ints, items/s (maxSize 1024)", "generator", 1e9 / median(largeNs), "QPromise + QFutureWatcher",
        promiseItems, "/s", true);
    row("stream 1M ints, items/s (maxSize 2)", "generator", 1e9 / median(smallNs), "QPromise + QFutureWatcher",
        promiseItems, "/s", true);
    row("longest event-loop stall while streaming (maxSize 1024)", "generator", large.worstStallMs,
        "QPromise + QFutureWatcher", promise.worstStallMs, "ms");
    std::printf("\nStall with maxSize 2: %.1f ms.\n", small.worstStallMs);

    // 1 GiB in 64 KiB chunks: fewer repetitions, each moves a gibibyte.
    const int gibRuns = std::min(repetitions, 3);
    std::vector<GibFigures> gen2, gen1024, prom;
    for (int i = 0; i < gibRuns; ++i) {
        gen2.push_back(gibStream([] { return generatorGib(2); }));
        gen1024.push_back(gibStream([] { return generatorGib(1024); }));
        prom.push_back(gibStream(promiseGib));
    }
    const auto summary = [](const std::vector<GibFigures> &runs) {
        std::vector<double> speeds;
        GibFigures worst;
        for (const auto &run : runs) {
            speeds.push_back(run.mibPerSecond);
            worst.peakMib = std::max(worst.peakMib, run.peakMib);
            worst.worstStallMs = std::max(worst.worstStallMs, run.worstStallMs);
        }
        worst.mibPerSecond = median(speeds);
        return worst;
    };
    const GibFigures g2 = summary(gen2), g1024 = summary(gen1024), p = summary(prom);
    std::printf("\n| 1 GiB in 64 KiB chunks (median of %d) | MiB/s | peak live chunk memory | longest stall |\n"
                "|---|---|---|---|\n",
                gibRuns);
    const auto gibRow = [](const char *what, const GibFigures &f) {
        std::printf("| %s | %.0f | %.2f MiB | %.1f ms |\n", what, f.mibPerSecond, f.peakMib, f.worstStallMs);
    };
    gibRow("generator, maxSize 2", g2);
    gibRow("generator, maxSize 1024", g1024);
    gibRow("QPromise + QFutureWatcher", p);
    return 0;
}
