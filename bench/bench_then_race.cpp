// SPDX-License-Identifier: MIT
// Back-to-back event thread -> worker -> event thread round trips, to show
// Qt 6.4's QFuture::then() race: the continuation can run twice when the
// future finishes while then() attaches it, and the second run crashes on a
// moved-from promise. A crashed run exits with a signal; count them:
//
//   for i in $(seq 40); do bench_then_race qtconcurrent || echo crashed; done
//
// Usage: bench_then_race qtconcurrent|threaded|whenfinished [round trips]

#include "roundtrip.h"

#include <QtOffload/QtOffload>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QCoreApplication>

#include <cstdio>

using namespace QtOffload;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QByteArray method = argc > 1 ? QByteArray(argv[1]) : QByteArrayLiteral("qtconcurrent");
    const int count = argc > 2 ? QByteArray(argv[2]).toInt() : 30'000;
    ThreadPool pool(QThread::idealThreadCount(), QStringLiteral("race"));
    auto one = threaded(&pool, [] { return 1; });

    double nsPerTrip = 0;
    if (count > 0 && method == "qtconcurrent") {
        nsPerTrip = bench::roundTrip(count, bench::viaThen([] { return QtConcurrent::run([] { return 1; }); }));
    } else if (count > 0 && method == "threaded") {
        nsPerTrip = bench::roundTrip(count, bench::viaThen([&] { return one(); }));
    } else if (count > 0 && method == "whenfinished") {
        nsPerTrip = bench::roundTrip(count, bench::viaWhenFinished([&] { return one(); }));
    } else {
        std::fprintf(stderr, "usage: %s qtconcurrent|threaded|whenfinished [round trips > 0]\n", argv[0]);
        return 2;
    }
    std::printf("%s: %d round trips completed, %.1f us each\n", method.constData(), count, nsPerTrip / 1000);
    return 0;
}
