// SPDX-License-Identifier: MIT
// A job's progress, in the order it travels:
//   report   the worker's JobControl::setProgress*() stores the value in a
//            LatestProgress (impl/latestprogress.h, the generator's too);
//            only the first report after a hand-over schedules the relay;
//   relay    a lane client in the thread that submitted the job; in a lane
//            turn it hands the latest value to the future, but only once
//            Qt's own throttle window (25 values a second) is open, and asks
//            the lane for a turn at the window's end otherwise, so Qt never
//            drops a value it is given and the latest one always goes out;
//   watcher  QFutureInterface passes it to every QFutureWatcher;
//   end      finishProgress() hands the last value over on the worker,
//            before the future reports finished, and hands the relay to its
//            lane to destroy, so it goes even if its thread never turns again.

#include <QtOffload/impl/deliverylane.h>
#include <QtOffload/impl/latestprogress.h>
#include <QtOffload/jobcontrol.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFutureInterface>
#include <QtCore/QThread>

#include <atomic>
#include <mutex>

namespace QtOffload {

namespace detail {

namespace {
// QFutureInterfaceBase::setProgressValueAndText() passes a value on to the
// watchers only if 1000 / MaxProgressEmitsPerSecond (25) ms passed since the
// last one it passed on, or if it is the range's maximum (qfutureinterface.cpp,
// internal_updateProgress); it drops the others but keeps them as the current
// value, so a value dropped there never reaches a watcher at all.
constexpr qint64 qtProgressWindowMs = 1000 / 25;
} // namespace

class ProgressRelay;

class JobControlState
{
public:
    JobControlState(const QFutureInterfaceBase &future, StopSource stopSource)
        : promise(future)
        , stop(std::move(stopSource))
    {
    }

    // report (the worker)
    void reportRange(int minimum, int maximum) { scheduleHandOver(progress.setRange(minimum, maximum)); }
    void reportValue(int value, const QString *progressText)
    {
        if (progressText) {
            std::lock_guard lock(textMutex);
            text = *progressText;
        }
        scheduleHandOver(progress.setValue(value));
    }
    //! \a first: the first report since the relay took one.
    void scheduleHandOver(bool first);

    // relay (the submitting thread) and end (the worker), under handOverMutex
    //! Hands \a reported (and the text) to the future.
    void handOverLocked(const LatestProgress::Values &reported);
    //! Milliseconds until Qt passes a value on again; 0 when it would now.
    qint64 windowRemainingLocked() const
    {
        if (!handedAt.isValid())
            return 0;
        return std::max<qint64>(0, qtProgressWindowMs - handedAt.elapsed());
    }

    QFutureInterfaceBase promise;
    StopSource stop;

    LatestProgress progress; // the range and the value
    std::mutex textMutex;
    QString text;

    std::mutex handOverMutex;
    bool done = false; // finishProgress() ran: the relay hands nothing over any more
    quint64 handedRangeSerial = 0;
    int handedValue = 0;
    QString handedText;
    QElapsedTimer handedAt; // when Qt last passed a value on
    ProgressRelay *relay = nullptr; // set before the job runs; its lane destroys it after done
};

class ProgressRelay final : private LaneClient
{
public:
    explicit ProgressRelay(std::shared_ptr<JobControlState> state)
        : LaneClient(QThread::currentThread())
        , m_state(std::move(state))
    {
    }
    using LaneClient::deleteOnLane;
    using LaneClient::scheduleDelivery;

private:
    bool deliverOne() override
    {
        std::lock_guard lock(m_state->handOverMutex);
        if (m_state->done)
            return false;
        if (const qint64 remaining = m_state->windowRemainingLocked(); remaining > 0) {
            // Qt would drop it: it stays reported until the window opens.
            scheduleDeliveryIn(std::chrono::milliseconds(remaining));
            return false;
        }
        LatestProgress::Values reported;
        if (m_state->progress.take(reported))
            m_state->handOverLocked(reported);
        return false;
    }

