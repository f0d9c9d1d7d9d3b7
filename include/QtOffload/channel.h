// SPDX-License-Identifier: MIT
#pragma once

// The chunk buffer between a generator's producer (a worker) and its consumer
// (the generator's owner thread). Bounded: at most maxSize chunks are
// "outstanding" (buffered, or taken by the consumer but not yet delivered),
// so memory stays bounded however slow the consumer is.

#include <QtOffload/errors.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureInterface>

#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>

class QObject;

namespace QtOffload {

//! maxSize for a generator whose buffer may grow without limit. Must be asked for by name.
inline constexpr qsizetype Unbounded = std::numeric_limits<qsizetype>::max();

namespace detail {

class QTOFFLOAD_EXPORT ChannelBase
{
public:
    //! Throws std::invalid_argument for \a maxSize < 0.
    explicit ChannelBase(qsizetype maxSize);
    virtual ~ChannelBase();
    ChannelBase(const ChannelBase &) = delete;
    ChannelBase &operator=(const ChannelBase &) = delete;

    qsizetype maxSize() const noexcept { return m_maxSize; }

    // --- producer side (worker thread) ---
    //! False when the channel was closed before the producer started: it must not run.
    bool producerStarting();
    //! The producer returned (\a error null) or threw. Fulfils stopped(); wakes the consumer.
    void producerFinished(std::exception_ptr error) noexcept;
    bool isClosed() const;

    // --- consumer side (owner thread) ---
    //! Drain events go to \a receiver (null: none). Thread-safe against the producer.
    void setReceiver(QObject *receiver);
    /*!
      Asks for a drain event when the producer next appends or finishes.
      Returns false, asking nothing, when a chunk or the end is already there.
    */
    bool requestWake();
    //! \a count chunks taken earlier were delivered: they stop counting against maxSize.
    void release(qsizetype count);
    //! Stops the producer at its next yield (waking it if blocked) and drops buffered chunks. Any thread.
    QFuture<void> close();
    //! Finishes once the producer has returned (or never will run).
    QFuture<void> stopped() const;

    struct End
    {
        bool reached = false;          //!< nothing more will come: closed, or finished with nothing buffered
        bool producerStopped = false;  //!< the producer returned, threw, or never started
        std::exception_ptr error;      //!< what the producer threw, if anything
    };
    //! Whether the stream is over.
    End end() const;
    qsizetype bufferedCount() const;
    bool producerHasStarted() const;
    bool producerHasFinished() const;

    //! The event type posted to the receiver.
    static int drainEventType();

protected:
    //! With m_mutex held: the producer may append one chunk. Blocks while full; false once closed.
    bool waitForRoomLocked(std::unique_lock<std::mutex> &lock);
    //! With m_mutex held, after appending: wakes the consumer; a hand-off (maxSize 0) waits until taken.
    bool appendedLocked(std::unique_lock<std::mutex> &lock);
    //! With m_mutex held: \a count chunks left the buffer for the consumer.
    void takenLocked(qsizetype count);
    virtual qsizetype bufferSizeLocked() const = 0;
    virtual void clearBufferLocked() = 0;

    mutable std::mutex m_mutex;

private:
    void wakeConsumerLocked();

    const qsizetype m_maxSize;
    std::condition_variable m_producerCv;
    QObject *m_receiver = nullptr;
    qsizetype m_outstanding = 0;    // buffered + taken but not released
    quint64 m_appended = 0;
    quint64 m_taken = 0;
    bool m_closed = false;
    bool m_started = false;
    bool m_finished = false;
    bool m_wakeRequested = false;
    bool m_producerWaiting = false;
    std::exception_ptr m_error;
    QFutureInterface<void> m_stopped;
};

template<typename T>
class Channel final : public ChannelBase
{
public:
    using ChannelBase::ChannelBase;

    //! Producer: appends \a value, blocking while the buffer is full. False once closed (the value is dropped).
    bool push(T &&value)
    {
        std::unique_lock lock(m_mutex);
        if (!waitForRoomLocked(lock))
            return false;
        m_items.push_back(std::move(value));
        return appendedLocked(lock);
    }

    //! Consumer: moves every buffered chunk to the end of \a out; returns how many.
    qsizetype takeAll(std::deque<T> &out)
    {
        std::lock_guard lock(m_mutex);
        const qsizetype count = qsizetype(m_items.size());
        if (count == 0)
            return 0;
        if (out.empty()) {
            out.swap(m_items);
        } else {
            for (auto &item : m_items)
                out.push_back(std::move(item));
            m_items.clear();
        }
        takenLocked(count);
        return count;
    }

protected:
    qsizetype bufferSizeLocked() const override { return qsizetype(m_items.size()); }
    void clearBufferLocked() override { m_items.clear(); }

private:
    std::deque<T> m_items;
};

} // namespace detail
} // namespace QtOffload
