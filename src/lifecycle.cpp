// SPDX-License-Identifier: MIT
#include "lifecycle_p.h"
#include "separatethread_p.h"

#include <QtOffload/impl/chunkbuffer.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QThread>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace QtOffload::detail {

namespace {

std::atomic<bool> s_mainLoopClosed { false };

class Lifecycle
{
public:
    std::mutex mutex;
    struct OpenGenerator
    {
        std::weak_ptr<ChunkBufferBase> buffer;
        const ThreadPool *pool = nullptr; // where its producer runs, once it started
    };
    std::unordered_map<const ChunkBufferBase *, OpenGenerator> generators;
    QCoreApplication *hookedApplication = nullptr;
};

Lifecycle &lifecycle()
{
    // Never destroyed: the process-wide default pool, a static too, closes
    // its generators here when it is destroyed at exit, whichever static
    // was made first.
    static Lifecycle *const instance = new Lifecycle;
    return *instance;
}

void onApplicationDestroyed()
{
    setMainEventLoopClosed(true);
    closeGenerators(nullptr);
    stopSeparateThreads();
    // Its timers and posted events go with the application's dispatcher.
    retireLane(QThread::currentThread());
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().hookedApplication = nullptr;
}

} // namespace

bool mainEventLoopClosed() noexcept { return s_mainLoopClosed.load(std::memory_order_acquire); }

void setMainEventLoopClosed(bool closed) noexcept { s_mainLoopClosed.store(closed, std::memory_order_release); }

void ensureApplicationHooks()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        return;
    {
        std::lock_guard lock(lifecycle().mutex);
        if (lifecycle().hookedApplication == app)
            return;
        lifecycle().hookedApplication = app;
    }
    setMainEventLoopClosed(false);
    qAddPostRoutine(onApplicationDestroyed);
}

void registerGenerator(const std::shared_ptr<ChunkBufferBase> &buffer)
{
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().generators.emplace(buffer.get(), Lifecycle::OpenGenerator { buffer });
}

void setGeneratorPool(const ChunkBufferBase *buffer, const ThreadPool *pool)
{
    std::lock_guard lock(lifecycle().mutex);
    if (const auto it = lifecycle().generators.find(buffer); it != lifecycle().generators.end())
        it->second.pool = pool;
}

void unregisterGenerator(const ChunkBufferBase *buffer)
{
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().generators.erase(buffer);
}

int closeGenerators(const ThreadPool *pool)
{
    std::vector<std::shared_ptr<ChunkBufferBase>> open;
    {
        std::lock_guard lock(lifecycle().mutex);
        for (const auto &[key, generator] : lifecycle().generators) {
            if (pool && generator.pool != pool)
                continue;
            if (auto buffer = generator.buffer.lock())
                open.push_back(std::move(buffer));
        }
    }
    for (const auto &buffer : open)
        buffer->close();
    return int(open.size());
}

} // namespace QtOffload::detail
