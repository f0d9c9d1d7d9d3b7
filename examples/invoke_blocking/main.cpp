// SPDX-License-Identifier: MIT
// Seed 2.14.8 (sync_wait_coroutine): a pool thread runs a coroutine in the
// main event loop and waits for it; the loop keeps turning meanwhile.
#include <QtOffload/QtOffload>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>
#include <QCoro/QCoroTimer>

#include <chrono>
#include <cstdio>

using namespace QtOffload;
using namespace std::chrono_literals;

namespace {

// Runs in the main thread, in its event loop.
QCoro::Task<> coro()
{
    std::printf("Coroutine started\n");
    co_await QCoro::sleepFor(1s); // the seed's asyncio.sleep(1)
    std::printf("Coroutine done\n");
}

const auto inThread = threaded([] {
    std::printf("Thread started\n");
    invokeBlocking([] { return coro(); }); // blocks this pool thread only
    std::printf("Thread finished\n");
});

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv);
    entrypoint.run(inThread());
    return 0;
}
