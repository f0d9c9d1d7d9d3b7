// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/stoptoken.h>

#include <QtCore/QString>

#include <memory>

class QFutureInterfaceBase;

namespace QtOffload {

namespace detail {
class JobControlState;
template<typename R, typename Body> class FutureJob;
}

/*!
  The job's side of its QFuture, as QPromise is for QtConcurrent::run():
  a job whose first parameter is `JobControl &` gets one, on the worker.

  - Progress: setProgressRange(), setProgressValue() and
    setProgressValueAndText() show as the future's progress
    (QFuture::progressValue(), QFutureWatcher::progressValueChanged() and
    progressTextChanged()). They are cheap enough to call in a tight loop:
    the worker only stores the value, and the delivery lane of the thread
    that submitted the job hands the latest one to the future, at most once
    per lane turn and never faster than Qt passes progress on to a watcher
    (25 values a second), so no value it hands over is dropped by Qt's
    throttle. The last value is in the future before it reports finished;
    a watcher is told of it when it is the range's maximum or 40 ms after
    the previous one (Qt's own rule), and QtJob always reports it.
  - Pause: QFuture::suspend() (or QFutureWatcher's) makes the next
    suspendIfRequested() block; the future reports suspending(), then
    suspended(), and resume() lets the job go on. A cancel(), a stop
    request, or the shutdown of the job's ThreadPool also ends the wait.
  - Stop: isStopRequested() and stopToken() as for a job taking a
    StopToken: the future's cancel() requests the stop, and so does the
    shutdown (or destruction) of the executor running the job, an
    Entrypoint's shutdown and the application's end.

  Thread: the job's worker. Not copyable; it lives as long as the job.
*/
class QTOFFLOAD_EXPORT JobControl
{
public:
    //! Movable, for the job's own bookkeeping.
    JobControl(JobControl &&) noexcept;
    //! Movable, as the constructor above.
    JobControl &operator=(JobControl &&) noexcept;
    JobControl(const JobControl &) = delete;
    JobControl &operator=(const JobControl &) = delete;
    ~JobControl();

    //! Sets the range and resets the value to \a minimum, as QPromise::setProgressRange() does.
    void setProgressRange(int minimum, int maximum);
    //! Values outside the range, or not above the last one, are ignored (Qt's rule).
    void setProgressValue(int value);
    //! setProgressValue() with a text, which progressTextChanged() carries.
    void setProgressValueAndText(int value, const QString &text);

    //! True once the future was cancelled, a stop requested, or the job's pool shuts down.
    bool isStopRequested() const noexcept;
    //! The job's stop token, for StopToken::waitFor() and for code that takes a token.
    StopToken stopToken() const noexcept;

    //! True while the future was asked to suspend (QFuture::suspend()) and not resumed.
    bool isSuspendRequested() const noexcept;
    /*!
      The job's check point, as QPromise::suspendIfRequested(): when a
      suspend was requested, reports the future suspended and blocks until
      it is resumed (noticed within 5 ms), cancelled or a stop is requested.
      Returns at once otherwise.
    */
    void suspendIfRequested();

private:
    template<typename R, typename Body> friend class detail::FutureJob;
    //! Made by QtOffload for the job; a job only receives one.
    explicit JobControl(std::shared_ptr<detail::JobControlState> state) noexcept;

    std::shared_ptr<detail::JobControlState> d;
};

namespace detail {

//! The job control of a job whose future is \a promise. Its progress goes to the calling thread's lane.
QTOFFLOAD_EXPORT std::shared_ptr<JobControlState> makeJobControlState(const QFutureInterfaceBase &promise,
                                                                      StopSource stop);
/*!
  The job is over: hands the last progress to the future (before it reports
  finished) and hands the relay to its lane to destroy. Idempotent. Thread: the worker.
*/
QTOFFLOAD_EXPORT void finishProgress(JobControlState &state) noexcept;

} // namespace detail

} // namespace QtOffload
