// SPDX-License-Identifier: MIT
#include "lifecycle_p.h"

#include <QtOffload/channel.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QThread>

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <unordered_map>

namespace QtOffload::detail {

namespace {

std::atomic<bool> s_mainLoopClosed{false};

struct SeparateThread
{
    std::unique_ptr<QThread> thread;
    JobPtr job;
    QString name;
    bool finished = false;
};

class Lifecycle
{
public:
    ~Lifecycle()
    {
        // Process exit without an Entrypoint: stop what we can, and never
        // destroy a QThread that still runs (Qt aborts on that).
        stopSeparateThreads();
        const QStringList stuck = joinSeparateThreads(std::chrono::seconds(2));
        std::lock_guard lock(mutex);
        for (auto &entry : separate) {
            if (!entry.finished)
                (void)entry.thread.release();
        }
    }

    void startSeparate(JobPtr job, const QString &prefix)
    {
        reapFinished();
        std::unique_lock lock(mutex);
        auto &entry = separate.emplace_back();
        entry.job = std::move(job);
        entry.name = prefix + QStringLiteral(" #") + QString::number(++separateCounter);
        SeparateThread *raw = &entry;
        entry.thread.reset(QThread::create([this, raw] {
            raw->job->run();
            std::lock_guard lock(mutex);
            raw->finished = true;
            separateCv.notify_all();
        }));
        entry.thread->setObjectName(entry.name);
        QThread *thread = entry.thread.get();
        lock.unlock();
        thread->start();
    }

    void stopSeparate()
    {
        std::lock_guard lock(mutex);
        for (auto &entry : separate) {
            if (!entry.finished)
                entry.job->requestStop();
        }
    }

    QStringList joinSeparate(std::chrono::milliseconds timeout)
    {
        {
            std::unique_lock lock(mutex);
            const auto allFinished = [this] {
                for (const auto &entry : separate) {
                    if (!entry.finished)
                        return false;
                }
                return true;
            };
            if (timeout == std::chrono::milliseconds::max())
                separateCv.wait(lock, allFinished);
            else
                separateCv.wait_for(lock, timeout, allFinished);
        }
        reapFinished();
        std::lock_guard lock(mutex);
        QStringList stuck;
        for (const auto &entry : separate)
            stuck << entry.name;
        return stuck;
    }

    void reapFinished()
    {
        std::list<SeparateThread> done;
        {
            std::lock_guard lock(mutex);
            for (auto it = separate.begin(); it != separate.end();) {
                if (it->finished) {
                    auto next = std::next(it);
                    done.splice(done.end(), separate, it);
                    it = next;
                } else {
                    ++it;
                }
            }
        }
        // The thread said it finished; it may still be returning from run().
        for (auto &entry : done)
            entry.thread->wait();
    }

    std::mutex mutex;
    std::condition_variable separateCv;
    std::list<SeparateThread> separate;
    quint64 separateCounter = 0;

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

void startSeparateThread(JobPtr job, const QString &namePrefix)
{
    ensureApplicationHooks();
    lifecycle().startSeparate(std::move(job), namePrefix);
}

void stopSeparateThreads()
{
    lifecycle().stopSeparate();
}

QStringList joinSeparateThreads(std::chrono::milliseconds timeout)
{
    return lifecycle().joinSeparate(timeout);
}

} // namespace QtOffload::detail
