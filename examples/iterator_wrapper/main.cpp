// SPDX-License-Identifier: MIT
// Seed 2.14.5: IteratorWrapper runs an endless /dev/urandom reader on a
// one-thread pool of our own; we hash 100 chunks of 1 KiB and stop it.
#include <QtOffload/QtOffload>

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <cstdio>

using namespace QtOffload;

namespace {

void urandomReader(Sink<QByteArray> &out)
{
    QFile random(QStringLiteral("/dev/urandom"));
    if (!random.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        throw std::runtime_error("cannot open /dev/urandom");
    while (out.yield(random.read(1024))) { }
}

QCoro::Task<> mainTask()
{
    ThreadPool pool(1, QStringLiteral("urandom")); // the seed's ThreadPoolExecutor(1)
    QCryptographicHash md5(QCryptographicHash::Md5);
    QByteArray everything; // kept only so the test can check the digest
    {
        IteratorWrapper wrapper(urandomReader, &pool, 2);
        int counter = 0;
        while (auto item = co_await wrapper.next()) {
            md5.addData(*item);
            everything += *item;
            if (++counter >= 100)
                break;
        }
        co_await wrapper.close(); // the end of the seed's `async with`
    }
    pool.shutdown();
    std::printf("read %lld bytes in 100 chunks, md5 of all: %s\n", qlonglong(everything.size()),
                md5.result().toHex().constData());
    std::printf("check: %s\n", QCryptographicHash::hash(everything, QCryptographicHash::Md5).toHex().constData());
    std::printf("pool threads left: %d\n", pool.statistics().threads);
}

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv);
    entrypoint.run(mainTask());
    return 0;
}
