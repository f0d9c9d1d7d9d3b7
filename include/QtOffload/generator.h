// SPDX-License-Identifier: MIT
#pragma once

// The generator's non-template core: a QObject with the signals, the
// properties and the delivery (src/generator.cpp). Its typed handle,
// TypedGenerator<T>, the iterator wrappers and threadedIterable() are in
// <QtOffload/typedgenerator.h>.

#include <QtOffload/executor.h>
#include <QtOffload/impl/chunkbuffer.h>
#include <QtOffload/impl/deliverylane.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QVariant>

#include <limits>
#include <memory>
#include <typeinfo>

namespace QtOffload {

//! maxSize for a generator whose buffer may grow without limit. Must be asked for by name.
inline constexpr qsizetype Unbounded = std::numeric_limits<qsizetype>::max();

template<typename T> class TypedGenerator;

class QtGeneratorPrivate;

/*!
  A generator: chunks from a blocking producer on a worker, delivered to the
  thread that owns this QObject (its owner thread), where every signal is
  emitted. A chunk goes: the producer's Sink::yield() pushes it into the
  chunk buffer (at most maxSize chunks; the producer blocks while it is
  full) -> the owner thread's delivery lane is woken -> a lane turn delivers
  it (typed handler, chunkReady, or a waiting next()) -> its room is released
  to the producer.

  The producer starts lazily: at the first next() of the typed handle, or at
  the owner thread's first delivery turn after construction if chunkReady
  (or a typed handler) is connected by then, or as soon as one gets
  connected later. Connecting right after creating the generator never
  misses a chunk, and chunks are never delivered to nobody: with no consumer
  they wait in the bounded buffer.

  Delivery turns are bounded in time (2 ms by default; see deliverylane.h):
  the clock is read after every chunk, and the owner thread's timers and
  posted events run between turns, so neither a fast producer nor a slow
  chunkReady() handler freezes a GUI.

  chunkReady() carries the chunk as a QVariant, so it needs a copyable chunk
  type. For a move-only one (std::unique_ptr<T>...) use the typed handle's
  onChunk() or next(): naming TypedGenerator<T>::chunkReady does not
  compile, and a connection made through QtGenerator fails the stream
  (errorOccurred(), then finished() with endReason Failed) instead of
  losing its chunks silently.

  The buffered property follows the buffer while chunks are pushed to
  chunkReady/onChunk; in pull mode (next()) it is refreshed at each next().

  Signals, in order: chunkReady() for each chunk, then finished(); when the
  producer throws, errorOccurred() then finished(). endReason tells, from
  finished() on, whether the stream completed, was closed or failed.

  pause() holds the stream: no chunk is delivered and the producer blocks
  at its next yield until resume(); nothing is dropped, and close() still
  ends it. A paused producer keeps its worker thread.

  The producer's Sink::setProgressRange()/setProgressValue() show as the
  progress properties, coalesced to one progressChanged() per delivery
  turn; the last value comes before finished().

  Destroying it closes it. Its deliveries go to the lane of the thread it
  lives in: the thread it was created in, or the one it was moved to with
  moveToThread(), which may come at any time, also after chunks were
  delivered. A generator made inside a job (on a pool worker or a separate
  thread, which run no event loop) must be moved to its consuming thread
  before its first consumer: otherwise its first consumer gets
  errorOccurred() and a warning naming the thread, and next() throws
  std::logic_error, instead of waiting for ever. Usable from QML: `import QtOffload` (a C++ Q_INVOKABLE
  hands it over; ChunkListModel feeds a ListView from it).
*/
class QTOFFLOAD_EXPORT QtGenerator : public QObject, private detail::LaneClient
{
    Q_OBJECT
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(qsizetype maxSize READ maxSize CONSTANT)
    Q_PROPERTY(qsizetype buffered READ buffered NOTIFY bufferedChanged)
    Q_PROPERTY(bool done READ isDone NOTIFY finished)
    Q_PROPERTY(EndReason endReason READ endReason NOTIFY finished)
    Q_PROPERTY(bool paused READ isPaused WRITE setPaused NOTIFY pausedChanged)
    Q_PROPERTY(qint64 progressMinimum READ progressMinimum NOTIFY progressChanged)
    Q_PROPERTY(qint64 progressMaximum READ progressMaximum NOTIFY progressChanged)
    Q_PROPERTY(qint64 progressValue READ progressValue NOTIFY progressChanged)
    Q_PROPERTY(qreal progress READ progress NOTIFY progressChanged)

public:
    //! How the stream ended.
    enum class EndReason {
        NotEnded, //!< finished() was not emitted yet
        Completed, //!< the producer returned and every chunk was delivered
        Closed, //!< close() (or the generator's pool shutting down) ended it
        Failed, //!< the producer threw (errorOccurred() said what) or could not start
    };
    Q_ENUM(EndReason)

    ~QtGenerator() override;

    //! True from the producer's start until finished() was emitted.
    bool isRunning() const noexcept;
    //! The most chunks the producer may run ahead of the consumer (0: a direct hand-off).
    qsizetype maxSize() const noexcept;
    //! Chunks produced and not yet delivered. Thread: the owner thread.
    qsizetype buffered() const;
    //! True once finished() was emitted.
    bool isDone() const noexcept;
    //! How the stream ended; NotEnded until finished().
    EndReason endReason() const noexcept;

