// SPDX-License-Identifier: MIT
// Seed 2.14.2: two blocking one-second calls run in parallel on the pool,
// so together they take about one second, not two.
#include <QtOffload/QtOffload>

#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <cstdio>

using namespace QtOffload;

namespace {

const auto blockingFunction = threaded([] { QThread::sleep(1); });

QCoro::Task<> mainTask()
{
    QElapsedTimer clock;
    clock.start();
    // Both calls start now; awaiting them in turn is the seed's asyncio.gather().
    QFuture<void> first = blockingFunction();
    QFuture<void> second = blockingFunction();
    co_await first;
    co_await second;
    std::printf("two 1 s calls took %.2f s in parallel\n", double(clock.elapsed()) / 1000.0);
}

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv, { .poolSize = 2 });
    entrypoint.run(mainTask());
    return 0;
}
