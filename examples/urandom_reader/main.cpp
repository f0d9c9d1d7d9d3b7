// SPDX-License-Identifier: MIT
// Seed 2.14.4, second listing: an endless generator must be closed. A
// /dev/urandom reader (buffer of 2 chunks) is closed once explicitly and
// once by letting its handle go out of scope; a file reader runs on a
// dedicated thread. The seed writes to a socket; this one prints.
#include <QtOffload/QtOffload>

#include <QtCore/QFile>
#include <QtCore/QStringList>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <chrono>
#include <cstdio>

using namespace QtOffload;

namespace {

// maxSize 2: the reader runs at most two chunks ahead of us.
const auto urandomReader = threadedIterable(
    [](Sink<QByteArray> &out) {
        QFile random(QStringLiteral("/dev/urandom"));
        if (!random.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            throw std::runtime_error("cannot open /dev/urandom");
        while (out.yield(random.read(8))) { }
    },
    2);

const auto blockingReader = threadedIterableSeparate([](Sink<QByteArray> &out, QString path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot open " + path.toStdString());
    while (!file.atEnd() && out.yield(file.readLine())) { }
});

QCoro::Task<> mainTask()
{
    int lines = 0;
    qsizetype bytes = 0;
    auto source = blockingReader(QStringLiteral(QTOFFLOAD_URANDOM_READER_SOURCE));
    while (auto line = co_await source->next()) {
        ++lines;
        bytes += line->size();
    }
    std::printf("read %d lines (%lld bytes) of my own source on a separate thread\n", lines, qlonglong(bytes));

    // Eat white noise, then stop the endless generator explicitly.
    auto noise = urandomReader();
    int counter = 0;
    while (auto chunk = co_await noise->next()) {
        std::printf("%s ", chunk->toHex().constData());
        if (++counter == 10)
            break;
    }
    co_await noise->close();
    std::printf("\nclosed explicitly after %d chunks\n", counter);

    // The same, closed by the handle's destructor (the seed's `async with`).
    {
        auto scoped = urandomReader();
        counter = 0;
        while (auto chunk = co_await scoped->next()) {
            std::printf("%s ", chunk->toHex().constData());
            if (++counter == 10)
                break;
        }
    }
    std::printf("\nclosed by scope after %d chunks\n", counter);
}

} // namespace

int main(int argc, char **argv)
{
    using namespace std::chrono_literals;
    Entrypoint entrypoint(argc, argv);
    entrypoint.run(mainTask());
    // A handle's destructor closes without waiting, so the scoped reader may
    // still be stopping: wait for the pool to go idle. shutdown() then joins
    // the separate thread and the pool, and names any thread still running.
    const bool idle = entrypoint.pool()->waitForDone(10s);
    const qint64 running = entrypoint.pool()->statistics().running;
    const QStringList left = entrypoint.shutdown();
    std::printf("pool idle: %s, jobs running: %lld, threads left after shutdown: %lld\n", idle ? "yes" : "no", running,
                qlonglong(left.size()));
    return idle && left.isEmpty() ? 0 : 1;
}
