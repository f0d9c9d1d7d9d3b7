// SPDX-License-Identifier: MIT
// The chunk buffer between a generator's producer (a worker) and its
// consumer (the generator, on its owner thread), in the order a chunk
// travels through it:
//   push    the producer's Sink::yield() appends under the mutex
//           (ChunkBuffer::push(): waitForRoomLocked(), pushedLocked()),
//           waiting while it is full (backpressure);
//   wake    if the consumer found the buffer empty, the push schedules the
//           consumer on its delivery lane (wakeConsumerLocked());
//   take    the consumer moves every pushed chunk at once to its own side
//           (ChunkBuffer::take(), takenLocked()), one lock per batch;
//   release handing chunks out gives their room back a batch at a time
//           (delivered(), release()), and a producer waiting on a full
//           buffer goes on once the buffer has drained to its low water.
// The end (the producer returned, threw or was closed) is a state the
// consumer reads with end().

#include <QtOffload/impl/chunkbuffer.h>
#include <QtOffload/impl/deliverylane.h>
#include <QtOffload/impl/finishfuture.h>

#include "spin_p.h"

#include <algorithm>

namespace QtOffload {

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
constexpr auto producerSpin = std::chrono::microseconds(50);
constexpr auto consumerSpin = std::chrono::microseconds(20);

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
    return true;
}

// push
template<typename Ready> void ChunkBufferBase::producerSleepLocked(std::unique_lock<std::mutex> &lock, Ready ready)
{
    m_state = State::ProducerWaiting;
    m_producerCv.wait(lock, [&] { return m_state != State::ProducerWaiting || ready(); });
    if (m_state == State::ProducerWaiting)
        m_state = State::Producing; // else close() made it Closing
}

bool ChunkBufferBase::waitForRoomLocked(std::unique_lock<std::mutex> &lock)
{
    const qsizetype capacity = capacityFor(m_maxSize);
    if (m_state == State::Producing && m_paused)
        producerSleepLocked(lock, [&] { return !m_paused; });
    if (m_state == State::Producing && m_outstanding >= capacity) {
        lock.unlock();
        spinFor(producerSpin,
                [&] { return m_outstanding.load(std::memory_order_relaxed) <= m_lowWater || closedForConsumer(); });
        lock.lock();
    }
    if (m_state == State::Producing && m_outstanding >= capacity) {
        // Woken once the consumer has drained to the low water (or paused); may fill up to capacity again.
        producerSleepLocked(lock, [&] { return m_outstanding < capacity && !m_paused; });
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
        producerSleepLocked(lock, [&] { return m_takenCount >= sequence; });
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
    if (m_state == State::ProducerWaiting && m_maxSize == 0)
        m_producerCv.notify_one();
}

qsizetype ChunkBufferBase::bufferedCount() const noexcept
{
    return qsizetype(m_pushedCount.load(std::memory_order_relaxed) - m_droppedCount.load(std::memory_order_relaxed)
                     - m_deliveredCount);
}

void ChunkBufferBase::awaitPushBriefly() const noexcept
{
    // Only while the producer runs and is awake: asleep, gone or not started, a spin would only burn the core.
    const auto producing = [this] { return m_state.load(std::memory_order_relaxed) == State::Producing; };
    if (!producing())
        return;
    spinFor(consumerSpin,
            [&] { return m_pushedCount.load(std::memory_order_relaxed) != m_pushedWhenTaken || !producing(); });
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
    if (m_state == State::ProducerWaiting && m_outstanding <= wakeAt)
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
    m_error = std::move(error);
    wakeConsumerLocked();
}

void ChunkBufferBase::reportProgressRange(qint64 minimum, qint64 maximum)
{
    if (m_progress.setRange(minimum, maximum))
        scheduleConsumer();
}

void ChunkBufferBase::reportProgressValue(qint64 value)
{
    if (m_progress.setValue(value))
        scheduleConsumer(); // the first report since the consumer took one: the rest wait for it
}

bool ChunkBufferBase::takeProgress(Progress &out) noexcept { return m_progress.take(out); }

bool ChunkBufferBase::progressReported() const noexcept { return m_progress.pending(); }

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
        case State::ProducerWaiting:
            m_state = State::Closing;
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

} // namespace QtOffload
