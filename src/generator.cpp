// SPDX-License-Identifier: MIT
// A generator's chunk stream, in the order a chunk travels:
//   push    the producer's Sink::yield() appends to the chunk buffer, waiting
//           while it is full (backpressure);
//   wake    if the consumer found the buffer empty, the push schedules the
//           generator on its owner thread's delivery lane (one wake-up per
//           batch; src/deliverylane.cpp);
//   deliver a lane turn asks the generator for one chunk, which the typed
//           shell takes out of the buffer and hands to its handler,
//           chunkReady or a waiting next(); the lane comes back while chunks
//           remain, within its time budget;
//   release taking a chunk gives its room back, and a producer waiting on a
//           full buffer goes on once the buffer has drained to its low water.
// The end (the producer returned, threw or was closed) reaches the consumer
// the same way, as finished() from a lane turn.

#include <QtOffload/generator.h>
#include <QtOffload/impl/finishfuture.h>

#include "jobthread_p.h"
#include "progressfraction_p.h"
#include "spin_p.h"
#include "tsan_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>
#include <QtCore/QThread>

namespace QtOffload {

// ---------------------------------------------------------------- the buffer

namespace detail {

namespace {
/*
  A small buffer makes every chunk a hand-over between the two threads. If
  each side slept as soon as it had to wait, every hand-over would pay a
  thread wake-up on both sides (tens of microseconds on a VM, more than the
  chunk itself). So each side first spins briefly, as the pool's idle workers
  do: the producer for room, the consumer for the next push. Both spins are
  short and stop at once when the stream is closed; the consumer's runs
  inside its delivery turn, whose budget it counts against.
*/
using SpinClock = std::chrono::steady_clock;
constexpr auto producerSpin = std::chrono::microseconds(50);
constexpr auto consumerSpin = std::chrono::microseconds(20);

template<typename Done> bool spinUntil(std::chrono::microseconds limit, Done done)
{
    const auto until = SpinClock::now() + limit;
    for (int i = 0;; ++i) {
        if (done())
            return true;
        if ((i & 63) == 63 && SpinClock::now() >= until)
            return false;
        cpuRelax();
    }
}

qsizetype capacityFor(qsizetype maxSize) { return maxSize == 0 ? 1 : maxSize; }
// Room comes back to the producer a quarter of the buffer at a time (at most
// 256 chunks), not at every chunk: one lock and one wake-up per batch.
qsizetype releaseStepFor(qsizetype maxSize)
{
    const qsizetype capacity = capacityFor(maxSize);
    return capacity >= 8 ? std::min<qsizetype>(capacity / 4, 256) : 1;
}
} // namespace

ChunkBufferBase::ChunkBufferBase(qsizetype maxSize)
    : m_maxSize(maxSize)
    , m_lowWater(capacityFor(maxSize) - releaseStepFor(maxSize))
    , m_releaseStep(releaseStepFor(maxSize))
{
    if (maxSize < 0)
        throw std::invalid_argument("QtOffload: a generator's maxSize must be >= 0 "
                                    "(0 is a direct hand-off; use QtOffload::Unbounded for no limit)");
    m_stopped.reportStarted();
}

ChunkBufferBase::~ChunkBufferBase()
{
    if (!m_stopped.isFinished())
        finishFuture(m_stopped);
}

bool ChunkBufferBase::producerStarting()
{
    std::lock_guard lock(m_mutex);
    if (m_state != State::NotStarted)
        return false; // closed before it started
    m_state = State::Producing;
    m_producing.store(true, std::memory_order_release);
    return true;
}

// push
bool ChunkBufferBase::waitForRoomLocked(std::unique_lock<std::mutex> &lock)
{
    const qsizetype capacity = capacityFor(m_maxSize);
    if (m_state == State::Producing && m_paused) {
        m_producing.store(false, std::memory_order_relaxed);
        m_producerWaiting = true;
        m_producerCv.wait(lock, [&] { return m_state != State::Producing || !m_paused; });
        m_producerWaiting = false;
        m_producing.store(m_state == State::Producing, std::memory_order_relaxed);
    }
    if (m_state == State::Producing && m_outstanding >= capacity) {
        lock.unlock();
        spinUntil(producerSpin,
                  [&] { return m_outstanding.load(std::memory_order_relaxed) <= m_lowWater || closedForConsumer(); });
        lock.lock();
    }
    if (m_state == State::Producing && m_outstanding >= capacity) {
        m_producing.store(false, std::memory_order_relaxed);
        m_producerWaiting = true;
        // Woken once the consumer has drained to the low water (or paused); may fill up to capacity again.
        m_producerCv.wait(lock, [&] { return m_state != State::Producing || (m_outstanding < capacity && !m_paused); });
        m_producerWaiting = false;
        m_producing.store(m_state == State::Producing, std::memory_order_relaxed);
    }
    return m_state == State::Producing;
}

bool ChunkBufferBase::pushedLocked(std::unique_lock<std::mutex> &lock)
{
    m_outstanding.store(m_outstanding.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const quint64 sequence = m_pushedCount.load(std::memory_order_relaxed) + 1;
    m_pushedCount.store(sequence, std::memory_order_relaxed);
    wakeConsumerLocked();
    if (m_maxSize == 0) {
        // A hand-off: the producer does not run ahead of the consumer at all.
        m_producerWaiting = true;
        m_producerCv.wait(lock, [&] { return m_state != State::Producing || m_takenCount >= sequence; });
        m_producerWaiting = false;
    }
    return m_state == State::Producing;
}

// wake
void ChunkBufferBase::wakeConsumerLocked()
{
    if (!m_consumerWaiting || !m_consumer)
        return;
    m_consumerWaiting = false;
    // Under m_mutex: the consumer detaches under it before it is destroyed.
    m_consumer->scheduleDelivery();
}

void ChunkBufferBase::setConsumer(LaneClient *consumer)
{
    std::lock_guard lock(m_mutex);
    m_consumer = consumer;
}

void ChunkBufferBase::scheduleConsumer()
{
    std::lock_guard lock(m_mutex);
    if (m_consumer)
        m_consumer->scheduleDelivery();
}

// deliver: the typed buffer's take() moves the chunks out, on the owner thread
void ChunkBufferBase::takenLocked(qsizetype count)
{
    if (count == 0) {
        m_consumerWaiting = true; // the next push, or the end, wakes the consumer
        return;
    }
    m_takenCount += quint64(count);
    m_pushedWhenTaken = m_pushedCount.load(std::memory_order_relaxed);
    if (m_producerWaiting && m_maxSize == 0)
        m_producerCv.notify_one();
}

qsizetype ChunkBufferBase::bufferedCount() const noexcept
{
    return qsizetype(m_pushedCount.load(std::memory_order_relaxed) - m_droppedCount.load(std::memory_order_relaxed)
                     - m_deliveredCount);
}

void ChunkBufferBase::awaitPushBriefly() const noexcept
{
    if (!m_producing.load(std::memory_order_relaxed))
        return; // it is blocked, gone, or not started: a spin would only burn the core
    spinUntil(consumerSpin, [this] {
        return m_pushedCount.load(std::memory_order_relaxed) != m_pushedWhenTaken || closedForConsumer()
            || !m_producing.load(std::memory_order_relaxed);
    });
}

// release
void ChunkBufferBase::delivered(bool lastTaken)
{
    ++m_deliveredCount;
    if (++m_unreleased < m_releaseStep && !lastTaken)
        return;
    release(m_lowWater);
}

void ChunkBufferBase::releaseDelivered() { release(capacityFor(m_maxSize) - 1); }

void ChunkBufferBase::release(qsizetype wakeAt)
{
    if (m_unreleased == 0)
        return;
    std::lock_guard lock(m_mutex);
    m_outstanding.store(m_outstanding.load(std::memory_order_relaxed) - m_unreleased, std::memory_order_relaxed);
    m_unreleased = 0;
    if (m_producerWaiting && m_outstanding <= wakeAt)
        m_producerCv.notify_one();
}

void ChunkBufferBase::dropped(qsizetype count) noexcept
{
    m_droppedCount.fetch_add(quint64(count), std::memory_order_relaxed);
}

// the end
void ChunkBufferBase::producerFinished(std::exception_ptr error) noexcept
{
    // The stopped future (what close() returns) first, so a consumer that sees
    // the end sees it finished too; and outside m_mutex, as a continuation
    // attached to it may call back in.
    // A second call (closed before it started, then cancelled) does nothing.
    finishFuture(m_stopped);
    std::lock_guard lock(m_mutex);
    if (stoppedLocked())
        return;
    m_state = m_state == State::Closing ? State::Closed : State::Returned;
    m_producing.store(false, std::memory_order_relaxed);
    m_error = std::move(error);
    wakeConsumerLocked();
}

void ChunkBufferBase::reportProgressRange(qint64 minimum, qint64 maximum)
{
    m_progressMinimum.store(minimum, std::memory_order_relaxed);
    m_progressMaximum.store(std::max(minimum, maximum), std::memory_order_relaxed);
    m_progressValue.store(minimum, std::memory_order_relaxed); // as QFutureInterface::setProgressRange()
    reportProgressValue(minimum);
}

void ChunkBufferBase::reportProgressValue(qint64 value)
{
    m_progressValue.store(value, std::memory_order_relaxed);
    // Only the first report after the consumer read the last one wakes it:
    // ten million reports cost the owner thread one delivery per turn.
    if (m_progressReported.load(std::memory_order_relaxed) || m_progressReported.exchange(true))
        return;
    std::lock_guard lock(m_mutex);
    if (m_consumer)
        m_consumer->scheduleDelivery();
}

bool ChunkBufferBase::takeProgress(Progress &out)
{
    if (!m_progressReported.load(std::memory_order_relaxed) || !m_progressReported.exchange(false))
        return false;
    out.minimum = m_progressMinimum.load(std::memory_order_relaxed);
    out.maximum = m_progressMaximum.load(std::memory_order_relaxed);
    out.value = m_progressValue.load(std::memory_order_relaxed);
    return true;
}

void ChunkBufferBase::setPaused(bool paused)
{
    std::lock_guard lock(m_mutex);
    m_paused = paused;
    if (!paused)
        m_producerCv.notify_all();
}

bool ChunkBufferBase::isClosed() const
{
    std::lock_guard lock(m_mutex);
    return m_state == State::Closing || m_state == State::Closed;
}

QFuture<void> ChunkBufferBase::close(std::exception_ptr reason)
{
    bool neverStarted = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_state != State::Closing && m_state != State::Closed && reason)
            m_closeReason = std::move(reason);
        switch (m_state) {
        case State::NotStarted: // it never will start now: Closing keeps producerStarting() out
            m_state = State::Closing;
            neverStarted = true;
            break;
        case State::Producing:
            m_state = State::Closing;
            m_producing.store(false, std::memory_order_relaxed);
            m_producerCv.notify_all();
            break;
        case State::Returned:
            m_state = State::Closed;
            break;
        case State::Closing:
        case State::Closed:
            break;
        }
        m_droppedCount.fetch_add(quint64(clearLocked()), std::memory_order_relaxed);
        m_closedFlag.store(true, std::memory_order_release);
        wakeConsumerLocked();
    }
    if (neverStarted)
        producerFinished({}); // stopped at once, the future before the end the consumer sees
    return m_stopped.future();
}

ChunkBufferBase::End ChunkBufferBase::end()
{
    std::lock_guard lock(m_mutex);
    if (!stoppedLocked())
        m_consumerWaiting = true;
    const bool closed = m_state == State::Closing || m_state == State::Closed;
    End end;
    end.producerStopped = stoppedLocked();
    end.closed = closed;
    end.reached = closed || (m_state == State::Returned && bufferedCount() == 0);
    end.error = closed ? m_closeReason : m_error;
    return end;
}

} // namespace detail

