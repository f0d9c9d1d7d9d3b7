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

#include "errors_p.h"
#include "jobthread_p.h"
#include "progressfraction_p.h"
#include "spin_p.h"
#include "tsan_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>
#include <QtCore/QThread>

namespace QtOffload {

class QtGeneratorPrivate
{
public:
    enum class Phase {
        Created, //!< before the owner thread's first delivery turn
        Idle, //!< no consumer yet: nothing starts, chunks wait in the buffer
        Running, //!< the producer was started (the running property is true from here)
        Stopping, //!< close() was called after the start; finished() comes once the producer stopped
        Closing, //!< close() was called before the start; the producer never runs, finished() comes in a turn
        Done, //!< the end was reached: its signals went out, finished() last
    };
    //! Open for chunks: neither closed nor ended.
    bool isOpen() const noexcept { return phase == Phase::Created || phase == Phase::Idle || phase == Phase::Running; }

    enum class Consumption {
        Push, //!< chunkReady and the typed handler get every chunk
        Pull, //!< chunks go only to next(), and none waits
        PullWaiting, //!< chunks go only to next(), and one is suspended for the coming chunk
    };

    //! What the generator has still to tell, in this order: the end's signals, or bufferedChanged() after a take.
    enum Notice : quint8 {
        ProgressNotice = 1, //!< progressChanged(): the last progress, before the end
        StoppedNotice = 2, //!< runningChanged(false)
        BufferedNotice = 4, //!< bufferedChanged(lastBuffered)
        FailedNotice = 8, //!< errorOccurred(endMessage)
        FinishedNotice = 16, //!< finished()
    };

