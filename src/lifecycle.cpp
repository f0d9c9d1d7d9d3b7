// SPDX-License-Identifier: MIT
#include "lifecycle_p.h"
#include "separatethread_p.h"

#include <QtOffload/channel.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace QtOffload::detail {

namespace {

std::atomic<bool> s_mainLoopClosed{false};

class Lifecycle
{
public:
    std::mutex mutex;
    std::unordered_map<const ChannelBase *, std::weak_ptr<ChannelBase>> generators;
    QCoreApplication *hookedApplication = nullptr;
};

Lifecycle &lifecycle()
{
    static Lifecycle instance;
    return instance;
}

void onApplicationDestroyed()
{
    setMainEventLoopClosed(true);
    closeAllGenerators();
    stopSeparateThreads();
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().hookedApplication = nullptr;
}

} // namespace

bool mainEventLoopClosed() noexcept
{
    return s_mainLoopClosed.load(std::memory_order_acquire);
}

void setMainEventLoopClosed(bool closed) noexcept
{
    s_mainLoopClosed.store(closed, std::memory_order_release);
}

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

void registerGenerator(const std::shared_ptr<ChannelBase> &channel)
{
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().generators.emplace(channel.get(), channel);
}

void unregisterGenerator(const ChannelBase *channel)
{
    std::lock_guard lock(lifecycle().mutex);
    lifecycle().generators.erase(channel);
}

int closeAllGenerators()
{
    std::vector<std::shared_ptr<ChannelBase>> open;
    {
        std::lock_guard lock(lifecycle().mutex);
        for (const auto &[key, weak] : lifecycle().generators) {
            if (auto channel = weak.lock())
                open.push_back(std::move(channel));
        }
    }
    for (const auto &channel : open)
        channel->close();
    return int(open.size());
}

} // namespace QtOffload::detail