// ------------------------------------------------------------- the consumer

class QtGeneratorPrivate
{
public:
    enum class Phase {
        Created, //!< before the owner thread's first delivery turn
        Idle, //!< no consumer yet: nothing starts, chunks wait in the buffer
        Running, //!< the producer was started
        Closing, //!< close() was called; finished() comes once the producer stopped
        Done, //!< finished() was emitted
    };
    enum class Consumption {
        Push, //!< chunkReady and the typed handler get every chunk
        Pull, //!< chunks go only to next()
    };

    std::shared_ptr<detail::ChunkBufferBase> buffer;
    Executor executor;
    detail::JobPtr producer; // until it is submitted
    QtGenerator::TypedStep typedStep = nullptr;
    const std::type_info *unsendableChunkType = nullptr;
    Phase phase = Phase::Created;
    Consumption consumption = Consumption::Push;
    bool running = false; // the running property: from the producer's start until finished()
    bool nextWaiting = false; // a next() is suspended
    bool unsendableReported = false;
    enum class Handler { None, Bound, Unbound } handler = Handler::None;
    QPointer<QObject> handlerReceiver;
    qsizetype lastBuffered = 0;
    QFuture<void> closeFuture;
    QtGenerator::EndReason endReason = QtGenerator::EndReason::NotEnded;
    bool paused = false;
    detail::ChunkBufferBase::Progress progress;
    quint64 progressTurn = 0; // the lane turn that delivered progress last
    quint64 progressDeferredTurn = 0; // the turn that asked for the next one for a newer report
    bool changingLane = false; // between the ThreadChange event and the first event in the new thread
    // Made inside a job and not moved yet: its thread runs no event loop. Read by consumers on any thread.
    std::atomic<bool> stranded { false };
};

