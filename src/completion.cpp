// SPDX-License-Identifier: MIT
#include <QtOffload/impl/completion.h>

#include "appexit_p.h"
#include "spin_p.h"
#include "tsan_p.h"

#include <QtCore/QEventLoop>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QTimer>

namespace QtOffload::detail {

Completion::~Completion() = default;

void Completion::finish(Status status, std::exception_ptr error) noexcept
{
    {
        std::lock_guard lock(m_mutex);
        if (m_status != Status::Pending)
            return;
        m_status = status;
        m_error = std::move(error);
        m_completed.store(true, std::memory_order_release);
        // Under the lock, so waitInEventLoop() cannot drop its loop meanwhile.
        if (m_onFinished)
            m_onFinished();
    }
    // After unlocking: a woken waiter must not block again on our mutex.
    // The finisher holds a reference, so the completion outlives this call.
    m_cv.notify_all();
}

bool Completion::beginRun() const
{
    std::lock_guard lock(m_mutex);
    return m_status == Status::Pending;
}

void Completion::watchCancellation(const QFuture<void> &future)
{
    std::lock_guard lock(m_mutex);
    m_watched = future;
    m_watching = true;
}

Completion::Status Completion::status() const
{
    std::lock_guard lock(m_mutex);
    return m_status;
}

void Completion::wait(const WaitTarget &target, std::chrono::milliseconds timeout)
{
    // Liveness of the target and a cancel of the watched future are probed at
    // this period (why a cancel is not heard directly: StopState::waitFor()
    // in stoptoken.cpp); completion itself wakes at once.
    constexpr auto probePeriod = std::chrono::milliseconds(10);
    const bool forever = timeout == std::chrono::milliseconds::max();
    // Most calls into a live event loop come back within tens of microseconds:
    // a short spin skips the sleep and wake-up a futex wait would cost.
    spinFor(std::chrono::microseconds(50), [this] { return m_completed.load(std::memory_order_acquire); });
    const auto deadline
        = forever ? std::chrono::steady_clock::time_point::max() : std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(m_mutex);
    while (m_status == Status::Pending) {
        const auto now = std::chrono::steady_clock::now();
        if (!forever && now >= deadline) {
            m_status = Status::Abandoned; // the call must not start after its caller left
            throw TimeoutError(std::string("QtOffload: ") + target.what + " timed out after "
                               + std::to_string(timeout.count()) + " ms");
        }
        auto slice = std::chrono::steady_clock::duration(probePeriod);
        if (!forever && deadline - now < slice)
            slice = deadline - now;
        m_cv.wait_for(lock, slice);
        if (m_status != Status::Pending)
            break;

        const bool watching = m_watching;
        const QFuture<void> watched = m_watched;
        lock.unlock();
        const bool cancelled = watching && isCancellation(watched);
        const bool threadGone = target.thread && target.thread->isFinished();
        const bool loopGone = target.mainEventLoop && mainEventLoopClosed();
        lock.lock();
        if (m_status != Status::Pending)
            break;
        if (cancelled) {
            m_status = Status::Cancelled;
            break;
        }
        if (threadGone || loopGone)
            m_status = Status::Abandoned;
        if (threadGone)
            throw ShutdownError(std::string("QtOffload: ") + target.what + ": the target thread has finished");
        if (loopGone)
            throw ShutdownError(std::string("QtOffload: ") + target.what
                                + ": the main event loop has shut down (the application is quitting)");
    }
    QTOFFLOAD_HAPPENS_AFTER(this);
}

void Completion::setWatcher(QObject *watcher) { m_watcher = watcher; }

void Completion::waitInEventLoop()
{
    const auto dropWatcher = qScopeGuard([this] {
        if (m_watcher && m_watcher->thread() == QThread::currentThread())
            delete m_watcher.data();
    });
    QEventLoop loop;
    QTimer cancelProbe; // a cancelled-but-unfinished future is polled: see wait()
    {
        std::lock_guard lock(m_mutex);
        if (m_status != Status::Pending)
            return;
        m_onFinished = [&loop] { QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection); };
    }
    QObject::connect(&cancelProbe, &QTimer::timeout, &loop, [this, &loop] {
        std::lock_guard lock(m_mutex);
        if (m_watching && isCancellation(m_watched))
            loop.quit();
    });
    cancelProbe.start(10);
    for (;;) {
        loop.exec();
        std::lock_guard lock(m_mutex);
        const bool cancelled = m_watching && m_status == Status::Pending && isCancellation(m_watched);
        if (cancelled)
            m_status = Status::Cancelled;
        if (m_status != Status::Pending) {
            m_onFinished = nullptr;
            return;
        }
        // Woken for another reason (QCoreApplication::exit()): keep waiting.
    }
}

void Completion::throwUnlessSucceeded() const
{
    std::lock_guard lock(m_mutex);
    switch (m_status) {
    case Status::Succeeded:
        return;
    case Status::Failed:
        std::rethrow_exception(m_error);
    case Status::Cancelled:
        throw CancelledError("QtOffload: the awaited future was cancelled");
    case Status::Abandoned:
        throw ShutdownError(
            "QtOffload: the call was dropped before it could finish: its target object, thread or task was destroyed");
    case Status::Pending:
        break;
    }
    throw std::logic_error("QtOffload: the result was read before it was ready");
}

} // namespace QtOffload::detail
