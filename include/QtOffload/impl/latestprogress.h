// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// Progress coalescing, the one copy: a generator's Sink and a job's
// JobControl report into a LatestProgress on the worker; only the first
// report after the reader took one asks for the reader, so ten million
// reports cost the receiving thread one hand-over per turn (or per Qt
// throttle window), and the reader always takes the latest values. One
// thread writes (the producer, the job); a range and the value it resets
// are read together or not at all (a sequence lock), so a reader never
// pairs a new range with an old value.

#include <QtCore/QtGlobal>

#include <atomic>

namespace QtOffload::detail {

class LatestProgress
{
public:
    struct Values
    {
        qint64 minimum = 0;
        qint64 maximum = 0;
        qint64 value = 0;
        quint64 rangeSerial = 0; //!< counts setRange() calls: a range set again resets the value
    };

    //! Sets the range and resets the value to \a minimum, as QPromise does. True: the reader must be asked for.
    bool setRange(qint64 minimum, qint64 maximum) noexcept;
    //! True: this is the first report since the reader took one, so it must be asked for.
    bool setValue(qint64 value) noexcept;
    //! The latest values, if anything was reported since the last take.
    bool take(Values &out) noexcept;
    //! The latest values, reported or not (the last hand-over, on the worker).
    Values peek() const noexcept;
    //! Whether take() would find a report. Any thread.
    bool pending() const noexcept;

private:
    bool markReported() noexcept;

    std::atomic<quint64> m_sequence { 0 }; // odd while setRange() writes
    std::atomic<qint64> m_minimum { 0 };
    std::atomic<qint64> m_maximum { 0 };
    std::atomic<qint64> m_value { 0 };
    std::atomic<quint64> m_rangeSerial { 0 };
    std::atomic<bool> m_reported { false };
};

} // namespace QtOffload::detail