namespace {
QEvent::Type joinLaneEventType()
{
    static const auto type = QEvent::Type(QEvent::registerEventType());
    return type;
}
} // namespace

QtGenerator::QtGenerator(std::shared_ptr<detail::ChunkBufferBase> buffer, Executor executor, detail::JobPtr producer,
                         TypedStep typedStep, const std::type_info *unsendableChunkType, QObject *parent)
    : QObject(parent)
    , LaneClient(QThread::currentThread())
    , d_ptr(std::make_unique<QtGeneratorPrivate>())
{
    Q_D(QtGenerator);
    d->buffer = std::move(buffer);
    d->executor = std::move(executor);
    d->producer = std::move(producer);
    d->typedStep = typedStep;
    d->unsendableChunkType = unsendableChunkType;
    d->buffer->setConsumer(this);
    d->stranded.store(detail::currentThreadRunsAJob());
    if (!watchLaneEnd())
        d->buffer->close(); // made in a thread that has finished: nothing could ever be delivered
    d->buffer->scheduleConsumer(); // the first turn: start if a consumer connected by then
}

void QtGenerator::laneRetired() noexcept
{
    // The owner thread has finished (or the application is destroyed)
    // before anyone destroyed the generator: its producer must not stay
    // blocked on a full buffer.
    (void)d_func()->buffer->close();
}

