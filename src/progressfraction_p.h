// SPDX-License-Identifier: MIT
#pragma once

// The progress properties' `progress`: where a value lies in its range, as
// QtGenerator and QtJob both show it to QML.

#include <QtCore/QtGlobal>

namespace QtOffload::detail {

//! \a value's place in [\a minimum, \a maximum], 0 to 1; 0 for an empty range (none reported).
inline qreal progressFraction(qint64 minimum, qint64 maximum, qint64 value) noexcept
{
    if (maximum <= minimum)
        return 0;
    return qBound(0.0, qreal(value - minimum) / qreal(maximum - minimum), 1.0);
}

} // namespace QtOffload::detail
