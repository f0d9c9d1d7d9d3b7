// SPDX-License-Identifier: MIT
#include <QtOffload/generator.h>

#include "lifecycle_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaMethod>
#include <QtCore/QThread>

namespace QtOffload {

namespace {
int startEventType()
{
    static const int type = QEvent::registerEventType();
    return type;
}

// One delivery turn hands out chunks for at most this long, then yields to
// the event loop, so a fast producer cannot stall the GUI.
constexpr qint64 deliveryTurnMs = 2;
} // namespace

qsizetype detail::defaultIterableMaxSize()
{
    bool ok = false;
    const int size = qEnvironmentVariableIntValue("QTOFFLOAD_ITERABLE_MAX_SIZE", &ok);
    return ok && size >= 0 ? size : 1024;
}

QtGenerator::QtGenerator(std::shared_ptr<detail::ChannelBase> channel, Executor executor, detail::JobPtr producer,
                         QObject *parent)
    : QObject(parent), m_channel(std::move(channel)), m_executor(std::move(executor)), m_producer(std::move(producer))
{
    const qsizetype maxSize = m_channel->maxSize();
    // Releasing delivered chunks in small batches saves a lock per chunk.
    m_releaseStep = maxSize >= 8 ? std::min<qsizetype>(maxSize / 4, 256) : 1;
    m_channel->setReceiver(this);
    detail::ensureApplicationHooks();
    detail::registerGenerator(m_channel);
    // A generator's owner thread may end before anyone destroys the
    // generator; its producer must not stay blocked on a full buffer.
    const QCoreApplication *app = QCoreApplication::instance();
    if (QThread *owner = thread(); owner && (!app || owner != app->thread())) {
        std::weak_ptr<detail::ChannelBase> weak = m_channel;
        connect(owner, &QThread::finished, this, [weak] {
            if (auto channel = weak.lock())
                channel->close();
        }, Qt::DirectConnection);
    }
    QCoreApplication::postEvent(this, new QEvent(QEvent::Type(startEventType())));
}

QtGenerator::~QtGenerator()
{
    m_channel->setReceiver(nullptr);
    m_channel->close();
    m_producer.reset();
    detail::unregisterGenerator(m_channel.get());
}

qsizetype QtGenerator::maxSize() const noexcept
{
    return m_channel->maxSize();
}

qsizetype QtGenerator::buffered() const
{
    return m_channel->bufferedCount() + pendingCount();
}

QFuture<void> QtGenerator::close()
{
    if (m_closed)
        return m_closeFuture;
    m_closed = true;
    dropPending();
    m_unreleased = 0;
    m_producer.reset();
    m_closeFuture = m_channel->close();
    // finished() comes from the event loop once the producer stopped, never from inside close().
    postDrain();
    return m_closeFuture;
}

bool QtGenerator::event(QEvent *event)
{
    if (event->type() == startEventType()) {
        m_firstTurnSeen = true;
        drain();
        return true;
    }
    if (event->type() == detail::ChannelBase::drainEventType()) {
        drain();
        return true;
    }
    return QObject::event(event);
}

void QtGenerator::connectNotify(const QMetaMethod &signal)
{
    if (m_firstTurnSeen && signal == QMetaMethod::fromSignal(&QtGenerator::chunkReady))
        postDrain();
    QObject::connectNotify(signal);
}

bool QtGenerator::wantsChunkReady() const
{
    static const QMetaMethod chunkReadySignal = QMetaMethod::fromSignal(&QtGenerator::chunkReady);
    return isSignalConnected(chunkReadySignal);
}

void QtGenerator::postDrain()
{
    QCoreApplication::postEvent(this, new QEvent(QEvent::Type(detail::ChannelBase::drainEventType())));
}

void QtGenerator::startIfNeeded()
{
    if (m_started)
        return;
    m_started = true;
    detail::JobPtr job = std::move(m_producer);
    if (!job || m_closed)
        return;
    setRunning(true);
    // The pool is known from now on, so that its shutdown can close this
    // stream: a producer blocked on a full buffer would never let it finish.
    const Executor executor = m_executor.resolved();
    detail::setGeneratorPool(m_channel.get(), executor.threadPool());
    try {
        executor.submit(std::move(job));
    } catch (const ShutdownError &) {
        // The executor cancelled the producer job: the channel now holds a
        // ShutdownError, which reaches the consumer like a producer failure.
    }
}

void QtGenerator::setRunning(bool running)
{
    if (m_running == running)
        return;
    m_running = running;
    Q_EMIT runningChanged(running);
}

void QtGenerator::chunkDelivered()
{
    if (++m_unreleased >= m_releaseStep || !hasPending())
        flushReleases();
}

void QtGenerator::flushReleases()
{
    if (m_unreleased == 0)
        return;
    m_channel->release(m_unreleased);
    m_unreleased = 0;
}

void QtGenerator::emitBufferedIfChanged()
{
    const qsizetype now = buffered();
    if (now == m_lastBuffered)
        return;
    m_lastBuffered = now;
    Q_EMIT bufferedChanged(now);
}

detail::ChannelBase::End QtGenerator::finishIfEnded()
{
    if (hasPending())
        return {};
    const detail::ChannelBase::End end = m_channel->end();
    if (!end.reached || !end.producerStopped || m_done)
        return end;
    QPointer<QtGenerator> self(this);
    setRunning(false);
    if (!self)
        return end;
    if (end.error && !m_errorReported) {
        m_errorReported = true;
        Q_EMIT errorOccurred(QString::fromStdString(detail::describeException(end.error)));
        if (!self)
            return end;
    }
    m_done = true;
    Q_EMIT finished();
    return end;
}

void QtGenerator::drain()
{
    QPointer<QtGenerator> self(this);
    if (m_pullMode) {
        switch (completePendingNext()) {
        case NextState::Resumed: // the consumer ran and may have destroyed us
            return;
        case NextState::NoneWaiting:
            finishIfEnded(); // e.g. closed, with nobody awaiting: finished() still comes
            return;
        case NextState::StillWaiting:
            if (!m_channel->requestWake())
                postDrain();
            return;
        }
    }
    if (!m_closed && !wantsChunkReady() && !hasTypedHandler()) {
        // No consumer yet: chunks wait in the bounded buffer, nothing starts.
        if (m_started)
            finishIfEnded();
        return;
    }
    if (!m_firstTurnSeen && !m_started)
        return;
    startIfNeeded();

    QElapsedTimer turn;
    turn.start();
    int sinceClockCheck = 0;
    for (;;) {
        if (!hasPending() && (m_closed || refillPending() == 0)) {
            flushReleases();
            if (finishIfEnded().reached || !self || m_channel->requestWake())
                break;
            continue;
        }
        deliverPending();
        if (!self)
            return;
        if (m_closed || m_pullMode)
            break;
        if (!wantsChunkReady() && !hasTypedHandler()) {
            // The consumer left mid-turn (disconnected, receiver gone): the
            // rest waits for the next one instead of going to nobody.
            flushReleases();
            break;
        }
        if (++sinceClockCheck == 32) {
            sinceClockCheck = 0;
            if (turn.elapsed() >= deliveryTurnMs) {
                flushReleases();
                postDrain();
                break;
            }
        }
    }
    if (self)
        emitBufferedIfChanged();
}

} // namespace QtOffload