bool QtGenerator::event(QEvent *event)
{
    Q_D(QtGenerator);
    if (event->type() == QEvent::ThreadChange) {
        // Sent in the old thread just before the move, which has not told
        // us the new thread yet. The generator leaves its lane now (a turn
        // there that is delivering it stops), and nothing schedules it until
        // an event posted to itself, which Qt moves along with it, joins the
        // new thread's lane there. Meanwhile the producer's wakes go nowhere
        // and are made up for by the first turn in the new thread.
        d->buffer->setConsumer(nullptr);
        leaveLane();
        d->stranded.store(false);
        if (!d->changingLane) {
            d->changingLane = true;
            // What this thread wrote is for the new one: Qt's posted events hide that from TSan.
            QTOFFLOAD_HAPPENS_BEFORE(d);
            QCoreApplication::postEvent(this, new QEvent(joinLaneEventType()), Qt::HighEventPriority);
        }
    } else if (event->type() == joinLaneEventType()) {
        QTOFFLOAD_HAPPENS_AFTER(d);
        if (d->changingLane) {
            d->changingLane = false;
            joinLane(QThread::currentThread());
            if (!watchLaneEnd())
                d->buffer->close();
            d->buffer->setConsumer(this);
            d->buffer->scheduleConsumer();
        }
        return true;
    }
    return QObject::event(event);
}

bool QtGenerator::acceptsConsumerCall(const char *call)
{
    if (reportStranded())
        return false;
    if (QThread::currentThread() != thread()) {
        throw std::logic_error(std::string("QtOffload: ") + call + " called in thread \""
                               + QThread::currentThread()->objectName().toStdString()
                               + "\" on a generator that lives in thread \"" + thread()->objectName().toStdString()
                               + "\"; use a generator in the thread it lives in, or moveToThread() it there first");
    }
    return true;
}

bool QtGenerator::reportStranded()
{
    Q_D(QtGenerator);
    if (!d->stranded.load() || !d->stranded.exchange(false))
        return false;
    const QString message
        = QStringLiteral("QtOffload: the generator lives in thread \"%1\", which runs a job and no event loop, so it "
                         "could never deliver: it was made inside a job. moveToThread() it to the consuming thread "
                         "before its first consumer, or make it there. The generator is closed.")
              .arg(thread()->objectName());
    qWarning("%s", qPrintable(message));
    d->buffer->close();
    Q_EMIT errorOccurred(message);
    return true;
}

