// SPDX-License-Identifier: MIT
#include <QtOffload/impl/latestprogress.h>

#include <algorithm>

namespace QtOffload::detail {

bool LatestProgress::setRange(qint64 minimum, qint64 maximum) noexcept
{
    // A sequence lock without fences (ThreadSanitizer knows none): the
    // release stores keep the odd mark ahead of the fields, and a reader's
    // acquire load of a field written after it sees the mark moved on.
    const quint64 sequence = m_sequence.load(std::memory_order_relaxed);
    m_sequence.store(sequence + 1, std::memory_order_relaxed); // odd: a range is being written
    m_minimum.store(minimum, std::memory_order_release);
    m_maximum.store(std::max(minimum, maximum), std::memory_order_release);
    m_rangeSerial.store(m_rangeSerial.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    m_value.store(minimum, std::memory_order_release);
    m_sequence.store(sequence + 2, std::memory_order_release);
    return markReported();
}

bool LatestProgress::setValue(qint64 value) noexcept
{
    m_value.store(value, std::memory_order_relaxed);
    return markReported();
}

bool LatestProgress::take(Values &out) noexcept
{
    if (!m_reported.load(std::memory_order_relaxed) || !m_reported.exchange(false))
        return false;
    out = peek();
    return true;
}

LatestProgress::Values LatestProgress::peek() const noexcept
{
    for (;;) {
        const quint64 before = m_sequence.load(std::memory_order_acquire);
        const Values values { m_minimum.load(std::memory_order_acquire), m_maximum.load(std::memory_order_acquire),
                              m_value.load(std::memory_order_acquire), m_rangeSerial.load(std::memory_order_acquire) };
        if ((before & 1) == 0 && m_sequence.load(std::memory_order_relaxed) == before)
            return values;
    }
}

bool LatestProgress::pending() const noexcept { return m_reported.load(std::memory_order_relaxed); }

bool LatestProgress::markReported() noexcept
{
    // Only the first report after a take does more than a store.
    return !m_reported.load(std::memory_order_relaxed) && !m_reported.exchange(true);
}

} // namespace QtOffload::detail