    std::shared_ptr<detail::ChunkBufferBase> buffer;
    Executor executor;
    detail::JobPtr producer; // until it is submitted
    QtGenerator::TypedStep typedStep = nullptr;
    const std::type_info *unsendableChunkType = nullptr;
    Phase phase = Phase::Created;
    Consumption consumption = Consumption::Push;
    enum class Handler { None, Bound, Unbound } handler = Handler::None;
    QPointer<QObject> handlerReceiver;
    qsizetype lastBuffered = 0;
    quint8 notices = 0; // Notice flags
    QString endMessage; // what errorOccurred() says of a failed end
    QFuture<void> closeFuture;
    QtGenerator::EndReason endReason = QtGenerator::EndReason::NotEnded;
    detail::ChunkBufferBase::Progress progress;
    quint64 progressTurn = 0; // the lane turn that delivered progress last
    quint64 progressDeferredTurn = 0; // the turn that asked for the next one for a newer report
    bool changingLane = false; // between the ThreadChange event and the first event in the new thread
    bool deliveringForNext = false; // the steps run at once for a next() (deliverNow())
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

bool QtGenerator::isRunning() const noexcept
{
    const auto phase = d_func()->phase;
    return phase == QtGeneratorPrivate::Phase::Running || phase == QtGeneratorPrivate::Phase::Stopping;
}

detail::ChunkBufferBase &QtGenerator::chunkBuffer() const noexcept { return *d_func()->buffer; }

qsizetype QtGenerator::maxSize() const noexcept { return d_func()->buffer->maxSize(); }

qsizetype QtGenerator::buffered() const { return d_func()->buffer->bufferedCount(); }

bool QtGenerator::isDone() const noexcept { return d_func()->phase == QtGeneratorPrivate::Phase::Done; }

QtGenerator::EndReason QtGenerator::endReason() const noexcept { return d_func()->endReason; }

bool QtGenerator::isPaused() const noexcept { return d_func()->buffer->isPaused(); }

void QtGenerator::setPaused(bool paused)
{
    Q_D(QtGenerator);
    if (d->buffer->isPaused() == paused)
        return;
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

bool QtGenerator::deliverProgress()
{
    Q_D(QtGenerator);
    if (d->progressTurn == currentTurn()) {
        // One progressChanged() per turn: a report that came since waits for the next.
        if (d->progressDeferredTurn != d->progressTurn && d->buffer->progressReported()) {
            d->progressDeferredTurn = d->progressTurn;
            scheduleNextTurn();
        }
        return false;
    }
    if (!takeProgress())
        return false;
    d->progressTurn = currentTurn();
    Q_EMIT progressChanged();
    return true;
}

bool QtGenerator::takeProgress()
{
    Q_D(QtGenerator);
    detail::ChunkBufferBase::Progress progress;
    if (!d->buffer->takeProgress(progress))
        return false;
    if (progress.minimum == d->progress.minimum && progress.maximum == d->progress.maximum
        && progress.value == d->progress.value)
        return false;
    d->progress = progress;
    return true;
}

QFuture<void> QtGenerator::close() { return closeBecause({}); }

QFuture<void> QtGenerator::closeBecause(std::exception_ptr reason)
{
    Q_D(QtGenerator);
    if (d->closeFuture.isValid())
        return d->closeFuture;
    d->closeFuture = d->buffer->close(std::move(reason));
    d->producer.reset();
    if (d->phase == QtGeneratorPrivate::Phase::Running)
        d->phase = QtGeneratorPrivate::Phase::Stopping;
    else if (d->isOpen())
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

bool QtGenerator::hasConsumer() const
{
    Q_D(const QtGenerator);
    return hasHandler() || d->consumption == QtGeneratorPrivate::Consumption::PullWaiting
        || (!d->unsendableChunkType && wantsChunkReady());
}

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
    d->consumption = waiting ? QtGeneratorPrivate::Consumption::PullWaiting : QtGeneratorPrivate::Consumption::Pull;
}

bool QtGenerator::start()
{
    Q_D(QtGenerator);
    detail::JobPtr job = std::move(d->producer);
    if (!job)
        return false;
    d->phase = QtGeneratorPrivate::Phase::Running;
    try {
        // The executor's shutdown stops the producer (ProducerJob::requestStop() closes the stream).
        detail::SubmitAccess::submit(d->executor, std::move(job));
    } catch (const ShutdownError &) {
        // The executor cancelled the producer job: the buffer now holds a
        // ShutdownError, which reaches the consumer like a producer failure.
    }
    Q_EMIT runningChanged(true);
    return true;
}

bool QtGenerator::deliverNow()
{
    Q_D(QtGenerator);
    // Between moveToThread() and the first event in the new thread the old lane still holds it: the join delivers.
    if (d->changingLane)
        return true;
    d->deliveringForNext = true;
    const bool alive = LaneClient::deliverNow();
    if (alive)
        d->deliveringForNext = false;
    return alive;
}

// deliver: one lane turn's share. Each step brings the state up to date
// first and makes at most one call out of the library (a signal, the typed
// handler, a next()'s resumption), as its last action: that call may
// destroy the generator, and the lane, which learns of it, is the one place
// that checks (a consumer's next() runs the same steps through deliverNow()).
bool QtGenerator::deliverOne()
{
    Q_D(QtGenerator);
    using Phase = QtGeneratorPrivate::Phase;
    if (d->phase == Phase::Created)
        d->phase = Phase::Idle; // from now on a consumer that connects starts the producer at once
    if (d->deliveringForNext && d->consumption != QtGeneratorPrivate::Consumption::PullWaiting) {
        // The next() that ran these steps has its chunk or its end, and its
        // coroutine has not seen it yet: what follows (the end's signals
        // above all) comes in a lane turn, after it, not before.
        d->buffer->scheduleConsumer();
        return false;
    }
    if (d->notices != 0) {
        announceNext();
        return true;
    }
    if (d->phase == Phase::Done)
        return d->typedStep(this, false); // a waiting next() learns of the end, after the end's signals
    if (deliverProgress())
        return true;
    if (d->unsendableChunkType && d->isOpen() && wantsChunkReady()) {
        // Its chunks would reach nobody: the stream fails, and its end says why (errorOccurred(), then finished()).
        closeBecause(std::make_exception_ptr(std::logic_error(
            "QtOffload: chunkReady cannot carry chunks of type " + detail::typeName(*d->unsendableChunkType)
            + " (a QVariant needs a copyable type); take them with onChunk() or next(). The generator is closed.")));
        return false;
    }
    if (d->phase == Phase::Idle) {
        if (!hasConsumer())
            return false; // chunks wait in the bounded buffer; a consumer that connects schedules us
        if (start())
            return true;
    }
    const bool held = d->phase == Phase::Running && d->buffer->isPaused();
    const bool pulledOnly = d->consumption == QtGeneratorPrivate::Consumption::Pull;
    const bool consumerLeft
        = d->consumption == QtGeneratorPrivate::Consumption::Push && d->phase == Phase::Running && !hasConsumer();
    // A chunk on its way to more than one consumer goes on whatever else holds the stream; a new one only when nothing
    // does.
    if (d->typedStep(this, !held && !pulledOnly && !consumerLeft))
        return true;
    if (held)
        return false; // resume() schedules the next turn
    if (consumerLeft) {
        // The rest waits for the next consumer, and the producer may fill the buffer meanwhile.
        d->buffer->releaseDelivered();
        return false;
    }
    return noteEndIfReached(); // nothing buffered, or nobody awaiting a pulled one: finished() still comes
}

void QtGenerator::chunkTaken()
{
    Q_D(QtGenerator);
    const qsizetype now = d->buffer->bufferedCount();
    if (now == d->lastBuffered)
        return;
    d->lastBuffered = now;
    d->notices |= QtGeneratorPrivate::BufferedNotice;
}

bool QtGenerator::noteEndIfReached()
{
    Q_D(QtGenerator);
    const detail::ChunkBufferBase::End end = d->buffer->end();
    if (!end.reached || !end.producerStopped)
        return false;
    if (takeProgress())
        d->notices |= QtGeneratorPrivate::ProgressNotice;
    if (isRunning())
        d->notices |= QtGeneratorPrivate::StoppedNotice;
    chunkTaken();
    if (end.error) {
        d->endMessage = QString::fromStdString(detail::describeException(end.error));
        d->notices |= QtGeneratorPrivate::FailedNotice;
    }
    d->notices |= QtGeneratorPrivate::FinishedNotice;
    d->phase = QtGeneratorPrivate::Phase::Done; // before the signals: a handler may call back in
    d->endReason = end.error ? EndReason::Failed : end.closed ? EndReason::Closed : EndReason::Completed;
    return true;
}

void QtGenerator::announceNext()
{
    Q_D(QtGenerator);
    using P = QtGeneratorPrivate;
    // The lowest flag first: the end's signals in their documented order.
    const auto notice = P::Notice(d->notices & -d->notices);
    d->notices &= ~notice;
    switch (notice) {
    case P::ProgressNotice:
        Q_EMIT progressChanged();
        break;
    case P::StoppedNotice:
        Q_EMIT runningChanged(false);
        break;
    case P::BufferedNotice:
        Q_EMIT bufferedChanged(d->lastBuffered);
        break;
    case P::FailedNotice:
        Q_EMIT errorOccurred(d->endMessage);
        break;
    case P::FinishedNotice:
        Q_EMIT finished();
        break;
    }
}

} // namespace QtOffload
