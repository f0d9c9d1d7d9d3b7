// SPDX-License-Identifier: MIT
#include <QtOffload/channel.h>
#include <QtOffload/impl/finishfuture.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>

namespace QtOffload::detail {

ChannelBase::ChannelBase(qsizetype maxSize) : m_maxSize(maxSize)
{
    if (maxSize < 0)
        throw std::invalid_argument("QtOffload: a generator's maxSize must be >= 0 "
                                    "(0 is a direct hand-off; use QtOffload::Unbounded for no limit)");
    m_stopped.reportStarted();
}

ChannelBase::~ChannelBase()
{
    if (!m_stopped.isFinished())
        finishFuture(m_stopped);
}

int ChannelBase::drainEventType()
{
    static const int type = QEvent::registerEventType();
    return type;
}

bool ChannelBase::producerStarting()
{
    std::lock_guard lock(m_mutex);
    if (m_closed)
        return false;
    m_started = true;
    return true;
}

void ChannelBase::producerFinished(std::exception_ptr error) noexcept
{
    std::lock_guard lock(m_mutex);
    if (m_finished)
        return;
    m_finished = true;
    m_error = std::move(error);
    wakeConsumerLocked();
    finishFuture(m_stopped);
}

bool ChannelBase::isClosed() const
{
    std::lock_guard lock(m_mutex);
    return m_closed;
}

void ChannelBase::setReceiver(QObject *receiver)
{
    std::lock_guard lock(m_mutex);
    m_receiver = receiver;
}

bool ChannelBase::requestWake()
{
    std::lock_guard lock(m_mutex);
    if (bufferSizeLocked() > 0 || m_finished)
        return false;
    m_wakeRequested = true;
    return true;
}

void ChannelBase::release(qsizetype count)
{
    std::lock_guard lock(m_mutex);
    m_outstanding = std::max<qsizetype>(0, m_outstanding - count);
    if (m_producerWaiting)
        m_producerCv.notify_one();
}

QFuture<void> ChannelBase::close()
{
    std::lock_guard lock(m_mutex);
    if (!m_closed) {
        m_closed = true;
        m_outstanding = std::max<qsizetype>(0, m_outstanding - bufferSizeLocked());
        clearBufferLocked();
        if (!m_started && !m_finished) {
            // Never started, so it never will: stopped at once.
            m_finished = true;
            finishFuture(m_stopped);
        }
        // The consumer hears when the producer has really stopped.
        m_wakeRequested = true;
        if (m_finished)
            wakeConsumerLocked();
        m_producerCv.notify_all();
    }
    return m_stopped.future();
}

QFuture<void> ChannelBase::stopped() const
{
    std::lock_guard lock(m_mutex);
    return const_cast<QFutureInterface<void> &>(m_stopped).future();
}

ChannelBase::End ChannelBase::end() const
{
    std::lock_guard lock(m_mutex);
    End end;
    end.producerStopped = m_finished;
    end.reached = m_closed || (m_finished && bufferSizeLocked() == 0);
    end.error = m_closed ? std::exception_ptr() : m_error;
    return end;
}

qsizetype ChannelBase::bufferedCount() const
{
    std::lock_guard lock(m_mutex);
    return bufferSizeLocked();
}

bool ChannelBase::producerHasStarted() const
{
    std::lock_guard lock(m_mutex);
    return m_started;
}

bool ChannelBase::producerHasFinished() const
{
    std::lock_guard lock(m_mutex);
    return m_finished;
}

bool ChannelBase::waitForRoomLocked(std::unique_lock<std::mutex> &lock)
{
    const qsizetype capacity = m_maxSize == 0 ? 1 : m_maxSize;
    while (!m_closed && m_outstanding >= capacity) {
        m_producerWaiting = true;
        m_producerCv.wait(lock);
    }
    m_producerWaiting = false;
    return !m_closed;
}

bool ChannelBase::appendedLocked(std::unique_lock<std::mutex> &lock)
{
    ++m_outstanding;
    const quint64 sequence = ++m_appended;
    wakeConsumerLocked();
    if (m_maxSize == 0) {
        // A hand-off: the producer does not run ahead of the consumer at all.
        while (!m_closed && m_taken < sequence) {
            m_producerWaiting = true;
            m_producerCv.wait(lock);
        }
        m_producerWaiting = false;
    }
    return !m_closed;
}

void ChannelBase::takenLocked(qsizetype count)
{
    m_taken += quint64(count);
    if (m_producerWaiting && m_maxSize == 0)
        m_producerCv.notify_one();
}

void ChannelBase::wakeConsumerLocked()
{
    if (!m_wakeRequested || !m_receiver)
        return;
    m_wakeRequested = false;
    // Posted under m_mutex: the receiver clears itself under it before dying.
    QCoreApplication::postEvent(m_receiver, new QEvent(QEvent::Type(drainEventType())));
}

} // namespace QtOffload::detail
