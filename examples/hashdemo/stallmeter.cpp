// SPDX-License-Identifier: MIT
#include "stallmeter.h"

#include <algorithm>

namespace {
constexpr qint64 tickNs = 1'000'000;
}

StallMeter::StallMeter(QObject *parent)
    : QObject(parent)
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(1);
    connect(&m_timer, &QTimer::timeout, this, &StallMeter::tick);
}

void StallMeter::start()
{
    m_worstNs = 0;
    m_clock.start();
    m_lastTickNs = 0;
    m_timer.start();
}

void StallMeter::stop()
{
    tick(); // a stall that lasts until the end counts too
    m_timer.stop();
}

void StallMeter::tick()
{
    const qint64 now = m_clock.nsecsElapsed();
    m_worstNs = std::max(m_worstNs, now - m_lastTickNs - tickNs);
    m_lastTickNs = now;
}