    const std::shared_ptr<JobControlState> m_state;
};

void JobControlState::scheduleHandOver(bool first)
{
    if (!relay) {
        // No event loop to relay through: the worker hands over itself, when Qt would pass it on.
        std::lock_guard lock(handOverMutex);
        if (!done && windowRemainingLocked() == 0)
            handOverLocked(progress.peek());
        return;
    }
    if (first)
        relay->scheduleDelivery(); // the later reports wait for it
}

void JobControlState::handOverLocked(const LatestProgress::Values &reported)
{
    QString currentText;
    {
        std::lock_guard lock(textMutex);
        currentText = text;
    }
    const int current = int(reported.value);
    if (reported.rangeSerial != handedRangeSerial) {
        promise.setProgressRange(int(reported.minimum), int(reported.maximum)); // passed on at once by Qt
        handedRangeSerial = reported.rangeSerial;
        handedValue = int(reported.minimum);
    }
    if (current == handedValue && currentText == handedText)
        return;
    promise.setProgressValueAndText(current, currentText);
    handedValue = current;
    handedText = currentText;
    handedAt.start();
}

std::shared_ptr<JobControlState> makeJobControlState(const QFutureInterfaceBase &promise, StopSource stop)
{
    auto state = std::make_shared<JobControlState>(promise, std::move(stop));
    // The main thread's lane turns whenever its event loop runs; another
    // thread's only while it runs one. A pool worker submitting a job runs
    // none, and a relay there would wait for the thread's end.
    QThread *thread = QThread::currentThread();
    const QCoreApplication *app = QCoreApplication::instance();
    if ((app && thread == app->thread()) || thread->loopLevel() > 0)
        state->relay = new ProgressRelay(state);
    return state;
}

void finishProgress(JobControlState &state) noexcept
{
    ProgressRelay *relay = nullptr;
    {
        std::lock_guard lock(state.handOverMutex);
        if (state.done)
            return;
        state.done = true;
        state.handOverLocked(state.progress.peek());
        relay = std::exchange(state.relay, nullptr);
    }
    // It may be in a lane turn right now, waiting for handOverMutex: the lane
    // destroys it after that turn, or as the lane retires. A deleteLater()
    // would leak it, and with it the future, when the job ends after its
    // submitting thread's last event loop (Qt drops that posted deletion).
    if (relay)
        relay->deleteOnLane();
}

} // namespace detail

JobControl::JobControl(std::shared_ptr<detail::JobControlState> state) noexcept
    : d(std::move(state))
{
}
JobControl::JobControl(JobControl &&) noexcept = default;
JobControl &JobControl::operator=(JobControl &&) noexcept = default;
JobControl::~JobControl() = default;

void JobControl::setProgressRange(int minimum, int maximum) { d->reportRange(minimum, maximum); }

void JobControl::setProgressValue(int value) { d->reportValue(value, nullptr); }

void JobControl::setProgressValueAndText(int value, const QString &text) { d->reportValue(value, &text); }

bool JobControl::isStopRequested() const noexcept { return d->stop.isStopRequested(); }

StopToken JobControl::stopToken() const noexcept { return d->stop.token(); }

bool JobControl::isSuspendRequested() const noexcept { return d->promise.isSuspending() || d->promise.isSuspended(); }

void JobControl::suspendIfRequested()
{
    if (!isSuspendRequested() || d->promise.isCanceled())
        return;
    d->promise.reportSuspended(); // Suspending -> Suspended: the watcher's suspended()
    // Qt's own wait (QFutureInterfaceBase::suspendIfRequested()) is woken only
    // by resume() and cancel(); a stop request must end it too, and no public
    // hook tells of a resume. So the wait is the stop token's, which a stop
    // wakes at once (the future's cancel(), the shutdown of the job's
    // executor: a pool cannot finish while a job it runs is held, and nobody
    // may be left to resume it), in slices after which the suspension is
    // read again.
    constexpr auto resumePollPeriod = std::chrono::milliseconds(5);
    const StopToken token = d->stop.token();
    while (isSuspendRequested() && !d->promise.isCanceled()) {
        if (token.waitFor(resumePollPeriod))
            return;
    }
}

} // namespace QtOffload
