// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// The chunk buffer between a generator's producer (a worker) and its
// consumer (the generator, on its owner thread). The whole flow of a chunk,
// push -> wake -> lane -> deliver -> release, is in src/generator.cpp.

#include <QtOffload/errors.h>
#include <QtOffload/impl/latestprogress.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureInterface>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>

namespace QtOffload::detail {

class LaneClient;

class QTOFFLOAD_EXPORT ChunkBufferBase
{
public:
    //! Where the producer is. Chunks may still be buffered in Returned.
    enum class State {
        NotStarted, //!< the producer has not run yet
        Producing, //!< the producer runs
        ProducerWaiting, //!< the producer runs, asleep until there is room, resume() or its hand-off was taken
        Returned, //!< the producer returned or threw
        Closing, //!< closed while the producer runs: it stops at its next yield
        Closed, //!< closed, and the producer has stopped (or never ran)
    };

    //! Throws std::invalid_argument for \a maxSize < 0.
    explicit ChunkBufferBase(qsizetype maxSize);
    virtual ~ChunkBufferBase();
    ChunkBufferBase(const ChunkBufferBase &) = delete;
    ChunkBufferBase &operator=(const ChunkBufferBase &) = delete;

    qsizetype maxSize() const noexcept { return m_maxSize; }

    // --- producer side (worker thread) ---
    //! False when the buffer was closed before the producer started: it must not run.
    bool producerStarting();
    //! The producer returned (\a error null) or threw. Finishes close()'s future; wakes the consumer.
    void producerFinished(std::exception_ptr error) noexcept;
    bool isClosed() const;
    //! Progress, coalesced: the consumer sees the latest range and value once per delivery turn.
    void reportProgressRange(qint64 minimum, qint64 maximum);
    void reportProgressValue(qint64 value);

    // --- consumer side (owner thread) ---
    //! Wakes go to \a consumer's lane (null: nowhere). Thread-safe against the producer.
    void setConsumer(LaneClient *consumer);
    //! Asks for a turn of the consumer on its lane, if one is set. Thread: any.
    void scheduleConsumer();
    //! The consumer pauses: the room of every chunk it handed out goes back to the producer now.
    void releaseDelivered();
    /*!
      Stops the producer at its next yield (waking it if blocked) and drops
      buffered chunks. A \a reason makes the end a failure with it (the
      first close decides). Any thread.
    */
    QFuture<void> close(std::exception_ptr reason = {});
    //! While paused the producer blocks at its next yield; close() still wakes it.
    void setPaused(bool paused);
    //! Whether setPaused(true) holds the stream. Thread: any.
    bool isPaused() const noexcept { return m_paused.load(std::memory_order_relaxed); }

    using Progress = LatestProgress::Values;
    //! The progress, if the producer reported any since the last call.
    bool takeProgress(Progress &out) noexcept;
    //! Whether takeProgress() would find a report. Any thread.
    bool progressReported() const noexcept;

    struct End
    {
        bool reached = false; //!< nothing more will come: closed, or returned with nothing buffered
        bool producerStopped = false; //!< the producer returned, threw, or never started
        bool closed = false; //!< it ended because close() was called
        std::exception_ptr error; //!< what the producer threw, if anything
    };
    //! Whether the stream is over. While the producer runs, its next push or its end wakes the consumer.
    End end();
    //! Chunks pushed and not yet handed out. Thread: the consumer's.
    qsizetype bufferedCount() const noexcept;

protected:
    // The typed buffer's push() and take() go around its two deques with these.
    //! With m_mutex held: the producer may push one chunk. Blocks while full; false once closed.
    bool waitForRoomLocked(std::unique_lock<std::mutex> &lock);
    //! With m_mutex held, after the push: wakes the consumer; a hand-off (maxSize 0) waits until taken.
    bool pushedLocked(std::unique_lock<std::mutex> &lock);
    //! With m_mutex held: the consumer moved \a count chunks out (0: there were none; the next push wakes it).
    void takenLocked(qsizetype count);
    //! Consumer: one chunk was handed out; \a lastTaken: none of the taken ones is left.
    void delivered(bool lastTaken);
    //! Consumer: \a count taken chunks were dropped because the buffer was closed.
    void dropped(qsizetype count) noexcept;
    bool closedForConsumer() const noexcept
    {
        const State state = m_state.load(std::memory_order_acquire);
        return state == State::Closing || state == State::Closed;
    }
    //! Consumer, before a take that may find nothing: waits a few microseconds for a running producer's next push.
    void awaitPushBriefly() const noexcept;
    //! With m_mutex held: drops the pushed chunks; returns how many.
    virtual qsizetype clearLocked() = 0;

