// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

#include <chrono>
#include <memory>

class QFutureInterfaceBase;

namespace QtOffload {

namespace detail {
class StopState;
}

/*!
  The stop request a threadedSeparate() job receives when its first parameter
  is a StopToken (the seed passes a threading.Event). A stop is requested by
  the job's QFuture::cancel(), by the owning Entrypoint's shutdown, or by
  StopSource::requestStop(). Thread-safe; cheap to copy.
*/
class QTOFFLOAD_EXPORT StopToken
{
public:
    //! A token whose stop is never requested.
    StopToken() noexcept;

    //! True once a stop was requested. Never blocks.
    bool isStopRequested() const noexcept;

    /*!
      Sleeps up to \a timeout and wakes early when a stop is requested.
      Returns isStopRequested(). Use it instead of QThread::sleep() in loops
      so shutdown is prompt. A cancel() of the job's future is noticed within
      about 10 ms.
    */
    bool waitFor(std::chrono::milliseconds timeout) const;

private:
    friend class StopSource;
    explicit StopToken(std::shared_ptr<detail::StopState> state) noexcept;
    std::shared_ptr<detail::StopState> d;
};

//! The side of a stop request that asks. Thread-safe; copies share state.
class QTOFFLOAD_EXPORT StopSource
{
public:
    StopSource();
    //! A token that sees this source's stop request.
    StopToken token() const noexcept;
    //! Requests the stop; wakes every StopToken::waitFor(). Idempotent.
    void requestStop() noexcept;
    //! True once requestStop() was called or the watched future was cancelled.
    bool isStopRequested() const noexcept;
    //! Also report a stop once \a future is cancelled.
    void watchCancellation(const QFutureInterfaceBase &future);

private:
    std::shared_ptr<detail::StopState> d;
};

} // namespace QtOffload