QtGenerator::~QtGenerator()
{
    Q_D(QtGenerator);
    d->buffer->setConsumer(nullptr);
    d->buffer->close();
    d->producer.reset();
}

bool QtGenerator::isRunning() const noexcept { return d_func()->running; }

qsizetype QtGenerator::maxSize() const noexcept { return d_func()->buffer->maxSize(); }

qsizetype QtGenerator::buffered() const { return d_func()->buffer->bufferedCount(); }

bool QtGenerator::isDone() const noexcept { return d_func()->phase == QtGeneratorPrivate::Phase::Done; }

QtGenerator::EndReason QtGenerator::endReason() const noexcept { return d_func()->endReason; }

bool QtGenerator::isPaused() const noexcept { return d_func()->paused; }

void QtGenerator::setPaused(bool paused)
{
    Q_D(QtGenerator);
    if (d->paused == paused)
        return;
    d->paused = paused;
    d->buffer->setPaused(paused);
    if (!paused)
        d->buffer->scheduleConsumer(); // what was held back goes out from the next turn
    Q_EMIT pausedChanged(paused);
}

qint64 QtGenerator::progressMinimum() const noexcept { return d_func()->progress.minimum; }

qint64 QtGenerator::progressMaximum() const noexcept { return d_func()->progress.maximum; }

qint64 QtGenerator::progressValue() const noexcept { return d_func()->progress.value; }

qreal QtGenerator::progress() const noexcept
{
    const auto &p = d_func()->progress;
    return detail::progressFraction(p.minimum, p.maximum, p.value);
}

void QtGenerator::deliverProgress(bool final)
{
    Q_D(QtGenerator);
    if (!final && d->progressTurn == currentTurn()) {
        // One progressChanged() per turn: a report that came since waits for the next.
        if (d->progressDeferredTurn != d->progressTurn && d->buffer->progressReported()) {
            d->progressDeferredTurn = d->progressTurn;
            scheduleNextTurn();
        }
        return;
    }
    detail::ChunkBufferBase::Progress progress;
    if (!d->buffer->takeProgress(progress))
        return;
    d->progressTurn = currentTurn();
    if (progress.minimum == d->progress.minimum && progress.maximum == d->progress.maximum
        && progress.value == d->progress.value)
        return;
    d->progress = progress;
    Q_EMIT progressChanged();
}

QFuture<void> QtGenerator::close() { return closeBecause({}); }

QFuture<void> QtGenerator::closeBecause(std::exception_ptr reason)
{
    Q_D(QtGenerator);
    if (d->closeFuture.isValid())
        return d->closeFuture;
    d->closeFuture = d->buffer->close(std::move(reason));
    d->producer.reset();
    if (d->phase != QtGeneratorPrivate::Phase::Done)
        d->phase = QtGeneratorPrivate::Phase::Closing;
    // finished() comes from a lane turn once the producer stopped, never from inside close().
    d->buffer->scheduleConsumer();
    return d->closeFuture;
}

void QtGenerator::connectNotify(const QMetaMethod &signal)
{
    // Maybe from another thread: only the thread-safe part here, the rest in a turn.
    if (signal == QMetaMethod::fromSignal(&QtGenerator::chunkReady) && !reportStranded())
        d_func()->buffer->scheduleConsumer();
    QObject::connectNotify(signal);
}

bool QtGenerator::wantsChunkReady() const
{
    static const QMetaMethod chunkReadySignal = QMetaMethod::fromSignal(&QtGenerator::chunkReady);
    return isSignalConnected(chunkReadySignal);
}

bool QtGenerator::hasHandler() const
{
    Q_D(const QtGenerator);
    return d->handler == QtGeneratorPrivate::Handler::Unbound
        || (d->handler == QtGeneratorPrivate::Handler::Bound && d->handlerReceiver);
}

bool QtGenerator::hasConsumer() const { return hasHandler() || (!d_func()->unsendableChunkType && wantsChunkReady()); }

void QtGenerator::setHandlerReceiver(QObject *receiver)
{
    Q_D(QtGenerator);
    d->handler = receiver ? QtGeneratorPrivate::Handler::Bound : QtGeneratorPrivate::Handler::Unbound;
    d->handlerReceiver = receiver;
    d->buffer->scheduleConsumer();
}

