// SPDX-License-Identifier: MIT
// Seed 2.14.1: context variables follow the job into the pool. Five writes,
// each after userId.set(random), append a big-endian record from a pool
// thread; a threaded generator reads the records back.
#include <QtOffload/QtOffload>

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QtEndian>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <cstdio>

using namespace QtOffload;

namespace {

ContextVar<quint32> userId(QStringLiteral("user_id"));
const QString auditPath
    = QDir::temp().filePath(QStringLiteral("qtoffload-audit-%1.bin").arg(QCoreApplication::applicationPid()));

// Runs in a pool thread; userId is the value set before the call.
void writeUser()
{
    QFile file(auditPath);
    if (!file.open(QIODevice::Append))
        throw std::runtime_error("cannot open the audit log");
    const quint32 record = qToBigEndian(userId.get());
    file.write(reinterpret_cast<const char *>(&record), sizeof record);
}

// A generator: each record is one chunk.
const auto readLog = threadedIterable([](Sink<quint32> &out) {
    QFile file(auditPath);
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot open the audit log");
    quint32 record = 0;
    while (file.read(reinterpret_cast<char *>(&record), sizeof record) == sizeof record) {
        if (!out.yield(qFromBigEndian(record)))
            return;
    }
});

QCoro::Task<> mainTask()
{
    QFile::remove(auditPath);
    // One thread: the records land in call order while all five are in flight.
    ThreadPool pool(1, QStringLiteral("audit"));
    const auto write = threaded(&pool, writeUser);
    QList<QFuture<void>> writes;
    for (int i = 0; i < 5; ++i) {
        userId.set(QRandomGenerator::global()->bounded(1u, 65536u));
        std::printf("set %u\n", userId.get());
        writes << write();
    }
    for (const auto &pending : writes) // the seed's asyncio.gather()
        co_await pending;
    auto log = readLog();
    while (const auto id = co_await log->next())
        std::printf("read %u\n", *id);
    QFile::remove(auditPath);
}

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv);
    entrypoint.run(mainTask());
    return 0;
}