    mutable std::mutex m_mutex;

private:
    bool stoppedLocked() const { return m_state == State::Returned || m_state == State::Closed; }
    //! With m_mutex held, on the producer's thread: sleeps until \a ready() or the stream closes.
    template<typename Ready> void producerSleepLocked(std::unique_lock<std::mutex> &lock, Ready ready);
    void wakeConsumerLocked();
    //! Gives the delivered chunks' room back; wakes a waiting producer once at most \a wakeAt are outstanding.
    void release(qsizetype wakeAt);

    const qsizetype m_maxSize;
    const qsizetype m_lowWater; // a producer waiting on a full buffer goes on once it drained to this
    const qsizetype m_releaseStep; // delivered chunks give their room back this many at a time
    // Guarded by m_mutex:
    std::condition_variable m_producerCv;
    LaneClient *m_consumer = nullptr;
    bool m_consumerWaiting = false; // the consumer found nothing and waits for a push
    // Pushed and not yet released: what maxSize bounds. Read without the lock by the producer's spin.
    std::atomic<qsizetype> m_outstanding { 0 };
    quint64 m_takenCount = 0; // for the hand-off
    std::exception_ptr m_error;
    std::exception_ptr m_closeReason; // what ended a stream closed for a failure (the end is Failed, not Closed)
    QFutureInterface<void> m_stopped;
    // Written by the producer under m_mutex, read by the consumer without it (buffered).
    std::atomic<quint64> m_pushedCount { 0 };
    std::atomic<quint64> m_droppedCount { 0 };
    // The consumer's thread only:
    quint64 m_deliveredCount = 0;
    quint64 m_pushedWhenTaken = 0; // m_pushedCount at the last take from the producer's deque
    qsizetype m_unreleased = 0;
    // The one state of the stream. Written under m_mutex; read without it by
    // the consumer at each take and by both spins: on a line of its own,
    // away from the producer's writes.
    alignas(64) std::atomic<State> m_state { State::NotStarted };
    std::atomic<bool> m_paused { false }; // written under m_mutex by setPaused(); read by the consumer without it
    // Written by the producer, read by the consumer.
    alignas(64) LatestProgress m_progress;
};

/*!
  The typed chunk buffer. The producer pushes into one deque under the
  mutex; the consumer moves all of it at once into a second deque that only
  its thread touches, so a take costs a lock per batch, not per chunk.
*/
template<typename T> class ChunkBuffer final : public ChunkBufferBase
{
public:
    using ChunkBufferBase::ChunkBufferBase;

    //! Producer: appends \a value, blocking while the buffer is full. False once closed (the value is dropped).
    bool push(T &&value)
    {
        std::unique_lock lock(m_mutex);
        if (!waitForRoomLocked(lock))
            return false;
        m_pushed.push_back(std::move(value));
        return pushedLocked(lock);
    }

    /*!
      Consumer: moves the oldest chunk to \a out. False when there is none:
      then the next push (or the end) wakes the consumer.
    */
    bool take(std::optional<T> &out)
    {
        if (m_taken.empty() || closedForConsumer()) {
            if (!m_taken.empty()) {
                dropped(qsizetype(m_taken.size()));
                m_taken.clear();
            }
            awaitPushBriefly();
            std::lock_guard lock(m_mutex);
            const qsizetype count = qsizetype(m_pushed.size());
            m_pushed.swap(m_taken);
            takenLocked(count);
            if (count == 0)
                return false;
        }
        out.emplace(std::move(m_taken.front()));
        m_taken.pop_front();
        delivered(m_taken.empty());
        return true;
    }

private:
    qsizetype clearLocked() override
    {
        const qsizetype count = qsizetype(m_pushed.size());
        m_pushed.clear();
        return count;
    }

    std::deque<T> m_pushed; // guarded by m_mutex
    std::deque<T> m_taken; // the consumer's thread only
};

} // namespace QtOffload::detail
