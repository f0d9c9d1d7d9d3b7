// SPDX-License-Identifier: MIT
// Seed 2.14.3: a long loop on a dedicated thread (it never takes a pool
// slot) runs beside a pool job until a timer asks it to stop.
#include <QtOffload/QtOffload>

#include <QtCore/QCommandLineParser>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <chrono>
#include <cstdio>

using namespace QtOffload;
using namespace std::chrono_literals;

namespace {

const auto blockingFunction = threaded([] {
    QThread::sleep(1);
    std::printf("pool job done on %s\n", qPrintable(QThread::currentThread()->objectName()));
});

// The StopToken is the seed's threading.Event: future.cancel() sets it.
const auto longBlockingFunction = threadedSeparate([](StopToken stop) {
    while (!stop.isStopRequested()) {
        std::printf("Running on %s\n", qPrintable(QThread::currentThread()->objectName()));
        stop.waitFor(1s); // wakes at once when the stop comes
    }
    std::printf("Exiting\n");
});

QCoro::Task<> mainTask(std::chrono::milliseconds runFor)
{
    QFuture<void> loop = longBlockingFunction();
    QFuture<void> job = blockingFunction();
    QTimer::singleShot(runFor, [loop]() mutable { loop.cancel(); }); // the seed's loop.call_later(10, stop_event.set)
    // The seed's gather(). A cancelled job's future carries a CancelledError,
    // which the await of the loop throws once its thread has printed "Exiting".
    try {
        co_await loop;
    } catch (const CancelledError &) {
        // the stop we asked for
    }
    co_await job;
    std::printf("both finished\n");
}

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv);
    QCommandLineParser parser;
    parser.addOption({ QStringLiteral("seconds"), QStringLiteral("How long the loop runs (the seed: 10)."),
                       QStringLiteral("s"), QStringLiteral("3") });
    parser.addHelpOption();
    parser.process(*entrypoint.application());
    entrypoint.run(mainTask(std::chrono::seconds(parser.value(QStringLiteral("seconds")).toInt())));
    return 0;
}
