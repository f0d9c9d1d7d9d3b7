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
        // A QFuture's cancel() notifies nobody we can hook into without an
        // event loop, so a watched future is polled at this period.
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
StopToken::StopToken(std::shared_ptr<detail::StopState> state) noexcept : d(std::move(state)) {}

bool StopToken::isStopRequested() const noexcept
{
    return d && d->isStopRequested();
}

bool StopToken::waitFor(std::chrono::milliseconds timeout) const
{
    if (!d) {
        std::mutex mutex;
        std::condition_variable never;
        std::unique_lock lock(mutex);
        never.wait_for(lock, timeout);
        return false;
    }
    return d->waitFor(timeout);
}

StopSource::StopSource() : d(std::make_shared<detail::StopState>()) {}

StopToken StopSource::token() const noexcept
{
    return StopToken(d);
}

void StopSource::requestStop() noexcept
{
    d->request();
}

bool StopSource::isStopRequested() const noexcept
{
    return d->isStopRequested();
}

void StopSource::watchCancellation(const QFutureInterfaceBase &future)
{
    std::lock_guard lock(d->mutex);
    d->watched.emplace(future);
}

} // namespace QtOffload
