// SPDX-License-Identifier: MIT
// Qt 6.4's QFuture::then() race (QTBUG-118032): the continuation can run
// twice when the future finishes on another thread while then() attaches it,
// and the second run crashes on a moved-from promise. QtOffload finishes its
// futures so that this cannot happen; QtConcurrent's futures keep the race.
// A crashed run exits with a signal; a run that counted wrong exits with 1:
//
//   for i in $(seq 100); do bench_then_race qtconcurrent burst || echo failed; done
//
// Shapes:
//   roundtrip  sequential event thread -> worker -> .then(context) round trips
//   burst      back-to-back f().then(g) with no context; g counts its runs
//
// Usage: bench_then_race qtconcurrent|threaded|whenfinished [roundtrip|burst] [count]

#include "roundtrip.h"

#include <QtOffload/QtOffload>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QCoreApplication>

#include <atomic>
#include <cstdio>

using namespace QtOffload;

namespace {

//! Back-to-back submit().then(g) with no context; returns how often g ran.
template<typename Submit> long long thenBurst(int count, Submit submit, const std::function<void()> &waitForDone)
{
    std::atomic<long long> runs { 0 };
    for (int i = 0; i < count; ++i) {
        submit().then([&runs](int) { runs.fetch_add(1, std::memory_order_relaxed); });
        if (i % 4096 == 4095)
            waitForDone(); // bounds memory; keeps the queue short, as the race needs
    }
    waitForDone();
    return runs.load();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QByteArray method = argc > 1 ? QByteArray(argv[1]) : QByteArrayLiteral("qtconcurrent");
    const QByteArray shape = argc > 2 ? QByteArray(argv[2]) : QByteArrayLiteral("roundtrip");
    const int count = argc > 3 ? QByteArray(argv[3]).toInt() : (shape == "burst" ? 200'000 : 30'000);
    const bool ours = method == "threaded" || method == "whenfinished";
    if (count <= 0 || (!ours && method != "qtconcurrent") || (shape != "roundtrip" && shape != "burst")
        || (method == "whenfinished" && shape == "burst")) {
        std::fprintf(stderr, "usage: %s qtconcurrent|threaded|whenfinished [roundtrip|burst] [count > 0]\n", argv[0]);
        return 2;
    }

    std::optional<ThreadPool> pool;
    if (ours)
        pool.emplace(QThread::idealThreadCount(), QStringLiteral("race"));
    const auto submit = [&]() -> QFuture<int> {
        if (ours)
            return threaded(&*pool, [] { return 1; })();
        return QtConcurrent::run([] { return 1; });
    };

    if (shape == "burst") {
        const long long runs = thenBurst(count, submit, [&] {
            if (ours)
                pool->waitForDone();
            else
                QThreadPool::globalInstance()->waitForDone();
        });
        std::printf("%s burst: %d futures, %lld continuation runs\n", method.constData(), count, runs);
        return runs == count ? 0 : 1;
    }
    const double nsPerTrip = method == "whenfinished" ? bench::roundTrip(count, bench::viaWhenFinished(submit))
                                                      : bench::roundTrip(count, bench::viaThen(submit));
    std::printf("%s roundtrip: %d round trips completed, %.1f us each\n", method.constData(), count, nsPerTrip / 1000);
    return 0;
}