    //! True between pause() and resume().
    bool isPaused() const noexcept;
    //! pause() or resume(). Thread: the owner thread.
    void setPaused(bool paused);

    //! The range the producer set with Sink::setProgressRange(); 0 and 0 until it does.
    qint64 progressMinimum() const noexcept;
    //! The end of the producer's progress range.
    qint64 progressMaximum() const noexcept;
    //! The producer's latest Sink::setProgressValue(), as delivered so far.
    qint64 progressValue() const noexcept;
    //! The value's place in the range, 0 to 1; 0 while the producer reported no range.
    qreal progress() const noexcept;

    /*!
      Closes the generator: the producer's next yield returns false (a
      coroutine producer is destroyed at its next co_yield), a producer
      blocked on a full buffer wakes, buffered chunks are dropped, and
      finished() follows once the producer has returned. The future finishes
      when the producer has really stopped; it is finished at once when the
      producer never started. Closing again returns the same future.
      Thread: the owner thread. From QML, the return value is ignored.
    */
    Q_INVOKABLE QFuture<void> close();

public Q_SLOTS:
    //! Holds the stream: no more deliveries, and the producer blocks at its next yield.
    void pause() { setPaused(true); }
    //! Lets a paused stream go on: held chunks are delivered from the next turn.
    void resume() { setPaused(false); }

Q_SIGNALS:
    //! One chunk, in order, on the owner thread. Connecting counts as a consumer (the producer starts).
    void chunkReady(const QVariant &chunk);
    //! The stream is over (see endReason); emitted once, last.
    void finished();
    //! The producer threw (or a chunk could not be carried): what happened, before finished().
    void errorOccurred(const QString &message);
    //! The running property changed.
    void runningChanged(bool running);
    //! The buffered property changed.
    void bufferedChanged(qsizetype buffered);
    //! The paused property changed.
    void pausedChanged(bool paused);
    //! The progress properties changed: at most once per delivery turn, and once more before finished().
    void progressChanged();

protected:
    //! A connection to chunkReady counts as a consumer: it schedules the start.
    void connectNotify(const QMetaMethod &signal) override;
    //! Follows moveToThread(): deliveries go to the new thread's lane.
    bool event(QEvent *event) override;

private:
    // What follows is for TypedGenerator<T>, the one subclass, and its next(), on the owner thread.
    template<typename T> friend class TypedGenerator;
    template<typename T> friend class NextChunk;

    /*!
      The one typed step, handed to the core by TypedGenerator<T>: goes on
      with a chunk that is on its way to more than one consumer, or tells a
      waiting next() the end once the end's signals are out; with \a mayTake,
      else takes one chunk and hands it out. At most one call out of the
      library, as its last action (it may destroy the generator). False when
      it had nothing to do.
    */
    using TypedStep = bool (*)(QtGenerator *generator, bool mayTake);

    /*!
      For TypedGenerator<T>. \a unsendableChunkType is the chunk type when
      chunkReady cannot carry it (not copyable into a QVariant), else null.
    */
    QtGenerator(std::shared_ptr<detail::ChunkBufferBase> buffer, Executor executor, detail::JobPtr producer,
                TypedStep typedStep, const std::type_info *unsendableChunkType, QObject *parent);

    //! The stream's chunk buffer, which both ends share.
    detail::ChunkBufferBase &chunkBuffer() const noexcept;
    //! Something is connected to chunkReady.
    bool wantsChunkReady() const;
    //! A typed handler was set (null \a receiver: lives as long as the generator).
    void setHandlerReceiver(QObject *receiver);
    //! A typed handler is set and its receiver lives.
    bool hasHandler() const;
    //! From now on chunks go only to next(); \a waiting: a next() is suspended and wants the coming chunk.
    void setNextWaiting(bool waiting);
    /*!
      Before a consumer's first call (\a call names it): reports a generator
      stranded on a thread that runs a job, not an event loop (warning,
      errorOccurred(), closed) and returns false; throws std::logic_error
      when called from a thread other than the generator's.
    */
    bool acceptsConsumerCall(const char *call);
    //! After a chunk was taken: bufferedChanged() follows in the next delivery step.
    void chunkTaken();
    //! A next() that would wait: the deliveries it needs run now (LaneClient::deliverNow()). False: this was destroyed.
    bool deliverNow();

    // The core's own.
    bool deliverOne() override;
    //! The owner thread finished first: closes the stream.
    void laneRetired() noexcept override;
    bool hasConsumer() const;
    //! Warns, emits errorOccurred() and closes a generator stranded on a thread that runs a job.
    bool reportStranded();
    //! close(), and the end is Failed with \a reason when it is set (errorOccurred() tells it).
    QFuture<void> closeBecause(std::exception_ptr reason);
    //! Submits the producer and emits runningChanged(true). False if it was started already.
    bool start();
    //! If the stream is over: the end's signals are noted, to go out one per step. False if not.
    bool noteEndIfReached();
    //! Emits the first noted signal.
    void announceNext();
    //! Emits progressChanged() if the producer reported since, at most once per turn.
    bool deliverProgress();
    //! Takes the producer's latest progress; false if it did not change.
    bool takeProgress();

    Q_DECLARE_PRIVATE(QtGenerator)
    std::unique_ptr<QtGeneratorPrivate> d_ptr;
};

} // namespace QtOffload
