// SPDX-License-Identifier: MIT
// The separate-thread executor: each job gets a new QThread of its own
// (threadedSeparate(), the *Separate generators), which ends when the job
// returns. Its threads are kept here until they have finished, so that a
// shutdown can ask them to stop and wait for them.

#include "appexit_p.h"
#include "jobthread_p.h"
#include "separatethread_p.h"

#include <QtCore/QThread>

#include <condition_variable>
#include <list>
#include <mutex>

namespace QtOffload::detail {

namespace {

struct SeparateThread
{
    std::unique_ptr<QThread> thread;
    JobPtr job;
    QString name;
    bool finished = false;
    bool givenUp = false; // a join() already waited its timeout for it: nobody waits again
};

class SeparateThreads
{
public:
    ~SeparateThreads()
    {
        // Process exit: stop what we can, and never destroy a QThread that
        // still runs (Qt aborts on that). A thread an Entrypoint's shutdown
        // already gave up on is not waited for a second time.
        stop();
        const QStringList stuck = join(std::chrono::seconds(2));
        std::lock_guard lock(mutex);
        for (auto &entry : separate) {
            if (!entry.finished)
                (void)entry.thread.release();
        }
    }

    void start(JobPtr job, const QString &prefix)
    {
        reapFinished();
        std::unique_lock lock(mutex);
        auto &entry = separate.emplace_back();
        entry.job = std::move(job);
        entry.name = prefix + QStringLiteral(" #") + QString::number(++separateCounter);
        SeparateThread *raw = &entry;
        entry.thread.reset(QThread::create([this, raw] {
            {
                const RunningJobScope running;
                raw->job->run();
            }
            std::lock_guard lock(mutex);
            raw->finished = true;
            separateCv.notify_all();
        }));
        entry.thread->setObjectName(entry.name);
        QThread *thread = entry.thread.get();
        lock.unlock();
        thread->start();
    }

    void stop()
    {
        std::lock_guard lock(mutex);
        for (auto &entry : separate) {
            if (!entry.finished)
                entry.job->requestStop();
        }
    }

    QStringList join(std::chrono::milliseconds timeout)
    {
        {
            std::unique_lock lock(mutex);
            const auto allFinished = [this] {
                for (const auto &entry : separate) {
                    if (!entry.finished && !entry.givenUp)
                        return false;
                }
                return true;
            };
            if (timeout == std::chrono::milliseconds::max())
                separateCv.wait(lock, allFinished);
            else
                separateCv.wait_for(lock, timeout, allFinished);
        }
        QStringList stuck; // the threads this join waited for in vain, not those an earlier one gave up on
        {
            std::lock_guard lock(mutex);
            for (auto &entry : separate) {
                if (entry.finished || entry.givenUp)
                    continue;
                entry.givenUp = true;
                stuck << entry.name;
            }
        }
        reapFinished();
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
};

SeparateThreads &separateThreads()
{
    static SeparateThreads instance;
    return instance;
}

} // namespace

void startSeparateThread(JobPtr job, const QString &namePrefix)
{
    atApplicationExit(stopSeparateThreads); // its threads are asked to stop as the application ends
    separateThreads().start(std::move(job), namePrefix);
}

void stopSeparateThreads() { separateThreads().stop(); }

QStringList joinSeparateThreads(std::chrono::milliseconds timeout) { return separateThreads().join(timeout); }

} // namespace QtOffload::detail