void QtGenerator::setNextWaiting(bool waiting)
{
    Q_D(QtGenerator);
    d->consumption = QtGeneratorPrivate::Consumption::Pull;
    d->nextWaiting = waiting;
}

void QtGenerator::startIfNeeded()
{
    Q_D(QtGenerator);
    if (d->phase != QtGeneratorPrivate::Phase::Created && d->phase != QtGeneratorPrivate::Phase::Idle)
        return;
    d->phase = QtGeneratorPrivate::Phase::Running;
    detail::JobPtr job = std::move(d->producer);
    if (!job)
        return;
    setRunning(true);
    try {
        // The executor's shutdown stops the producer (ProducerJob::requestStop() closes the stream).
        detail::SubmitAccess::submit(d->executor, std::move(job));
    } catch (const ShutdownError &) {
        // The executor cancelled the producer job: the buffer now holds a
        // ShutdownError, which reaches the consumer like a producer failure.
    }
}

// deliver: one lane turn's share
bool QtGenerator::deliverOne()
{
    Q_D(QtGenerator);
    using Phase = QtGeneratorPrivate::Phase;
    if (d->phase == Phase::Created)
        d->phase = Phase::Idle; // from now on a consumer that connects starts the producer at once
    if (d->phase == Phase::Done)
        return false;
    {
        QPointer<QtGenerator> self(this);
        deliverProgress(false);
        if (!self)
            return false;
    }
    if (d->unsendableChunkType && !d->unsendableReported && wantsChunkReady()) {
        // Its chunks would reach nobody: the stream fails, and its end says why (errorOccurred(), then finished()).
        d->unsendableReported = true;
        closeBecause(std::make_exception_ptr(std::logic_error(
            "QtOffload: chunkReady cannot carry chunks of type " + detail::typeName(*d->unsendableChunkType)
            + " (a QVariant needs a copyable type); take them with onChunk() or next(). The generator is closed.")));
        return false;
    }
    if (d->phase == Phase::Idle) {
        if (!hasConsumer())
            return false; // chunks wait in the bounded buffer; a consumer that connects schedules us
        startIfNeeded();
    }
    if (d->paused && d->phase == Phase::Running)
        return false; // held: resume() schedules the next turn
    if (d->consumption == QtGeneratorPrivate::Consumption::Pull && !d->nextWaiting) {
        finishIfEnded(); // e.g. closed with nobody awaiting: finished() still comes
        return false;
    }
    if (d->consumption == QtGeneratorPrivate::Consumption::Push && d->phase == Phase::Running && !hasConsumer()) {
        // The consumer left mid-stream: the rest waits for the next one, and
        // the producer may fill the buffer meanwhile.
        d->buffer->releaseDelivered();
        return false;
    }
    QPointer<QtGenerator> self(this);
    if (d->typedStep(this)) // may destroy this
        return self && d->consumption == QtGeneratorPrivate::Consumption::Push;
    if (self)
        finishIfEnded();
    return false;
}

void QtGenerator::chunkTaken() { emitBufferedIfChanged(); }

void QtGenerator::setRunning(bool running)
{
    Q_D(QtGenerator);
    if (d->running == running)
        return;
    d->running = running;
    Q_EMIT runningChanged(running);
}

void QtGenerator::emitBufferedIfChanged()
{
    Q_D(QtGenerator);
    const qsizetype now = d->buffer->bufferedCount();
    if (now == d->lastBuffered)
        return;
    d->lastBuffered = now;
    Q_EMIT bufferedChanged(now);
}

detail::ChunkBufferBase::End QtGenerator::finishIfEnded()
{
    Q_D(QtGenerator);
    const detail::ChunkBufferBase::End end = d->buffer->end();
    if (!end.reached || !end.producerStopped || d->phase == QtGeneratorPrivate::Phase::Done)
        return end;
    d->phase = QtGeneratorPrivate::Phase::Done; // before the signals: a handler may call back in
    d->endReason = end.error ? EndReason::Failed : end.closed ? EndReason::Closed : EndReason::Completed;
    QPointer<QtGenerator> self(this);
    deliverProgress(true);
    if (!self)
        return end;
    setRunning(false);
    if (!self)
        return end;
    emitBufferedIfChanged();
    if (!self)
        return end;
    if (end.error) {
        Q_EMIT errorOccurred(QString::fromStdString(detail::describeException(end.error)));
        if (!self)
            return end;
    }
    Q_EMIT finished();
    return end;
}

} // namespace QtOffload
