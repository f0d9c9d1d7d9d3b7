// SPDX-License-Identifier: MIT
#include <QtOffload/stoptoken.h>

#include <QtCore/QFutureInterface>

#include <condition_variable>
#include <mutex>
#include <optional>

namespace QtOffload {

namespace detail {
class StopState
{
public:
    bool isStopRequested() const
    {
        std::lock_guard lock(mutex);
        return stopped || (watched && watched->isCanceled());
    }

    void request()
    {
        {
            std::lock_guard lock(mutex);
            stopped = true;
        }
        cv.notify_all();
    }

    bool waitFor(std::chrono::milliseconds timeout)
    {
        // A watched future's cancel() is polled at this period. Qt tells of
        // a cancel only through QFutureCallOutInterface, the hook behind
        // QFutureWatcher: public API delivers it as an event, so it needs an
        // event loop this thread does not run, and connecting an interface
        // ourselves would mean appending to QFutureInterfaceBasePrivate::
        // outputConnections under its m_mutex by hand (the connect function
        // is not exported from QtCore). That works, but it ties every build to
        // one Qt patch release's private layout; src/finishfuture.cpp accepts
        // that only on the Qt versions whose then() race leaves no other way.
        // Completion::wait() and waitInEventLoop() poll for the same reason.
        constexpr auto cancelPollPeriod = std::chrono::milliseconds(10);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::unique_lock lock(mutex);
        for (;;) {
            if (stopped || (watched && watched->isCanceled()))
                return true;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline)
                return false;
            auto slice = deadline - now;
            if (watched && slice > cancelPollPeriod)
                slice = cancelPollPeriod;
            cv.wait_for(lock, slice);
        }
    }

    mutable std::mutex mutex;
    std::condition_variable cv;
    bool stopped = false;
    std::optional<QFutureInterfaceBase> watched;
};
} // namespace detail

StopToken::StopToken() noexcept = default;
StopToken::StopToken(std::shared_ptr<detail::StopState> state) noexcept
    : d(std::move(state))
{
}

bool StopToken::isStopRequested() const noexcept { return d && d->isStopRequested(); }

bool StopToken::waitFor(std::chrono::milliseconds timeout) const
{
    if (!d) {
        // Nothing can stop it: sleep the whole timeout (a spurious wake-up must not end it early).
        std::mutex mutex;
        std::condition_variable never;
        std::unique_lock lock(mutex);
        never.wait_until(lock, std::chrono::steady_clock::now() + timeout, [] { return false; });
        return false;
    }
    return d->waitFor(timeout);
}

StopSource::StopSource()
    : d(std::make_shared<detail::StopState>())
{
}

StopToken StopSource::token() const noexcept { return StopToken(d); }

void StopSource::requestStop() noexcept { d->request(); }

bool StopSource::isStopRequested() const noexcept { return d->isStopRequested(); }

void StopSource::watchCancellation(const QFutureInterfaceBase &future)
{
    {
        std::lock_guard lock(d->mutex);
        d->watched.emplace(future);
    }
    d->cv.notify_all(); // a waitFor() already running starts polling the future now
}

} // namespace QtOffload
